/*
 * test-dsg-http.c: the plugin's HTTP client (dsg_http.c) against a tiny
 * HTTP/1.1 server on 127.0.0.1:0 that lives in this file and runs on the
 * same libuv loop. The server answers by path:
 *   /ok         200 with a JSON body, Content-Type and the rate-limit headers
 *   /echo       200; records the method, Authorization and body it received
 *   /big        200 with a body larger than the client's limit
 *   /hang       never answers
 *   /reset      resets the connection (RST)
 *   /truncated  promises 100 bytes, sends 5, closes
 *   /chunked    429, a chunked body, Retry-After as an HTTP date
 * Every test ends with the client closed, the server closed, the loop run
 * empty and uv_loop_close(loop) == 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#include "dsg_http.h"

/* ---- the in-test server ---- */

typedef struct srv srv;

typedef struct conn {
  uv_tcp_t tcp;
  srv *s;
  char *buf;
  size_t len;
  size_t cap;
  int closing;
  struct conn *next;
  struct conn *prev;
} conn;

struct srv {
  uv_loop_t *loop;
  uv_tcp_t listener;
  int port;
  int accepts;
  int requests;
  int hangs_seen;
  conn *conns;
  char last_method[16];
  char last_auth[256];
  char last_body[256];
  char last_agent[256];
  void (*on_hang)(srv *s); /* called when a /hang request arrived */
  void *test_ud;
};

typedef struct wreq {
  uv_write_t w;
  conn *c;
  char *data;
  int close_after;
} wreq;

static void conn_closed(uv_handle_t *h) {
  conn *c = h->data;

  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    c->s->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  free(c->buf);
  free(c);
}

static void conn_close(conn *c) {
  if (c->closing)
    return;
  c->closing = 1;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_written(uv_write_t *w, int status) {
  wreq *r = (wreq *)w;

  (void)status;
  if (r->close_after)
    conn_close(r->c);
  free(r->data);
  free(r);
}

static void conn_send(conn *c, const char *data, size_t len, int close_after) {
  wreq *r;
  uv_buf_t b;

  if (c->closing)
    return;
  r = calloc(1, sizeof(*r));
  EXPECT_TRUE(r != NULL);
  r->c = c;
  r->close_after = close_after;
  r->data = malloc(len);
  EXPECT_TRUE(r->data != NULL);
  memcpy(r->data, data, len);
  b = uv_buf_init(r->data, (unsigned)len);
  EXPECT_EQ_INT(0, uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, on_written));
}

static void send_ok(conn *c, const char *body) {
  size_t cap = strlen(body) + 512;
  char *resp = malloc(cap);
  int n;

  EXPECT_TRUE(resp != NULL);
  n = snprintf(resp, cap,
               "HTTP/1.1 200 OK\r\n"
               "Content-Type: application/json\r\n"
               "X-RateLimit-Limit: 3000\r\n"
               "X-RateLimit-Remaining: 2999\r\n"
               "X-RateLimit-Reset: 1700000000\r\n"
               "X-BurstLimit-Limit: 500\r\n"
               "X-BurstLimit-Remaining: 499\r\n"
               "Retry-After: 7\r\n"
               "Content-Length: %zu\r\n\r\n%s",
               strlen(body), body);
  EXPECT_TRUE(n > 0 && (size_t)n < cap);
  conn_send(c, resp, (size_t)n, 0);
  free(resp);
}

/* Copies header `name`'s value from the header block into out. */
static void header_value(const char *hdrs,
                         size_t hlen,
                         const char *name,
                         char *out,
                         size_t out_len) {
  size_t nl = strlen(name);
  const char *p = hdrs;
  const char *end = hdrs + hlen;

  out[0] = '\0';
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL)
      eol = end;
    if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 &&
        p[nl] == ':') {
      const char *v = p + nl + 1;
      size_t vl;
      while (*v == ' ')
        v++;
      vl = (size_t)(eol - v);
      if (vl > 0 && v[vl - 1] == '\r')
        vl--;
      if (vl >= out_len)
        vl = out_len - 1;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return;
    }
    p = eol + 1;
  }
}

