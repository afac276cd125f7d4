/*
 * test-dsg-reclaim-paced.c: the reclaim under DocuSign's rate limits
 * (issue 7) against the simulator (harness: test-dsg-reclaim-common.h):
 * paced below the burst limit, a 429 waited out and sent again, a reset
 * after the job's deadline, and a cancel during the wait. One ctest per
 * case: test-dsg-reclaim-<case>.
 *
 *   paced    a burst limit of 40 and 60 candidates: the run paces itself
 *            (one wait), every candidate closes, no limit error at all
 *   limit429 the DELETE answered 429 BURST_APIINVOCATION_LIMIT_EXCEEDED:
 *            refused, nothing closed; the run waits for the reset and
 *            sends it again; each user closed exactly once
 *   deadline the same 429 with a reset after the job's deadline: partial
 *            SAM_EAGAIN with retry_after_s, nothing closed, the intent
 *            pending; the next run closes both exactly once
 *   cancelwait a cancel during the wait for the reset ends the run at
 *            once: nothing sent, intent pending, the next run closes both
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "sam_test.h"
#include "test-dsg-reclaim-common.h"

/* ---- cases ---- */

/* ---- rate limits (issue 7) ---- */

/* Seeds a subscription and a candidate for up to `max` Active users of the
 * generated account (not the integration user); returns how many. */
static int seed_generated(int max) {
  json_object *users = dh_sim_users(&rh_d);
  size_t i;
  int n = 0;

  rh_seed_rule();
  for (i = 0; i < json_object_array_length(users) && n < max; i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *uid = rh_js(u, "userId");
    const char *lic = rh_js(u, "licenseType");

    if (strcmp(rh_js(u, "userStatus"), "Active") != 0 ||
        strcmp(uid, rh_d.h.sim.integ) == 0 ||
        strcmp(rh_js(u, "isAdmin"), "True") == 0)
      continue;
    rh_seed_sub(uid, rh_js(u, "email"),
                lic[0] ? lic : rh_js(u, "permissionProfileName"), 0, 400 + n);
    rh_seed_cand(uid, rh_js(u, "email"), "awaiting_revocation");
    n++;
  }
  json_object_put(users);
  return n;
}

static void test_paced(void) {
  const char *args[] = {"--users", "150", NULL};
  dh_run r;
  json_object *users;
  size_t i;
  int n, closed = 0;

  dh_start(&rh_d, args, NULL);
  n = seed_generated(60);
  EXPECT_EQ_INT(60, n);
  /* a fresh window that ends in 3 s: the calls cannot straddle a
   * boundary and so miss the wait the test expects */
  rh_sim_post("limits", "{\"burst\":40,\"burst_window_s\":3,\"reset\":true,"
                        "\"burst_resets_in_s\":3}");
  oh_stats_reset(&rh_d.h);
  rh_reclaim(0, "{\"cap\":1000}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  /* closed, or canceled by the re-check (added to the account again
   * within the threshold, as some generated users are) */
  EXPECT_EQ_INT(60, (int)(rh_count(&r, "closed") + rh_count(&r, "skipped")));
  EXPECT_EQ_INT(0, (int)rh_count(&r, "failed"));
  EXPECT_EQ_INT(0, (int)rh_count(&r, "rate_limit_errors"));
  EXPECT_TRUE(rh_count(&r, "rate_limit_waits") >= 1);
  /* no limit error at all on DocuSign's side */
  EXPECT_EQ_INT(0, (int)oh_stat(&rh_d.h, "/", 429));
  EXPECT_EQ_INT(0, (int)oh_stat(&rh_d.h, "/", 400));
  EXPECT_EQ_INT(2, (int)rh_deletes());
  users = dh_sim_users(&rh_d);
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    json_object *c = rh_cand(rh_js(u, "userId"));

    if (c != NULL && strcmp(rh_js(c, "state"), "closed_complete") == 0) {
      EXPECT_EQ_STR("Closed", rh_js(u, "userStatus"));
      closed++;
    } else if (c != NULL) {
      EXPECT_EQ_STR("closed_canceled", rh_js(c, "state"));
      EXPECT_EQ_STR("Active", rh_js(u, "userStatus"));
    }
    json_object_put(c);
  }
  json_object_put(users);
  EXPECT_EQ_INT((int)rh_count(&r, "closed"), closed);
  EXPECT_TRUE(closed >= 50);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

