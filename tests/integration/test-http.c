/*
 * test-http.c: the generic h2o server (http_server.c) in process, and the
 * admin token (admin_token.c).
 *
 * The server test: a client thread sends a request whose handler starts
 * the graceful close and answers only later, from a timer. The request in
 * flight must still be answered, new connections must be refused, the
 * close callback must run once, and the loop must close with no handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_admin_token.h"
#include "sam_http.h"
#include "sam_test.h"

/* ---- the server ---- */

static uv_loop_t loop;
static sam__httpd *srv;
static uv_timer_t late;
static h2o_req_t *slow_req;
static int closes;
static int port;

/* what the client thread saw */
static long fast_status, slow_status, after_status;
static CURLcode after_code;
static char slow_body[64];

static void on_closed(void *ud) {
  (void)ud;
  closes++;
}

static void on_late(uv_timer_t *t) {
  EXPECT_TRUE(slow_req != NULL);
  /* the close started before this answer: it still goes out */
  EXPECT_EQ_INT(1, (long)sam__httpd_inflight(srv));
  sam__httpd_send(slow_req, 200, "text/plain", "late", 4);
  slow_req = NULL;
  uv_close((uv_handle_t *)t, NULL);
}

static int on_req(h2o_req_t *req, void *ud) {
  (void)ud;
  if (h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/fast"))) {
    sam__httpd_add_header(req, "X-Test", "fast");
    sam__httpd_send(req, 200, "text/plain", "fast", 4);
    return 0;
  }
  if (h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/slow"))) {
    slow_req = req;
    sam__httpd_close(srv, on_closed, NULL); /* as SIGTERM would */
    EXPECT_EQ_INT(0, uv_timer_init(&loop, &late));
    EXPECT_EQ_INT(0, uv_timer_start(&late, on_late, 50, 0));
    return 0;
  }
  return -1; /* h2o's own 404 */
}

static size_t sink(char *d, size_t sz, size_t n, void *ud) {
  char *out = ud;
  size_t len = sz * n, have = strlen(out);

  if (have + len < sizeof(slow_body)) {
    memcpy(out + have, d, len);
    out[have + len] = '\0';
  }
  return sz * n;
}

static CURLcode get(CURL *e, const char *path, long *status, char *body) {
  char url[128];
  CURLcode cc;

  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_URL, url));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_WRITEDATA, body));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L));
  cc = curl_easy_perform(e);
  *status = 0;
  if (cc == CURLE_OK)
    EXPECT_EQ_INT(CURLE_OK,
                  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status));
  return cc;
}

static void client(void *arg) {
  CURL *e = curl_easy_init(), *e2;
  char scratch[64] = "";

  (void)arg;
  EXPECT_TRUE(e != NULL);
  EXPECT_EQ_INT(CURLE_OK, get(e, "/fast", &fast_status, scratch));
  /* the same keep-alive connection carries the slow one */
  EXPECT_EQ_INT(CURLE_OK, get(e, "/slow", &slow_status, slow_body));
  curl_easy_cleanup(e);
  /* the listener closed when the close started: a new connection fails */
  e2 = curl_easy_init();
  EXPECT_TRUE(e2 != NULL);
  scratch[0] = '\0';
  after_code = get(e2, "/fast", &after_status, scratch);
  curl_easy_cleanup(e2);
}

static void test_graceful_close(void) {
  sam__httpd_config cfg;
  char err[256] = "";
  uv_thread_t th;

  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = &loop;
  cfg.port = 0;
  cfg.on_req = on_req;
  if (sam__httpd_start(&cfg, &srv, err, sizeof(err)) != 0)
    SAM_T_FAIL("sam__httpd_start failed [%s]", err);
  port = sam__httpd_port(srv);
  EXPECT_TRUE(port > 0);
  EXPECT_EQ_INT(0, uv_thread_create(&th, client, NULL));
  /* runs until the server is closed and the timer too */
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_thread_join(&th));
  EXPECT_EQ_INT(1, closes);
  EXPECT_EQ_INT(200, fast_status);
  EXPECT_EQ_INT(200, slow_status);
  EXPECT_EQ_STR("late", slow_body);
  EXPECT_TRUE(after_code == CURLE_COULDNT_CONNECT);
  EXPECT_EQ_INT(0, (long)sam__httpd_inflight(srv));
  sam__httpd_free(srv);
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
}