/* Handles every complete request in the buffer. */
static void conn_process(conn *c) {
  srv *s = c->s;

  while (!c->closing) {
    char *hend;
    size_t hlen;
    size_t total;
    char cl[32];
    char path[128] = "";
    char method[16] = "";
    size_t body_len;

    if (c->len == 0)
      return;
    hend = NULL;
    for (size_t i = 0; i + 4 <= c->len; i++) {
      if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
        hend = c->buf + i;
        break;
      }
    }
    if (hend == NULL)
      return;
    hlen = (size_t)(hend - c->buf) + 4;
    header_value(c->buf, hlen, "Content-Length", cl, sizeof(cl));
    body_len = cl[0] != '\0' ? (size_t)strtoul(cl, NULL, 10) : 0;
    total = hlen + body_len;
    if (c->len < total)
      return;
    EXPECT_EQ_INT(2, sscanf(c->buf, "%15s %127s", method, path));
    s->requests++;
    if (strcmp(path, "/echo") == 0) {
      size_t bl = body_len < sizeof(s->last_body) - 1
                      ? body_len
                      : sizeof(s->last_body) - 1;
      snprintf(s->last_method, sizeof(s->last_method), "%s", method);
      header_value(c->buf, hlen, "Authorization", s->last_auth,
                   sizeof(s->last_auth));
      header_value(c->buf, hlen, "User-Agent", s->last_agent,
                   sizeof(s->last_agent));
      memcpy(s->last_body, c->buf + hlen, bl);
      s->last_body[bl] = '\0';
      send_ok(c, "{\"echo\":true}");
    } else if (strcmp(path, "/ok") == 0) {
      send_ok(c, "{\"hello\":\"world\"}");
    } else if (strcmp(path, "/big") == 0) {
      char *big = malloc(10001);
      EXPECT_TRUE(big != NULL);
      memset(big, 'x', 10000);
      big[10000] = '\0';
      send_ok(c, big);
      free(big);
    } else if (strcmp(path, "/hang") == 0) {
      s->hangs_seen++;
      if (s->on_hang != NULL)
        s->on_hang(s);
    } else if (strcmp(path, "/reset") == 0) {
      c->closing = 1;
      EXPECT_EQ_INT(0, uv_tcp_close_reset(&c->tcp, conn_closed));
      return;
    } else if (strcmp(path, "/chunked") == 0) {
      /* Chunked, with a Retry-After given as an HTTP date in the past. */
      const char *r = "HTTP/1.1 429 Too Many Requests\r\n"
                      "Transfer-Encoding: chunked\r\n"
                      "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                      "Content-Type: application/json\r\n\r\n"
                      "5\r\n{\"err\r\n"
                      "C\r\norCode\":\"X\"}\r\n"
                      "0\r\n\r\n";
      conn_send(c, r, strlen(r), 0);
    } else if (strcmp(path, "/truncated") == 0) {
      const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
      conn_send(c, r, strlen(r), 1);
    } else {
      const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      conn_send(c, r, strlen(r), 0);
    }
    if (c->closing)
      return;
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h;
  b->base = malloc(suggested);
  b->len = b->base != NULL ? suggested : 0;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b) {
  conn *c = st->data;

  if (nread < 0) {
    conn_close(c); /* EOF or error: the client went away */
  } else if (nread > 0 && !c->closing) {
    if (c->len + (size_t)nread > c->cap) {
      c->cap = (c->len + (size_t)nread) * 2;
      c->buf = realloc(c->buf, c->cap);
      EXPECT_TRUE(c->buf != NULL);
    }
    memcpy(c->buf + c->len, b->base, (size_t)nread);
    c->len += (size_t)nread;
    conn_process(c);
  }
  free(b->base);
}

static void on_connection(uv_stream_t *server, int status) {
  srv *s = server->data;
  conn *c;

  EXPECT_EQ_INT(0, status);
  c = calloc(1, sizeof(*c));
  EXPECT_TRUE(c != NULL);
  c->s = s;
  EXPECT_EQ_INT(0, uv_tcp_init(s->loop, &c->tcp));
  c->tcp.data = c;
  c->next = s->conns;
  if (s->conns != NULL)
    s->conns->prev = c;
  s->conns = c;
  EXPECT_EQ_INT(0, uv_accept(server, (uv_stream_t *)&c->tcp));
  s->accepts++;
  EXPECT_EQ_INT(0, uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read));
}

