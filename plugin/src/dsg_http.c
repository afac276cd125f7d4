/*
 * dsg_http.c: libcurl's multi interface on the host's libuv loop.
 *
 * The only file of the plugin that talks to both libcurl and libuv. It
 * follows the pitfalls list of STYLE.md ("curl multi on libuv"); the numbers
 * in the comments below refer to it.
 *
 * Shape:
 *  - one CURLM per client, driven by curl_multi_socket_action;
 *  - one uv_poll_t per socket, its context kept in curl's socketp (4);
 *  - one non-repeating uv_timer_t for curl's timeout (6);
 *  - one uv_idle_t ("kick") that runs work which must not happen inside a
 *    caller's call or a curl callback: adding queued transfers to the multi
 *    handle and delivering completions (8, and "cb never inside the call").
 *
 * A request lives on exactly one list: `queued` (accepted, not yet in the
 * multi handle), `active` (in the multi handle) or `done` (finished, its
 * callback not yet delivered). The easy handle is removed and cleaned up the
 * moment a request moves to `done`, so the connection returns to the cache.
 * Building a request and its easy-handle callbacks live in dsg_http_easy.c
 * (libcurl only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"

#include "dsg_http_int.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define DEFAULT_REQUEST_TIMEOUT_MS 60000u
#define DEFAULT_MAX_RESPONSE (16u * 1024u * 1024u)
#define DEFAULT_MAX_HOST_CONNS 6u
/* CA bundles change with the OS's updates; curl's own cache lasts 24 h */
#define DEFAULT_TRUST_MAX_AGE_MS (12u * 3600u * 1000u)

typedef struct req_list {
  dsg_http_req *head;
  dsg_http_req *tail;
  size_t n;
} req_list;

/* One watched socket. Freed only from its poll handle's close callback. */
typedef struct dsg_sock {
  uv_poll_t poll;
  dsg_http *http;
  curl_socket_t fd;
  int closing;
  struct dsg_sock *next;
  struct dsg_sock *prev;
} dsg_sock;

struct dsg_http {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer; /* curl's timeout, never repeating (6) */
  uv_idle_t kick;   /* deferred starts and completions (8) */
  req_list queued;
  req_list active;
  req_list done;
  dsg_sock *socks; /* every live poll context, closing or not */
  unsigned open_handles;
  int closing;
  int delivering;
  int failed_in_cb; /* a socket callback could not watch a socket (7) */
  dsg_http_settings set;
  dsg_http_closed_cb closed_cb;
  void *closed_ud;
};

/* ---- small helpers ---- */


static void list_push(req_list *l, dsg_http_req *r) {
  r->next = NULL;
  r->prev = l->tail;
  if (l->tail != NULL)
    l->tail->next = r;
  else
    l->head = r;
  l->tail = r;
  l->n++;
}

static void list_remove(req_list *l, dsg_http_req *r) {
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    l->head = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  else
    l->tail = r->prev;
  r->next = NULL;
  r->prev = NULL;
  l->n--;
}

static req_list *list_of(dsg_http *http, dsg_http_req_state st) {
  if (st == DSG_REQ_QUEUED)
    return &http->queued;
  if (st == DSG_REQ_ACTIVE)
    return &http->active;
  return &http->done;
}

static void kick_start(dsg_http *http);

/*
 * Moves a request to `done` with `status`. For an active request this
 * removes the easy handle from the multi handle (never from inside a curl
 * callback: every caller is a uv callback or a user call) and cleans it up.
 */
static void req_finish(dsg_http_req *req, int status) {
  dsg_http *http = req->http;
  CURLMcode mc;

  if (req->state == DSG_REQ_DONE)
    return;
  list_remove(list_of(http, req->state), req);
  if (req->state == DSG_REQ_ACTIVE && req->easy != NULL &&
      http->multi != NULL) {
    mc = curl_multi_remove_handle(http->multi, req->easy);
    if (mc != CURLM_OK)
      dsg_http_logf(&http->set, SAM_LOG_WARN,
                    "curl_multi_remove_handle failed [%s]",
                    curl_multi_strerror(mc));
  }
  if (req->easy != NULL) {
    curl_easy_cleanup(req->easy);
    req->easy = NULL;
  }
  req->status = status;
  req->state = DSG_REQ_DONE;
  list_push(&http->done, req);
  kick_start(http);
}

/* Delivers every finished request's callback, in order. Runs only from uv
 * callbacks, never while curl is on the stack. */
