/*
 * test-samhost.c: `samhost serve` as a child process with the DocuSign
 * plugin, driven over HTTP on 127.0.0.1:0 and through the `samhost` CLI:
 * REST auth, body bounds and content types, per-field errors from the real
 * service layer, the OAuth redirect without a token, static files with
 * their security headers and no traversal, clean shutdown on SIGTERM and
 * SIGINT (exit 0 includes serve's own uv_loop_close check), persistence
 * across a restart, CLI exit codes and --json, the data directory lock,
 * and no clear admin token or client secret in the data directory.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "sam_test.h"
#include "test-samhost-common.h"

#define SECRET "Cl1entS3cret-never-in-clear"

static char dir[512];
static th_server srv;
static char token[128];
static char profile_id[128];

static const char *jget(json_object *o, const char *key) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
    return NULL;
  return json_object_get_string(v);
}

/* ---- REST ---- */

static void test_start(void) {
  struct stat st;

  th_tmpdir(dir, sizeof(dir), "test-samhost");
  snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/data/dir");
  EXPECT_EQ_INT(0, th_server_start(dir, NULL, &srv, NULL));
  EXPECT_TRUE(srv.token[0] != '\0'); /* first run: shown once */
  EXPECT_EQ_INT(43, (long)strlen(srv.token));
  snprintf(token, sizeof(token), "%s", srv.token);
  EXPECT_CONTAINS(srv.line, "\"plugins\":[{\"name\":\"docusign\"");
  EXPECT_CONTAINS(srv.line, "\"pid\":");
  {
    /* --listen 127.0.0.1:0: the public URL names the port really bound */
    char want[128];
    snprintf(want, sizeof(want), "\"public_url\":\"%s\"", srv.url);
    EXPECT_CONTAINS(srv.line, want);
  }
  EXPECT_EQ_INT(0, stat(dir, &st));
  EXPECT_EQ_INT(0700, st.st_mode & 0777);
}