static void srv_start(srv *s, uv_loop_t *loop) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  memset(s, 0, sizeof(*s));
  s->loop = loop;
  EXPECT_EQ_INT(0, uv_tcp_init(loop, &s->listener));
  s->listener.data = s;
  EXPECT_EQ_INT(0, uv_ip4_addr("127.0.0.1", 0, &addr));
  EXPECT_EQ_INT(0, uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0));
  EXPECT_EQ_INT(0, uv_listen((uv_stream_t *)&s->listener, 128, on_connection));
  EXPECT_EQ_INT(
      0, uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len));
  s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void srv_close(srv *s) {
  conn *c;

  uv_close((uv_handle_t *)&s->listener, NULL);
  for (c = s->conns; c != NULL; c = c->next)
    conn_close(c);
}

/* ---- client side helpers ---- */

typedef struct rec {
  int calls;
  int status;
  long http_status;
  char body[64];
  size_t body_len;
  char content_type[64];
  int64_t rl_limit;
  int64_t rl_remaining;
  int64_t rl_reset;
  int64_t bl_limit;
  int64_t bl_remaining;
  int64_t retry_after;
  char error[CURL_ERROR_SIZE];
  int *done_counter;
  dsg_http_req **handle; /* cleared when the callback runs */
} rec;

static int g_in_call; /* set around dsg_http_request / cancel */
static char g_log[65536];
static size_t g_log_len;

static void on_log(void *ud, int level, const char *line) {
  size_t n = strlen(line);

  (void)ud;
  (void)level;
  if (g_log_len + n + 2 < sizeof(g_log)) {
    memcpy(g_log + g_log_len, line, n);
    g_log_len += n;
    g_log[g_log_len++] = '\n';
    g_log[g_log_len] = '\0';
  }
}

static void on_done(const dsg_http_resp *resp, void *ud) {
  rec *r = ud;

  EXPECT_EQ_INT(0, g_in_call); /* never inside the call */
  r->calls++;
  r->status = resp->status;
  r->http_status = resp->http_status;
  snprintf(r->body, sizeof(r->body), "%s", resp->body);
  r->body_len = resp->body_len;
  snprintf(r->content_type, sizeof(r->content_type), "%s", resp->content_type);
  r->rl_limit = resp->ratelimit_limit;
  r->rl_remaining = resp->ratelimit_remaining;
  r->rl_reset = resp->ratelimit_reset;
  r->bl_limit = resp->burstlimit_limit;
  r->bl_remaining = resp->burstlimit_remaining;
  r->retry_after = resp->retry_after_s;
  snprintf(r->error, sizeof(r->error), "%s", resp->error);
  if (r->handle != NULL)
    *r->handle = NULL;
  if (r->done_counter != NULL)
    (*r->done_counter)++;
}

typedef struct env {
  uv_loop_t loop;
  srv s;
  dsg_http *http;
  int closed;
} env;

static void env_start(env *e, const dsg_http_config *cfg_in) {
  dsg_http_config cfg;

  memset(&cfg, 0, sizeof(cfg));
  if (cfg_in != NULL)
    cfg = *cfg_in;
  cfg.allow_plain_http = 1; /* the in-test server speaks http */
  EXPECT_EQ_INT(0, uv_loop_init(&e->loop));
  srv_start(&e->s, &e->loop);
  EXPECT_EQ_INT(0, dsg_http_start(&e->loop, &cfg, &e->http));
  e->closed = 0;
}

static void on_closed_count(void *ud) {
  (*(int *)ud)++;
}

static void on_closed(void *ud) {
  env *e = ud;

  e->closed++;
}

/* Closes the client and the server and proves the loop is empty. */
static void env_finish(env *e) {
  if (e->http != NULL)
    dsg_http_close(e->http, on_closed, e);
  srv_close(&e->s);
  EXPECT_EQ_INT(0, uv_run(&e->loop, UV_RUN_DEFAULT));
  if (e->http != NULL)
    EXPECT_EQ_INT(1, e->closed);
  EXPECT_EQ_INT(0, uv_loop_close(&e->loop));
}

static int request(env *e,
                   const char *path,
                   dsg_http_req_opts *o,
                   rec *r,
                   dsg_http_req **out) {
  char url[128];
  dsg_http_req_opts def;
  int rc;

  if (o == NULL) {
    memset(&def, 0, sizeof(def));
    o = &def;
  }
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", e->s.port, path);
  o->url = url;
  g_in_call = 1;
  rc = dsg_http_request(e->http, o, on_done, r, out);
  g_in_call = 0;
  return rc;
}

static void run_until(env *e, const int *counter, int target) {
  while (*counter < target)
    uv_run(&e->loop, UV_RUN_ONCE);
}

/* ---- tests ---- */

