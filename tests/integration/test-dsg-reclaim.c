/*
 * test-dsg-reclaim.c: the Reclaim process, its protections and Undo
 * against the DocuSign simulator over HTTPS with the throwaway CA (issue 7
 * item 8). The simulator loads tests/fixtures/accounts/reclaim.json; the
 * subscriptions, the rule and the candidates are written through the host's
 * store, so each case controls exactly what the reclaim sees. One
 * executable, one ctest per case:
 *
 *   basic    closes two users (one DELETE), skips the admin, the
 *            integration user and a user Disabled since the download; the
 *            intent ends reconciled; audit lines; Undo within 30 days
 *            (ActivationSent, subscription active), refused when not
 *            reclaimed and after 30 days
 *   dry      dry run: no DELETE, a report per user, nothing moved
 *   cap      the default cap (5% of active seats, at least 1) closes one;
 *            the others go to Attention Required "reclaim cap reached"
 *   between  an exclusion added after the download, a user promoted to
 *            admin, a user whose seat was given again (fresh start date),
 *            and a user DocuSign does not know: none is closed
 *   off      reclaim_enabled false: nothing remote, candidates untouched
 *   partial  a batch where one user fails (USER_DOES_NOT_EXIST_IN_ACCOUNT
 *            in the DELETE reply): that candidate goes to Attention
 *            Required with the message, the others close
 *   crash    a pending intent left by a crash: the closed user is
 *            reconciled to Closed Complete without a second DELETE; the
 *            user still open is re-checked and closed normally
 *   cancel   a cancel after the first batch of 50: no second DELETE, the
 *            users closed are exactly those named in the message/result
 *   notify   a rule that notifies users: Attention Required (no user
 *            directory here), not acted on by the reclaim
 *   shutdown the host closes during a reclaim: one cancelled completion
 *   boundary assigned exactly 60 days ago qualifies, 59 not, 61 yes; the
 *            placeholder date falls back to the created date
 *   refresh  the candidate refresh after each download: candidates only for
 *            qualifying users, none twice; promoted, excluded and removed
 *            users' candidates close Skipped; kept on approval: not
 *            flagged again until another threshold period has passed
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
 *   order    under the cap the oldest assigned dates are closed first
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "hostsvc_int.h"
#include "sam_core.h"
#include "sam_test.h"
#include "test-dsg-download-common.h"

#define U(n) "7e57a000-0000-4000-8000-0000000000" n
#define INTEG U("01")
#define QUIET U("03")
#define NEVER U("04")
#define NEWS U("05")
#define VIEWER U("06")
#define QADMIN U("07")
#define DISABLED U("11")
#define UNKNOWN "7e57a000-0000-4000-8000-0000000000ff"

static dh g_d;
static uint64_t g_timeout_ms = 300000; /* the host deadline of jobs */

/* ---- seeding ---- */

static void iso_days_ago(int days, char *out, size_t len) {
  time_t t = time(NULL) - (time_t)days * 86400;
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void seed_rule(void) {
  EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_reclamation_rule", "r1",
                          "{\"rule_id\":\"r1\",\"name\":\"assigned 60 days\","
                          "\"software_model\":null,"
                          "\"basis\":\"subscription_assigned_date\","
                          "\"last_activity_threshold_days\":60,"
                          "\"notify_user\":false,\"grace_days\":0,"
                          "\"create_candidate\":true,\"active\":true}"));
}

static void seed_sub(const char *uid,
                     const char *email,
                     const char *ident,
                     int is_admin,
                     int days_ago) {
  char j[1400], now[32], at[32];

  iso_days_ago(0, now, sizeof(now));
  iso_days_ago(days_ago, at, sizeof(at));
  snprintf(j, sizeof(j),
           "{\"external_user_id\":\"%s\",\"user_principal_name\":\"%s\","
           "\"subscription_identifier\":\"%s\",\"software_model\":\"%s\","
           "\"state\":\"active\",\"active\":true,\"is_admin\":%s,"
           "\"remote_status\":\"Active\",\"assigned_at\":\"%s\","
           "\"assigned_source\":\"added_to_account\",\"first_seen_at\":\"%s\","
           "\"last_seen_at\":\"%s\",\"excluded\":false}",
           uid, email, ident, ident, is_admin ? "true" : "false", at, now, now);
  EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_subscription", uid, j));
}

static void seed_cand(const char *uid, const char *email, const char *state) {
  char j[1400], key[80], now[32];

  iso_days_ago(0, now, sizeof(now));
  snprintf(key, sizeof(key), "t-%s", uid + 30);
  snprintf(j, sizeof(j),
           "{\"candidate_id\":\"%s\",\"external_user_id\":\"%s\","
           "\"user_principal_name\":\"%s\",\"rule_id\":\"r1\","
           "\"state\":\"%s\",\"open\":true,\"justification\":\"Low Usage\","
           "\"reason\":\"assigned long ago\",\"notify_user\":false,"
           "\"opened_at\":\"%s\",\"history\":[{\"at\":\"%s\",\"from\":null,"
           "\"to\":\"ready\",\"actor\":\"test\",\"reason\":\"seeded\"}]}",
           key, uid, email, state, now, now);
  EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_candidate", key, j));
}

/* The fixture's closable users: Quiet Sender and Never Sent. */
static void seed_two(void) {
  seed_rule();
  seed_sub(QUIET, "Quiet.Sender@Reclaim.Example.com", "Professional", 0, 200);
  seed_sub(NEVER, "Never.Sent@Reclaim.Example.com", "Sender", 0, 200);
  seed_cand(QUIET, "Quiet.Sender@Reclaim.Example.com", "awaiting_revocation");
  seed_cand(NEVER, "Never.Sent@Reclaim.Example.com", "ready");
}

static json_object *cand(const char *uid) {
  char key[80];

  snprintf(key, sizeof(key), "t-%s", uid + 30);
  return dh_get(&g_d, "p1", "sam_candidate", key);
}

static const char *js(json_object *o, const char *k) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v))
    return "";
  return json_object_get_string(v);
}

static void expect_cand(const char *uid, const char *state, const char *why) {
  json_object *c = cand(uid);
  json_object *h = NULL;

  EXPECT_TRUE(c != NULL);
  EXPECT_EQ_STR(state, js(c, "state"));
  if (why != NULL) {
    EXPECT_TRUE(json_object_object_get_ex(c, "history", &h));
    EXPECT_CONTAINS(json_object_to_json_string(h), why);
  }
  json_object_put(c);
}

static void expect_sub(const char *uid, const char *state) {
  json_object *s = dh_get(&g_d, "p1", "sam_subscription", uid);

  EXPECT_TRUE(s != NULL);
  EXPECT_EQ_STR(state, js(s, "state"));
  json_object_put(s);
}