static void deliver_done(dsg_http *http) {
  dsg_http_req *req;
  dsg_http_resp resp;

  if (http->delivering)
    return;
  http->delivering = 1;
  while ((req = http->done.head) != NULL) {
    list_remove(&http->done, req);
    dsg_http_req_response(req, &resp);
    req->cb(&resp, req->ud);
    dsg_http_req_free(req);
  }
  http->delivering = 0;
}

static void on_poll(uv_poll_t *handle, int status, int events);
static void on_handle_closed(uv_handle_t *handle);

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching one socket. */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  dsg_http *http = userp;
  dsg_sock *sock = socketp;
  dsg_http_req *req = NULL;
  int events = 0;
  int rc;

  if (what == CURL_POLL_REMOVE) {
    /* Stop before curl closes the fd (5); free in the close callback. */
    if (sock != NULL) {
      if (!sock->closing) {
        uv_poll_stop(&sock->poll);
        sock->closing = 1;
        uv_close((uv_handle_t *)&sock->poll, on_handle_closed);
      }
      curl_multi_assign(http->multi, s, NULL);
    }
    return 0;
  }
  if (sock == NULL) {
    sock = calloc(1, sizeof(*sock));
    if (sock == NULL) {
      rc = UV_ENOMEM;
      goto fail;
    }
    rc = uv_poll_init_socket(http->loop, &sock->poll, s);
    if (rc != 0) {
      free(sock);
      sock = NULL;
      goto fail;
    }
    sock->poll.data = sock;
    sock->http = http;
    sock->fd = s;
    sock->next = http->socks;
    if (http->socks != NULL)
      http->socks->prev = sock;
    http->socks = sock;
    http->open_handles++;
    if (curl_multi_assign(http->multi, s, sock) != CURLM_OK) {
      rc = UV_EINVAL;
      goto fail;
    }
  }
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
    events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
    events |= UV_WRITABLE;
  rc = uv_poll_start(&sock->poll, events, on_poll);
  if (rc != 0)
    goto fail;
  return 0;

fail:
  /* Never -1 (7): mark the one transfer failed and reap it after
   * socket_action returns. */
  if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req) == CURLE_OK &&
      req != NULL)
    req->local_status = dsg_status_from_uv(rc);
  http->failed_in_cb = 1;
  dsg_http_logf(&http->set, SAM_LOG_ERROR, "cannot watch socket [fd=%d] [%s]",
                (int)s, uv_strerror(rc));
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl's one deadline (6). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp);

/* ---- driving the multi handle from uv callbacks ---- */

/* Reads every DONE message (3) and finishes those requests, then reaps
 * transfers a curl callback marked failed, then delivers callbacks. */
static void drain(dsg_http *http) {
  CURLMsg *msg;
  int left = 0;
  dsg_http_req *req;
  dsg_http_req *next;

  while ((msg = curl_multi_info_read(http->multi, &left)) != NULL) {
    CURL *easy;
    CURLcode res;
    long code = 0;

    if (msg->msg != CURLMSG_DONE)
      continue;
    /* Copy before remove_handle: the message dies with it (3). */
    easy = msg->easy_handle;
    res = msg->data.result;
    req = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req) != CURLE_OK ||
        req == NULL) {
      curl_multi_remove_handle(http->multi, easy);
      continue;
    }
    if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
      req->http_status = code;
    if (req->local_status != 0) {
      req_finish(req, req->local_status);
    } else if (req->too_big) {
      snprintf(req->errbuf, sizeof(req->errbuf),
               "response body larger than [%zu] bytes", http->set.max_response);
      req_finish(req, SAM_EPROTO);
    } else {
      if (res != CURLE_OK && req->errbuf[0] == '\0')
        snprintf(req->errbuf, sizeof(req->errbuf), "%s",
                 curl_easy_strerror(res));
      req_finish(req, dsg_status_from_curl(res));
    }
  }
  if (http->failed_in_cb) {
    http->failed_in_cb = 0;
    for (req = http->active.head; req != NULL; req = next) {
      next = req->next;
      if (req->local_status != 0) {
        snprintf(req->errbuf, sizeof(req->errbuf), "socket setup failed");
        req_finish(req, req->local_status);
      }
    }
  }
  deliver_done(http);
}

static void socket_action(dsg_http *http, curl_socket_t fd, int flags) {
  int running = 0; /* never NULL (2) */
  CURLMcode mc;

  if (http->multi == NULL)
    return;
  mc = curl_multi_socket_action(http->multi, fd, flags, &running);
  if (mc != CURLM_OK)
    dsg_http_logf(&http->set, SAM_LOG_ERROR,
                  "curl_multi_socket_action failed [%s]",
                  curl_multi_strerror(mc));
  drain(http); /* even when running is 0 (3) */
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  dsg_sock *sock = handle->data; /* never cast the handle (4) */
  int flags = 0;

  if (status < 0) {
    flags = CURL_CSELECT_ERR; /* e.g. UV_EBADF after a reset (1) */
  } else {
    if (events & UV_READABLE)
      flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
      flags |= CURL_CSELECT_OUT;
  }
  socket_action(sock->http, sock->fd, flags);
}