static void test_get_ok(void) {
  env e;
  rec r;
  int done = 0;

  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  env_start(&e, NULL);
  EXPECT_EQ_INT(0, request(&e, "/ok", NULL, &r, NULL));
  EXPECT_EQ_INT(0, r.calls);
  EXPECT_EQ_INT(1, (int)dsg_http_open_requests(e.http));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(1, r.calls);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(200, r.http_status);
  EXPECT_EQ_STR("{\"hello\":\"world\"}", r.body);
  EXPECT_EQ_INT(17, r.body_len);
  EXPECT_EQ_STR("application/json", r.content_type);
  EXPECT_EQ_INT(3000, r.rl_limit);
  EXPECT_EQ_INT(2999, r.rl_remaining);
  EXPECT_EQ_INT(1700000000, r.rl_reset);
  EXPECT_EQ_INT(500, r.bl_limit);
  EXPECT_EQ_INT(499, r.bl_remaining);
  EXPECT_EQ_INT(7, r.retry_after);
  EXPECT_EQ_STR("", r.error);
  EXPECT_EQ_INT(0, (int)dsg_http_open_requests(e.http));
  /* A 404 is a complete HTTP response: status OK, the code tells. */
  EXPECT_EQ_INT(0, request(&e, "/nope", NULL, &r, NULL));
  run_until(&e, &done, 2);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(404, r.http_status);
  EXPECT_EQ_INT(SAM_ENOENT, dsg_status_from_http(r.http_status));
  EXPECT_EQ_INT(-1, r.rl_limit); /* absent headers read as -1 */
  EXPECT_EQ_INT(2, r.calls);
  env_finish(&e);
}

#define NCONC 50

static void test_concurrent(void) {
  env e;
  rec r[NCONC];
  int done = 0;
  int i;

  memset(r, 0, sizeof(r));
  env_start(&e, NULL);
  for (i = 0; i < NCONC; i++) {
    r[i].done_counter = &done;
    EXPECT_EQ_INT(0, request(&e, "/ok", NULL, &r[i], NULL));
  }
  run_until(&e, &done, NCONC);
  for (i = 0; i < NCONC; i++) {
    EXPECT_EQ_INT(1, r[i].calls);
    EXPECT_EQ_INT(SAM_OK, r[i].status);
    EXPECT_EQ_INT(200, r[i].http_status);
  }
  EXPECT_EQ_INT(NCONC, e.s.requests);
  /* Bounded by max_host_connections (default 6), so connections were
   * shared. */
  EXPECT_TRUE(e.s.accepts <= 6);
  env_finish(&e);
  for (i = 0; i < NCONC; i++)
    EXPECT_EQ_INT(1, r[i].calls); /* still once after close */
}

/* Sequential requests, each started from the previous callback, travel on
 * one kept-alive connection. */
typedef struct chain {
  env *e;
  rec r;
  int left;
  int done;
} chain;

static void on_chain(const dsg_http_resp *resp, void *ud) {
  chain *c = ud;
  char url[128];
  dsg_http_req_opts o;

  EXPECT_EQ_INT(SAM_OK, resp->status);
  EXPECT_EQ_INT(200, resp->http_status);
  c->done++;
  if (--c->left == 0)
    return;
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", c->e->s.port);
  o.url = url;
  EXPECT_EQ_INT(0, dsg_http_request(c->e->http, &o, on_chain, c, NULL));
}

static void test_reuse(void) {
  env e;
  chain c;
  char url[128];
  dsg_http_req_opts o;

  env_start(&e, NULL);
  memset(&c, 0, sizeof(c));
  c.e = &e;
  c.left = 5;
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", e.s.port);
  o.url = url;
  EXPECT_EQ_INT(0, dsg_http_request(e.http, &o, on_chain, &c, NULL));
  run_until(&e, &c.done, 5);
  EXPECT_EQ_INT(5, e.s.requests);
  EXPECT_EQ_INT(1, e.s.accepts);
  env_finish(&e);
}

static void test_timeout(void) {
  env e;
  rec r;
  int done = 0;
  dsg_http_req_opts o;

  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  memset(&o, 0, sizeof(o));
  o.timeout_ms = 200;
  env_start(&e, NULL);
  EXPECT_EQ_INT(0, request(&e, "/hang", &o, &r, NULL));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(1, r.calls);
  EXPECT_EQ_INT(SAM_ETIMEDOUT, r.status);
  EXPECT_EQ_INT(0, r.http_status);
  EXPECT_TRUE(r.error[0] != '\0');
  env_finish(&e);
}

