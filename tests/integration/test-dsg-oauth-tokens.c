/*
 * test-dsg-oauth-tokens.c: the plugin's tokens in use, against the
 * DocuSign simulator over HTTPS: refresh on a 401 (one refresh, one
 * retry) and single-flight under 20 concurrent jobs; refresh before an
 * expiry; the rotated refresh token persisted (the old one is dead at the
 * simulator, the new one works after a plugin restart); a refused refresh
 * moves the profile to "needs consent", and later jobs fail fast without
 * any call to DocuSign, also after a restart, until a new consent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sam/sam_plugin.h"
#include "sam_core.h"
#include "sam_test.h"
#include "test-dsg-oauth-common.h"

#define NEEDS_CONSENT "re-authorisation needed: run Get OAuth Token again"

static void db_path(char *out, size_t n, const char *name) {
  const char *tmp = getenv("TMPDIR");

  snprintf(out, n, "%s/%s-%ld.db", tmp != NULL ? tmp : "/tmp", name,
           (long)getpid());
  unlink(out);
}

/* A member of the stored oauth_tokens document (malloc'd). */
static char *token_field(oh *h, const char *key) {
  char *doc = NULL;
  json_object *o;
  char *v;

  EXPECT_EQ_INT(0, oh_secret(h, "oauth_tokens", &doc));
  o = json_tokener_parse(doc);
  EXPECT_TRUE(o != NULL);
  v = strdup(json_object_get_string(json_object_object_get(o, key)));
  json_object_put(o);
  free(doc);
  return v;
}

static void validate_ok(oh *h) {
  oh_run r;

  oh_action(h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  oh_run_free(&r);
}

/* Every access token expires at DocuSign: the 20 jobs' calls get 401, and
 * exactly one refresh serves them all (A18, ABI.md 9.7). */
static void test_single_flight_401(void) {
  oh h;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, NULL);
  oh_connect(&h, "st-1");
  validate_ok(&h);
  oh_stats_reset(&h);
  EXPECT_EQ_INT(200, sim_control(&h.sim, "tokens/expire", "{}"));
  EXPECT_EQ_INT(20, oh_validate_many(&h, 20));
  EXPECT_EQ_INT(1, oh_stat(&h, "/oauth/token", 0));
  EXPECT_EQ_INT(1, oh_stat(&h, "/oauth/token", 200));
  EXPECT_TRUE(oh_stat(&h, "/oauth/userinfo", 401) >= 1);
  EXPECT_EQ_INT(20, oh_stat(&h, "/users", 200));
  /* The refreshed token serves later jobs without another refresh. */
  validate_ok(&h);
  EXPECT_EQ_INT(1, oh_stat(&h, "/oauth/token", 0));
  oh_finish(&h);
}

/* A token that expires within the margin is refreshed before the call:
 * no 401 at all. The stored expiry is moved forward through the host's
 * secret API while the plugin is down, then the plugin starts again. */
static void test_refresh_before_expiry(void) {
  oh h;
  char db[300];
  char doc[4096];
  char *access;
  char *refresh;
  long now = (long)time(NULL);

  db_path(db, sizeof(db), "dsg-oauth-expiry");
  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, db, NULL, NULL);
  oh_connect(&h, "st-1");
  access = token_field(&h, "access_token");
  refresh = token_field(&h, "refresh_token");
  oh_stop_runtime(&h);
  oh_start(&h, db, NULL, NULL);
  snprintf(doc, sizeof(doc),
           "{\"access_token\":\"%s\",\"refresh_token\":\"%s\","
           "\"expires_at\":%ld,\"obtained_at\":%ld,\"scope\":\"signature "
           "extended\"}",
           access, refresh, now + 60, now - 28000);
  EXPECT_EQ_INT(0, oh_secret_put(&h, "oauth_tokens", doc));
  oh_stats_reset(&h);
  validate_ok(&h);
  EXPECT_EQ_INT(1, oh_stat(&h, "/oauth/token", 200));
  EXPECT_EQ_INT(0, oh_stat(&h, "/oauth/userinfo", 401));
  EXPECT_EQ_INT(0, oh_stat(&h, "/users", 401));
  free(access);
  free(refresh);

  /* Once more, but the refresh fails with a 503: that job fails with the
   * cause, and the profile does not need consent for it. (The simulator
   * rotated the token before the gateway error replaced its reply, so the
   * grant itself is lost, as it would be at DocuSign.) */
  access = token_field(&h, "access_token");
  refresh = token_field(&h, "refresh_token");
  oh_stop_runtime(&h);
  oh_start(&h, db, NULL, NULL);
  snprintf(doc, sizeof(doc),
           "{\"access_token\":\"%s\",\"refresh_token\":\"%s\","
           "\"expires_at\":%ld,\"obtained_at\":%ld,\"scope\":\"signature "
           "extended\"}",
           access, refresh, now + 60, now - 28000);
  EXPECT_EQ_INT(0, oh_secret_put(&h, "oauth_tokens", doc));
  EXPECT_EQ_INT(200, sim_control(&h.sim, "faults",
                                 "{\"next_503\":1,\"scope\":\"oauth\"}"));
  {
    oh_run r;
    char *stored = NULL;

    oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
    EXPECT_TRUE(r.status != SAM_OK && r.status != SAM_EAUTH);
    EXPECT_CONTAINS(r.message, "token refresh");
    EXPECT_CONTAINS(r.message, "[http=503]");
    oh_run_free(&r);
    EXPECT_EQ_INT(0, oh_secret(&h, "oauth_tokens", &stored));
    EXPECT_NOT_CONTAINS(stored, "needs_consent");
    EXPECT_CONTAINS(stored, refresh);
    free(stored);
  }
  free(access);
  free(refresh);
  oh_finish(&h);
}

