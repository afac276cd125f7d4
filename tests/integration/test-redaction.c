/*
 * test-redaction.c: ABI.md 9.8. Secret values the host sealed or opened,
 * Authorization/Bearer/Basic values, secret JSON keys (access_token,
 * refresh_token, client_secret, code_verifier, password, x-sam-secret form
 * fields) and the same names plus `code` as URL parameters never reach the
 * log, progress, job messages, result JSON or init's err.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-core-common.h"

#define SECRET "s3cr3t-value-XYZ"

/* ---- the redaction function itself ---- */

static void expect_redacted(sam_runtime *rt,
                            const char *in,
                            const char *must_vanish,
                            const char *must_stay) {
  char *out = sam_runtime_redact(rt, in, strlen(in));

  EXPECT_TRUE(out != NULL);
  EXPECT_NOT_CONTAINS(out, must_vanish);
  EXPECT_CONTAINS(out, "[redacted]");
  if (must_stay != NULL)
    EXPECT_CONTAINS(out, must_stay);
  free(out);
}

static void patterns(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_runtime *rt;
  char err[256];
  char *out;

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, tp_load(th, NULL, 0, err, sizeof(err)));
  rt = sam_test_host_runtime(th);
  expect_redacted(rt, "GET /x Authorization: Bearer eyJabc.def.ghi\r\nHost: a",
                  "eyJabc", "Host: a");
  expect_redacted(rt, "header authorization: Basic dXNlcjpwYXNz", "dXNlcjpw",
                  "header");
  expect_redacted(rt, "retry with bearer tok_0123456789 now", "tok_0123456789",
                  "now");
  expect_redacted(rt, "{\"refresh_token\":\"rt-AAAA\",\"expires_in\":3600}",
                  "rt-AAAA", "\"expires_in\":3600");
  expect_redacted(rt, "{ \"access_token\" : \"at-BBBB\" }", "at-BBBB", NULL);
  expect_redacted(rt, "{\"password\":\"hunter2\\\"x\",\"user\":\"u\"}",
                  "hunter2", "\"user\":\"u\"");
  expect_redacted(rt, "{\"code_verifier\":\"cv-1\"}", "cv-1", NULL);
  expect_redacted(rt, "{\"client_secret\":42}", "42", NULL);
  expect_redacted(rt, "{\"Authorization\":\"raw-token-1\"}", "raw-token-1",
                  NULL);
  expect_redacted(rt, "GET /oauth_redirect.do?code=CODE123&state=st1",
                  "CODE123", "state=st1");
  expect_redacted(rt, "grant_type=refresh_token&refresh_token=RT-9&x=1", "RT-9",
                  "x=1");
  expect_redacted(rt, "body client_secret=CS-1 end", "CS-1", "end");
  /* not secrets: left alone */
  out = sam_runtime_redact(rt, "code_challenge=abc&state=s&encode=1", 35);
  EXPECT_EQ_STR("code_challenge=abc&state=s&encode=1", out);
  free(out);
  out = sam_runtime_redact(rt, "{\"client_id\":\"cid\"}", 19);
  EXPECT_EQ_STR("{\"client_id\":\"cid\"}", out);
  free(out);
  /* a known value: sealed through the host */
  EXPECT_EQ_INT(0, sam_test_host_set_secret(th, "p1", "client_secret", SECRET));
  expect_redacted(rt, "the value is " SECRET "!", SECRET, "the value is");
  /* ... also once escaped into JSON or encoded into a URL */
  EXPECT_EQ_INT(
      0, sam_test_host_set_secret(th, "p1", "client_secret", "a\"b/c+d=e\\f"));
  expect_redacted(rt, "{\"x\":\"a\\\"b/c+d=e\\\\f\"}", "b/c+d", NULL);
  expect_redacted(rt, "GET /t?x=a%22b%2Fc%2Bd%3De%5Cf&y=1", "%2Fc%2Bd", "y=1");
  expect_redacted(rt, "{\"x\":\"a\\\"b\\/c+d=e\\\\f\"}", "c+d=e", NULL);
  /* short values (< 8 bytes) are not known values */
  EXPECT_EQ_INT(0, sam_test_host_set_secret(th, "p1", "client_secret", "abc"));
  out = sam_runtime_redact(rt, "abcdef", 6);
  EXPECT_EQ_STR("abcdef", out);
  free(out);
  tp_teardown(&loop, th);
}

/* ---- a plugin that leaks everywhere ---- */

static sam_job *g_job;

static void on_secret(int status, const char *value, size_t len, void *ud) {
  char buf[256];
  char res[256];
  sam_job *job = ud;

  EXPECT_EQ_INT(SAM_OK, status);
  snprintf(buf, sizeof(buf), "got secret [%.*s] Bearer %.*s", (int)len, value,
           (int)len, value);
  tp.api->log_write(tp.host, job, SAM_LOG_INFO, buf, strlen(buf));
  EXPECT_EQ_INT(0, tp.api->job_progress(job, 1, 2, buf));
  snprintf(res, sizeof(res),
           "{\"leak\":\"%.*s\",\"refresh_token\":\"RTX-77\",\"ok\":true}",
           (int)len, value);
  EXPECT_EQ_INT(0, tp.api->job_complete(job, SAM_OK, buf, res, strlen(res)));
}

static int start_leaky(sam_job *job, const sam_job_input *in, void *ud) {
  (void)ud;
  g_job = job;
  return tp.api->secret_get(tp.host, in->profile_id, "client_secret", on_secret,
                            job, NULL);
}

