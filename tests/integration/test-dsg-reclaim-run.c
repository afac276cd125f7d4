/*
 * test-dsg-reclaim-run.c: the Reclaim process's normal flow against the
 * DocuSign simulator (harness: test-dsg-reclaim-common.h): users closed in
 * one batch with the run's protections, audit lines and Undo afterwards,
 * the dry run, reclaiming switched off, and a batch where one user fails.
 * One ctest per case: test-dsg-reclaim-run runs basic,
 * test-dsg-reclaim-<case> the others.
 *
 *   basic    closes two users (one DELETE), skips the admin, the
 *            integration user and a user Disabled since the download; the
 *            intent ends reconciled; audit lines; Undo within 30 days
 *            (ActivationSent, subscription active), refused when not
 *            reclaimed and after 30 days
 *   dry      dry run: no DELETE, a report per user, nothing moved
 *   off      reclaim_enabled false: nothing remote, candidates untouched
 *   partial  a batch where one user fails (USER_DOES_NOT_EXIST_IN_ACCOUNT
 *            in the DELETE reply): that candidate goes to Attention
 *            Required with the message, the others close
 *
 * Not a ctest, run by hand: demo (see test_demo).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "sam_test.h"
#include "test-dsg-reclaim-common.h"

/* ---- the host route (POST .../subscriptions/{key}/restore) ---- */

typedef struct hreply {
  int done;
  int http;
  char *body;
} hreply;

static void on_hreply(const sam_hostsvc_reply *r, void *ud) {
  hreply *h = ud;

  h->done = 1;
  h->http = r->http_status;
  h->body = strndup(r->body != NULL ? r->body : "", r->body_len);
}

/* Makes p1 a host profile (the harness passes its JSON directly). */
static void host_profile(void) {
  char j[2400], now[32];

  rh_iso_days_ago(0, now, sizeof(now));
  snprintf(j, sizeof(j),
           "{\"profile_id\":\"p1\",\"type_id\":\"docusign_subscription\","
           "\"plugin\":\"docusign\",\"display_name\":\"DocuSign "
           "Integration\",\"state\":\"published\",\"form\":%s,"
           "\"created_at\":\"%s\",\"updated_at\":\"%s\"}",
           rh_d.profile, now, now);
  EXPECT_EQ_INT(0, dh_put(&rh_d, "_host", "sam_profile", "p1", j));
}

static int restore_route(const char *uid, char **body) {
  hreply h;
  char path[300];

  memset(&h, 0, sizeof(h));
  snprintf(path, sizeof(path),
           "/api/v1/profiles/p1/lists/subscriptions/%s/restore", uid);
  EXPECT_EQ_INT(0, sam_hostsvc_call(rh_d.svc, "POST", path, NULL, "{}", 2,
                                    "test", on_hreply, &h));
  while (!h.done)
    uv_run(&rh_d.h.loop, UV_RUN_ONCE);
  printf("  POST %s -> [%d] %s\n", path, h.http, h.body);
  *body = h.body;
  return h.http;
}

/* ---- cases ---- */

