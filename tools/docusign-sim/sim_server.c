/*
 * sim_server.c: libh2o on the libuv loop. HTTP and HTTPS listeners on
 * 127.0.0.1, the request entry point, and the reply path with the wire
 * faults (latency by a uv timer per delayed reply, 5xx, resets, truncated,
 * malformed and slow bodies).
 */
#include "sim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct sim_conn {
  uv_tcp_t tcp; /* first: h2o's close callback gets this pointer */
  h2o_socket_t *sock;
  struct sim_conn *next;
  struct sim_conn *prev;
  struct sim_server *srv;
} sim_conn;

typedef struct sim_handler {
  h2o_handler_t super;
  sim_ctx *ctx;
} sim_handler;

struct sim_server {
  sim_ctx *ctx;
  h2o_globalconf_t config;
  h2o_context_t h2o;
  h2o_accept_ctx_t accept_http;
  h2o_accept_ctx_t accept_https;
  uv_tcp_t listen_http;
  uv_tcp_t listen_https;
  int have_https;
  int stopping;
  int disposed;
  uv_timer_t drain;
  uint32_t drain_ticks;
  SSL_CTX *ssl;
  sim_conn *conns;
  struct sim_pending *pending;
};

/* One reply that is delayed, slow or truncated. Lives in the request's
 * pool; its timer is malloc'ed because a uv handle must outlive the pool
 * until its close callback. */
typedef struct sim_timer {
  uv_timer_t t;
  struct sim_pending *p;
} sim_timer;

typedef struct sim_pending {
  h2o_generator_t gen;
  h2o_req_t *req;
  sim_ctx *ctx;
  sim_timer *timer;
  h2o_iovec_t body;
  size_t sent;
  int truncate;
  int slow;
  int chunk_ms;
  size_t chunk;
  int started;
  struct sim_pending *next; /* the server's list of delayed replies */
  struct sim_pending *prev;
} sim_pending;

static sim_server *the_server; /* the only instance, for reset lookups */

/* ---- small request helpers ---- */

/*
 * Adds a response header (name and value copied into the request pool).
 */
void sim_add_header(sim_req *r, const char *name, const char *value) {
  h2o_iovec_t n = h2o_strdup(&r->req->pool, name, strlen(name));
  h2o_iovec_t v = h2o_strdup(&r->req->pool, value, strlen(value));
  h2o_iovec_t orig = h2o_strdup(&r->req->pool, name, strlen(name));
  size_t i;

  /* HTTP/2 forbids upper case names; HTTP/1 keeps DocuSign's spelling */
  for (i = 0; i < n.len; i++)
    n.base[i] = (char)tolower((unsigned char)n.base[i]);
  h2o_add_header_by_str(&r->req->pool, &r->req->res.headers, n.base, n.len, 1,
                        orig.base, v.base, v.len);
}

/*
 * The value of request header `tok`, not NUL-terminated (*len bytes), or
 * NULL. Borrowed from the request.
 */
const char *sim_header(sim_req *r, const h2o_token_t *tok, size_t *len) {
  ssize_t i = h2o_find_header(&r->req->headers, tok, -1);

  if (i < 0)
    return NULL;
  *len = r->req->headers.entries[i].value.len;
  return r->req->headers.entries[i].value.base;
}

static int hexv(int ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  ch = tolower(ch);
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  return -1;
}

/*
 * Percent- and plus-decodes `n` bytes of `s` into `out` (NUL-terminated,
 * truncated to `cap`). Returns the decoded length.
 */
