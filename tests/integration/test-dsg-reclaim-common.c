/*
 * test-dsg-reclaim-common.c: the harness shared by the reclaim tests
 * (test-dsg-reclaim-*.c): seeding the records a reclaim reads, reading
 * back candidates, subscriptions and the plugin's intents, the simulator's
 * view of a user, and running jobs with their outcome. See
 * test-dsg-reclaim-common.h.
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
#include "test-dsg-reclaim-common.h"

dh rh_d;
uint64_t rh_timeout_ms = 300000; /* the host deadline of jobs */

/* ---- seeding ---- */

void rh_iso_days_ago(int days, char *out, size_t len) {
  time_t t = time(NULL) - (time_t)days * 86400;
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void rh_seed_rule(void) {
  EXPECT_EQ_INT(0, dh_put(&rh_d, "p1", "sam_reclamation_rule", "r1",
                          "{\"rule_id\":\"r1\",\"name\":\"assigned 60 days\","
                          "\"software_model\":null,"
                          "\"basis\":\"subscription_assigned_date\","
                          "\"last_activity_threshold_days\":60,"
                          "\"notify_user\":false,\"grace_days\":0,"
                          "\"create_candidate\":true,\"active\":true}"));
}

void rh_seed_sub(const char *uid,
                 const char *email,
                 const char *ident,
                 int is_admin,
                 int days_ago) {
  char j[1400], now[32], at[32];

  rh_iso_days_ago(0, now, sizeof(now));
  rh_iso_days_ago(days_ago, at, sizeof(at));
  snprintf(j, sizeof(j),
           "{\"external_user_id\":\"%s\",\"user_principal_name\":\"%s\","
           "\"subscription_identifier\":\"%s\",\"software_model\":\"%s\","
           "\"state\":\"active\",\"active\":true,\"is_admin\":%s,"
           "\"remote_status\":\"Active\",\"assigned_at\":\"%s\","
           "\"assigned_source\":\"added_to_account\",\"first_seen_at\":\"%s\","
           "\"last_seen_at\":\"%s\",\"excluded\":false}",
           uid, email, ident, ident, is_admin ? "true" : "false", at, now, now);
  EXPECT_EQ_INT(0, dh_put(&rh_d, "p1", "sam_subscription", uid, j));
}

void rh_seed_cand(const char *uid, const char *email, const char *state) {
  char j[1400], key[80], now[32];

  rh_iso_days_ago(0, now, sizeof(now));
  snprintf(key, sizeof(key), "t-%s", uid + 30);
  snprintf(j, sizeof(j),
           "{\"candidate_id\":\"%s\",\"external_user_id\":\"%s\","
           "\"user_principal_name\":\"%s\",\"rule_id\":\"r1\","
           "\"state\":\"%s\",\"open\":true,\"justification\":\"Low Usage\","
           "\"reason\":\"assigned long ago\",\"notify_user\":false,"
           "\"opened_at\":\"%s\",\"history\":[{\"at\":\"%s\",\"from\":null,"
           "\"to\":\"ready\",\"actor\":\"test\",\"reason\":\"seeded\"}]}",
           key, uid, email, state, now, now);
  EXPECT_EQ_INT(0, dh_put(&rh_d, "p1", "sam_candidate", key, j));
}

/* The fixture's closable users: Quiet Sender and Never Sent. */
void rh_seed_two(void) {
  rh_seed_rule();
  rh_seed_sub(QUIET, "Quiet.Sender@Reclaim.Example.com", "Professional", 0,
              200);
  rh_seed_sub(NEVER, "Never.Sent@Reclaim.Example.com", "Sender", 0, 200);
  rh_seed_cand(QUIET, "Quiet.Sender@Reclaim.Example.com",
               "awaiting_revocation");
  rh_seed_cand(NEVER, "Never.Sent@Reclaim.Example.com", "ready");
}

json_object *rh_cand(const char *uid) {
  char key[80];

  snprintf(key, sizeof(key), "t-%s", uid + 30);
  return dh_get(&rh_d, "p1", "sam_candidate", key);
}

const char *rh_js(json_object *o, const char *k) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v))
    return "";
  return json_object_get_string(v);
}

void rh_expect_cand(const char *uid, const char *state, const char *why) {
  json_object *c = rh_cand(uid);
  json_object *h = NULL;

  EXPECT_TRUE(c != NULL);
  EXPECT_EQ_STR(state, rh_js(c, "state"));
  if (why != NULL) {
    EXPECT_TRUE(json_object_object_get_ex(c, "history", &h));
    EXPECT_CONTAINS(json_object_to_json_string(h), why);
  }
  json_object_put(c);
}