static void test_basic(void) {
  dh_run r;
  char st[64], old[32], j[1400];
  json_object *ints;

  rh_start();
  rh_seed_two();
  /* protections: the admin and the integration user have candidates by
   * mistake (e.g. promoted after they opened); a user Disabled since */
  rh_seed_sub(QADMIN, "Quiet.Admin@Reclaim.Example.com", "Professional", 1,
              200);
  rh_seed_cand(QADMIN, "Quiet.Admin@Reclaim.Example.com",
               "awaiting_revocation");
  rh_seed_sub(INTEG, "Integration.Admin@Reclaim.Example.com",
              "Account Administrator", 0, 900);
  rh_seed_cand(INTEG, "Integration.Admin@Reclaim.Example.com",
               "awaiting_revocation");
  rh_seed_sub(DISABLED, "Disabled.Person@Reclaim.Example.com", "Sender", 0,
              200);
  rh_seed_cand(DISABLED, "Disabled.Person@Reclaim.Example.com",
               "awaiting_revocation");
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(5, rh_count(&r, "considered"));
  EXPECT_EQ_INT(2, rh_count(&r, "closed"));
  EXPECT_EQ_INT(3, rh_count(&r, "skipped"));
  EXPECT_EQ_INT(0, rh_count(&r, "failed"));
  EXPECT_CONTAINS(r.result, QUIET);
  EXPECT_CONTAINS(r.result, NEVER);
  EXPECT_EQ_INT(1, rh_deletes());
  EXPECT_EQ_STR("Closed", rh_sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Closed", rh_sim_status(NEVER, st, sizeof(st)));
  EXPECT_EQ_STR("Active", rh_sim_status(QADMIN, st, sizeof(st)));
  EXPECT_EQ_STR("Active", rh_sim_status(INTEG, st, sizeof(st)));
  rh_expect_cand(QUIET, "closed_complete", "DELETE users");
  rh_expect_cand(NEVER, "closed_complete", "awaiting_revocation");
  rh_expect_cand(QADMIN, "closed_skipped", "administrator");
  rh_expect_cand(INTEG, "closed_skipped", "integration");
  rh_expect_cand(DISABLED, "closed_skipped", "no longer active");
  rh_expect_sub(QUIET, "reclaimed");
  rh_expect_sub(NEVER, "reclaimed");
  EXPECT_CONTAINS(rh_d.h.log, "audit: reclaimed DocuSign user");
  ints = rh_intents();
  EXPECT_EQ_INT(1, json_object_array_length(ints));
  EXPECT_EQ_STR("reconciled",
                rh_js(json_object_array_get_idx(ints, 0), "state"));
  json_object_put(ints);
  dh_run_free(&r);

  /* Undo within 30 days through the host route: reopened (A12), active. */
  {
    char *body = NULL;

    host_profile();
    EXPECT_EQ_INT(404, restore_route(UNKNOWN, &body));
    EXPECT_CONTAINS(body, "no such subscription");
    free(body);
    EXPECT_EQ_INT(200, restore_route(QUIET, &body));
    EXPECT_CONTAINS(body, "ActivationSent");
    free(body);
  }
  EXPECT_EQ_INT(1, oh_stat(&rh_d.h, "PUT", 0));
  EXPECT_EQ_STR("ActivationSent", rh_sim_status(QUIET, st, sizeof(st)));
  rh_expect_sub(QUIET, "active");
  EXPECT_CONTAINS(rh_d.h.log, "audit: restored DocuSign user");
  /* Refused: not reclaimed (any more). */
  rh_run_job(SAM_JOB_ACTION, "restore_subscription", 0, NULL,
             "{\"external_user_id\":\"" QUIET "\"}", &r);
  EXPECT_EQ_INT(SAM_EBUSY, r.status);
  EXPECT_CONTAINS(r.message, "not reclaimed");
  dh_run_free(&r);
  /* Refused: reclaimed 40 days ago. */
  {
    json_object *s = dh_get(&rh_d, "p1", "sam_subscription", NEVER);

    rh_iso_days_ago(40, old, sizeof(old));
    json_object_object_add(s, "reclaimed_at", json_object_new_string(old));
    snprintf(j, sizeof(j), "%s", json_object_to_json_string(s));
    json_object_put(s);
    EXPECT_EQ_INT(0, dh_put(&rh_d, "p1", "sam_subscription", NEVER, j));
  }
  rh_run_job(SAM_JOB_ACTION, "restore_subscription", 0, NULL,
             "{\"external_user_id\":\"" NEVER "\"}", &r);
  EXPECT_EQ_INT(SAM_EBUSY, r.status);
  EXPECT_CONTAINS(r.message, "30 days");
  EXPECT_EQ_STR("Closed", rh_sim_status(NEVER, st, sizeof(st)));
  dh_run_free(&r);
  /* A second reclaim finds nothing to do and sends nothing. */
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(0, rh_count(&r, "considered"));
  EXPECT_EQ_INT(1, rh_deletes());
  dh_run_free(&r);
  dh_finish(&rh_d);
}

static void test_dry(void) {
  dh_run r;
  char st[64];

  rh_start();
  rh_seed_two();
  rh_seed_sub(QADMIN, "Quiet.Admin@Reclaim.Example.com", "Professional", 1,
              200);
  rh_seed_cand(QADMIN, "Quiet.Admin@Reclaim.Example.com",
               "awaiting_revocation");
  rh_reclaim(SAM_JOB_DRY_RUN, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(0, rh_deletes());
  EXPECT_TRUE(oh_stat(&rh_d.h, "PUT", 0) == 0);
  EXPECT_CONTAINS(r.message, "dry run: would close 2");
  EXPECT_CONTAINS(r.result, "\"dry_run\":true");
  EXPECT_CONTAINS(r.result, "would close");
  EXPECT_CONTAINS(r.result, "would skip");
  EXPECT_CONTAINS(r.result, "administrator");
  EXPECT_EQ_INT(0, rh_count(&r, "closed"));
  EXPECT_EQ_STR("Active", rh_sim_status(QUIET, st, sizeof(st)));
  rh_expect_cand(QUIET, "awaiting_revocation", NULL);
  rh_expect_cand(NEVER, "ready", NULL);
  rh_expect_cand(QADMIN, "awaiting_revocation", NULL);
  {
    json_object *ints = rh_intents();

    EXPECT_EQ_INT(0, json_object_array_length(ints));
    json_object_put(ints);
  }
  dh_run_free(&r);
  dh_finish(&rh_d);
}

static void test_off(void) {
  dh_run r;
  char prof[1500];
  char *p;

  rh_start();
  rh_seed_two();
  p = strstr(rh_d.profile, "\"reclaim_enabled\":true");
  EXPECT_TRUE(p != NULL);
  snprintf(prof, sizeof(prof), "%.*s\"reclaim_enabled\":false%s",
           (int)(p - rh_d.profile), rh_d.profile,
           p + strlen("\"reclaim_enabled\":true"));
  rh_run_job(SAM_JOB_PROCESS, "reclaim", 0, prof, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_CONTAINS(r.message, "reclaiming is off");
  EXPECT_EQ_INT(0, rh_deletes());
  EXPECT_EQ_INT(0, oh_stat(&rh_d.h, "userinfo", 0));
  EXPECT_EQ_INT(0, oh_stat(&rh_d.h, "/users", 0));
  rh_expect_cand(QUIET, "awaiting_revocation", NULL);
  rh_expect_cand(NEVER, "ready", NULL);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* A batch where one user fails: Missing Dates (the account's last user)
 * passes its re-check, then the unknown user's re-check falls back to the
 * list by e-mail (A13), after which the simulator removes the last user
 * (its schedule hook): the DELETE answers USER_DOES_NOT_EXIST_IN_ACCOUNT
 * for that one user and closes the others. */
static void test_partial(void) {
  dh_run r;
  char st[64];
  json_object *c;

  rh_start();
  rh_seed_rule();
  rh_seed_sub(U("13"), "Missing.Dates@Reclaim.Example.com", "DocuSign Sender",
              0, 200);
  rh_seed_cand(U("13"), "Missing.Dates@Reclaim.Example.com",
               "awaiting_revocation");
  rh_seed_sub(QUIET, "Quiet.Sender@Reclaim.Example.com", "Professional", 0,
              200);
  rh_seed_cand(QUIET, "Quiet.Sender@Reclaim.Example.com",
               "awaiting_revocation");
  rh_seed_sub(UNKNOWN, "Nobody@Reclaim.Example.com", "Sender", 0, 200);
  rh_seed_cand(UNKNOWN, "Nobody@Reclaim.Example.com", "awaiting_revocation");
  rh_sim_post("schedule", "{\"after_users_list\":1,\"remove\":1}");
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(1, rh_deletes());
  EXPECT_EQ_INT(1, rh_count(&r, "closed"));
  EXPECT_EQ_INT(1, rh_count(&r, "skipped"));
  EXPECT_EQ_INT(1, rh_count(&r, "failed"));
  EXPECT_EQ_INT(1, rh_count(&r, "attention_required"));
  EXPECT_EQ_STR("Closed", rh_sim_status(QUIET, st, sizeof(st)));
  rh_expect_cand(QUIET, "closed_complete", "DELETE users");
  rh_expect_cand(UNKNOWN, "closed_skipped", "no longer exists");
  rh_expect_cand(U("13"), "attention_required",
                 "USER_DOES_NOT_EXIST_IN_ACCOUNT");
  c = rh_cand(U("13"));
  EXPECT_CONTAINS(rh_js(c, "error_message"), "USER_DOES_NOT_EXIST_IN_ACCOUNT");
  json_object_put(c);
  rh_expect_sub(U("13"), "active");
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* Not a ctest: the demo account of the README's main command (5,000
 * generated users), downloaded, then a reclaim dry run; prints what the
 * dry run reports. Run by hand: test-dsg-reclaim-run demo. */
static void test_demo(void) {
  const char *args[] = {"--users", "5000", "--no-limits", NULL};
  dh_run r;
  json_object *rep = NULL;
  size_t i;
  int would = 0, skip = 0;

  /* SAM_DEMO_DB=<file>: on SQLite, as the reference host stores */
  dh_start(&rh_d, args, getenv("SAM_DEMO_DB"));
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  dh_run_free(&r);
  if (getenv("SAM_DEMO_REAL") != NULL) {
    /* the real reclaim after the dry run, timed by the caller */
    rh_reclaim(0, NULL, &r);
    dh_run_free(&r);
  }
  rh_reclaim(SAM_JOB_DRY_RUN, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  if (getenv("SAM_DEMO_REAL") == NULL)
    EXPECT_EQ_INT(0, rh_deletes());
  if (r.res != NULL && json_object_object_get_ex(r.res, "report", &rep)) {
    for (i = 0; i < json_object_array_length(rep); i++) {
      const char *a = rh_js(json_object_array_get_idx(rep, i), "action");

      would += strcmp(a, "would close") == 0;
      skip += strcmp(a, "would skip") == 0;
    }
  }
  printf("  demo: %d would close, %d would skip\n", would, skip);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "basic";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "basic") == 0)
    SAM_T_RUN(test_basic);
  else if (strcmp(c, "dry") == 0)
    SAM_T_RUN(test_dry);
  else if (strcmp(c, "off") == 0)
    SAM_T_RUN(test_off);
  else if (strcmp(c, "partial") == 0)
    SAM_T_RUN(test_partial);
  else if (strcmp(c, "demo") == 0)
    SAM_T_RUN(test_demo);
  else
    SAM_T_FAIL("unknown case [%s]", c);
  return 0;
}