int sim_url_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t i, o = 0;

  for (i = 0; i < n && o + 1 < cap; i++) {
    if (s[i] == '+') {
      out[o++] = ' ';
    } else if (s[i] == '%' && i + 2 < n + 0 && hexv(s[i + 1]) >= 0 &&
               hexv(s[i + 2]) >= 0) {
      out[o++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return (int)o;
}

/*
 * Finds `name` in a query string or form body and decodes its value into
 * `out`. Returns 1 if present, else 0 (out = "").
 */
int sim_param(const char *qs, const char *name, char *out, size_t n) {
  size_t nl = strlen(name);
  const char *p = qs;

  out[0] = '\0';
  while (p != NULL && *p) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
      sim_url_decode(p + nl + 1, len - nl - 1, out, n);
      return 1;
    }
    if (len == nl && strncmp(p, name, nl) == 0)
      return 1;
    p = amp ? amp + 1 : NULL;
  }
  return 0;
}

/*
 * 1 when the query parameter is "true" (any case), else 0.
 */
int sim_param_bool(const char *qs, const char *name) {
  char v[16];

  return sim_param(qs, name, v, sizeof(v)) && strcasecmp(v, "true") == 0;
}

/* ---- replies and wire faults ---- */

static void timer_closed(uv_handle_t *h) {
  free(h->data);
}

static void pending_dispose(void *x) {
  sim_pending *p = x;

  if (p->prev)
    p->prev->next = p->next;
  else if (the_server != NULL && the_server->pending == p)
    the_server->pending = p->next;
  if (p->next)
    p->next->prev = p->prev;
  /* the request is gone (done or the client left): drop the timer */
  if (p->timer != NULL) {
    p->timer->p = NULL;
    uv_timer_stop(&p->timer->t);
    uv_close((uv_handle_t *)&p->timer->t, timer_closed);
    p->timer = NULL;
  }
}

static void send_chunk(sim_pending *p);

/* The body already lives in the request pool: unlike h2o_send_inline,
 * which copies it once more, hand it to h2o as is. */
static void send_now(h2o_req_t *req, h2o_iovec_t body) {
  static h2o_generator_t gen = {NULL, NULL};

  req->res.content_length = body.len;
  h2o_start_response(req, &gen);
  if (h2o_memis(req->input.method.base, req->input.method.len,
                H2O_STRLIT("HEAD")))
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
  else
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void on_timer(uv_timer_t *t) {
  sim_timer *st = t->data;

  if (st->p != NULL)
    send_chunk(st->p);
}

static int start_timer(sim_pending *p, uint64_t ms) {
  if (p->timer == NULL) {
    p->timer = calloc(1, sizeof(*p->timer));
    if (p->timer == NULL)
      return -1;
    if (uv_timer_init(p->ctx->loop, &p->timer->t) != 0) {
      free(p->timer);
      p->timer = NULL;
      return -1;
    }
    p->timer->t.data = p->timer;
    p->timer->p = p;
  }
  return uv_timer_start(&p->timer->t, on_timer, ms, 0);
}

/* h2o wrote the previous piece: a slow body waits chunk_ms for the next. */
static void on_proceed(h2o_generator_t *g, h2o_req_t *req) {
  sim_pending *p = (sim_pending *)g;

  (void)req;
  if (p->sent >= p->body.len)
    return;
  if (start_timer(p, (uint64_t)p->chunk_ms) != 0)
    send_chunk(p);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req) {
  (void)g;
  (void)req; /* the pool's dispose stops the timer */
}

/* Sends the body: whole, in slow pieces, or truncated. Runs at once, from
 * the latency or slow timer, or from on_proceed. */
static void send_chunk(sim_pending *p) {
  h2o_iovec_t iov;
  size_t n;

  if (!p->started) {
    p->started = 1;
    if (!p->slow && !p->truncate) {
      send_now(p->req, p->body);
      return;
    }
    p->req->res.content_length = p->body.len;
    p->gen.proceed = on_proceed;
    p->gen.stop = on_stop;
    h2o_start_response(p->req, &p->gen);
    if (p->truncate) {
      /* Content-Length announces the whole body; half of it arrives and
       * the connection closes. */
      iov = h2o_iovec_init(p->body.base, p->body.len / 2);
      h2o_send(p->req, &iov, 1, H2O_SEND_STATE_ERROR);
      return;
    }
  }
  n = p->body.len - p->sent;
  if (n > p->chunk)
    n = p->chunk;
  iov = h2o_iovec_init(p->body.base + p->sent, n);
  p->sent += n;
  h2o_send(p->req, &iov, 1,
           p->sent == p->body.len ? H2O_SEND_STATE_FINAL
                                  : H2O_SEND_STATE_IN_PROGRESS);
}

static double frand(sim_ctx *c) {
  return (double)(sim_rand_next(&c->fault_rng) >> 11) / 9007199254740992.0;
}

static int take(int *n) {
  if (*n > 0) {
    (*n)--;
    return 1;
  }
  return 0;
}

static void do_reset(sim_req *r) {
  h2o_socket_t *sock = r->req->conn->callbacks->get_socket(r->req->conn);
  sim_conn *c;

  for (c = the_server ? the_server->conns : NULL; c != NULL; c = c->next) {
    if (c->sock == sock) {
      uv_os_fd_t fd;
      struct linger lg = {1, 0};
      if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
        /* RST on close, and nothing more reaches the client */
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        (void)shutdown(fd, SHUT_RDWR);
      }
      return;
    }
  }
}