static void test_bad_listen(void) {
  sam__httpd_config cfg;
  sam__httpd *s = NULL;
  char err[256] = "";

  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = &loop;
  cfg.host = "not-an-address";
  cfg.on_req = on_req;
  EXPECT_EQ_INT(SAM_EINVAL, sam__httpd_start(&cfg, &s, err, sizeof(err)));
  EXPECT_TRUE(s == NULL);
  EXPECT_CONTAINS(err, "[host=not-an-address]");
  /* a port that is taken: bind fails, nothing is left on the loop */
  cfg.host = "127.0.0.1";
  {
    sam__httpd *first = NULL;
    cfg.port = 0;
    EXPECT_EQ_INT(0, sam__httpd_start(&cfg, &first, err, sizeof(err)));
    cfg.port = sam__httpd_port(first);
    EXPECT_EQ_INT(SAM_EIO, sam__httpd_start(&cfg, &s, err, sizeof(err)));
    EXPECT_CONTAINS(err, "cannot listen");
    closes = 0;
    sam__httpd_close(first, on_closed, NULL);
    EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
    EXPECT_EQ_INT(1, closes);
    sam__httpd_free(first);
  }
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
}

static void test_mime(void) {
  EXPECT_EQ_STR("text/html; charset=utf-8", sam__http_mime_type("a/b.html"));
  EXPECT_EQ_STR("text/javascript; charset=utf-8",
                sam__http_mime_type("app.JS"));
  EXPECT_EQ_STR("text/css; charset=utf-8", sam__http_mime_type("x.css"));
  EXPECT_EQ_STR("image/svg+xml", sam__http_mime_type("i.svg"));
  EXPECT_EQ_STR("application/octet-stream", sam__http_mime_type("README"));
  EXPECT_EQ_STR("application/octet-stream",
                sam__http_mime_type("dir.html/file"));
}

/* ---- the admin token ---- */

static void test_token(void) {
  char dir[] = "/tmp/test-http-token-XXXXXX", path[128], tok[64];
  char err[256] = "", line[256];
  sam__admin_token t, t2;
  struct stat st;
  FILE *f;

  EXPECT_TRUE(mkdtemp(dir) != NULL);
  snprintf(path, sizeof(path), "%s/admin-token", dir);
  EXPECT_EQ_INT(SAM_ENOENT, sam__admin_token_load(path, &t, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL,
                sam__admin_token_create(path, tok, 10, &t, err, sizeof(err)));
  EXPECT_EQ_INT(
      0, sam__admin_token_create(path, tok, sizeof(tok), &t, err, sizeof(err)));
  EXPECT_EQ_INT(43, (long)strlen(tok));
  EXPECT_TRUE(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789-_") == 43);
  EXPECT_EQ_INT(0, stat(path, &st));
  EXPECT_EQ_INT(0600, st.st_mode & 0777);
  /* the file holds a salted hash, never the token */
  f = fopen(path, "r");
  EXPECT_TRUE(f != NULL && fgets(line, sizeof(line), f) != NULL);
  fclose(f);
  EXPECT_NOT_CONTAINS(line, tok);
  EXPECT_CONTAINS(line, "sam-admin-token v1 sha256 ");
  EXPECT_EQ_INT(0, sam__admin_token_load(path, &t2, err, sizeof(err)));
  EXPECT_TRUE(memcmp(&t, &t2, sizeof(t)) == 0);
  EXPECT_EQ_INT(1, sam__admin_token_check(&t2, tok, strlen(tok)));
  EXPECT_EQ_INT(0, sam__admin_token_check(&t2, tok, strlen(tok) - 1));
  tok[5] ^= 1;
  EXPECT_EQ_INT(0, sam__admin_token_check(&t2, tok, strlen(tok)));
  EXPECT_EQ_INT(0, sam__admin_token_check(&t2, "", 0));
  EXPECT_EQ_INT(0, sam__admin_token_check(NULL, tok, strlen(tok)));
  /* a file others can read is refused, and so is garbage */
  EXPECT_EQ_INT(0, chmod(path, 0644));
  EXPECT_EQ_INT(SAM_EIO, sam__admin_token_load(path, &t2, err, sizeof(err)));
  EXPECT_CONTAINS(err, "readable by others");
  EXPECT_EQ_INT(0, chmod(path, 0600));
  f = fopen(path, "w");
  EXPECT_TRUE(f != NULL);
  fputs("sam-admin-token v1 sha256 zz\n", f);
  fclose(f);
  EXPECT_EQ_INT(SAM_EIO, sam__admin_token_load(path, &t2, err, sizeof(err)));
  EXPECT_CONTAINS(err, "malformed");
  EXPECT_EQ_INT(0, unlink(path));
  EXPECT_EQ_INT(0, rmdir(dir));
}

int main(void) {
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  SAM_T_RUN(test_graceful_close);
  SAM_T_RUN(test_bad_listen);
  SAM_T_RUN(test_mime);
  SAM_T_RUN(test_token);
  curl_global_cleanup();
  return 0;
}