/* The simulator's status of one user. */
static const char *sim_status(const char *uid, char *buf, size_t len) {
  json_object *users = dh_sim_users(&g_d);
  size_t i;

  snprintf(buf, len, "(absent)");
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);

    if (strcmp(js(u, "userId"), uid) == 0)
      snprintf(buf, len, "%s", js(u, "userStatus"));
  }
  json_object_put(users);
  return buf;
}

static void sim_post(const char *path, const char *body) {
  char url[300];
  sim_resp r;

  snprintf(url, sizeof(url), "%s/_sim/%s", g_d.h.sim.http, path);
  EXPECT_EQ_INT(CURLE_OK, sim_http("POST", url, NULL, body, "application/json",
                                   NULL, &r));
  if (r.status != 200)
    SAM_T_FAIL("sim control %s -> [%ld] %s", path, r.status, r.body);
  sim_resp_free(&r);
}

/* ---- the plugin's own records (docusign_reclaim_intent) ---- */

typedef struct praw {
  int done;
  int status;
  json_object *arr;
} praw;

static void on_praw(int status, const sam_store_result *res, void *ud) {
  praw *p = ud;
  size_t i;

  p->done = 1;
  p->status = status;
  for (i = 0; status == 0 && res != NULL && i < res->n; i++)
    if (res->recs[i].json != NULL)
      json_object_array_add(p->arr, json_tokener_parse(res->recs[i].json));
}

static sam_host *plugin_handle(void) {
  sam_host *h = sam__hs_plugin_handle(g_d.svc, "docusign");

  EXPECT_TRUE(h != NULL);
  return h;
}

/* Every intent of p1 (one page is enough here); caller puts. */
static json_object *intents(void) {
  praw p;

  memset(&p, 0, sizeof(p));
  p.arr = json_object_new_array();
  EXPECT_EQ_INT(0, sam__host_api()->store_query(plugin_handle(), "p1",
                                                "docusign_reclaim_intent", NULL,
                                                NULL, 1000, on_praw, &p, NULL));
  while (!p.done)
    uv_run(&g_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, p.status);
  return p.arr;
}

static void intent_put(const char *key, const char *json) {
  praw p;
  sam_record rec;

  memset(&p, 0, sizeof(p));
  p.arr = json_object_new_array();
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.key = key;
  rec.json = json;
  rec.json_len = strlen(json);
  EXPECT_EQ_INT(0, sam__host_api()->store_put_batch(
                       plugin_handle(), "p1", "docusign_reclaim_intent", &rec,
                       1, on_praw, &p, NULL));
  while (!p.done)
    uv_run(&g_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, p.status);
  json_object_put(p.arr);
}

/* ---- running jobs ---- */

typedef struct waitj {
  int done;
  dh_run *out;
  char job_id[SAM_JOB_ID_LEN];
  int cancel_on_progress; /* cancel the job at the end of the first batch
                             (1) or at a rate-limit wait (2) */
  int cancelled;
} waitj;

static void on_progress(const char *job_id,
                        uint64_t done,
                        uint64_t total,
                        const char *msg,
                        void *ud) {
  waitj *w = ud;

  printf("  progress %llu/%llu %s\n", (unsigned long long)done,
         (unsigned long long)total, msg != NULL ? msg : "");
  /* at the end of the first batch (not the start's "N candidate(s)") */
  if (w->cancel_on_progress && !w->cancelled && msg != NULL &&
      strstr(msg, w->cancel_on_progress == 2 ? "waiting" : "batch ") != NULL) {
    w->cancelled = 1;
    EXPECT_EQ_INT(0, sam_runtime_job_cancel(g_d.h.rt, job_id));
  }
}

static void on_done(const sam_job_outcome *o, void *ud) {
  waitj *w = ud;

  w->done++;
  w->out->status = o->status;
  w->out->completions = o->completions;
  w->out->message = strdup(o->message != NULL ? o->message : "");
  w->out->result =
      o->result_json != NULL ? strndup(o->result_json, o->result_len) : NULL;
  w->out->res =
      w->out->result != NULL ? json_tokener_parse(w->out->result) : NULL;
}

static void run_job_ex(int kind,
                       const char *id,
                       uint32_t flags,
                       const char *profile,
                       const char *params,
                       int cancel_on_progress,
                       dh_run *out) {
  sam_job_request req;
  waitj w;

  memset(out, 0, sizeof(*out));
  memset(&w, 0, sizeof(w));
  w.out = out;
  w.cancel_on_progress = cancel_on_progress;
  memset(&req, 0, sizeof(req));
  req.kind = kind;
  req.flags = flags;
  req.id = id;
  req.profile_id = "p1";
  req.profile_json = profile != NULL ? profile : g_d.profile;
  req.profile_len = strlen(req.profile_json);
  req.params_json = params;
  req.params_len = params != NULL ? strlen(params) : 0;
  req.done = on_done;
  req.progress = on_progress;
  req.ud = &w;
  req.timeout_ms = g_timeout_ms;
  EXPECT_EQ_INT(0, sam_runtime_job_start(g_d.h.rt, &req, w.job_id));
  while (!w.done)
    uv_run(&g_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, w.done);
  printf("  %s%s -> [%s] %s\n  result %s\n", id,
         flags & SAM_JOB_DRY_RUN ? " (dry run)" : "", sam_err_name(out->status),
         out->message, out->result != NULL ? out->result : "(none)");
}

static void run_job(int kind,
                    const char *id,
                    uint32_t flags,
                    const char *profile,
                    const char *params,
                    dh_run *out) {
  run_job_ex(kind, id, flags, profile, params, 0, out);
}

static void reclaim(uint32_t flags, const char *params, dh_run *out) {
  run_job(SAM_JOB_PROCESS, "reclaim", flags, NULL, params, out);
}

static int64_t count(const dh_run *r, const char *k) {
  json_object *v = NULL;

  if (r->res == NULL || !json_object_object_get_ex(r->res, k, &v))
    return -1;
  return json_object_get_int64(v);
}

static long deletes(void) {
  return oh_stat(&g_d.h, "DELETE", 0);
}

static void start_db(const char *db) {
  const char *args[] = {"--account",
                        SAM_SOURCE_DIR "/tests/fixtures/accounts/reclaim.json",
                        NULL};

  if (db != NULL)
    unlink(db);
  dh_start(&g_d, args, db);
  oh_stats_reset(&g_d.h);
}

static void start(void) {
  start_db(NULL);
}

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

  iso_days_ago(0, now, sizeof(now));
  snprintf(j, sizeof(j),
           "{\"profile_id\":\"p1\",\"type_id\":\"docusign_subscription\","
           "\"plugin\":\"docusign\",\"display_name\":\"DocuSign "
           "Integration\",\"state\":\"published\",\"form\":%s,"
           "\"created_at\":\"%s\",\"updated_at\":\"%s\"}",
           g_d.profile, now, now);
  EXPECT_EQ_INT(0, dh_put(&g_d, "_host", "sam_profile", "p1", j));
}

