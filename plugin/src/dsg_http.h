/*
 * dsg_http.h: the plugin's HTTP client, libcurl's multi interface driven by
 * the host's libuv loop (one uv_poll per socket, one uv_timer).
 *
 * dsg_http.c is the only file of the plugin that talks to both libcurl and
 * libuv. Everything here runs on the loop thread. Callbacks of this module
 * are never called from inside a function of this module that the caller
 * called: they arrive from libuv callbacks, after libcurl has returned.
 */
#ifndef DSG_HTTP_H
#define DSG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "dsg_http_trust.h"

typedef struct dsg_http dsg_http;
typedef struct dsg_http_req dsg_http_req;

/* Where the module's own log lines go (never a header value or a body). */
typedef void (*dsg_http_log_fn)(void *log_ud, int level, const char *line);

/* Settings of one client; copied by dsg_http_start. Zero means default. */
typedef struct dsg_http_config {
  const char *ca_file;           /* PEM bundle to trust; NULL: system store */
  const char *user_agent;        /* NULL: "sam-docusign/<v> (+libcurl/<v>)" */
  uint64_t connect_timeout_ms;   /* 0: 10 s */
  uint64_t request_timeout_ms;   /* default total timeout; 0: 60 s */
  size_t max_response_bytes;     /* 0: 16 MiB */
  uint32_t max_host_connections; /* 0: 6 */
  uint64_t trust_max_age_ms;     /* reload the trusted CAs after; 0: 12 h */
  int curl_loads_cas;   /* 1: curl decodes the CAs itself, on the loop, as
                           before dsg_http_trust.h (bench-http-trust's
                           baseline); 0: off the loop */
  int debug;            /* 1: redacted curl trace to the log */
  int allow_plain_http; /* 1: http:// too (tests); else https only */
  dsg_http_log_fn log;  /* may be NULL */
  void *log_ud;
} dsg_http_config;

/* One request. Every pointer is borrowed for the dsg_http_request call. */
typedef struct dsg_http_req_opts {
  const char *method;         /* "GET" (NULL), "POST", "PUT", "DELETE" */
  const char *url;            /* http:// or https:// */
  const char *const *headers; /* "Name: value" strings, NULL-terminated;
                                 never Authorization; may be NULL */
  const char *bearer_token;   /* sends "Authorization: Bearer <token>" */
  const char *basic_user;     /* with basic_password: "Authorization: Basic" */
  const char *basic_password;
  const char *body; /* copied; wiped when the request is freed */
  size_t body_len;
  uint64_t timeout_ms; /* total; 0: the client's request_timeout_ms */
} dsg_http_req_opts;

/* The outcome of one request, borrowed for the duration of the callback. */
typedef struct dsg_http_resp {
  int status;       /* SAM_OK when a whole HTTP response arrived (any code);
                       else the transport failure as SAM_E* */
  long http_status; /* 0 when no response arrived */
  const char *body; /* NUL-terminated; "" when empty */
  size_t body_len;
  const char *content_type; /* "" when absent */
  /* Rate-limit headers (DOCUSIGN.md section 7); -1 when absent. */
  int64_t ratelimit_limit;
  int64_t ratelimit_remaining;
  int64_t ratelimit_reset; /* Unix epoch second of the hourly reset */
  int64_t burstlimit_limit;
  int64_t burstlimit_remaining;
  int64_t retry_after_s; /* seconds (a date is converted); -1 when absent */
  int tls_resumed;       /* 1: the connection resumed a TLS session */
  const char *error;     /* curl's error text, or ours; "" on success */
} dsg_http_resp;

/* Runs exactly once per accepted request, on the loop thread, never inside
 * dsg_http_request or dsg_http_cancel. `resp` is borrowed until it returns;
 * the dsg_http_req handle is dead once the callback starts. */
typedef void (*dsg_http_done_cb)(const dsg_http_resp *resp, void *ud);

/* Runs once when dsg_http_close has finished, after every request callback. */
typedef void (*dsg_http_closed_cb)(void *ud);