static void test_auth(void) {
  th_resp r;
  char *v;

  EXPECT_EQ_INT(
      0, th_http(srv.port, "GET", "/api/v1/plugins", NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(401, r.status);
  EXPECT_CONTAINS(r.body, "\"SAM_EAUTH\"");
  v = th_header(&r, "content-type");
  EXPECT_EQ_STR("application/json", v);
  free(v);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", "/api/v1/plugins", "wrong-token",
                           NULL, NULL, 0, &r));
  EXPECT_EQ_INT(401, r.status);
  th_resp_free(&r);
  /* one character off */
  {
    char near[128];
    snprintf(near, sizeof(near), "%s", token);
    near[0] = near[0] == 'A' ? 'B' : 'A';
    EXPECT_EQ_INT(0, th_http(srv.port, "GET", "/api/v1/plugins", near, NULL,
                             NULL, 0, &r));
    EXPECT_EQ_INT(401, r.status);
    th_resp_free(&r);
  }
  EXPECT_EQ_INT(
      0, th_http(srv.port, "GET", "/api/v1/plugins", token, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  EXPECT_CONTAINS(r.body, "\"docusign\"");
  v = th_header(&r, "cache-control");
  EXPECT_EQ_STR("no-store", v);
  free(v);
  v = th_header(&r, "x-content-type-options");
  EXPECT_EQ_STR("nosniff", v);
  free(v);
  th_resp_free(&r);
}

static void test_limits(void) {
  size_t big = 1024 * 1024 + 1;
  char *body = malloc(big + 1);
  th_resp r;

  EXPECT_TRUE(body != NULL);
  memset(body, ' ', big);
  body[0] = '{';
  body[big - 1] = '}';
  body[big] = '\0';
  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token,
                           "application/json", body, big, &r));
  EXPECT_EQ_INT(413, r.status);
  th_resp_free(&r);
  free(body);

  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token,
                           "text/plain", "{}", 2, &r));
  EXPECT_EQ_INT(415, r.status);
  EXPECT_CONTAINS(r.body, "application/json");
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token, NULL,
                           "{}", 2, &r));
  EXPECT_EQ_INT(415, r.status);
  th_resp_free(&r);
  /* parameters after the media type are fine; garbage JSON is the
   * service's 400 */
  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token,
                           "application/json; charset=utf-8", "{nope", 5, &r));
  EXPECT_EQ_INT(400, r.status);
  th_resp_free(&r);
  /* state-changing calls need X-SAM-CSRF: 1 (GET does not) */
  th_no_csrf = 1;
  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token,
                           "application/json", "{}", 2, &r));
  EXPECT_EQ_INT(403, r.status);
  EXPECT_CONTAINS(r.body, "X-SAM-CSRF");
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "DELETE", "/api/v1/profiles/x", token,
                           NULL, NULL, 0, &r));
  EXPECT_EQ_INT(403, r.status);
  th_resp_free(&r);
  EXPECT_EQ_INT(
      0, th_http(srv.port, "GET", "/api/v1/plugins", token, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  th_resp_free(&r);
  th_no_csrf = 0;
  EXPECT_EQ_INT(0, th_http(srv.port, "TRACE", "/api/v1/plugins", token, NULL,
                           NULL, 0, &r));
  EXPECT_EQ_INT(405, r.status);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", "/api/v1/no-such-thing", token,
                           NULL, NULL, 0, &r));
  EXPECT_EQ_INT(404, r.status);
  EXPECT_CONTAINS(r.body, "\"SAM_ENOENT\"");
  th_resp_free(&r);
  EXPECT_EQ_INT(0,
                th_http(srv.port, "GET", "/nowhere", NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(404, r.status);
  EXPECT_CONTAINS(r.body, "\"SAM_ENOENT\"");
  th_resp_free(&r);
}

static void test_fields(void) {
  const char *bad =
      "{\"type_id\":\"docusign_subscription\",\"form\":{\"display_name\":"
      "\"Acme\",\"client_id\":\"abc\",\"account_id\":\"12345\","
      "\"client_secret\":\"" SECRET "\",\"bogus_field\":1}}";
  const char *good =
      "{\"type_id\":\"docusign_subscription\",\"form\":{\"display_name\":"
      "\"Acme DocuSign\",\"client_id\":\"abc\",\"account_id\":\"12345\","
      "\"client_secret\":\"" SECRET "\"}}";
  json_object *o, *errs;
  th_resp r;

  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token,
                           "application/json", bad, strlen(bad), &r));
  EXPECT_EQ_INT(400, r.status);
  o = json_tokener_parse(r.body);
  EXPECT_TRUE(o != NULL);
  EXPECT_TRUE(json_object_object_get_ex(o, "errors", &errs));
  EXPECT_CONTAINS(json_object_to_json_string(errs), "\\/bogus_field");
  EXPECT_NOT_CONTAINS(r.body, SECRET);
  json_object_put(o);
  th_resp_free(&r);

  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/api/v1/profiles", token,
                           "application/json", good, strlen(good), &r));
  EXPECT_TRUE(r.status == 200 || r.status == 201);
  EXPECT_NOT_CONTAINS(r.body, SECRET);
  {
    char want[128];
    snprintf(want, sizeof(want), "%s/oauth_redirect.do", srv.url);
    EXPECT_CONTAINS(r.body, want); /* the form's redirect_url */
  }
  o = json_tokener_parse(r.body);
  EXPECT_TRUE(o != NULL && jget(o, "profile_id") != NULL);
  snprintf(profile_id, sizeof(profile_id), "%s", jget(o, "profile_id"));
  json_object_put(o);
  th_resp_free(&r);
}

static void test_oauth_redirect(void) {
  th_resp r;
  char *v;

  /* no token needed: the service answers (an unknown state is its 4xx
   * page), never the transport's 401 */
  EXPECT_EQ_INT(0, th_http(srv.port, "GET",
                           "/oauth_redirect.do?code=abc&state=unknown", NULL,
                           NULL, NULL, 0, &r));
  EXPECT_TRUE(r.status != 401 && r.status != 404 && r.status < 500);
  EXPECT_NOT_CONTAINS(r.body, "abc\"");
  v = th_header(&r, "content-security-policy");
  EXPECT_TRUE(v != NULL);
  free(v);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "POST", "/oauth_redirect.do", NULL, NULL,
                           NULL, 0, &r));
  EXPECT_EQ_INT(405, r.status);
  th_resp_free(&r);
}