static int restore_route(const char *uid, char **body) {
  hreply h;
  char path[300];

  memset(&h, 0, sizeof(h));
  snprintf(path, sizeof(path),
           "/api/v1/profiles/p1/lists/subscriptions/%s/restore", uid);
  EXPECT_EQ_INT(0, sam_hostsvc_call(g_d.svc, "POST", path, NULL, "{}", 2,
                                    "test", on_hreply, &h));
  while (!h.done)
    uv_run(&g_d.h.loop, UV_RUN_ONCE);
  printf("  POST %s -> [%d] %s\n", path, h.http, h.body);
  *body = h.body;
  return h.http;
}

/* ---- cases ---- */

static void test_basic(void) {
  dh_run r;
  char st[64], old[32], j[1400];
  json_object *ints;

  start();
  seed_two();
  /* protections: the admin and the integration user have candidates by
   * mistake (e.g. promoted after they opened); a user Disabled since */
  seed_sub(QADMIN, "Quiet.Admin@Reclaim.Example.com", "Professional", 1, 200);
  seed_cand(QADMIN, "Quiet.Admin@Reclaim.Example.com", "awaiting_revocation");
  seed_sub(INTEG, "Integration.Admin@Reclaim.Example.com",
           "Account Administrator", 0, 900);
  seed_cand(INTEG, "Integration.Admin@Reclaim.Example.com",
            "awaiting_revocation");
  seed_sub(DISABLED, "Disabled.Person@Reclaim.Example.com", "Sender", 0, 200);
  seed_cand(DISABLED, "Disabled.Person@Reclaim.Example.com",
            "awaiting_revocation");
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(5, count(&r, "considered"));
  EXPECT_EQ_INT(2, count(&r, "closed"));
  EXPECT_EQ_INT(3, count(&r, "skipped"));
  EXPECT_EQ_INT(0, count(&r, "failed"));
  EXPECT_CONTAINS(r.result, QUIET);
  EXPECT_CONTAINS(r.result, NEVER);
  EXPECT_EQ_INT(1, deletes());
  EXPECT_EQ_STR("Closed", sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Closed", sim_status(NEVER, st, sizeof(st)));
  EXPECT_EQ_STR("Active", sim_status(QADMIN, st, sizeof(st)));
  EXPECT_EQ_STR("Active", sim_status(INTEG, st, sizeof(st)));
  expect_cand(QUIET, "closed_complete", "DELETE users");
  expect_cand(NEVER, "closed_complete", "awaiting_revocation");
  expect_cand(QADMIN, "closed_skipped", "administrator");
  expect_cand(INTEG, "closed_skipped", "integration");
  expect_cand(DISABLED, "closed_skipped", "no longer active");
  expect_sub(QUIET, "reclaimed");
  expect_sub(NEVER, "reclaimed");
  EXPECT_CONTAINS(g_d.h.log, "audit: reclaimed DocuSign user");
  ints = intents();
  EXPECT_EQ_INT(1, json_object_array_length(ints));
  EXPECT_EQ_STR("reconciled", js(json_object_array_get_idx(ints, 0), "state"));
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
  EXPECT_EQ_INT(1, oh_stat(&g_d.h, "PUT", 0));
  EXPECT_EQ_STR("ActivationSent", sim_status(QUIET, st, sizeof(st)));
  expect_sub(QUIET, "active");
  EXPECT_CONTAINS(g_d.h.log, "audit: restored DocuSign user");
  /* Refused: not reclaimed (any more). */
  run_job(SAM_JOB_ACTION, "restore_subscription", 0, NULL,
          "{\"external_user_id\":\"" QUIET "\"}", &r);
  EXPECT_EQ_INT(SAM_EBUSY, r.status);
  EXPECT_CONTAINS(r.message, "not reclaimed");
  dh_run_free(&r);
  /* Refused: reclaimed 40 days ago. */
  {
    json_object *s = dh_get(&g_d, "p1", "sam_subscription", NEVER);

    iso_days_ago(40, old, sizeof(old));
    json_object_object_add(s, "reclaimed_at", json_object_new_string(old));
    snprintf(j, sizeof(j), "%s", json_object_to_json_string(s));
    json_object_put(s);
    EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_subscription", NEVER, j));
  }
  run_job(SAM_JOB_ACTION, "restore_subscription", 0, NULL,
          "{\"external_user_id\":\"" NEVER "\"}", &r);
  EXPECT_EQ_INT(SAM_EBUSY, r.status);
  EXPECT_CONTAINS(r.message, "30 days");
  EXPECT_EQ_STR("Closed", sim_status(NEVER, st, sizeof(st)));
  dh_run_free(&r);
  /* A second reclaim finds nothing to do and sends nothing. */
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(0, count(&r, "considered"));
  EXPECT_EQ_INT(1, deletes());
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_dry(void) {
  dh_run r;
  char st[64];

  start();
  seed_two();
  seed_sub(QADMIN, "Quiet.Admin@Reclaim.Example.com", "Professional", 1, 200);
  seed_cand(QADMIN, "Quiet.Admin@Reclaim.Example.com", "awaiting_revocation");
  reclaim(SAM_JOB_DRY_RUN, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(0, deletes());
  EXPECT_TRUE(oh_stat(&g_d.h, "PUT", 0) == 0);
  EXPECT_CONTAINS(r.message, "dry run: would close 2");
  EXPECT_CONTAINS(r.result, "\"dry_run\":true");
  EXPECT_CONTAINS(r.result, "would close");
  EXPECT_CONTAINS(r.result, "would skip");
  EXPECT_CONTAINS(r.result, "administrator");
  EXPECT_EQ_INT(0, count(&r, "closed"));
  EXPECT_EQ_STR("Active", sim_status(QUIET, st, sizeof(st)));
  expect_cand(QUIET, "awaiting_revocation", NULL);
  expect_cand(NEVER, "ready", NULL);
  expect_cand(QADMIN, "awaiting_revocation", NULL);
  {
    json_object *ints = intents();

    EXPECT_EQ_INT(0, json_object_array_length(ints));
    json_object_put(ints);
  }
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_cap(void) {
  dh_run r;
  char st[64];
  int closed = 0;

  start();
  seed_two();
  seed_sub(VIEWER, "Only.Viewer@Reclaim.Example.com", "Viewer", 0, 200);
  seed_cand(VIEWER, "Only.Viewer@Reclaim.Example.com", "awaiting_revocation");
  /* 3 active seats: 5% is 0, so the cap is the minimum, 1 */
  reclaim(0, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(1, count(&r, "cap"));
  EXPECT_EQ_INT(1, count(&r, "closed"));
  EXPECT_EQ_INT(2, count(&r, "attention_required"));
  EXPECT_CONTAINS(r.message, "reclaim cap reached");
  EXPECT_CONTAINS(r.result, "reclaim cap reached (1 of 3)");
  closed += strcmp(sim_status(QUIET, st, sizeof(st)), "Closed") == 0;
  closed += strcmp(sim_status(NEVER, st, sizeof(st)), "Closed") == 0;
  closed += strcmp(sim_status(VIEWER, st, sizeof(st)), "Closed") == 0;
  EXPECT_EQ_INT(1, closed);
  EXPECT_EQ_INT(1, deletes());
  {
    json_object *all = dh_records(&g_d, "p1", "sam_candidate");
    size_t i;
    int att = 0;

    for (i = 0; i < json_object_array_length(all); i++) {
      json_object *c = json_object_array_get_idx(all, i);

      if (strcmp(js(c, "state"), "attention_required") == 0) {
        att++;
        EXPECT_CONTAINS(json_object_to_json_string(c), "reclaim cap reached");
      }
    }
    EXPECT_EQ_INT(2, att);
    json_object_put(all);
  }
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_between(void) {
  dh_run r;
  char st[64], path[200];

  start();
  seed_two();
  seed_sub(VIEWER, "Only.Viewer@Reclaim.Example.com", "Viewer", 0, 200);
  seed_cand(VIEWER, "Only.Viewer@Reclaim.Example.com", "awaiting_revocation");
  seed_sub(UNKNOWN, "Nobody@Reclaim.Example.com", "Sender", 0, 200);
  seed_cand(UNKNOWN, "Nobody@Reclaim.Example.com", "awaiting_revocation");
  seed_sub(NEWS, "New.Sender@Reclaim.Example.com", "Sender", 0, 200);
  seed_cand(NEWS, "New.Sender@Reclaim.Example.com", "awaiting_revocation");
  /* After the download: an exclusion for Quiet Sender... */
  EXPECT_EQ_INT(0, dh_put(&g_d, "_host", "sam_exclusion_user", "x1",
                          "{\"rule_id\":\"x1\",\"user_principal_name\":"
                          "\"quiet.sender@reclaim.example.com\","
                          "\"active\":true}"));
  /* ...Never Sent promoted to administrator, the Viewer disabled. */
  snprintf(path, sizeof(path), "users/%s", NEVER);
  sim_post(path, "{\"isAdmin\":\"True\"}");
  snprintf(path, sizeof(path), "users/%s", VIEWER);
  sim_post(path, "{\"userStatus\":\"Disabled\"}");
  oh_stats_reset(&g_d.h);
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(0, count(&r, "closed"));
  EXPECT_EQ_INT(5, count(&r, "skipped"));
  EXPECT_EQ_INT(0, deletes());
  expect_cand(QUIET, "closed_skipped", "excluded");
  expect_cand(NEVER, "closed_skipped", "administrator");
  expect_cand(VIEWER, "closed_skipped", "no longer active");
  expect_cand(UNKNOWN, "closed_skipped", "no longer exists");
  /* New Sender was added 5 days ago in DocuSign: the seat is fresh */
  expect_cand(NEWS, "closed_canceled", "fresh activity");
  EXPECT_EQ_STR("Active", sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Active", sim_status(NEVER, st, sizeof(st)));
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_off(void) {
  dh_run r;
  char prof[1500];
  char *p;

  start();
  seed_two();
  p = strstr(g_d.profile, "\"reclaim_enabled\":true");
  EXPECT_TRUE(p != NULL);
  snprintf(prof, sizeof(prof), "%.*s\"reclaim_enabled\":false%s",
           (int)(p - g_d.profile), g_d.profile,
           p + strlen("\"reclaim_enabled\":true"));
  run_job(SAM_JOB_PROCESS, "reclaim", 0, prof, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_CONTAINS(r.message, "reclaiming is off");
  EXPECT_EQ_INT(0, deletes());
  EXPECT_EQ_INT(0, oh_stat(&g_d.h, "userinfo", 0));
  EXPECT_EQ_INT(0, oh_stat(&g_d.h, "/users", 0));
  expect_cand(QUIET, "awaiting_revocation", NULL);
  expect_cand(NEVER, "ready", NULL);
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_crash(void) {
  dh_run r;
  char st[64], path[200], now[32], j[600], db[128];

  /* SQLite, so the records and the tokens survive the restart */
  snprintf(db, sizeof(db), "/tmp/sam-reclaim-crash-%ld.db", (long)getpid());
  start_db(db);
  seed_two();
  /* A run sent a batch and died: DocuSign closed Quiet Sender, the
   * intent stayed pending; Never Sent was in it too but stays open. */
  snprintf(path, sizeof(path), "users/%s", QUIET);
  sim_post(path, "{\"userStatus\":\"Closed\"}");
  iso_days_ago(0, now, sizeof(now));
  snprintf(j, sizeof(j),
           "{\"batch_id\":\"dead-b1\",\"run_id\":\"dead\",\"user_ids\":[\"%s\","
           "\"%s\"],\"state\":\"pending\",\"created_at\":\"%s\"}",
           QUIET, NEVER, now);
  intent_put("dead-b1", j);
  /* A restart of the host (the plugin comes back) before the next run. */
  dh_restart(&g_d);
  oh_stats_reset(&g_d.h);
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  expect_cand(QUIET, "closed_complete", "reconciled after an interrupted run");
  expect_sub(QUIET, "reclaimed");
  /* Never Sent: re-checked, then closed by this run's own batch. */
  expect_cand(NEVER, "closed_complete", "DELETE users");
  EXPECT_EQ_STR("Closed", sim_status(NEVER, st, sizeof(st)));
  EXPECT_EQ_INT(1, deletes());
  {
    json_object *all = intents();
    json_object *in = NULL;
    size_t i;

    for (i = 0; i < json_object_array_length(all); i++)
      if (strcmp(js(json_object_array_get_idx(all, i), "batch_id"),
                 "dead-b1") == 0)
        in = json_object_array_get_idx(all, i);
    EXPECT_TRUE(in != NULL);
    EXPECT_EQ_STR("reconciled", js(in, "state"));
    EXPECT_CONTAINS(json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN),
                    "{\"user_id\":\"" QUIET "\",\"outcome\":\"closed\"}");
    json_object_put(all);
  }
  EXPECT_EQ_INT(2, count(&r, "closed"));
  dh_run_free(&r);
  dh_finish(&g_d);
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

  start();
  seed_rule();
  seed_sub(U("13"), "Missing.Dates@Reclaim.Example.com", "DocuSign Sender", 0,
           200);
  seed_cand(U("13"), "Missing.Dates@Reclaim.Example.com",
            "awaiting_revocation");
  seed_sub(QUIET, "Quiet.Sender@Reclaim.Example.com", "Professional", 0, 200);
  seed_cand(QUIET, "Quiet.Sender@Reclaim.Example.com", "awaiting_revocation");
  seed_sub(UNKNOWN, "Nobody@Reclaim.Example.com", "Sender", 0, 200);
  seed_cand(UNKNOWN, "Nobody@Reclaim.Example.com", "awaiting_revocation");
  sim_post("schedule", "{\"after_users_list\":1,\"remove\":1}");
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(1, deletes());
  EXPECT_EQ_INT(1, count(&r, "closed"));
  EXPECT_EQ_INT(1, count(&r, "skipped"));
  EXPECT_EQ_INT(1, count(&r, "failed"));
  EXPECT_EQ_INT(1, count(&r, "attention_required"));
  EXPECT_EQ_STR("Closed", sim_status(QUIET, st, sizeof(st)));
  expect_cand(QUIET, "closed_complete", "DELETE users");
  expect_cand(UNKNOWN, "closed_skipped", "no longer exists");
  expect_cand(U("13"), "attention_required", "USER_DOES_NOT_EXIST_IN_ACCOUNT");
  c = cand(U("13"));
  EXPECT_CONTAINS(js(c, "error_message"), "USER_DOES_NOT_EXIST_IN_ACCOUNT");
  json_object_put(c);
  expect_sub(U("13"), "active");
  dh_run_free(&r);
  dh_finish(&g_d);
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

  dh_start(&g_d, args, NULL);
  seed_rule();
  users = dh_sim_users(&g_d);
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *uid = js(u, "userId");
    const char *lic = js(u, "licenseType");

    before += strcmp(js(u, "userStatus"), "Closed") == 0;
    if (strcmp(js(u, "userStatus"), "Active") != 0 ||
        strcmp(uid, g_d.h.sim.integ) == 0)
      continue;
    seed_sub(uid, js(u, "email"), lic[0] ? lic : js(u, "permissionProfileName"),
             0, 400);
    seed_cand(uid, js(u, "email"), "awaiting_revocation");
    n++;
  }
  json_object_put(users);
  EXPECT_TRUE(n > 60);
  sim_post("faults", "{\"latency_ms\":100}");
  oh_stats_reset(&g_d.h);
  run_job_ex(SAM_JOB_PROCESS, "reclaim", 0, NULL, "{\"cap\":1000}", 1, &r);
  sim_post("faults", "{\"latency_ms\":0}");
  EXPECT_EQ_INT(SAM_ECANCELED, r.status);
  EXPECT_CONTAINS(r.message, "cancelled before the next DocuSign write");
  EXPECT_EQ_INT(1, deletes());
  k = count(&r, "closed");
  EXPECT_TRUE(k >= 1);
  snprintf(want, sizeof(want), "closed %lld user(s)", (long long)k);
  EXPECT_CONTAINS(r.message, want);
  EXPECT_TRUE(json_object_object_get_ex(r.res, "closed_user_ids", &ids));
  EXPECT_EQ_INT((int)k, (int)json_object_array_length(ids));
  users = dh_sim_users(&g_d);
  for (i = 0; i < json_object_array_length(users); i++)
    after += strcmp(js(json_object_array_get_idx(users, i), "userStatus"),
                    "Closed") == 0;
  json_object_put(users);
  EXPECT_EQ_INT(before + (int)k, after);
  dh_run_free(&r);
  dh_finish(&g_d);
}

/* A rule that notifies users: this host has no user directory, so its
 * candidates open in Attention Required with a message saying so, and the
 * reclaim does not act on them. */
static void test_notify(void) {
  dh_run r;
  json_object *rule, *all;
  char j[2000];
  size_t i;
  int att = 0;

  start();
  rule = dh_get(&g_d, "p1", "sam_reclamation_rule",
                "docusign_assigned_60d_professional");
  EXPECT_TRUE(rule != NULL);
  json_object_object_add(rule, "notify_user", json_object_new_boolean(1));
  json_object_object_add(rule, "days_before_auto_reclamation",
                         json_object_new_int(7));
  snprintf(j, sizeof(j), "%s", json_object_to_json_string(rule));
  json_object_put(rule);
  EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_reclamation_rule",
                          "docusign_assigned_60d_professional", j));
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  dh_run_free(&r);
  all = dh_records(&g_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);

    if (strcmp(js(c, "rule_id"), "docusign_assigned_60d_professional") != 0) {
      EXPECT_EQ_STR("ready", js(c, "state"));
      continue;
    }
    att++;
    EXPECT_EQ_STR("attention_required", js(c, "state"));
    EXPECT_CONTAINS(js(c, "error_message"), "no user directory");
  }
  EXPECT_TRUE(att >= 2);
  json_object_put(all);
  /* The reclaim acts on the Ready ones only. */
  oh_stats_reset(&g_d.h);
  reclaim(SAM_JOB_DRY_RUN, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(5 - att, count(&r, "considered"));
  dh_run_free(&r);
  dh_finish(&g_d);
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

  start();
  seed_two();
  sim_post("faults", "{\"latency_ms\":300}");
  memset(&b, 0, sizeof(b));
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "reclaim";
  req.profile_id = "p1";
  req.profile_json = g_d.profile;
  req.profile_len = strlen(g_d.profile);
  req.params_json = "{\"cap\":10}";
  req.params_len = strlen(req.params_json);
  req.done = on_bg;
  req.ud = &b;
  EXPECT_EQ_INT(0, sam_runtime_job_start(g_d.h.rt, &req, NULL));
  while (oh_stat(&g_d.h, mark, 0) < n && !b.done)
    uv_run(&g_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, b.done);
  dh_finish(&g_d);
  EXPECT_EQ_INT(1, b.done);
  EXPECT_TRUE(b.status != SAM_OK);
  printf("  closed at [%s] x%ld -> [%s]\n", mark, n, sam_err_name(b.status));
}

static void test_shutdown(void) {
  shutdown_at("userinfo", 1);         /* userinfo in flight */
  shutdown_at("GET /v2.1/users/", 1); /* a re-check in flight */
  shutdown_at("DELETE", 1);           /* the DELETE sent (answered or not) */
}

/* Threshold boundaries through the simulator (relative dates of an
 * account file written here): assigned exactly 60 days ago qualifies, 59
 * does not, 61 does; a placeholder added date falls back to the created
 * date on both sides of the boundary. Days are whole UTC calendar days
 * (the unit tests cover explicit offsets). */
static void test_boundary(void) {
  static const char *const acct =
      "{\"integrationUser\":\"b0000000-0000-4000-8000-000000000001\","
      "\"users\":["
      "{\"userId\":\"b0000000-0000-4000-8000-000000000001\",\"email\":"
      "\"integ@b.example\",\"userStatus\":\"Active\",\"isAdmin\":\"True\","
      "\"permissionProfileName\":\"Account Administrator\","
      "\"createdDateTime\":\"-900d\",\"userAddedToAccountDateTime\":\"-900d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000060\",\"email\":"
      "\"sixty@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-300d\",\"userAddedToAccountDateTime\":\"-60d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000059\",\"email\":"
      "\"fiftynine@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-300d\",\"userAddedToAccountDateTime\":\"-59d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000061\",\"email\":"
      "\"sixtyone@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-300d\",\"userAddedToAccountDateTime\":\"-61d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000159\",\"email\":"
      "\"ph59@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-59d\",\"userAddedToAccountDateTime\":"
      "\"0001-01-01T08:00:00.0000000Z\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000160\",\"email\":"
      "\"ph60@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-60d\",\"userAddedToAccountDateTime\":"
      "\"0001-01-01T08:00:00.0000000Z\"}]}";
  char file[128];
  const char *args[] = {"--account", file, NULL};
  dh_run r;
  json_object *all;
  FILE *f;
  size_t i;
  int hits = 0;

  snprintf(file, sizeof(file), "/tmp/test-dsg-reclaim-boundary-%ld.json",
           (long)getpid());
  f = fopen(file, "w");
  EXPECT_TRUE(f != NULL);
  EXPECT_TRUE(fputs(acct, f) >= 0);
  EXPECT_EQ_INT(0, fclose(f));
  dh_start(&g_d, args, NULL);
  unlink(file);
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  dh_run_free(&r);
  all = dh_records(&g_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);
    const char *uid = js(c, "external_user_id");

    printf("  candidate %s %s\n", uid, js(c, "reason"));
    if (strcmp(uid, "b0000000-0000-4000-8000-000000000060") == 0) {
      EXPECT_CONTAINS(js(c, "reason"), "60 days ago, threshold 60");
      hits++;
    } else if (strcmp(uid, "b0000000-0000-4000-8000-000000000061") == 0) {
      EXPECT_CONTAINS(js(c, "reason"), "61 days ago, threshold 60");
      hits++;
    } else if (strcmp(uid, "b0000000-0000-4000-8000-000000000160") == 0) {
      EXPECT_CONTAINS(js(c, "reason"), "60 days ago, threshold 60");
      hits++;
    } else {
      SAM_T_FAIL("unexpected candidate [%s]", uid);
    }
  }
  EXPECT_EQ_INT(3, hits);
  json_object_put(all);
  dh_finish(&g_d);
}

/* Closes uid's open candidate as kept on approval (Awaiting Approval ->
 * Closed Skipped) `days_ago` days ago, as the approval flow would. */
static void keep_on_approval(const char *uid, int days_ago) {
  json_object *all = dh_records(&g_d, "p1", "sam_candidate");
  json_object *h = NULL, *e;
  char at[32];
  size_t i;
  int done = 0;

  iso_days_ago(days_ago, at, sizeof(at));
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);

    if (strcmp(js(c, "external_user_id"), uid) != 0 ||
        strcmp(js(c, "open"), "true") != 0)
      continue;
    json_object_object_add(c, "state",
                           json_object_new_string("closed_skipped"));
    json_object_object_add(c, "open", json_object_new_boolean(0));
    json_object_object_add(c, "closed_at", json_object_new_string(at));
    EXPECT_TRUE(json_object_object_get_ex(c, "history", &h));
    e = json_object_new_object();
    json_object_object_add(e, "at", json_object_new_string(at));
    json_object_object_add(e, "from",
                           json_object_new_string("awaiting_approval"));
    json_object_object_add(e, "to", json_object_new_string("closed_skipped"));
    json_object_object_add(e, "actor", json_object_new_string("approver"));
    json_object_object_add(e, "reason", json_object_new_string("kept"));
    json_object_array_add(h, e);
    EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_candidate", js(c, "candidate_id"),
                            json_object_to_json_string(c)));
    done = 1;
  }
  EXPECT_TRUE(done);
  json_object_put(all);
}

/* Not a ctest: the demo account of the README's main command (5,000
 * generated users), downloaded, then a reclaim dry run; prints what the
 * dry run reports. Run by hand: test-dsg-reclaim demo. */
static void test_demo(void) {
  const char *args[] = {"--users", "5000", "--no-limits", NULL};
  dh_run r;
  json_object *rep = NULL;
  size_t i;
  int would = 0, skip = 0;

  /* SAM_DEMO_DB=<file>: on SQLite, as the reference host stores */
  dh_start(&g_d, args, getenv("SAM_DEMO_DB"));
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  dh_run_free(&r);
  if (getenv("SAM_DEMO_REAL") != NULL) {
    /* the real reclaim after the dry run, timed by the caller */
    reclaim(0, NULL, &r);
    dh_run_free(&r);
  }
  reclaim(SAM_JOB_DRY_RUN, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  if (getenv("SAM_DEMO_REAL") == NULL)
    EXPECT_EQ_INT(0, deletes());
  if (r.res != NULL && json_object_object_get_ex(r.res, "report", &rep)) {
    for (i = 0; i < json_object_array_length(rep); i++) {
      const char *a = js(json_object_array_get_idx(rep, i), "action");

      would += strcmp(a, "would close") == 0;
      skip += strcmp(a, "would skip") == 0;
    }
  }
  printf("  demo: %d would close, %d would skip\n", would, skip);
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_refresh(void) {
  static const char *const want[] = {U("02"), U("03"), U("04"), U("06"),
                                     U("12")};
  dh_run r;
  json_object *all;
  char path[200];
  size_t i, k;
  int found = 0;

  start();
  /* a price for one model: its candidates carry the potential savings */
  EXPECT_EQ_INT(0, dh_put(&g_d, "p1", "sam_entitlement", "e1",
                          "{\"entitlement_id\":\"e1\",\"software_model\":"
                          "\"Professional\",\"seats\":10,\"unit_cost\":456,"
                          "\"currency\":\"USD\"}"));
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":5,");
  dh_run_free(&r);
  all = dh_records(&g_d, "p1", "sam_candidate");
  /* Only users assigned >= 60 days ago; never the integration user, the
   * admins, new users, Closed/Disabled ones, a custom (unrecognized)
   * identifier or a user whose dates are all unknown. The placeholder
   * added date falls back to the created date (500 days). */
  EXPECT_EQ_INT(5, json_object_array_length(all));
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);
    const char *uid = js(c, "external_user_id");

    printf("  candidate %s %s %s\n", uid, js(c, "state"), js(c, "reason"));
    for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
      found += strcmp(uid, want[k]) == 0;
    EXPECT_EQ_STR("ready", js(c, "state"));
    EXPECT_EQ_STR("Low Usage", js(c, "justification"));
    EXPECT_CONTAINS(js(c, "reason"), "days ago, threshold 60");
    if (strcmp(js(c, "software_model"), "Professional") == 0) {
      EXPECT_EQ_STR("456.0", js(c, "potential_savings"));
      EXPECT_EQ_STR("USD", js(c, "currency"));
    } else {
      EXPECT_TRUE(js(c, "potential_savings") == NULL); /* null */
    }
  }
  EXPECT_EQ_INT(5, found);
  json_object_put(all);

  /* A second download opens no second candidate. */
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":0,"
                            "\"closed_skipped\":0,\"open_total\":5}");
  dh_run_free(&r);

  /* Then Quiet Sender is promoted, Never Sent excluded, Only Viewer
   * removed: their open candidates close Skipped with the reason. */
  snprintf(path, sizeof(path), "users/%s", QUIET);
  sim_post(path, "{\"isAdmin\":\"True\"}");
  sim_post("users/remove", "{\"userIds\":[\"" VIEWER "\"]}");
  EXPECT_EQ_INT(0, dh_put(&g_d, "_host", "sam_exclusion_user", "x1",
                          "{\"rule_id\":\"x1\",\"user_principal_name\":"
                          "\"never.sent@reclaim.example.com\","
                          "\"active\":true}"));
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":0,"
                            "\"closed_skipped\":3,\"open_total\":2}");
  dh_run_free(&r);
  all = dh_records(&g_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);
    const char *uid = js(c, "external_user_id");
    const char *h = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);

    if (strcmp(uid, QUIET) == 0) {
      EXPECT_EQ_STR("closed_skipped", js(c, "state"));
      EXPECT_CONTAINS(h, "administrator");
      EXPECT_CONTAINS(h, "\"actor\":\"download\"");
    } else if (strcmp(uid, NEVER) == 0) {
      EXPECT_EQ_STR("closed_skipped", js(c, "state"));
      EXPECT_CONTAINS(h, "x1");
    } else if (strcmp(uid, VIEWER) == 0) {
      EXPECT_EQ_STR("closed_skipped", js(c, "state"));
    } else {
      EXPECT_EQ_STR("ready", js(c, "state"));
    }
  }
  json_object_put(all);

  /* Kept on approval: today (not flagged again) and 61 days ago (another
   * threshold period passed: flagged again, a new generation). */
  keep_on_approval(U("02"), 0);
  keep_on_approval(U("12"), 61);
  dh_download(&g_d, NULL, NULL, &r);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":1,"
                            "\"closed_skipped\":0,\"open_total\":1}");
  dh_run_free(&r);
  all = dh_records(&g_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);

    if (strcmp(js(c, "open"), "true") != 0)
      continue;
    EXPECT_EQ_STR(U("12"), js(c, "external_user_id"));
    EXPECT_TRUE(strstr(js(c, "candidate_id"), "-1") != NULL);
  }
  json_object_put(all);
  dh_finish(&g_d);
}