static int in_scope(sim_req *r) {
  int s = r->ctx->faults.scope;

  if (strncmp(r->path, "/_sim", 5) == 0)
    return 0;
  return (s == 0 && r->is_rest) || (s == 1 && r->is_oauth) ||
         (s == 2 && (r->is_rest || r->is_oauth)) ||
         (s == 3 && r->is_rest && r->method != NULL &&
          strcmp(r->method, "GET") != 0);
}

/*
 * See sim.h. The faults are drawn here so that stats see the status that
 * was really sent.
 */
int sim_reply(
    sim_req *r, int status, const char *ctype, const char *body, size_t len) {
  sim_ctx *c = r->ctx;
  sim_faults *f = &c->faults;
  sim_pending *p;
  double delay = 0;
  int reset = 0, truncate = 0, malformed = 0, slow = 0;
  h2o_iovec_t b;

  if (in_scope(r)) {
    int fstatus = 0;
    if (take(&f->next_status[0]) || frand(c) < f->rate[0])
      fstatus = 500;
    else if (take(&f->next_status[1]) || frand(c) < f->rate[1])
      fstatus = 502;
    else if (take(&f->next_status[2]) || frand(c) < f->rate[2])
      fstatus = 503;
    else if (take(&f->next_status[3]))
      fstatus = 429;
    if (fstatus == 500) {
      body = "{\"errorCode\":\"UNSPECIFIED_ERROR\",\"message\":\"An "
             "unexpected error occurred (simulated).\"}";
      ctype = "application/json; charset=utf-8";
    } else if (fstatus == 502 || fstatus == 503) {
      body = fstatus == 502 ? "<html><body><h1>502 Bad Gateway</h1></body>"
                              "</html>"
                            : "<html><body><h1>503 Service Unavailable</h1>"
                              "</body></html>";
      ctype = "text/html";
    } else if (fstatus == 429) {
      body = "{\"errorCode\":\"BURST_APIINVOCATION_LIMIT_EXCEEDED\","
             "\"message\":\"The maximum number of API requests per 30 "
             "seconds has been reached (simulated).\"}";
      ctype = "application/json; charset=utf-8";
    }
    if (fstatus) {
      status = fstatus;
      len = strlen(body);
    } else {
      reset = take(&f->next_reset) || frand(c) < f->rate[3];
      truncate = !reset && (take(&f->next_truncate) || frand(c) < f->rate[4]);
      malformed = !reset && !truncate &&
                  (take(&f->next_malformed) || frand(c) < f->rate[5]);
      slow = !reset && !truncate && !malformed &&
             (take(&f->next_slow) || frand(c) < f->rate_slow);
    }
    delay = f->latency_ms + (f->jitter_ms > 0 ? frand(c) * f->jitter_ms : 0);
  }
  sim_stat_count(c, r->stat_key, reset ? 0 : status);
  r->req->res.status = status;
  r->req->res.reason = status == 200   ? "OK"
                       : status == 302 ? "Found"
                       : status == 400 ? "Bad Request"
                       : status == 401 ? "Unauthorized"
                       : status == 404 ? "Not Found"
                       : status == 429 ? "Too Many Requests"
                       : status == 502 ? "Bad Gateway"
                       : status == 503 ? "Service Unavailable"
                                       : "Error";
  if (ctype != NULL)
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                   NULL, ctype, strlen(ctype));
  if (malformed && len > 2) {
    /* well-formed HTTP, broken JSON: cut in the middle, add junk */
    sim_buf mb = {0};
    sim_buf_raw(&mb, body, len / 2);
    sim_buf_cstr(&mb, "\x01<!-- malformed -->");
    b = h2o_strdup(&r->req->pool, mb.p, mb.len);
    sim_buf_free(&mb);
  } else {
    b = h2o_strdup(&r->req->pool, body, len);
  }
  if (reset)
    do_reset(r);
  if (delay < 1 && !slow && !truncate) {
    send_now(r->req, b);
    return 0;
  }
  p = h2o_mem_alloc_shared(&r->req->pool, sizeof(*p), pending_dispose);
  memset(p, 0, sizeof(*p));
  p->req = r->req;
  p->ctx = c;
  p->body = b;
  p->truncate = truncate;
  p->slow = slow;
  p->chunk_ms = f->slow_chunk_ms > 0 ? f->slow_chunk_ms : 200;
  p->chunk = f->slow_chunk_bytes > 0 ? (size_t)f->slow_chunk_bytes : 256;
  if (the_server != NULL) {
    p->next = the_server->pending;
    if (p->next)
      p->next->prev = p;
    the_server->pending = p;
  }
  if (delay >= 1) {
    if (start_timer(p, (uint64_t)delay) == 0)
      return 0;
  }
  send_chunk(p);
  return 0;
}