static void test_reset_and_truncated(void) {
  env e;
  rec r1;
  rec r2;
  int done = 0;

  memset(&r1, 0, sizeof(r1));
  memset(&r2, 0, sizeof(r2));
  r1.done_counter = r2.done_counter = &done;
  env_start(&e, NULL);
  EXPECT_EQ_INT(0, request(&e, "/reset", NULL, &r1, NULL));
  EXPECT_EQ_INT(0, request(&e, "/truncated", NULL, &r2, NULL));
  run_until(&e, &done, 2);
  EXPECT_EQ_INT(1, r1.calls);
  EXPECT_TRUE(r1.status < 0);
  EXPECT_TRUE(r1.status != SAM_ECANCELED);
  EXPECT_EQ_INT(0, r1.http_status);
  printf("reset -> [%s] [%s]\n", sam_err_name(r1.status), r1.error);
  EXPECT_EQ_INT(1, r2.calls);
  EXPECT_EQ_INT(SAM_EPROTO, r2.status);
  printf("truncated -> [%s] [%s]\n", sam_err_name(r2.status), r2.error);
  env_finish(&e);
}

static void test_body_limit(void) {
  env e;
  rec r;
  int done = 0;
  dsg_http_config cfg;

  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  memset(&cfg, 0, sizeof(cfg));
  cfg.max_response_bytes = 2048;
  env_start(&e, &cfg);
  EXPECT_EQ_INT(0, request(&e, "/big", NULL, &r, NULL));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(SAM_EPROTO, r.status);
  EXPECT_CONTAINS(r.error, "[2048]");
  env_finish(&e);
}

/* Cancels the in-flight request once the server holds it. */
static void cancel_on_hang(srv *s) {
  dsg_http_req **h = s->test_ud;

  g_in_call = 1;
  dsg_http_cancel(*h);
  dsg_http_cancel(*h); /* twice is harmless */
  g_in_call = 0;
}

static void test_cancel(void) {
  env e;
  rec r;
  rec q;
  int done = 0;
  dsg_http_req *h = NULL;
  dsg_http_req *hq = NULL;

  memset(&r, 0, sizeof(r));
  memset(&q, 0, sizeof(q));
  r.done_counter = q.done_counter = &done;
  r.handle = &h;
  q.handle = &hq;
  env_start(&e, NULL);
  /* Cancelled while still queued (never reached curl). */
  EXPECT_EQ_INT(0, request(&e, "/ok", NULL, &q, &hq));
  g_in_call = 1;
  dsg_http_cancel(hq);
  g_in_call = 0;
  EXPECT_EQ_INT(0, q.calls);
  /* Cancelled in flight. */
  e.s.on_hang = cancel_on_hang;
  e.s.test_ud = &h;
  EXPECT_EQ_INT(0, request(&e, "/hang", NULL, &r, &h));
  run_until(&e, &done, 2);
  EXPECT_EQ_INT(1, q.calls);
  EXPECT_EQ_INT(SAM_ECANCELED, q.status);
  EXPECT_EQ_INT(1, e.s.hangs_seen);
  EXPECT_EQ_INT(1, r.calls);
  EXPECT_EQ_INT(SAM_ECANCELED, r.status);
  EXPECT_TRUE(h == NULL);
  /* A few more turns: nothing else arrives. */
  uv_run(&e.loop, UV_RUN_NOWAIT);
  EXPECT_EQ_INT(1, r.calls);
  EXPECT_EQ_INT(1, q.calls);
  env_finish(&e);
}

#define NSHUT 10

static void on_closed_check(void *ud) {
  env *e = ud;
  rec *r = e->s.test_ud;
  int i;

  /* Every request completed before the close callback. */
  for (i = 0; i < NSHUT; i++)
    EXPECT_EQ_INT(1, r[i].calls);
  e->closed++;
}