/* ---- rate limits (issue 7) ---- */

/* Seeds a subscription and a candidate for up to `max` Active users of the
 * generated account (not the integration user); returns how many. */
static int seed_generated(int max) {
  json_object *users = dh_sim_users(&g_d);
  size_t i;
  int n = 0;

  seed_rule();
  for (i = 0; i < json_object_array_length(users) && n < max; i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *uid = js(u, "userId");
    const char *lic = js(u, "licenseType");

    if (strcmp(js(u, "userStatus"), "Active") != 0 ||
        strcmp(uid, g_d.h.sim.integ) == 0 ||
        strcmp(js(u, "isAdmin"), "True") == 0)
      continue;
    seed_sub(uid, js(u, "email"), lic[0] ? lic : js(u, "permissionProfileName"),
             0, 400 + n);
    seed_cand(uid, js(u, "email"), "awaiting_revocation");
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

  dh_start(&g_d, args, NULL);
  n = seed_generated(60);
  EXPECT_EQ_INT(60, n);
  sim_post("limits", "{\"burst\":40,\"burst_window_s\":3,\"reset\":true}");
  oh_stats_reset(&g_d.h);
  reclaim(0, "{\"cap\":1000}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  /* closed, or canceled by the re-check (added to the account again
   * within the threshold, as some generated users are) */
  EXPECT_EQ_INT(60, (int)(count(&r, "closed") + count(&r, "skipped")));
  EXPECT_EQ_INT(0, (int)count(&r, "failed"));
  EXPECT_EQ_INT(0, (int)count(&r, "rate_limit_errors"));
  EXPECT_TRUE(count(&r, "rate_limit_waits") >= 1);
  /* no limit error at all on DocuSign's side */
  EXPECT_EQ_INT(0, (int)oh_stat(&g_d.h, "/", 429));
  EXPECT_EQ_INT(0, (int)oh_stat(&g_d.h, "/", 400));
  EXPECT_EQ_INT(2, (int)deletes());
  users = dh_sim_users(&g_d);
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    json_object *c = cand(js(u, "userId"));

    if (c != NULL && strcmp(js(c, "state"), "closed_complete") == 0) {
      EXPECT_EQ_STR("Closed", js(u, "userStatus"));
      closed++;
    } else if (c != NULL) {
      EXPECT_EQ_STR("closed_canceled", js(c, "state"));
      EXPECT_EQ_STR("Active", js(u, "userStatus"));
    }
    json_object_put(c);
  }
  json_object_put(users);
  EXPECT_EQ_INT((int)count(&r, "closed"), closed);
  EXPECT_TRUE(closed >= 50);
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_limit429(void) {
  dh_run r;
  char st[64];

  start();
  seed_two();
  sim_post("faults", "{\"next_429\":1,\"scope\":\"write\"}");
  oh_stats_reset(&g_d.h);
  reclaim(0, "{\"cap\":10}", &r);
  sim_post("faults", "{\"scope\":\"rest\"}");
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, (int)count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)count(&r, "rate_limit_errors"));
  EXPECT_EQ_INT(1, (int)oh_stat(&g_d.h, "DELETE", 429));
  EXPECT_EQ_INT(1, (int)oh_stat(&g_d.h, "DELETE", 200));
  EXPECT_EQ_INT(2, (int)deletes());
  EXPECT_EQ_STR("Closed", sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Closed", sim_status(NEVER, st, sizeof(st)));
  expect_cand(QUIET, "closed_complete", NULL);
  expect_cand(NEVER, "closed_complete", NULL);
  EXPECT_TRUE(strstr(r.message, "unknown") == NULL);
  dh_run_free(&r);
  dh_finish(&g_d);
}