/*
 * Sends the JSON in `b` (then frees it) with `status`.
 */
int sim_reply_json(sim_req *r, int status, sim_buf *b) {
  int rc = sim_reply(r, status, "application/json; charset=utf-8",
                     b->p ? b->p : "", b->len);

  sim_buf_free(b);
  return rc;
}

/*
 * Sends a DocuSign errorDetails body {"errorCode","message"} with `status`.
 */
int sim_reply_error(sim_req *r, int status, const char *code, const char *msg) {
  sim_buf b = {0};

  sim_json_obj(&b);
  sim_json_kstr(&b, "errorCode", code);
  sim_json_kstr(&b, "message", msg);
  sim_json_obj_end(&b);
  return sim_reply_json(r, status, &b);
}

/* ---- request entry ---- */

static void req_dispose(void *x) {
  sim_req *r = x;

  r->ctx->inflight--;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  sim_handler *h = (sim_handler *)self;
  sim_ctx *c = h->ctx;
  sim_req *r;
  size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
  char *path, *query, *method;

  r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), req_dispose);
  memset(r, 0, sizeof(*r));
  r->ctx = c;
  r->req = req;
  c->inflight++;
  c->total_requests++;
  if (c->inflight > c->peak_inflight)
    c->peak_inflight = c->inflight;
  path = h2o_mem_alloc_pool(&req->pool, plen + 1);
  memcpy(path, req->path.base, plen);
  path[plen] = '\0';
  if (req->query_at != SIZE_MAX) {
    size_t ql = req->path.len - plen - 1;
    query = h2o_mem_alloc_pool(&req->pool, ql + 1);
    memcpy(query, req->path.base + plen + 1, ql);
    query[ql] = '\0';
  } else {
    query = "";
  }
  method = h2o_mem_alloc_pool(&req->pool, req->method.len + 1);
  memcpy(method, req->method.base, req->method.len);
  method[req->method.len] = '\0';
  r->path = path;
  r->path_len = plen;
  r->query = query;
  r->method = method;
  r->is_rest = strncmp(path, "/restapi/", 9) == 0;
  r->is_oauth = strncmp(path, "/oauth/", 7) == 0;
  snprintf(r->stat_key, sizeof(r->stat_key), "%s %s", method, path);
  sim_route(r);
  return 0;
}

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h) {
  sim_conn *c = (sim_conn *)h;

  if (c->prev)
    c->prev->next = c->next;
  else if (c->srv->conns == c)
    c->srv->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  free(c);
}