static void on_timeout(uv_timer_t *timer) {
  socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
  dsg_http *http = userp;
  int rc;

  (void)multi;
  if (uv_is_closing((uv_handle_t *)&http->timer))
    return 0;
  if (timeout_ms < 0) {
    uv_timer_stop(&http->timer); /* -1: stop (6) */
    return 0;
  }
  /* 0 means "soon, not inside this callback": a zero-delay timer already
   * runs on a later loop iteration, so no clamp. */
  rc = uv_timer_start(&http->timer, on_timeout, (uint64_t)timeout_ms, 0);
  if (rc != 0)
    dsg_http_logf(&http->set, SAM_LOG_ERROR, "uv_timer_start failed [%s]",
                  uv_strerror(rc));
  return 0;
}

/* Finishes a request that is not in the multi handle (still queued, or
 * its add failed): its easy handle goes, the request moves to `done`. */
static void
finish_unadded(dsg_http *http, req_list *from, dsg_http_req *req, int status) {
  list_remove(from, req);
  curl_easy_cleanup(req->easy);
  req->easy = NULL;
  req->status = status;
  req->state = DSG_REQ_DONE;
  list_push(&http->done, req);
}

/* Fails every queued request: the trusted CAs could not be loaded. */
static void fail_queued(dsg_http *http, const char *why) {
  dsg_http_req *req;

  while ((req = http->queued.head) != NULL) {
    snprintf(req->errbuf, sizeof(req->errbuf), "%s", why);
    finish_unadded(http, &http->queued, req,
                   dsg_status_from_curl(CURLE_SSL_CACERT_BADFILE));
  }
}

/* Adds queued requests to the multi handle; from the idle callback only.
 * They wait while the trusted CAs load (ready kicks again). */
static void start_queued(dsg_http *http) {
  dsg_http_req *req;
  const char *why = NULL;
  CURLMcode mc;
  int want;

  if (http->queued.head == NULL)
    return;
  want = http->set.trust != NULL ? dsg_trust_want(http->set.trust, &why) : 1;
  if (want == 0)
    return;
  if (want < 0) {
    dsg_http_logf(&http->set, SAM_LOG_ERROR, "%s", why);
    fail_queued(http, why);
    return;
  }
  while ((req = http->queued.head) != NULL) {
    list_remove(&http->queued, req);
    req->state = DSG_REQ_ACTIVE;
    list_push(&http->active, req);
    mc = curl_multi_add_handle(http->multi, req->easy);
    if (mc != CURLM_OK) {
      snprintf(req->errbuf, sizeof(req->errbuf),
               "curl_multi_add_handle failed [%s]", curl_multi_strerror(mc));
      /* Never added: finish it without curl_multi_remove_handle. */
      finish_unadded(http, &http->active, req, dsg_status_from_curlm(mc));
    }
  }
}

static void on_kick(uv_idle_t *idle) {
  dsg_http *http = idle->data;

  uv_idle_stop(idle);
  if (!http->closing)
    start_queued(http);
  deliver_done(http);
}

static void kick_start(dsg_http *http) {
  int rc;

  if (uv_is_closing((uv_handle_t *)&http->kick))
    return; /* closing: the last close callback delivers */
  rc = uv_idle_start(&http->kick, on_kick);
  if (rc != 0)
    dsg_http_logf(&http->set, SAM_LOG_ERROR, "uv_idle_start failed [%s]",
                  uv_strerror(rc));
}

int dsg_http_request(dsg_http *http,
                     const dsg_http_req_opts *opts,
                     dsg_http_done_cb cb,
                     void *ud,
                     dsg_http_req **out) {
  dsg_http_req *req = NULL;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (http == NULL || cb == NULL)
    return SAM_EINVAL;
  if (http->closing)
    return SAM_EBUSY;
  rc = dsg_http_req_new(http, &http->set, opts, cb, ud, &req);
  if (rc != 0)
    return rc;
  req->state = DSG_REQ_QUEUED;
  list_push(&http->queued, req);
  kick_start(http);
  if (out != NULL)
    *out = req;
  return 0;
}

void dsg_http_cancel(dsg_http_req *req) {
  if (req == NULL || req->state == DSG_REQ_DONE)
    return;
  snprintf(req->errbuf, sizeof(req->errbuf), "request canceled");
  req_finish(req, SAM_ECANCELED);
}