static void test_deadline(void) {
  dh_run r;
  json_object *in;
  char st[64];
  size_t i;
  int pending = 0;

  start();
  seed_two();
  sim_post("faults", "{\"next_429\":1,\"scope\":\"write\"}");
  oh_stats_reset(&g_d.h);
  g_timeout_ms = 10000; /* the burst reset (30 s) comes after it */
  reclaim(0, "{\"cap\":10}", &r);
  g_timeout_ms = 300000;
  sim_post("faults", "{\"scope\":\"rest\"}");
  EXPECT_EQ_INT(SAM_EAGAIN, r.status);
  EXPECT_CONTAINS(r.message, "not sent");
  EXPECT_TRUE(strstr(r.message, "unknown") == NULL);
  EXPECT_TRUE(count(&r, "retry_after_s") >= 1);
  EXPECT_EQ_INT(0, (int)count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)deletes());
  EXPECT_EQ_STR("Active", sim_status(QUIET, st, sizeof(st)));
  in = intents();
  for (i = 0; i < json_object_array_length(in); i++)
    pending +=
        strcmp(js(json_object_array_get_idx(in, i), "state"), "pending") == 0;
  json_object_put(in);
  EXPECT_EQ_INT(1, pending);
  dh_run_free(&r);
  /* the next run reconciles the pending intent and closes both, once */
  oh_stats_reset(&g_d.h);
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, (int)count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)deletes());
  EXPECT_EQ_STR("Closed", sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Closed", sim_status(NEVER, st, sizeof(st)));
  expect_cand(QUIET, "closed_complete", NULL);
  expect_cand(NEVER, "closed_complete", NULL);
  dh_run_free(&r);
  dh_finish(&g_d);
}