static void on_accept(uv_stream_t *listener, int status) {
  sim_server *s = listener->data;
  sim_conn *c;

  if (status != 0 || s->stopping)
    return;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return;
  c->srv = s;
  if (uv_tcp_init(listener->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return;
  }
  (void)uv_tcp_nodelay(&c->tcp, 1);
  c->sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, conn_closed);
  h2o_accept(listener == (uv_stream_t *)&s->listen_https ? &s->accept_https
                                                         : &s->accept_http,
             c->sock);
}

static int listen_on(sim_server *s, uv_tcp_t *t, int port, int *bound) {
  struct sockaddr_in sa;
  struct sockaddr_storage ss;
  int len = sizeof(ss), rc;

  rc = uv_tcp_init(s->ctx->loop, t);
  if (rc != 0)
    return rc;
  t->data = s;
  rc = uv_ip4_addr("127.0.0.1", port, &sa);
  if (rc == 0)
    rc = uv_tcp_bind(t, (const struct sockaddr *)&sa, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)t, 511, on_accept);
  if (rc == 0)
    rc = uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
  if (rc == 0)
    *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return rc;
}

/*
 * Starts the listeners (HTTPS only when `cert` and `key` are given) and
 * fills c->http_base/https_base. Loop thread. *out owns the server; free it
 * with sim_server_free after the loop stopped. Returns 0 or a message was
 * printed and -1 returned.
 */