static void test_shutdown_in_flight(void) {
  env e;
  rec r[NSHUT];
  rec late;
  int done = 0;
  int i;

  memset(r, 0, sizeof(r));
  memset(&late, 0, sizeof(late));
  env_start(&e, NULL);
  e.s.test_ud = r;
  for (i = 0; i < NSHUT; i++) {
    r[i].done_counter = &done;
    EXPECT_EQ_INT(0, request(&e, i % 2 ? "/hang" : "/ok", NULL, &r[i], NULL));
  }
  /* Wait until the server holds every /hang, so they are truly in flight. */
  while (e.s.hangs_seen < NSHUT / 2)
    uv_run(&e.loop, UV_RUN_ONCE);
  dsg_http_close(e.http, on_closed_check, &e);
  EXPECT_EQ_INT(SAM_EBUSY, request(&e, "/ok", NULL, &late, NULL));
  srv_close(&e.s);
  EXPECT_EQ_INT(0, uv_run(&e.loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(1, e.closed);
  for (i = 0; i < NSHUT; i++) {
    EXPECT_EQ_INT(1, r[i].calls);
    if (i % 2)
      EXPECT_EQ_INT(SAM_ECANCELED, r[i].status);
  }
  EXPECT_EQ_INT(NSHUT, done);
  EXPECT_EQ_INT(0, late.calls);
  EXPECT_EQ_INT(0, uv_loop_close(&e.loop));
}

#define TOKEN "tok-3f9a1c77e2d84b6a9f00c1d2e3f4a5b6"

static void test_auth_and_trace(void) {
  env e;
  rec r;
  int done = 0;
  dsg_http_config cfg;
  dsg_http_req_opts o;
  const char *hdrs[] = {"Accept: application/json", NULL};

  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  memset(&cfg, 0, sizeof(cfg));
  cfg.debug = 1;
  cfg.log = on_log;
  g_log_len = 0;
  g_log[0] = '\0';
  env_start(&e, &cfg);
  memset(&o, 0, sizeof(o));
  o.bearer_token = TOKEN;
  o.headers = hdrs;
  EXPECT_EQ_INT(0, request(&e, "/echo", &o, &r, NULL));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_STR("GET", e.s.last_method);
  EXPECT_CONTAINS(e.s.last_agent, "sam-docusign/" DSG_VERSION " (+libcurl/");
  EXPECT_EQ_STR("Bearer " TOKEN, e.s.last_auth); /* it was sent... */
  EXPECT_TRUE(g_log_len > 0);                    /* ...traced... */
  EXPECT_NOT_CONTAINS(g_log, TOKEN);             /* ...never logged */
  EXPECT_NOT_CONTAINS(g_log, "Bearer");
  EXPECT_CONTAINS(g_log, "header data dropped");

  /* POST with a form body and Basic client authentication. */
  memset(&o, 0, sizeof(o));
  o.method = "POST";
  o.basic_user = "user";
  o.basic_password = "pass";
  o.body = "grant_type=refresh_token&refresh_token=" TOKEN;
  o.body_len = strlen(o.body);
  EXPECT_EQ_INT(0, request(&e, "/echo", &o, &r, NULL));
  run_until(&e, &done, 2);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_STR("POST", e.s.last_method);
  EXPECT_EQ_STR("Basic dXNlcjpwYXNz", e.s.last_auth);
  EXPECT_EQ_STR("grant_type=refresh_token&refresh_token=" TOKEN, e.s.last_body);
  EXPECT_NOT_CONTAINS(g_log, TOKEN);
  EXPECT_NOT_CONTAINS(g_log, "dXNlcjpwYXNz");

  /* DELETE with a JSON body. */
  memset(&o, 0, sizeof(o));
  o.method = "DELETE";
  o.body = "{\"users\":[]}";
  o.body_len = strlen(o.body);
  EXPECT_EQ_INT(0, request(&e, "/echo", &o, &r, NULL));
  run_until(&e, &done, 3);
  EXPECT_EQ_STR("DELETE", e.s.last_method);
  EXPECT_EQ_STR("{\"users\":[]}", e.s.last_body);
  EXPECT_EQ_STR("", e.s.last_auth);
  env_finish(&e);
}

static void test_bad_options(void) {
  env e;
  rec r;
  dsg_http_req_opts o;
  const char *auth_hdr[] = {"authorization: Bearer x", NULL};
  const char *crlf_hdr[] = {"X-A: 1\r\nX-B: 2", NULL};

  memset(&r, 0, sizeof(r));
  env_start(&e, NULL);
  memset(&o, 0, sizeof(o));
  o.headers = auth_hdr;
  EXPECT_EQ_INT(SAM_EINVAL, request(&e, "/ok", &o, &r, NULL));
  o.headers = crlf_hdr;
  EXPECT_EQ_INT(SAM_EINVAL, request(&e, "/ok", &o, &r, NULL));
  memset(&o, 0, sizeof(o));
  o.method = "PATCH";
  EXPECT_EQ_INT(SAM_EINVAL, request(&e, "/ok", &o, &r, NULL));
  memset(&o, 0, sizeof(o));
  o.bearer_token = "a\nb";
  EXPECT_EQ_INT(SAM_EINVAL, request(&e, "/ok", &o, &r, NULL));
  memset(&o, 0, sizeof(o));
  o.basic_user = "u";
  EXPECT_EQ_INT(SAM_EINVAL, request(&e, "/ok", &o, &r, NULL));
  memset(&o, 0, sizeof(o));
  o.url = "ftp://127.0.0.1/";
  EXPECT_EQ_INT(SAM_EINVAL, dsg_http_request(e.http, &o, on_done, &r, NULL));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_http_request(e.http, NULL, on_done, &r, NULL));
  uv_run(&e.loop, UV_RUN_NOWAIT);
  EXPECT_EQ_INT(0, r.calls); /* rejected: the callback never runs */
  env_finish(&e);

  /* Without allow_plain_http, http:// is refused up front. */
  {
    uv_loop_t loop;
    dsg_http *http = NULL;
    dsg_http_config cfg;
    int closed = 0;

    EXPECT_EQ_INT(0, uv_loop_init(&loop));
    memset(&cfg, 0, sizeof(cfg));
    EXPECT_EQ_INT(0, dsg_http_start(&loop, &cfg, &http));
    memset(&o, 0, sizeof(o));
    o.url = "http://127.0.0.1:9/";
    EXPECT_EQ_INT(SAM_EINVAL, dsg_http_request(http, &o, on_done, &r, NULL));
    dsg_http_close(http, on_closed_count, &closed);
    EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
    EXPECT_EQ_INT(1, closed);
    EXPECT_EQ_INT(0, uv_loop_close(&loop));
  }
  EXPECT_EQ_INT(0, r.calls);
}


/* Nothing listens on the port: a connection failure, reported once. */
static void test_refused(void) {
  env e;
  rec r;
  int done = 0;
  char url[64];
  dsg_http_req_opts o;
  uv_tcp_t probe;
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  int port;

  /* Reserve a port, then close it: nobody listens there. */
  env_start(&e, NULL);
  EXPECT_EQ_INT(0, uv_tcp_init(&e.loop, &probe));
  EXPECT_EQ_INT(0, uv_ip4_addr("127.0.0.1", 0, &addr));
  EXPECT_EQ_INT(0, uv_tcp_bind(&probe, (struct sockaddr *)&addr, 0));
  EXPECT_EQ_INT(0, uv_tcp_getsockname(&probe, (struct sockaddr *)&bound, &len));
  port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  uv_close((uv_handle_t *)&probe, NULL);
  uv_run(&e.loop, UV_RUN_NOWAIT);
  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", port);
  o.url = url;
  EXPECT_EQ_INT(0, dsg_http_request(e.http, &o, on_done, &r, NULL));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(1, r.calls);
  EXPECT_EQ_INT(SAM_EAGAIN, r.status);
  EXPECT_TRUE(r.error[0] != '\0');
  env_finish(&e);
}

/* A host name goes through libcurl's asynchronous resolver, whose wake-up
 * socket is watched like any other. */
static void test_resolver(void) {
  env e;
  rec r;
  int done = 0;
  char url[128];
  dsg_http_req_opts o;

  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  env_start(&e, NULL);
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://localhost:%d/ok", e.s.port);
  o.url = url;
  EXPECT_EQ_INT(0, dsg_http_request(e.http, &o, on_done, &r, NULL));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(200, r.http_status);
  env_finish(&e);
}

static void test_chunked_date(void) {
  env e;
  rec r;
  int done = 0;

  memset(&r, 0, sizeof(r));
  r.done_counter = &done;
  env_start(&e, NULL);
  EXPECT_EQ_INT(0, request(&e, "/chunked", NULL, &r, NULL));
  run_until(&e, &done, 1);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(429, r.http_status);
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_http(r.http_status));
  EXPECT_EQ_STR("{\"errorCode\":\"X\"}", r.body);
  EXPECT_EQ_INT(0, r.retry_after); /* a date in the past: retry now */
  EXPECT_EQ_INT(-1, r.rl_limit);
  env_finish(&e);
}

