/*
 * http_server.c: a generic libh2o server on a libuv loop (see sam_http.h):
 * one listener, the accepted connections, requests in flight, and a
 * graceful close that leaves no handle behind. Nothing here knows SAM's
 * routes; the request function does.
 */
#include "sam_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sam/sam_plugin.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
#define DRAIN_TICK_MS 20

typedef struct conn {
  uv_tcp_t tcp; /* first: h2o's close callback receives this pointer */
  h2o_socket_t *sock;
  struct conn *next;
  struct conn *prev;
  struct sam__httpd *srv;
} conn;

typedef struct handler {
  h2o_handler_t super;
  struct sam__httpd *srv;
} handler;

struct sam__httpd {
  uv_loop_t *loop;
  h2o_globalconf_t config;
  h2o_context_t h2o;
  h2o_accept_ctx_t accept;
  uv_tcp_t listener;
  uv_timer_t drain;
  int listener_open;
  int drain_open;
  int stopping;
  int cut;
  int disposed;
  int port;
  size_t inflight;
  conn *conns;
  sam__httpd_req_fn on_req;
  void *ud;
  void (*done)(void *ud);
  void *done_ud;
};

/* ---- requests ---- */

typedef struct req_mark {
  struct sam__httpd *srv;
} req_mark;

static void req_disposed(void *x) {
  req_mark *m = x;

  m->srv->inflight--;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  handler *h = (handler *)self;
  req_mark *m;

  /* Counted until h2o disposes the request: after the answer was written,
   * or when the client went away. The close waits for zero. */
  m = h2o_mem_alloc_shared(&req->pool, sizeof(*m), req_disposed);
  m->srv = h->srv;
  h->srv->inflight++;
  return h->srv->on_req(req, h->srv->ud);
}

/*
 * See sam_http.h.
 */
void sam__httpd_add_header(h2o_req_t *req, const char *name, const char *val) {
  size_t nl = strlen(name), i;
  h2o_iovec_t n = h2o_strdup(&req->pool, name, nl);
  h2o_iovec_t v = h2o_strdup(&req->pool, val, strlen(val));

  /* h2o wants lower-case names (HTTP/2 requires them) */
  for (i = 0; i < n.len; i++)
    n.base[i] = (char)tolower((unsigned char)n.base[i]);
  h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL,
                        v.base, v.len);
}

static const char *reason_of(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 302:
    return "Found";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "Status";
  }
}

/*
 * See sam_http.h.
 */
void sam__httpd_send(h2o_req_t *req,
                     int status,
                     const char *content_type,
                     const char *body,
                     size_t len) {
  static h2o_generator_t gen = {NULL, NULL};
  h2o_iovec_t b = h2o_strdup(&req->pool, body != NULL ? body : "", len);

  req->res.status = status;
  req->res.reason = reason_of(status);
  if (content_type != NULL)
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   content_type, strlen(content_type));
  req->res.content_length = b.len;
  h2o_start_response(req, &gen);
  if (h2o_memis(req->input.method.base, req->input.method.len,
                H2O_STRLIT("HEAD")) ||
      b.len == 0)
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
  else
    h2o_send(req, &b, 1, H2O_SEND_STATE_FINAL);
}

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h) {
  conn *c = (conn *)h;

  if (c->prev != NULL)
    c->prev->next = c->next;
  else if (c->srv->conns == c)
    c->srv->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  free(c);
}

static void on_accept(uv_stream_t *listener, int status) {
  struct sam__httpd *s = listener->data;
  conn *c;

  if (status != 0 || s->stopping)
    return;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return; /* the peer waits in the backlog; the next accept may work */
  c->srv = s;
  if (uv_tcp_init(s->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  c->next = s->conns;
  if (s->conns != NULL)
    s->conns->prev = c;
  s->conns = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return;
  }
  (void)uv_tcp_nodelay(&c->tcp, 1); /* best effort: replies are small */
  c->sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, conn_closed);
  if (c->sock == NULL) {
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return;
  }
  h2o_accept(&s->accept, c->sock);
}

static int bind_listen(struct sam__httpd *s,
                       const char *host,
                       int port,
                       char *err,
                       size_t err_len) {
  struct sockaddr_storage sa;
  int len = sizeof(sa), rc;

  memset(&sa, 0, sizeof(sa));
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) != 0 &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa) != 0) {
    snprintf(err, err_len,
             "not an IP address [host=%s]; give --listen 127.0.0.1:PORT", host);
    return SAM_EINVAL;
  }
  rc = uv_tcp_init(s->loop, &s->listener);
  if (rc != 0)
    goto fail;
  s->listener.data = s;
  s->listener_open = 1;
  rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&s->listener, 128, on_accept);
  if (rc == 0)
    rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&sa, &len);
  if (rc != 0)
    goto fail;
  s->port = sa.ss_family == AF_INET6
                ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                : ntohs(((struct sockaddr_in *)&sa)->sin_port);
  return 0;

fail:
  snprintf(err, err_len, "cannot listen [host=%s] [port=%d] [%s]", host, port,
           uv_strerror(rc));
  return SAM_EIO;
}