size_t dsg_http_open_requests(const dsg_http *http) {
  if (http == NULL)
    return 0;
  return http->queued.n + http->active.n + http->done.n;
}

/* ---- lifecycle ---- */

static void http_free(dsg_http *http) {
  /* after the multi and every easy handle: nothing uses the share now */
  if (http->set.share != NULL)
    (void)curl_share_cleanup(http->set.share);
  free(http->set.ca_file);
  free(http);
}

/* One of the client's resources is gone; the last one frees it. */
static void resource_gone(dsg_http *http) {
  dsg_http_closed_cb cb;
  void *ud;

  if (--http->open_handles > 0 || !http->closing)
    return;
  /* Last close callback: every request completes, then the client goes. */
  deliver_done(http);
  cb = http->closed_cb;
  ud = http->closed_ud;
  http_free(http);
  if (cb != NULL)
    cb(ud);
}

static void on_trust_closed(void *ud) {
  dsg_http *http = ud;

  http->set.trust = NULL;
  resource_gone(http);
}

static void on_trust_ready(void *ud) {
  kick_start(ud);
}

static void on_handle_closed(uv_handle_t *handle) {
  dsg_http *http;

  if (handle->type == UV_POLL) {
    dsg_sock *sock = handle->data;
    http = sock->http;
    if (sock->prev != NULL)
      sock->prev->next = sock->next;
    else
      http->socks = sock->next;
    if (sock->next != NULL)
      sock->next->prev = sock->prev;
    free(sock);
  } else {
    http = handle->data;
  }
  resource_gone(http);
}

/* Closes every handle this client still has open. */
static void close_handles(dsg_http *http) {
  dsg_sock *sock;

  if (!uv_is_closing((uv_handle_t *)&http->timer)) {
    uv_timer_stop(&http->timer);
    uv_close((uv_handle_t *)&http->timer, on_handle_closed);
  }
  if (!uv_is_closing((uv_handle_t *)&http->kick)) {
    uv_idle_stop(&http->kick);
    uv_close((uv_handle_t *)&http->kick, on_handle_closed);
  }
  for (sock = http->socks; sock != NULL; sock = sock->next) {
    if (!sock->closing) {
      sock->closing = 1;
      uv_poll_stop(&sock->poll);
      uv_close((uv_handle_t *)&sock->poll, on_handle_closed);
    }
  }
}

