/*
 * test-dsg-reclaim-crash.c: reclaim runs that stop midway, against the
 * DocuSign simulator (harness: test-dsg-reclaim-common.h): a crash that left
 * a pending intent (reconciled after a host restart, no second DELETE), a
 * cancel between two batches and a host shutdown during the run. One ctest
 * per case: test-dsg-reclaim-<case>.
 *
 *   crash    a pending intent left by a crash: the closed user is
 *            reconciled to Closed Complete without a second DELETE; the
 *            user still open is re-checked and closed normally
 *   cancel   a cancel after the first batch of 50: no second DELETE, the
 *            users closed are exactly those named in the message/result
 *   shutdown the host closes during a reclaim: one cancelled completion
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

static void test_crash(void) {
  dh_run r;
  char st[64], path[200], now[32], j[600], db[128];

  /* SQLite, so the records and the tokens survive the restart */
  snprintf(db, sizeof(db), "/tmp/sam-reclaim-crash-%ld.db", (long)getpid());
  rh_start_db(db);
  rh_seed_two();
  /* A run sent a batch and died: DocuSign closed Quiet Sender, the
   * intent stayed pending; Never Sent was in it too but stays open. */
  snprintf(path, sizeof(path), "users/%s", QUIET);
  rh_sim_post(path, "{\"userStatus\":\"Closed\"}");
  rh_iso_days_ago(0, now, sizeof(now));
  snprintf(j, sizeof(j),
           "{\"batch_id\":\"dead-b1\",\"run_id\":\"dead\",\"user_ids\":[\"%s\","
           "\"%s\"],\"state\":\"pending\",\"created_at\":\"%s\"}",
           QUIET, NEVER, now);
  rh_intent_put("dead-b1", j);
  /* A restart of the host (the plugin comes back) before the next run. */
  dh_restart(&rh_d);
  oh_stats_reset(&rh_d.h);
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  rh_expect_cand(QUIET, "closed_complete",
                 "reconciled after an interrupted run");
  rh_expect_sub(QUIET, "reclaimed");
  /* Never Sent: re-checked, then closed by this run's own batch. */
  rh_expect_cand(NEVER, "closed_complete", "DELETE users");
  EXPECT_EQ_STR("Closed", rh_sim_status(NEVER, st, sizeof(st)));
  EXPECT_EQ_INT(1, rh_deletes());
  {
    json_object *all = rh_intents();
    json_object *in = NULL;
    size_t i;

    for (i = 0; i < json_object_array_length(all); i++)
      if (strcmp(rh_js(json_object_array_get_idx(all, i), "batch_id"),
                 "dead-b1") == 0)
        in = json_object_array_get_idx(all, i);
    EXPECT_TRUE(in != NULL);
    EXPECT_EQ_STR("reconciled", rh_js(in, "state"));
    EXPECT_CONTAINS(json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN),
                    "{\"user_id\":\"" QUIET "\",\"outcome\":\"closed\"}");
    json_object_put(all);
  }
  EXPECT_EQ_INT(2, rh_count(&r, "closed"));
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* Cancel: asked when the first batch of 50 is done (its progress report),
 * while the second batch is being re-checked slowly (simulator latency):
 * the run stops before the second DELETE and names exactly the users it
 * closed. A generated account of 150 users gives more than 50 candidates. */
