/*
 * test-samhost-jobs.c: `samhost serve` with the hostsvc fixture plugin
 * (tests/fixtures/plugins/hostsvc_fixture), driven through the CLI and
 * HTTP end to end: create a profile with the secret from stdin, Get OAuth
 * Token, the browser's GET /oauth_redirect.do (no admin token), Validate
 * Connection, publish, the daily jobs, `job run --wait` (plain progress
 * lines when stdout is not a terminal), job results and related lists;
 * then SIGTERM while an action waits (the request is answered, the host
 * exits 0 with no handle left).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <uv.h>

#include "sam_test.h"
#include "test-samhost-common.h"

#define SECRET "fx-Secret-value-42"

static char dir[512];
static th_server srv;
static char token[128];
static char pid[128];

static void on_abort(int sig) {
  if (srv.pid > 0)
    kill(srv.pid, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0)
    ;
}

static json_object *parse(const char *text) {
  json_object *o = json_tokener_parse(text);

  if (o == NULL)
    SAM_T_FAIL("not JSON [%s]", text);
  return o;
}

static const char *jstr(json_object *o, const char *key) {
  json_object *v;

  if (!json_object_object_get_ex(o, key, &v) || v == NULL)
    return NULL;
  return json_object_get_string(v);
}

static void test_flow(void) {
  char *out = NULL, state[128], path[512];
  const char *url, *p;
  json_object *o, *res;
  th_resp r;
  int rc, i;

  th_tmpdir(dir, sizeof(dir), "test-samhost-jobs");
  EXPECT_EQ_INT(0, th_server_start(dir, NULL, &srv, NULL));
  snprintf(token, sizeof(token), "%s", srv.token);
  EXPECT_CONTAINS(srv.line, "\"hsfx\"");

  EXPECT_EQ_INT(
      0, th_cli(token, SECRET "\n", &out, "--server", srv.url, "--json",
                "profile", "create", "--type", "hsfx_account", "--field",
                "display_name=Acme", "--field", "client_id=abc-123", "--field",
                "account_id=42", "--secret-stdin", "client_secret", NULL));
  EXPECT_NOT_CONTAINS(out, SECRET);
  o = parse(out);
  snprintf(pid, sizeof(pid), "%s", jstr(o, "profile_id"));
  json_object_put(o);
  free(out);

  /* Get OAuth Token (human output), then again for the state: the
   * second replaces the first pending state */
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "action", pid,
                          "get_token", NULL));
  EXPECT_CONTAINS(out, "open this URL in a browser");
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "--json",
                          "action", pid, "get_token", NULL));
  o = parse(out);
  EXPECT_TRUE(json_object_object_get_ex(o, "result", &res));
  url = jstr(res, "redirect_url");
  EXPECT_TRUE(url != NULL);
  p = strstr(url, "state=");
  EXPECT_TRUE(p != NULL);
  snprintf(state, sizeof(state), "%.*s", (int)strcspn(p + 6, "&"), p + 6);
  json_object_put(o);
  free(out);

  /* the browser comes back without any admin token */
  snprintf(path, sizeof(path), "/oauth_redirect.do?code=good-code&state=%s",
           state);
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", path, NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  EXPECT_CONTAINS(r.headers, "text/html");
  EXPECT_NOT_CONTAINS(r.body, "good-code");
  th_resp_free(&r);
  /* replayed: refused */
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", path, NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(400, r.status);
  th_resp_free(&r);

  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "action", pid,
                          "validate_connection", NULL));
  EXPECT_CONTAINS(out, "SAM_OK");
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "profile",
                          "publish", pid, NULL));
  EXPECT_CONTAINS(out, "published");
  free(out);

  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "job", "list",
                          "--profile", pid, NULL));
  EXPECT_CONTAINS(out, "SAM - Refresh Acme Subscriptions");
  free(out);

  /* publish started a first run: a run-now may find it still running
   * (409); it ends on its own, so retry until this one starts */
  for (i = 0; i < 100; i++) {
    rc = th_cli(token, NULL, &out, "--server", srv.url, "job", "run",
                "--profile", pid, "--wait", NULL);
    if (rc == 0 || strstr(out, "started job") != NULL)
      break;
    free(out);
    out = NULL;
    sleep_ms(50);
  }
  EXPECT_EQ_INT(0, rc);
  EXPECT_CONTAINS(out, "started job");
  EXPECT_CONTAINS(out, ": success");
  free(out);

  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "--json",
                          "job", "results", "--profile", pid, NULL));
  o = parse(out);
  EXPECT_TRUE(json_object_object_get_ex(o, "items", &res));
  EXPECT_TRUE(json_object_array_length(res) >= 2);
  json_object_put(o);
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "list",
                          "job-results", "--profile", pid, NULL));
  EXPECT_CONTAINS(out, "success");
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "list",
                          "models", "--profile", pid, NULL));
  free(out);
  EXPECT_EQ_INT(2, th_cli(token, NULL, NULL, "--server", srv.url, "list",
                          "no-such-list", "--profile", pid, NULL));
  EXPECT_EQ_INT(1, th_cli(token, NULL, NULL, "--server", srv.url, "list",
                          "models", NULL));
}

static void test_restart(void) {
  char *out = NULL;

  /* published profile, its jobs and their results survive a restart */
  EXPECT_EQ_INT(0, th_server_stop(&srv, SIGINT));
  EXPECT_EQ_INT(0, th_server_start(dir, NULL, &srv, NULL));
  EXPECT_EQ_STR("", srv.token);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "profile",
                          "show", pid, NULL));
  EXPECT_CONTAINS(out, "published");
  EXPECT_CONTAINS(out, "validated");
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--data-dir", dir, "job", "list",
                          "--profile", pid, NULL));
  EXPECT_CONTAINS(out, "SAM - Refresh Acme Subscriptions");
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--data-dir", dir, "job",
                          "results", "--profile", pid, NULL));
  EXPECT_CONTAINS(out, "success");
  free(out);
}

/* ---- shutdown while an action waits ---- */

static long hang_status = -1;

static void hang_client(void *arg) {
  char path[256];
  th_resp r;

  (void)arg;
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/hang", pid);
  if (th_http(srv.port, "POST", path, token, NULL, NULL, 0, &r) == 0)
    hang_status = r.status;
  else
    hang_status = 0; /* refused: the signal came first */
  th_resp_free(&r);
}

static void test_stop_with_waiting_action(void) {
  uv_thread_t th;

  EXPECT_EQ_INT(0, uv_thread_create(&th, hang_client, NULL));
  /* Give the request a moment to arrive. Both orders are correct; only
   * the in-flight one is interesting, and its reply is checked below. */
  sleep_ms(300);
  EXPECT_EQ_INT(0, th_server_stop(&srv, SIGTERM));
  EXPECT_EQ_INT(0, uv_thread_join(&th));
  printf("hang action answered with [%ld] (0 = not sent before the stop)\n",
         hang_status);
  /* answered by the cancelled action, never left to its 30 s deadline */
  EXPECT_TRUE(hang_status != 504);
  EXPECT_EQ_INT(0, th_dir_contains(dir, SECRET));
  EXPECT_EQ_INT(0, th_dir_contains(dir, token));
}

int main(void) {
  signal(SIGABRT, on_abort);
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  SAM_T_RUN(test_flow);
  SAM_T_RUN(test_restart);
  SAM_T_RUN(test_stop_with_waiting_action);
  th_rmrf(dir);
  curl_global_cleanup();
  return 0;
}