#define MSETOPT(opt, val)                                                      \
  do {                                                                         \
    CURLMcode m_ = curl_multi_setopt(http->multi, (opt), (val));               \
    if (m_ != CURLM_OK) {                                                      \
      rc = dsg_status_from_curlm(m_);                                          \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

int dsg_http_start(uv_loop_t *loop,
                   const dsg_http_config *cfg,
                   dsg_http **out) {
  dsg_http *http = NULL;
  curl_version_info_data *ver = curl_version_info(CURLVERSION_NOW);
  int rc = SAM_ENOMEM;

  *out = NULL;
  if (loop == NULL || cfg == NULL)
    return SAM_EINVAL;
  http = calloc(1, sizeof(*http));
  if (http == NULL)
    return SAM_ENOMEM;
  http->loop = loop;
  http->set.connect_timeout_ms = cfg->connect_timeout_ms != 0
                                     ? cfg->connect_timeout_ms
                                     : DEFAULT_CONNECT_TIMEOUT_MS;
  http->set.request_timeout_ms = cfg->request_timeout_ms != 0
                                     ? cfg->request_timeout_ms
                                     : DEFAULT_REQUEST_TIMEOUT_MS;
  http->set.max_response = cfg->max_response_bytes != 0
                               ? cfg->max_response_bytes
                               : DEFAULT_MAX_RESPONSE;
  http->set.debug = cfg->debug;
  http->set.allow_plain_http = cfg->allow_plain_http;
  http->set.log = cfg->log;
  http->set.log_ud = cfg->log_ud;
  if (cfg->user_agent != NULL)
    snprintf(http->set.user_agent, sizeof(http->set.user_agent), "%s",
             cfg->user_agent);
  else
    snprintf(http->set.user_agent, sizeof(http->set.user_agent),
             "sam-docusign/%s (+libcurl/%s)", DSG_VERSION,
             ver != NULL ? ver->version : "unknown");
  if (cfg->ca_file != NULL) {
    http->set.ca_file = strdup(cfg->ca_file);
    if (http->set.ca_file == NULL) {
      http_free(http);
      return SAM_ENOMEM;
    }
  }
  /* The TLS session share and the multi handle first (no loop
   * involvement), then the uv handles. Only the loop thread uses the
   * share: it needs no lock functions. */
  http->set.share = curl_share_init();
  if (http->set.share == NULL ||
      curl_share_setopt(http->set.share, CURLSHOPT_SHARE,
                        CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
    http_free(http);
    return SAM_ENOMEM;
  }
  http->multi = curl_multi_init();
  if (http->multi == NULL) {
    http_free(http);
    return SAM_ENOMEM;
  }
  rc = uv_timer_init(loop, &http->timer);
  if (rc != 0) {
    curl_multi_cleanup(http->multi);
    http_free(http);
    return dsg_status_from_uv(rc);
  }
  http->timer.data = http;
  http->open_handles++;
  rc = uv_idle_init(loop, &http->kick);
  if (rc != 0) {
    rc = dsg_status_from_uv(rc);
    /* Only the timer exists: close it and free from its callback. */
    goto fail_timer_only;
  }
  http->kick.data = http;
  http->open_handles++;
  /* The trusted CAs load in the thread pool from now on; curl loads them
   * itself only with a TLS backend that takes no OpenSSL store. */
  if (!cfg->curl_loads_cas && ver != NULL && ver->ssl_version != NULL &&
      strncmp(ver->ssl_version, "OpenSSL/", 8) == 0) {
    rc = dsg_trust_start(loop, http->set.ca_file,
                         cfg->trust_max_age_ms != 0 ? cfg->trust_max_age_ms
                                                    : DEFAULT_TRUST_MAX_AGE_MS,
                         on_trust_ready, http, &http->set.trust);
    if (rc != 0)
      goto fail;
    http->open_handles++;
  }
  MSETOPT(CURLMOPT_SOCKETFUNCTION, on_socket);
  MSETOPT(CURLMOPT_SOCKETDATA, (void *)http);
  MSETOPT(CURLMOPT_TIMERFUNCTION, on_curl_timer);
  MSETOPT(CURLMOPT_TIMERDATA, (void *)http);
  MSETOPT(CURLMOPT_MAX_HOST_CONNECTIONS,
          (long)(cfg->max_host_connections != 0 ? cfg->max_host_connections
                                                : DEFAULT_MAX_HOST_CONNS));
  MSETOPT(CURLMOPT_MAXCONNECTS, 32L);
  *out = http;
  return 0;

fail:
  /* The caller may free its log target as soon as we return. */
  http->set.log = NULL;
  http->closing = 1;
  curl_multi_cleanup(http->multi);
  http->multi = NULL;
  dsg_trust_close(http->set.trust, on_trust_closed, http);
  close_handles(http);
  return rc;

fail_timer_only:
  http->set.log = NULL;
  http->closing = 1;
  curl_multi_cleanup(http->multi);
  http->multi = NULL;
  uv_close((uv_handle_t *)&http->timer, on_handle_closed);
  return rc;
}

#undef MSETOPT

void dsg_http_close(dsg_http *http, dsg_http_closed_cb cb, void *ud) {
  dsg_http_req *req;
  CURLMcode mc;

  if (http == NULL || http->closing)
    return;
  http->closing = 1;
  http->closed_cb = cb;
  http->closed_ud = ud;
  /* 1. Remove and clean up every easy handle (9.1); their requests complete
   *    with SAM_ECANCELED from the last close callback. */
  while ((req = http->queued.head) != NULL) {
    snprintf(req->errbuf, sizeof(req->errbuf), "client shutting down");
    req_finish(req, SAM_ECANCELED);
  }
  while ((req = http->active.head) != NULL) {
    snprintf(req->errbuf, sizeof(req->errbuf), "client shutting down");
    req_finish(req, SAM_ECANCELED);
  }
  /* 2. curl_multi_cleanup may still call on_socket (REMOVE), so the poll
   *    contexts are alive here (9.2). */
  mc = curl_multi_cleanup(http->multi);
  if (mc != CURLM_OK)
    dsg_http_logf(&http->set, SAM_LOG_WARN, "curl_multi_cleanup failed [%s]",
                  curl_multi_strerror(mc));
  http->multi = NULL;
  /* 3. The trusted CAs (a load in flight finishes first), the timer, the
   *    idle handle and any poll curl did not remove (9.3);
   *    4. the last close callback finishes (9.4). */
  dsg_trust_close(http->set.trust, on_trust_closed, http);
  close_handles(http);
}

void dsg_http_trust_info(const dsg_http *http, dsg_trust_info *out) {
  dsg_trust_get_info(http != NULL ? http->set.trust : NULL, out);
}