/* A callback closes the client while another transfer is in flight: the
 * other completes once with SAM_ECANCELED, then the close callback runs. */
typedef struct closer {
  env *e;
  rec *other;
  int calls;
} closer;

static void on_done_close(const dsg_http_resp *resp, void *ud) {
  closer *c = ud;

  c->calls++;
  EXPECT_EQ_INT(SAM_OK, resp->status);
  EXPECT_EQ_INT(0, c->other->calls);
  dsg_http_close(c->e->http, on_closed, c->e);
  dsg_http_close(c->e->http, on_closed, c->e); /* a second close: ignored */
}

static void test_close_from_callback(void) {
  env e;
  rec hang;
  closer c;
  char url[128];
  dsg_http_req_opts o;

  memset(&hang, 0, sizeof(hang));
  memset(&c, 0, sizeof(c));
  env_start(&e, NULL);
  c.e = &e;
  c.other = &hang;
  EXPECT_EQ_INT(0, request(&e, "/hang", NULL, &hang, NULL));
  while (e.s.hangs_seen == 0)
    uv_run(&e.loop, UV_RUN_ONCE);
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", e.s.port);
  o.url = url;
  EXPECT_EQ_INT(0, dsg_http_request(e.http, &o, on_done_close, &c, NULL));
  while (e.closed == 0)
    uv_run(&e.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, c.calls);
  EXPECT_EQ_INT(1, hang.calls);
  EXPECT_EQ_INT(SAM_ECANCELED, hang.status);
  srv_close(&e.s);
  EXPECT_EQ_INT(0, uv_run(&e.loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(1, e.closed);
  EXPECT_EQ_INT(0, uv_loop_close(&e.loop));
}

/* A callback cancels another in-flight request and starts a new one. */
typedef struct canceller {
  env *e;
  dsg_http_req **victim;
  rec *fresh;
  int calls;
} canceller;

static void on_done_cancel_other(const dsg_http_resp *resp, void *ud) {
  canceller *c = ud;
  char url[128];
  dsg_http_req_opts o;

  (void)resp;
  c->calls++;
  dsg_http_cancel(*c->victim);
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", c->e->s.port);
  o.url = url;
  EXPECT_EQ_INT(0, dsg_http_request(c->e->http, &o, on_done, c->fresh, NULL));
}

static void test_cancel_from_callback(void) {
  env e;
  rec victim;
  rec fresh;
  canceller c;
  dsg_http_req *vh = NULL;
  int done = 0;
  char url[128];
  dsg_http_req_opts o;

  memset(&victim, 0, sizeof(victim));
  memset(&fresh, 0, sizeof(fresh));
  victim.done_counter = fresh.done_counter = &done;
  victim.handle = &vh;
  env_start(&e, NULL);
  EXPECT_EQ_INT(0, request(&e, "/hang", NULL, &victim, &vh));
  while (e.s.hangs_seen == 0)
    uv_run(&e.loop, UV_RUN_ONCE);
  memset(&c, 0, sizeof(c));
  c.e = &e;
  c.victim = &vh;
  c.fresh = &fresh;
  memset(&o, 0, sizeof(o));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", e.s.port);
  o.url = url;
  EXPECT_EQ_INT(0,
                dsg_http_request(e.http, &o, on_done_cancel_other, &c, NULL));
  run_until(&e, &done, 2);
  EXPECT_EQ_INT(1, c.calls);
  EXPECT_EQ_INT(1, victim.calls);
  EXPECT_EQ_INT(SAM_ECANCELED, victim.status);
  EXPECT_EQ_INT(1, fresh.calls);
  EXPECT_EQ_INT(SAM_OK, fresh.status);
  env_finish(&e);
}

int main(void) {
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  SAM_T_RUN(test_get_ok);
  SAM_T_RUN(test_concurrent);
  SAM_T_RUN(test_reuse);
  SAM_T_RUN(test_timeout);
  SAM_T_RUN(test_reset_and_truncated);
  SAM_T_RUN(test_body_limit);
  SAM_T_RUN(test_cancel);
  SAM_T_RUN(test_shutdown_in_flight);
  SAM_T_RUN(test_auth_and_trace);
  SAM_T_RUN(test_bad_options);
  SAM_T_RUN(test_refused);
  SAM_T_RUN(test_resolver);
  SAM_T_RUN(test_chunked_date);
  SAM_T_RUN(test_close_from_callback);
  SAM_T_RUN(test_cancel_from_callback);
  curl_global_cleanup();
  return 0;
}