static void test_static(void) {
  static const char *const traversal[] = {"/ui/../../../../etc/passwd",
                                          "/ui/%2e%2e/%2e%2e/etc/passwd",
                                          "/ui/..%2f..%2fetc/passwd",
                                          "/ui/./index.html",
                                          "/ui//etc/passwd",
                                          "/ui/nothing-here.js",
                                          "/ui/..",
                                          NULL};
  th_resp r;
  char *v;
  int i;

  EXPECT_EQ_INT(0, th_http(srv.port, "GET", "/", NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  EXPECT_CONTAINS(r.body, "<title>samhost</title>");
  v = th_header(&r, "content-type");
  EXPECT_EQ_STR("text/html; charset=utf-8", v);
  free(v);
  v = th_header(&r, "content-security-policy");
  EXPECT_CONTAINS(v, "default-src 'self'");
  EXPECT_CONTAINS(v, "script-src 'self'");
  EXPECT_NOT_CONTAINS(v, "unsafe-inline");
  EXPECT_CONTAINS(v, "frame-ancestors 'none'");
  free(v);
  v = th_header(&r, "referrer-policy");
  EXPECT_EQ_STR("no-referrer", v);
  free(v);
  th_resp_free(&r);
  EXPECT_EQ_INT(
      0, th_http(srv.port, "GET", "/ui/index.html", NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "HEAD", "/ui/", NULL, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  th_resp_free(&r);
  for (i = 0; traversal[i] != NULL; i++) {
    EXPECT_EQ_INT(
        0, th_http(srv.port, "GET", traversal[i], NULL, NULL, NULL, 0, &r));
    if (r.status != 404)
      SAM_T_FAIL("expected [404] got [%ld] for [%s]", r.status, traversal[i]);
    EXPECT_NOT_CONTAINS(r.body, "root:");
    th_resp_free(&r);
  }
  EXPECT_EQ_INT(0, th_http(srv.port, "DELETE", "/ui/index.html", NULL, NULL,
                           NULL, 0, &r));
  EXPECT_EQ_INT(405, r.status);
  th_resp_free(&r);
}

/* ---- CLI ---- */

static void test_cli(void) {
  char *out = NULL;
  json_object *o;

  /* the CLI finds the server through the data directory's lock file */
  EXPECT_EQ_INT(0,
                th_cli(token, NULL, &out, "--data-dir", dir, "plugins", NULL));
  EXPECT_CONTAINS(out, "docusign");
  EXPECT_CONTAINS(out, "docusign_subscription");
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "--json",
                          "profile", "show", profile_id, NULL));
  o = json_tokener_parse(out);
  EXPECT_TRUE(o != NULL);
  EXPECT_EQ_STR(profile_id, jget(o, "profile_id"));
  json_object_put(o);
  EXPECT_NOT_CONTAINS(out, SECRET);
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "profile",
                          "list", NULL));
  EXPECT_CONTAINS(out, "Acme DocuSign");
  free(out);
  /* a secret from stdin; a validation error is exit 2 */
  EXPECT_EQ_INT(2,
                th_cli(token, "s3cr3t-from-stdin\n", &out, "--server", srv.url,
                       "profile", "create", "--type", "docusign_subscription",
                       "--field", "display_name=X", "--field", "client_id=abc",
                       "--field", "account_id=not-an-id", "--secret-stdin",
                       "client_secret", NULL));
  free(out);
  EXPECT_EQ_INT(0, th_cli(token, "s3cr3t-from-stdin\n", &out, "--server",
                          srv.url, "--json", "profile", "create", "--type",
                          "docusign_subscription", "--field",
                          "display_name=Second", "--field", "client_id=abc",
                          "--field", "account_id=777", "--field",
                          "reclaim_enabled:=false", "--secret-stdin",
                          "client_secret", NULL));
  EXPECT_CONTAINS(out, "\"Second\"");
  EXPECT_NOT_CONTAINS(out, "s3cr3t-from-stdin");
  free(out);
  /* exit codes */
  EXPECT_EQ_INT(
      4, th_cli("wrong", NULL, NULL, "--server", srv.url, "plugins", NULL));
  EXPECT_EQ_INT(4,
                th_cli(NULL, NULL, NULL, "--server", srv.url, "plugins", NULL));
  EXPECT_EQ_INT(3, th_cli(token, NULL, NULL, "--server", "http://127.0.0.1:1",
                          "plugins", NULL));
  EXPECT_EQ_INT(2, th_cli(token, NULL, NULL, "--server", srv.url, "profile",
                          "show", "no-such-profile", NULL));
  EXPECT_EQ_INT(1, th_cli(token, NULL, NULL, "no-such-command", NULL));
  EXPECT_EQ_INT(
      1, th_cli(token, NULL, NULL, "profile", "create", "--field", NULL));
  {
    static const char *const cmds[] = {"serve", "profile", "action",
                                       "job",   "list",    "plugins",
                                       "key",   "token",   NULL};
    int i;
    for (i = 0; cmds[i] != NULL; i++) {
      EXPECT_EQ_INT(0, th_cli(NULL, NULL, &out, cmds[i], "--help", NULL));
      EXPECT_CONTAINS(out, "Usage:");
      EXPECT_CONTAINS(out, "Exit codes");
      free(out);
    }
  }
  {
    /* the token from a file (first line, trailing newline ignored) */
    char tf[600];
    FILE *f;
    snprintf(tf, sizeof(tf), "%s/../token.txt", dir);
    f = fopen(tf, "w");
    EXPECT_TRUE(f != NULL);
    fprintf(f, "%s\n", token);
    fclose(f);
    EXPECT_EQ_INT(0, th_cli(NULL, NULL, NULL, "--server", srv.url,
                            "--token-file", tf, "plugins", NULL));
    EXPECT_EQ_INT(0, unlink(tf));
  }
  EXPECT_EQ_INT(0, th_cli(token, NULL, &out, "--server", srv.url, "--json",
                          "list", "jobs", "--profile", profile_id, NULL));
  o = json_tokener_parse(out);
  EXPECT_TRUE(o != NULL);
  json_object_put(o);
  free(out);
  /* the offline commands refuse while the server holds the data dir */
  EXPECT_EQ_INT(
      2, th_cli(NULL, NULL, NULL, "--data-dir", dir, "key", "rotate", NULL));
  EXPECT_EQ_INT(
      2, th_cli(NULL, NULL, NULL, "--data-dir", dir, "token", "reset", NULL));
}