int sim_server_start(sim_ctx *c,
                     int port,
                     int tls_port,
                     const char *cert,
                     const char *key,
                     sim_server **out) {
  sim_server *s;
  h2o_hostconf_t *host;
  h2o_pathconf_t *pc;
  sim_handler *h;
  int bound = 0, rc;

  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -1;
  s->ctx = c;
  the_server = s;
  h2o_config_init(&s->config);
  s->config.server_name = h2o_iovec_init(H2O_STRLIT("docusign-sim"));
  host = h2o_config_register_host(&s->config,
                                  h2o_iovec_init(H2O_STRLIT("default")), 65535);
  pc = h2o_config_register_path(host, "/", 0);
  h = (sim_handler *)h2o_create_handler(pc, sizeof(*h));
  h->super.on_req = on_req;
  h->ctx = c;
  h2o_context_init(&s->h2o, c->loop, &s->config);
  s->accept_http.ctx = &s->h2o;
  s->accept_http.hosts = s->config.hosts;
  s->accept_https = s->accept_http;
  rc = listen_on(s, &s->listen_http, port, &bound);
  if (rc != 0) {
    fprintf(stderr, "docusign-sim: cannot listen [port=%d] [%s]\n", port,
            uv_strerror(rc));
    goto fail;
  }
  snprintf(c->http_base, sizeof(c->http_base), "http://127.0.0.1:%d", bound);
  if (cert != NULL && key != NULL) {
    s->ssl = SSL_CTX_new(TLS_server_method());
    if (s->ssl == NULL ||
        SSL_CTX_use_certificate_chain_file(s->ssl, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(s->ssl, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(s->ssl) != 1) {
      unsigned long e = ERR_get_error();
      char why[256];
      ERR_error_string_n(e, why, sizeof(why));
      fprintf(stderr,
              "docusign-sim: cannot load TLS certificate or key [cert=%s] "
              "[key=%s] [%s]; check both are readable PEM files and "
              "belong together\n",
              cert, key, e ? why : "unknown");
      goto fail;
    }
    h2o_ssl_register_alpn_protocols(s->ssl, h2o_http2_alpn_protocols);
    s->accept_https.ssl_ctx = s->ssl;
    rc = listen_on(s, &s->listen_https, tls_port, &bound);
    if (rc != 0) {
      fprintf(stderr, "docusign-sim: cannot listen [tls-port=%d] [%s]\n",
              tls_port, uv_strerror(rc));
      goto fail;
    }
    s->have_https = 1;
    snprintf(c->https_base, sizeof(c->https_base), "https://127.0.0.1:%d",
             bound);
  }
  *out = s;
  return 0;

fail:
  *out = s; /* the caller stops and frees it */
  return -1;
}

static void drain_closed(uv_handle_t *h) {
  (void)h;
}

/* How long a stop waits for open connections: 250 ticks of 20 ms. */
#define SIM_DRAIN_MAX_TICKS 250

static void on_drain(uv_timer_t *t) {
  sim_server *s = t->data;

  if (s->conns != NULL) {
    /* A TLS connection whose last write never completes after the socket
     * was shut down keeps the loop alive forever (seen under ASan). A test
     * tool must not hang its caller: give up loudly after the deadline. */
    if (++s->drain_ticks >= SIM_DRAIN_MAX_TICKS) {
      size_t n = 0;
      sim_conn *c;

      for (c = s->conns; c != NULL; c = c->next)
        n++;
      fprintf(stderr,
              "docusign-sim: stop deadline passed with [%zu] connection(s) "
              "still open; exiting without draining them\n",
              n);
      fflush(stderr);
      _exit(0);
    }
    return;
  }
  uv_timer_stop(t);
  uv_close((uv_handle_t *)t, drain_closed);
  if (!s->disposed) {
    s->disposed = 1;
    h2o_context_dispose(&s->h2o);
  }
}

static void noop_close(uv_handle_t *h) {
  (void)h;
}

/*
 * Stops accepting, ends every open connection and disposes the h2o context
 * once they are gone, so the loop runs empty. Loop thread; once.
 */
void sim_server_stop(sim_server *s) {
  sim_conn *c;
  sim_pending *p;

  if (s == NULL || s->stopping)
    return;
  s->stopping = 1;
  if (s->listen_http.loop != NULL)
    uv_close((uv_handle_t *)&s->listen_http, noop_close);
  if (s->listen_https.loop != NULL)
    uv_close((uv_handle_t *)&s->listen_https, noop_close);
  /* delayed and slow replies go out now, so shutdown does not wait */
  for (p = s->pending; p != NULL; p = p->next) {
    p->chunk_ms = 0;
    if (p->timer != NULL && uv_is_active((uv_handle_t *)&p->timer->t))
      (void)uv_timer_start(&p->timer->t, on_timer, 0, 0);
  }
  for (c = s->conns; c != NULL; c = c->next) {
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
      (void)shutdown(fd, SHUT_RDWR); /* h2o sees EOF and closes it */
  }
  if (uv_timer_init(s->ctx->loop, &s->drain) == 0) {
    s->drain.data = s;
    (void)uv_timer_start(&s->drain, on_drain, 0, 20);
  }
}

/*
 * Frees the server after the loop has run empty. NULL-safe.
 */
void sim_server_free(sim_server *s) {
  if (s == NULL)
    return;
  if (!s->disposed)
    h2o_context_dispose(&s->h2o);
  h2o_config_dispose(&s->config);
  if (s->ssl)
    SSL_CTX_free(s->ssl);
  if (the_server == s)
    the_server = NULL;
  free(s);
}