static void test_cancel(void) {
  const char *args[] = {"--users", "150", NULL};
  dh_run r;
  json_object *users, *ids;
  char want[64];
  size_t i;
  int before = 0, after = 0, n = 0;
  int64_t k;

  dh_start(&rh_d, args, NULL);
  rh_seed_rule();
  users = dh_sim_users(&rh_d);
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *uid = rh_js(u, "userId");
    const char *lic = rh_js(u, "licenseType");

    before += strcmp(rh_js(u, "userStatus"), "Closed") == 0;
    if (strcmp(rh_js(u, "userStatus"), "Active") != 0 ||
        strcmp(uid, rh_d.h.sim.integ) == 0)
      continue;
    rh_seed_sub(uid, rh_js(u, "email"),
                lic[0] ? lic : rh_js(u, "permissionProfileName"), 0, 400);
    rh_seed_cand(uid, rh_js(u, "email"), "awaiting_revocation");
    n++;
  }
  json_object_put(users);
  EXPECT_TRUE(n > 60);
  rh_sim_post("faults", "{\"latency_ms\":100}");
  oh_stats_reset(&rh_d.h);
  rh_run_job_ex(SAM_JOB_PROCESS, "reclaim", 0, NULL, "{\"cap\":1000}", 1, &r);
  rh_sim_post("faults", "{\"latency_ms\":0}");
  EXPECT_EQ_INT(SAM_ECANCELED, r.status);
  EXPECT_CONTAINS(r.message, "cancelled before the next DocuSign write");
  EXPECT_EQ_INT(1, rh_deletes());
  k = rh_count(&r, "closed");
  EXPECT_TRUE(k >= 1);
  snprintf(want, sizeof(want), "closed %lld user(s)", (long long)k);
  EXPECT_CONTAINS(r.message, want);
  EXPECT_TRUE(json_object_object_get_ex(r.res, "closed_user_ids", &ids));
  EXPECT_EQ_INT((int)k, (int)json_object_array_length(ids));
  users = dh_sim_users(&rh_d);
  for (i = 0; i < json_object_array_length(users); i++)
    after += strcmp(rh_js(json_object_array_get_idx(users, i), "userStatus"),
                    "Closed") == 0;
  json_object_put(users);
  EXPECT_EQ_INT(before + (int)k, after);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* The host shuts down while a reclaim runs (slow simulator): the job
 * completes once, cancelled, and nothing leaks (the ASan build checks). */
typedef struct bg {
  int done;
  int status;
} bg;

static void on_bg(const sam_job_outcome *o, void *ud) {
  bg *b = ud;

  b->done++;
  b->status = o->status;
}

/* Starts a reclaim on a slow simulator and closes the host once `mark`
 * (a simulator endpoint substring) has been called `n` times. */
static void shutdown_at(const char *mark, long n) {
  sam_job_request req;
  bg b;

  rh_start();
  rh_seed_two();
  rh_sim_post("faults", "{\"latency_ms\":300}");
  memset(&b, 0, sizeof(b));
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "reclaim";
  req.profile_id = "p1";
  req.profile_json = rh_d.profile;
  req.profile_len = strlen(rh_d.profile);
  req.params_json = "{\"cap\":10}";
  req.params_len = strlen(req.params_json);
  req.done = on_bg;
  req.ud = &b;
  EXPECT_EQ_INT(0, sam_runtime_job_start(rh_d.h.rt, &req, NULL));
  while (oh_stat(&rh_d.h, mark, 0) < n && !b.done)
    uv_run(&rh_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, b.done);
  dh_finish(&rh_d);
  EXPECT_EQ_INT(1, b.done);
  EXPECT_TRUE(b.status != SAM_OK);
  printf("  closed at [%s] x%ld -> [%s]\n", mark, n, sam_err_name(b.status));
}

static void test_shutdown(void) {
  shutdown_at("userinfo", 1);         /* userinfo in flight */
  shutdown_at("GET /v2.1/users/", 1); /* a re-check in flight */
  shutdown_at("DELETE", 1);           /* the DELETE sent (answered or not) */
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "crash";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "crash") == 0)
    SAM_T_RUN(test_crash);
  else if (strcmp(c, "cancel") == 0)
    SAM_T_RUN(test_cancel);
  else if (strcmp(c, "shutdown") == 0)
    SAM_T_RUN(test_shutdown);
  else
    SAM_T_FAIL("unknown case [%s]", c);
  return 0;
}