/* A cancel during a rate-limit wait ends the run at once: nothing sent,
 * the intent pending, the next run closes both once. */
static void test_cancelwait(void) {
  dh_run r;
  json_object *in;
  char st[64];
  size_t i;
  int pending = 0;

  start();
  seed_two();
  sim_post("faults", "{\"next_429\":1,\"scope\":\"write\"}");
  oh_stats_reset(&g_d.h);
  run_job_ex(SAM_JOB_PROCESS, "reclaim", 0, NULL, "{\"cap\":10}", 2, &r);
  sim_post("faults", "{\"scope\":\"rest\"}");
  EXPECT_EQ_INT(SAM_ECANCELED, r.status);
  EXPECT_CONTAINS(r.message, "closed 0 user(s)");
  EXPECT_EQ_INT(1, (int)deletes());
  EXPECT_EQ_STR("Active", sim_status(QUIET, st, sizeof(st)));
  in = intents();
  for (i = 0; i < json_object_array_length(in); i++)
    pending +=
        strcmp(js(json_object_array_get_idx(in, i), "state"), "pending") == 0;
  json_object_put(in);
  EXPECT_EQ_INT(1, pending);
  dh_run_free(&r);
  oh_stats_reset(&g_d.h);
  reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, (int)count(&r, "closed"));
  EXPECT_EQ_INT(1, (int)deletes());
  EXPECT_EQ_STR("Closed", sim_status(NEVER, st, sizeof(st)));
  dh_run_free(&r);
  dh_finish(&g_d);
}