static const tp_proc procs[] = {
    {"leaky", SAM_JOB_PROCESS, 0, 0, start_leaky, NULL, NULL, NULL},
};

static char progress_msg[512];

static void on_progress(const char *job_id,
                        uint64_t done,
                        uint64_t total,
                        const char *msg,
                        void *ud) {
  (void)job_id;
  (void)done;
  (void)total;
  (void)ud;
  snprintf(progress_msg, sizeof(progress_msg), "%s", msg);
}

static int finished;
static char done_msg[512];
static char done_result[512];

static void on_done(const sam_job_outcome *o, void *ud) {
  (void)ud;
  finished = 1;
  snprintf(done_msg, sizeof(done_msg), "%s", o->message);
  snprintf(done_result, sizeof(done_result), "%s",
           o->result_json ? o->result_json : "");
}

static void plugin_strings(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_job_request req;
  char err[256];

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, tp_load(th, procs, 1, err, sizeof(err)));
  EXPECT_EQ_INT(0, sam_test_host_set_secret(th, "p1", "client_secret", SECRET));
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "leaky";
  req.profile_id = "p1";
  req.done = on_done;
  req.progress = on_progress;
  finished = 0;
  EXPECT_EQ_INT(0,
                sam_runtime_job_start(sam_test_host_runtime(th), &req, NULL));
  tp_run_until(&loop, &finished);
  EXPECT_CONTAINS(sam_test_host_log(th), "got secret [[redacted]]");
  EXPECT_NOT_CONTAINS(sam_test_host_log(th), SECRET);
  EXPECT_CONTAINS(sam_test_host_log(th), "[tp] ");
  EXPECT_NOT_CONTAINS(progress_msg, SECRET);
  EXPECT_CONTAINS(progress_msg, "[redacted]");
  EXPECT_NOT_CONTAINS(done_msg, SECRET);
  EXPECT_CONTAINS(done_msg, "got secret");
  EXPECT_NOT_CONTAINS(done_result, SECRET);
  EXPECT_NOT_CONTAINS(done_result, "RTX-77");
  EXPECT_CONTAINS(done_result, "\"ok\":true");
  tp_teardown(&loop, th);
}

/* ---- init err ---- */

static int init_leaks(const sam_host_api *api,
                      sam_host *host,
                      const sam_init_args *args,
                      const sam_plugin_ops **ops_out,
                      char *err,
                      size_t err_len) {
  (void)api;
  (void)host;
  (void)args;
  (void)ops_out;
  snprintf(err, err_len,
           "token exchange failed: Authorization: Bearer abc.def "
           "{\"refresh_token\":\"R-1\"} [reason=fixture]");
  return SAM_EAUTH;
}

static void init_err(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_host *h = NULL;
  char err[256];

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, sam__plugin_create(sam_test_host_runtime(th), "leaky",
                                      "1.0.0", "", &h));
  EXPECT_EQ_INT(SAM_EAUTH,
                sam__plugin_run_init(h, init_leaks, NULL, err, sizeof(err)));
  sam__plugin_rollback(h);
  EXPECT_NOT_CONTAINS(err, "abc.def");
  EXPECT_NOT_CONTAINS(err, "R-1");
  EXPECT_CONTAINS(err, "[reason=fixture]");
  EXPECT_EQ_INT(SAM__PHASE_STOPPED, sam__plugin_phase(h));
  tp_teardown(&loop, th);
}

/* Ugly input: truncated patterns at the end of the text and random bytes
 * never read past the buffer (ASan) and always give a NUL-terminated
 * result. */
static void truncated_and_random(void) {
  static const char *const pieces[] = {"Authorization:",
                                       "authorization: ",
                                       "Bearer",
                                       "Bearer ",
                                       "Basic ",
                                       "\"access_token\"",
                                       "\"access_token\":",
                                       "\"password\": \"",
                                       "\"refresh_token\":\"ab\\",
                                       "code=",
                                       "?code",
                                       "&refresh_token=",
                                       "{\"client_secret\":"};
  uv_loop_t loop;
  sam_test_host *th;
  sam_runtime *rt;
  char err[256];
  char buf[64];
  size_t i, k;
  unsigned seed = 12345;

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, tp_load(th, NULL, 0, err, sizeof(err)));
  rt = sam_test_host_runtime(th);
  for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
    size_t n = strlen(pieces[i]);

    for (k = 0; k <= n; k++) {
      char *heap = malloc(k ? k : 1);
      char *out;

      memcpy(heap, pieces[i], k);
      out = sam_runtime_redact(rt, heap, k);
      EXPECT_TRUE(out != NULL);
      EXPECT_TRUE(strlen(out) <= k + 16);
      free(out);
      free(heap);
    }
  }
  for (i = 0; i < 2000; i++) {
    size_t n = 1 + (i % sizeof(buf));
    char *out;

    for (k = 0; k < n; k++) {
      seed = seed * 1103515245u + 12345u;
      buf[k] = "abc=&?\":{} \\Bearer_code"[(seed >> 16) % 24];
    }
    out = sam_runtime_redact(rt, buf, n);
    EXPECT_TRUE(out != NULL);
    free(out);
  }
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(patterns);
  SAM_T_RUN(plugin_strings);
  SAM_T_RUN(init_err);
  SAM_T_RUN(truncated_and_random);
  return 0;
}