/* ---- lifecycle ---- */

static void free_on_close(uv_handle_t *h) {
  free(h->data);
}

/*
 * See sam_http.h.
 */
int sam__httpd_start(const sam__httpd_config *cfg,
                     sam__httpd **out,
                     char *err,
                     size_t err_len) {
  struct sam__httpd *s = NULL;
  h2o_hostconf_t *hc;
  h2o_pathconf_t *pc;
  handler *h;
  int rc;

  *out = NULL;
  if (cfg == NULL || cfg->loop == NULL || cfg->on_req == NULL) {
    snprintf(err, err_len, "sam__httpd_start: missing loop or handler");
    return SAM_EINVAL;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(err, err_len, "out of memory");
    return SAM_ENOMEM;
  }
  s->loop = cfg->loop;
  s->on_req = cfg->on_req;
  s->ud = cfg->ud;
  h2o_config_init(&s->config);
  s->config.server_name =
      h2o_iovec_init(cfg->server_name ? cfg->server_name : "samhost",
                     strlen(cfg->server_name ? cfg->server_name : "samhost"));
  s->config.max_request_entity_size =
      cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
  /* plain HTTP/1.1 only: no h2c upgrade to keep the surface small */
  s->config.http1.upgrade_to_http2 = 0;
  hc = h2o_config_register_host(&s->config,
                                h2o_iovec_init(H2O_STRLIT("default")), 65535);
  pc = h2o_config_register_path(hc, "/", 0);
  h = (handler *)h2o_create_handler(pc, sizeof(*h));
  h->super.on_req = on_req;
  h->srv = s;
  h2o_context_init(&s->h2o, s->loop, &s->config);
  s->accept.ctx = &s->h2o;
  s->accept.hosts = s->config.hosts;
  rc = bind_listen(s, cfg->host ? cfg->host : "127.0.0.1", cfg->port, err,
                   err_len);
  if (rc != 0) {
    /* Close what exists; the caller's loop runs the closes down. */
    h2o_context_dispose(&s->h2o);
    h2o_config_dispose(&s->config);
    if (s->listener_open)
      uv_close((uv_handle_t *)&s->listener, free_on_close);
    else
      free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/*
 * See sam_http.h.
 */
int sam__httpd_port(const sam__httpd *s) {
  return s->port;
}

/*
 * See sam_http.h.
 */
size_t sam__httpd_inflight(const sam__httpd *s) {
  return s->inflight;
}

static void drain_closed(uv_handle_t *h) {
  struct sam__httpd *s = h->data;
  void (*done)(void *) = s->done;

  s->done = NULL;
  if (done != NULL)
    done(s->done_ud);
}

static void listener_closed(uv_handle_t *h) {
  struct sam__httpd *s = h->data;

  s->listener_open = 0;
}

static void on_drain(uv_timer_t *t) {
  struct sam__httpd *s = t->data;
  conn *c;

  if (s->inflight > 0 || s->listener_open)
    return;
  if (!s->cut) {
    /* Every request is answered: end the idle keep-alive connections.
     * h2o reads EOF on each and closes it (conn_closed). */
    s->cut = 1;
    for (c = s->conns; c != NULL; c = c->next) {
      uv_os_fd_t fd;
      if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        (void)shutdown(fd, SHUT_RDWR);
    }
  }
  if (s->conns != NULL)
    return;
  (void)uv_timer_stop(t);
  if (!s->disposed) {
    s->disposed = 1;
    h2o_context_dispose(&s->h2o); /* closes h2o's own uv handles */
  }
  s->drain_open = 0;
  uv_close((uv_handle_t *)t, drain_closed);
}

/*
 * See sam_http.h.
 */
void sam__httpd_close(sam__httpd *s, void (*done)(void *ud), void *ud) {
  int rc;

  s->done = done;
  s->done_ud = ud;
  if (s->stopping)
    return;
  s->stopping = 1;
  if (s->listener_open)
    uv_close((uv_handle_t *)&s->listener, listener_closed);
  /* A small poll rather than hooks in h2o's internals: requests finish and
   * connections close inside h2o, which calls back into us at moments
   * where acting on the socket again would be unsafe. */
  rc = uv_timer_init(s->loop, &s->drain);
  if (rc != 0) {
    fprintf(stderr, "samhost: cannot start the HTTP drain timer [%s]\n",
            uv_strerror(rc));
    return;
  }
  s->drain.data = s;
  s->drain_open = 1;
  rc = uv_timer_start(&s->drain, on_drain, 0, DRAIN_TICK_MS);
  if (rc != 0) {
    /* cannot fail on an initialised timer; close it so done still runs */
    s->drain_open = 0;
    uv_close((uv_handle_t *)&s->drain, drain_closed);
  }
}

/*
 * See sam_http.h.
 */
void sam__httpd_free(sam__httpd *s) {
  if (s == NULL)
    return;
  if (!s->disposed)
    h2o_context_dispose(&s->h2o);
  h2o_config_dispose(&s->config);
  free(s);
}