/* Under the cap, the oldest assigned dates go first (then userId). */
static void test_order(void) {
  const char *args[] = {"--users", "40", NULL};
  static const int days[] = {300, 900, 150, 700, 500, 800, 200, 600};
  json_object *users;
  char uids[8][64];
  dh_run r;
  size_t i;
  int n = 0;

  dh_start(&g_d, args, NULL);
  seed_rule();
  users = dh_sim_users(&g_d);
  for (i = 0; i < json_object_array_length(users) && n < 8; i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *uid = js(u, "userId");
    const char *lic = js(u, "licenseType");

    if (strcmp(js(u, "userStatus"), "Active") != 0 ||
        strcmp(uid, g_d.h.sim.integ) == 0 ||
        strcmp(js(u, "isAdmin"), "True") == 0)
      continue;
    snprintf(uids[n], sizeof(uids[n]), "%s", uid);
    seed_sub(uid, js(u, "email"), lic[0] ? lic : js(u, "permissionProfileName"),
             0, days[n]);
    seed_cand(uid, js(u, "email"), "awaiting_revocation");
    n++;
  }
  json_object_put(users);
  EXPECT_EQ_INT(8, n);
  reclaim(0, "{\"cap\":3}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(3, (int)count(&r, "closed"));
  for (i = 0; i < 8; i++) {
    json_object *c = cand(uids[i]);
    int oldest = days[i] >= 700; /* 900, 800, 700 */

    EXPECT_TRUE(c != NULL);
    printf("  assigned %d days ago -> %s\n", days[i], js(c, "state"));
    EXPECT_EQ_STR(oldest ? "closed_complete" : "attention_required",
                  js(c, "state"));
    json_object_put(c);
  }
  dh_run_free(&r);
  dh_finish(&g_d);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "basic";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "basic") == 0)
    SAM_T_RUN(test_basic);
  else if (strcmp(c, "dry") == 0)
    SAM_T_RUN(test_dry);
  else if (strcmp(c, "cap") == 0)
    SAM_T_RUN(test_cap);
  else if (strcmp(c, "between") == 0)
    SAM_T_RUN(test_between);
  else if (strcmp(c, "off") == 0)
    SAM_T_RUN(test_off);
  else if (strcmp(c, "crash") == 0)
    SAM_T_RUN(test_crash);
  else if (strcmp(c, "partial") == 0)
    SAM_T_RUN(test_partial);
  else if (strcmp(c, "cancel") == 0)
    SAM_T_RUN(test_cancel);
  else if (strcmp(c, "notify") == 0)
    SAM_T_RUN(test_notify);
  else if (strcmp(c, "shutdown") == 0)
    SAM_T_RUN(test_shutdown);
  else if (strcmp(c, "boundary") == 0)
    SAM_T_RUN(test_boundary);
  else if (strcmp(c, "demo") == 0)
    SAM_T_RUN(test_demo);
  else if (strcmp(c, "refresh") == 0)
    SAM_T_RUN(test_refresh);
  else if (strcmp(c, "paced") == 0)
    SAM_T_RUN(test_paced);
  else if (strcmp(c, "limit429") == 0)
    SAM_T_RUN(test_limit429);
  else if (strcmp(c, "deadline") == 0)
    SAM_T_RUN(test_deadline);
  else if (strcmp(c, "cancelwait") == 0)
    SAM_T_RUN(test_cancelwait);
  else if (strcmp(c, "order") == 0)
    SAM_T_RUN(test_order);
  else
    SAM_T_FAIL("unknown case [%s]", c);
  return 0;
}