/* A14: the rotated refresh token is what is stored; the old one is dead
 * at the simulator; after a restart the stored one works. */
static void test_rotation_persisted(void) {
  oh h;
  char db[300];
  char url[256];
  char form[512];
  char *r1;
  char *r2;
  sim_resp sr;

  db_path(db, sizeof(db), "dsg-oauth-rotation");
  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, db, NULL, NULL);
  oh_connect(&h, "st-1");
  r1 = token_field(&h, "refresh_token");
  EXPECT_EQ_INT(200, sim_control(&h.sim, "tokens/expire", "{}"));
  validate_ok(&h); /* 401, refresh, retry */
  r2 = token_field(&h, "refresh_token");
  EXPECT_TRUE(strcmp(r1, r2) != 0);
  EXPECT_NOT_CONTAINS(h.log, r1);
  EXPECT_NOT_CONTAINS(h.log, r2);

  /* Restart: the plugin reads the stored tokens; their access token is
   * dead too, so the stored (rotated) refresh token must work. */
  oh_stop_runtime(&h);
  oh_start(&h, db, NULL, NULL);
  EXPECT_EQ_INT(200, sim_control(&h.sim, "tokens/expire", "{}"));
  oh_stats_reset(&h);
  validate_ok(&h);
  EXPECT_EQ_INT(1, oh_stat(&h, "/oauth/token", 200));
  EXPECT_EQ_INT(0, oh_stat(&h, "/oauth/token", 400));

  /* The first refresh token was rotated away: the simulator refuses it. */
  snprintf(url, sizeof(url), "%s/oauth/token", h.sim.https);
  snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s", r1);
  EXPECT_EQ_INT(CURLE_OK,
                sim_http("POST", url,
                         "Basic c2ltLWludGVncmF0aW9uLWtleTpzaW0tc2VjcmV0", form,
                         "application/x-www-form-urlencoded", h.tls.ca, &sr));
  EXPECT_EQ_INT(400, sr.status);
  EXPECT_CONTAINS(sr.body, "invalid_grant");
  sim_resp_free(&sr);
  free(r1);
  free(r2);
  oh_finish(&h);
}

/* A refused refresh: needs consent, persisted; jobs fail fast without any
 * HTTP call, after a restart too; a new consent clears it. */
static void test_needs_consent(void) {
  oh h;
  oh_run r;
  char db[300];
  char *doc = NULL;

  db_path(db, sizeof(db), "dsg-oauth-consent");
  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, db, NULL, NULL);
  oh_connect(&h, "st-1");
  EXPECT_EQ_INT(200,
                sim_control(&h.sim, "tokens/expire", "{\"refresh\":true}"));
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_EQ_STR(NEEDS_CONSENT, r.message);
  oh_run_free(&r);
  EXPECT_EQ_INT(0, oh_secret(&h, "oauth_tokens", &doc));
  EXPECT_CONTAINS(doc, "\"state\":\"needs_consent\"");
  EXPECT_NOT_CONTAINS(doc, "refresh_token");
  free(doc);

  /* Fail fast: no call reaches DocuSign. */
  oh_stats_reset(&h);
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_EQ_STR(NEEDS_CONSENT, r.message);
  oh_run_free(&r);
  EXPECT_EQ_INT(0, oh_stat(&h, "/", 0));

  /* Still after a restart. */
  oh_stop_runtime(&h);
  oh_start(&h, db, NULL, NULL);
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_EQ_STR(NEEDS_CONSENT, r.message);
  oh_run_free(&r);
  EXPECT_EQ_INT(0, oh_stat(&h, "/", 0));

  /* A new consent clears it. */
  oh_connect(&h, "st-2");
  validate_ok(&h);
  oh_finish(&h);
}