static void test_limit429(void) {
  dh_run r;
  char st[64];

  rh_start();
  rh_seed_two();
  rh_sim_post("faults", "{\"next_429\":1,\"scope\":\"write\"}");
  oh_stats_reset(&rh_d.h);
  rh_reclaim(0, "{\"cap\":10}", &r);
  rh_sim_post("faults", "{\"scope\":\"rest\"}");
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, (int)rh_count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)rh_count(&r, "rate_limit_errors"));
  EXPECT_EQ_INT(1, (int)oh_stat(&rh_d.h, "DELETE", 429));
  EXPECT_EQ_INT(1, (int)oh_stat(&rh_d.h, "DELETE", 200));
  EXPECT_EQ_INT(2, (int)rh_deletes());
  EXPECT_EQ_STR("Closed", rh_sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Closed", rh_sim_status(NEVER, st, sizeof(st)));
  rh_expect_cand(QUIET, "closed_complete", NULL);
  rh_expect_cand(NEVER, "closed_complete", NULL);
  EXPECT_TRUE(strstr(r.message, "unknown") == NULL);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

static void test_deadline(void) {
  dh_run r;
  char st[64];

  rh_start();
  rh_seed_two();
  rh_sim_post("faults", "{\"next_429\":1,\"scope\":\"write\"}");
  oh_stats_reset(&rh_d.h);
  rh_timeout_ms = 10000; /* the burst reset (30 s) comes after it */
  rh_reclaim(0, "{\"cap\":10}", &r);
  rh_timeout_ms = 300000;
  rh_sim_post("faults", "{\"scope\":\"rest\"}");
  EXPECT_EQ_INT(SAM_EAGAIN, r.status);
  EXPECT_CONTAINS(r.message, "not sent");
  EXPECT_TRUE(strstr(r.message, "unknown") == NULL);
  EXPECT_TRUE(rh_count(&r, "retry_after_s") >= 1);
  EXPECT_EQ_INT(0, (int)rh_count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)rh_deletes());
  EXPECT_EQ_STR("Active", rh_sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_INT(1, rh_intents_in("pending"));
  dh_run_free(&r);
  /* the next run reconciles the pending intent and closes both, once */
  oh_stats_reset(&rh_d.h);
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, (int)rh_count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)rh_deletes());
  EXPECT_EQ_STR("Closed", rh_sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Closed", rh_sim_status(NEVER, st, sizeof(st)));
  rh_expect_cand(QUIET, "closed_complete", NULL);
  rh_expect_cand(NEVER, "closed_complete", NULL);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* A cancel during a rate-limit wait ends the run at once: nothing sent,
 * the intent pending, the next run closes both once. */
static void test_cancelwait(void) {
  dh_run r;
  char st[64];

  rh_start();
  rh_seed_two();
  rh_sim_post("faults", "{\"next_429\":1,\"scope\":\"write\"}");
  oh_stats_reset(&rh_d.h);
  rh_run_job_ex(SAM_JOB_PROCESS, "reclaim", 0, NULL, "{\"cap\":10}", 2, &r);
  rh_sim_post("faults", "{\"scope\":\"rest\"}");
  EXPECT_EQ_INT(SAM_ECANCELED, r.status);
  EXPECT_CONTAINS(r.message, "closed 0 user(s)");
  EXPECT_EQ_INT(1, (int)rh_deletes());
  EXPECT_EQ_STR("Active", rh_sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_INT(1, rh_intents_in("pending"));
  dh_run_free(&r);
  oh_stats_reset(&rh_d.h);
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, (int)rh_count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)rh_deletes());
  EXPECT_EQ_STR("Closed", rh_sim_status(NEVER, st, sizeof(st)));
  dh_run_free(&r);
  dh_finish(&rh_d);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "paced";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "paced") == 0)
    SAM_T_RUN(test_paced);
  else if (strcmp(c, "limit429") == 0)
    SAM_T_RUN(test_limit429);
  else if (strcmp(c, "deadline") == 0)
    SAM_T_RUN(test_deadline);
  else if (strcmp(c, "cancelwait") == 0)
    SAM_T_RUN(test_cancelwait);
  else
    SAM_T_FAIL("unknown case [%s]", c);
  return 0;
}