static void test_second_server_refused(void) {
  th_server other;
  int code = -1;

  EXPECT_EQ_INT(-1, th_server_start(dir, NULL, &other, &code));
  EXPECT_TRUE(code != 0);
}

/* ---- restart ---- */

static void test_stop_and_restart(void) {
  th_resp r;
  char path[256];
  char *out = NULL;
  char newtok[128];

  EXPECT_EQ_INT(0, th_server_stop(&srv, SIGTERM));
  EXPECT_EQ_INT(0, th_dir_contains(dir, token));
  EXPECT_EQ_INT(0, th_dir_contains(dir, SECRET));
  EXPECT_EQ_INT(0, th_dir_contains(dir, "s3cr3t-from-stdin"));

  EXPECT_EQ_INT(0, th_server_start(dir, NULL, &srv, NULL));
  EXPECT_EQ_STR("", srv.token); /* shown once: not again */
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", profile_id);
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", path, token, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  EXPECT_CONTAINS(r.body, "Acme DocuSign");
  EXPECT_NOT_CONTAINS(r.body, SECRET);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_server_stop(&srv, SIGINT));

  /* offline: a new token replaces the old one; a key rotation re-seals */
  EXPECT_EQ_INT(
      0, th_cli(NULL, NULL, &out, "--data-dir", dir, "token", "reset", NULL));
  EXPECT_TRUE(sscanf(out, "admin token (shown once): %127s", newtok) == 1);
  free(out);
  EXPECT_EQ_INT(0, th_cli(NULL, NULL, &out, "--data-dir", dir, "--json", "key",
                          "rotate", NULL));
  EXPECT_CONTAINS(out, "\"resealed\":");
  free(out);
  EXPECT_EQ_INT(0, th_server_start(dir, NULL, &srv, NULL));
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", path, token, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(401, r.status);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_http(srv.port, "GET", path, newtok, NULL, NULL, 0, &r));
  EXPECT_EQ_INT(200, r.status);
  th_resp_free(&r);
  EXPECT_EQ_INT(0, th_server_stop(&srv, SIGTERM));
  EXPECT_EQ_INT(0, th_dir_contains(dir, newtok));
  EXPECT_EQ_INT(0, th_dir_contains(dir, SECRET));
}

/* A failed assertion aborts: take the server child down with us, so that
 * no orphan keeps the data directory (or ctest's pipes) open. */
static void on_abort(int sig) {
  if (srv.pid > 0)
    kill(srv.pid, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

int main(void) {
  char top[512];

  signal(SIGABRT, on_abort);
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  SAM_T_RUN(test_start);
  SAM_T_RUN(test_auth);
  SAM_T_RUN(test_limits);
  SAM_T_RUN(test_fields);
  SAM_T_RUN(test_oauth_redirect);
  SAM_T_RUN(test_static);
  SAM_T_RUN(test_cli);
  SAM_T_RUN(test_second_server_refused);
  SAM_T_RUN(test_stop_and_restart);
  /* dir is <tmp>/test-samhost-XXXXXX/data/dir */
  snprintf(top, sizeof(top), "%s", dir);
  *strstr(top, "/data/dir") = '\0';
  th_rmrf(top);
  curl_global_cleanup();
  return 0;
}