/* ---- the host drops the tokens ---- */

static void on_put(int status, const char *value, size_t len, void *ud) {
  int *st = ud;

  (void)value;
  (void)len;
  *st = status;
}

/* The host deletes the stored tokens when a credential changes or a
 * profile patch is refused, without telling the plugin. The plugin's idle
 * cache (token_reload_ms 0 here) reads the store again: the dropped token
 * is not used, and nothing writes it back. */
static void test_host_dropped_tokens(void) {
  oh h;
  oh_run r;
  char *doc = NULL;
  char config[900];
  int st = 1;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  snprintf(config, sizeof(config),
           "{\"ca_file\":\"%s\",\"test_mode\":true,\"token_reload_ms\":0}",
           h.tls.ca);
  oh_start(&h, NULL, config, NULL);
  oh_connect(&h, "dr-1");
  validate_ok(&h);
  EXPECT_EQ_INT(0, sam__host_api()->secret_put(sam_runtime_host_handle(h.rt),
                                               "p1", "oauth_tokens", NULL, 0,
                                               on_put, &st, NULL));
  while (st == 1)
    uv_run(&h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, st);
  oh_stats_reset(&h);
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_CONTAINS(r.message, "no OAuth token");
  oh_run_free(&r);
  EXPECT_EQ_INT(0, oh_stat(&h, "/", 0));
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_tokens", &doc));
  free(doc);
  oh_finish(&h);
}

/* ---- cancel and shutdown with a call in flight ---- */

typedef struct job_wait {
  int done;
  int status;
  int completions;
} job_wait;

static void on_job(const sam_job_outcome *o, void *ud) {
  job_wait *w = ud;

  w->done = 1;
  w->status = o->status;
  w->completions = o->completions;
}

/* Starts validate_connection and runs the loop until the plugin's start
 * has run (the job is "running"). */
static void start_validate(oh *h, job_wait *w, char *job_id) {
  sam_job_request req;
  char *jobs;
  int running = 0;

  memset(w, 0, sizeof(*w));
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_ACTION;
  req.id = "validate_connection";
  req.profile_id = "p1";
  req.profile_json = h->profile;
  req.profile_len = strlen(h->profile);
  req.done = on_job;
  req.ud = w;
  EXPECT_EQ_INT(0, sam_runtime_job_start(h->rt, &req, job_id));
  while (!running && !w->done) {
    uv_run(&h->loop, UV_RUN_ONCE);
    jobs = sam_runtime_jobs_json(h->rt);
    EXPECT_TRUE(jobs != NULL);
    running = strstr(jobs, "\"running\"") != NULL;
    free(jobs);
  }
  EXPECT_EQ_INT(0, w->done);
}

/* The sim holds every reply for a minute: a cancel stops the call, the
 * job completes once with SAM_ECANCELED; a shutdown does the same. */
static void test_cancel_and_shutdown(void) {
  oh h;
  job_wait w;
  char job_id[SAM_JOB_ID_LEN];

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, NULL);
  oh_connect(&h, "st-1");
  EXPECT_EQ_INT(200, sim_control(&h.sim, "faults",
                                 "{\"latency_ms\":60000,\"scope\":\"all\"}"));
  start_validate(&h, &w, job_id);
  EXPECT_EQ_INT(0, sam_runtime_job_cancel(h.rt, job_id));
  while (!w.done)
    uv_run(&h.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(SAM_ECANCELED, w.status);
  EXPECT_EQ_INT(1, w.completions);

  /* Shutdown with a call in flight: the job is cancelled, the plugin's
   * shutdown finishes, no contract violation (checked in stop). */
  start_validate(&h, &w, job_id);
  oh_stop_runtime(&h);
  EXPECT_EQ_INT(1, w.done);
  EXPECT_EQ_INT(SAM_ECANCELED, w.status);
  EXPECT_EQ_INT(200, sim_control(&h.sim, "faults/clear", "{}"));
  oh_finish(&h);
}

int main(void) {
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  SAM_T_RUN(test_single_flight_401);
  SAM_T_RUN(test_refresh_before_expiry);
  SAM_T_RUN(test_rotation_persisted);
  SAM_T_RUN(test_needs_consent);
  SAM_T_RUN(test_host_dropped_tokens);
  SAM_T_RUN(test_cancel_and_shutdown);
  curl_global_cleanup();
  return 0;
}