void rh_expect_sub(const char *uid, const char *state) {
  json_object *s = dh_get(&rh_d, "p1", "sam_subscription", uid);

  EXPECT_TRUE(s != NULL);
  EXPECT_EQ_STR(state, rh_js(s, "state"));
  json_object_put(s);
}

/* The simulator's status of one user. */
const char *rh_sim_status(const char *uid, char *buf, size_t len) {
  json_object *users = dh_sim_users(&rh_d);
  size_t i;

  snprintf(buf, len, "(absent)");
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);

    if (strcmp(rh_js(u, "userId"), uid) == 0)
      snprintf(buf, len, "%s", rh_js(u, "userStatus"));
  }
  json_object_put(users);
  return buf;
}

void rh_sim_post(const char *path, const char *body) {
  char url[300];
  sim_resp r;

  snprintf(url, sizeof(url), "%s/_sim/%s", rh_d.h.sim.http, path);
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
  sam_host *h = sam__hs_plugin_handle(rh_d.svc, "docusign");

  EXPECT_TRUE(h != NULL);
  return h;
}

/* Every intent of p1 (one page is enough here); caller puts. */
json_object *rh_intents(void) {
  praw p;

  memset(&p, 0, sizeof(p));
  p.arr = json_object_new_array();
  EXPECT_EQ_INT(0, sam__host_api()->store_query(plugin_handle(), "p1",
                                                "docusign_reclaim_intent", NULL,
                                                NULL, 1000, on_praw, &p, NULL));
  while (!p.done)
    uv_run(&rh_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, p.status);
  return p.arr;
}

int rh_intents_in(const char *state) {
  json_object *in = rh_intents();
  size_t i;
  int n = 0;

  for (i = 0; i < json_object_array_length(in); i++)
    n += strcmp(rh_js(json_object_array_get_idx(in, i), "state"), state) == 0;
  json_object_put(in);
  return n;
}

void rh_intent_put(const char *key, const char *json) {
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
    uv_run(&rh_d.h.loop, UV_RUN_ONCE);
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
    EXPECT_EQ_INT(0, sam_runtime_job_cancel(rh_d.h.rt, job_id));
  }
}

static void on_done(const sam_job_outcome *o, void *ud) {
  waitj *w = ud;

  w->done++;
  dh_run_take(w->out, o);
}

void rh_run_job_ex(int kind,
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
  req.profile_json = profile != NULL ? profile : rh_d.profile;
  req.profile_len = strlen(req.profile_json);
  req.params_json = params;
  req.params_len = params != NULL ? strlen(params) : 0;
  req.done = on_done;
  req.progress = on_progress;
  req.ud = &w;
  req.timeout_ms = rh_timeout_ms;
  EXPECT_EQ_INT(0, sam_runtime_job_start(rh_d.h.rt, &req, w.job_id));
  while (!w.done)
    uv_run(&rh_d.h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, w.done);
  printf("  %s%s -> [%s] %s\n  result %s\n", id,
         flags & SAM_JOB_DRY_RUN ? " (dry run)" : "", sam_err_name(out->status),
         out->message, out->result != NULL ? out->result : "(none)");
}

void rh_run_job(int kind,
                const char *id,
                uint32_t flags,
                const char *profile,
                const char *params,
                dh_run *out) {
  rh_run_job_ex(kind, id, flags, profile, params, 0, out);
}

void rh_reclaim(uint32_t flags, const char *params, dh_run *out) {
  rh_run_job(SAM_JOB_PROCESS, "reclaim", flags, NULL, params, out);
}

int64_t rh_count(const dh_run *r, const char *k) {
  json_object *v = NULL;

  if (r->res == NULL || !json_object_object_get_ex(r->res, k, &v))
    return -1;
  return json_object_get_int64(v);
}

long rh_deletes(void) {
  return oh_stat(&rh_d.h, "DELETE", 0);
}

void rh_start_db(const char *db) {
  const char *args[] = {"--account",
                        SAM_SOURCE_DIR "/tests/fixtures/accounts/reclaim.json",
                        NULL};

  if (db != NULL)
    unlink(db);
  dh_start(&rh_d, args, db);
  oh_stats_reset(&rh_d.h);
}

void rh_start(void) {
  rh_start_db(NULL);
}