/*
 * Creates a client on `loop`: the curl multi handle, its uv timer and the
 * idle handle that defers starts and completions to a later callback.
 *
 * Thread:    loop thread. curl_global_init must have succeeded before.
 * Ownership: cfg is copied. *out is released with dsg_http_close.
 * Returns:   0, SAM_ENOMEM, or another SAM_E* from libuv/libcurl. On
 *            failure nothing is left to release: handles already created
 *            are closed and the client is freed from the last close callback
 *            (the caller keeps running the loop).
 */
int dsg_http_start(uv_loop_t *loop, const dsg_http_config *cfg, dsg_http **out);

/*
 * Queues one request. The transfer starts from a later loop callback.
 *
 * Thread:    loop thread.
 * Ownership: opts and everything it points to are copied. *out (may be
 *            NULL) stays valid until `cb` starts running; use it only for
 *            dsg_http_cancel.
 * Callbacks: `cb` runs exactly once, later, never inside this call.
 * Returns:   0 (queued), SAM_EINVAL (bad options, an Authorization header in
 *            `headers`, an http:// URL without allow_plain_http), SAM_ENOMEM,
 *            or SAM_EBUSY once dsg_http_close ran.
 *            On error `cb` never runs.
 */
int dsg_http_request(dsg_http *http,
                     const dsg_http_req_opts *opts,
                     dsg_http_done_cb cb,
                     void *ud,
                     dsg_http_req **out);

/*
 * Cancels a request whose callback has not started yet: the transfer stops
 * now, and `cb` runs once with status SAM_ECANCELED from a later loop
 * callback; a request that had already finished keeps its real status (as
 * in ABI.md C3). Cancelling twice is harmless.
 *
 * Thread: loop thread. Returns nothing; a NULL req is ignored.
 */
void dsg_http_cancel(dsg_http_req *req);

/*
 * Closes the client in the order STYLE.md prescribes: removes and cleans up
 * every easy handle, curl_multi_cleanup, closes the timer, the idle handle
 * and the remaining polls. Every request still open completes with
 * SAM_ECANCELED, then `cb(ud)` runs once, from the last close callback; the
 * client is freed just before it.
 *
 * Thread: loop thread, once. http may be NULL: cb then never runs.
 */
void dsg_http_close(dsg_http *http, dsg_http_closed_cb cb, void *ud);

/* Requests accepted and not yet completed (tests, shutdown diagnostics). */
size_t dsg_http_open_requests(const dsg_http *http);

/* The trusted CAs' loads so far (tests, diagnostics); all zero when curl
 * loads them itself (a TLS backend other than OpenSSL). */
void dsg_http_trust_info(const dsg_http *http, dsg_trust_info *out);

/* ---- translation to SAM_E*, one place each (dsg_http_map.c) ---- */

/* Maps a CURLcode to SAM_E* (CURLE_OK is SAM_OK). Pure. */
int dsg_status_from_curl(CURLcode code);
/* Maps a CURLMcode to SAM_E*. Pure. */
int dsg_status_from_curlm(CURLMcode code);
/* Maps a negative libuv error to SAM_E* (0 is SAM_OK). Pure. */
int dsg_status_from_uv(int uv_err);
/* Maps an HTTP status to SAM_E*: 2xx SAM_OK, 401/403 SAM_EAUTH, 404
 * SAM_ENOENT, 408/504 SAM_ETIMEDOUT, 409 SAM_ECONFLICT, 429/503 SAM_EAGAIN,
 * other 4xx/5xx SAM_EREMOTE, anything else SAM_EPROTO. DocuSign reports
 * rate limits and permission errors as 400 with an errorCode; callers decide
 * on the body's errorCode first (DOCUSIGN.md A19, A20). Pure. */
int dsg_status_from_http(long http_status);

/*
 * Formats one libcurl debug callback chunk into a log line, or returns 0
 * when nothing may be logged. Header and body data are dropped (only their
 * size is told) and text lines are redacted: anything after
 * "Authorization", "Bearer " or "Basic " (any case) becomes [redacted].
 *
 * Thread: any; pure. Ownership: `out` (out_len bytes) is the caller's.
 * Returns: the length written (without NUL), or 0 to log nothing.
 */
size_t dsg_http_trace_format(curl_infotype type,
                             const char *data,
                             size_t size,
                             char *out,
                             size_t out_len);

#endif /* DSG_HTTP_H */
