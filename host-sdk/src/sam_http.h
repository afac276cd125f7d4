/*
 * sam_http.h: the reference host's HTTP surface on the host's libuv loop
 * (libh2o 2.2, libuv flavour).
 *
 * Two layers:
 *   - http_server.c: a generic h2o server (listener, accepted connections,
 *     in-flight request counting, graceful close). Knows nothing of SAM; the
 *     DocuSign simulator could run on it too.
 *   - http_api.c / http_static.c: the host's routes. Every /api/ call and
 *     the OAuth redirect go to sam_hostsvc_call; /ui/ and / serve static
 *     files from the web directory. Admin token, body bounds, content types
 *     and security headers are checked here.
 *
 * Thread: the loop thread for everything.
 */
#ifndef SAM_HTTP_H
#define SAM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <h2o.h>
#include <uv.h>

#include "sam_admin_token.h"
#include "sam_hostsvc.h"

/* ---- the generic server (http_server.c) ---- */

typedef struct sam__httpd sam__httpd;

/*
 * Handles one request. Return 0 when the request is (or will be) answered,
 * -1 to let h2o answer 404. Runs on the loop thread once per request.
 */
typedef int (*sam__httpd_req_fn)(h2o_req_t *req, void *ud);

typedef struct sam__httpd_config {
  uv_loop_t *loop;         /* borrowed until the close callback */
  const char *host;        /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
  int port;                /* 0 = pick one (read it back with _port) */
  size_t max_body;         /* request bodies above this get 413; 0 = 1 MiB */
  const char *server_name; /* the Server header; NULL = "samhost" */
  sam__httpd_req_fn on_req;
  void *ud;
} sam__httpd_config;

/*
 * Creates the h2o context on cfg->loop, binds and listens.
 *
 * Thread:    loop thread.
 * Ownership: *out is freed with sam__httpd_free after sam__httpd_close's
 *            callback ran (on failure *out is NULL and nothing is left).
 * Returns:   0, or SAM_EINVAL (bad address), SAM_EIO (bind/listen failed,
 *            the reason in err), SAM_ENOMEM.
 */
int sam__httpd_start(const sam__httpd_config *cfg,
                     sam__httpd **out,
                     char *err,
                     size_t err_len);

/* The bound port. */
int sam__httpd_port(const sam__httpd *s);

/* Requests accepted and not yet finished (answered or abandoned). */
size_t sam__httpd_inflight(const sam__httpd *s);

/*
 * Graceful close: closes the listener at once, lets every request in
 * flight be answered (the service layer answers each one: actions have
 * deadlines), then ends every idle connection and disposes the h2o context.
 * Thread: loop. Callbacks: done runs exactly once, on a later loop turn, when
 * no handle of the server is left open. Call once.
 */
void sam__httpd_close(sam__httpd *s, void (*done)(void *ud), void *ud);

/* Frees the server after the close callback. NULL-safe. */
void sam__httpd_free(sam__httpd *s);

/*
 * Adds a response header; name and value are copied into the request's
 * pool. Thread: loop.
 */
void sam__httpd_add_header(h2o_req_t *req, const char *name, const char *val);

/*
 * Sends a complete response: status, content type (may be NULL) and body
 * (copied into the request's pool). Thread: loop. Call once per request.
 */
void sam__httpd_send(h2o_req_t *req,
                     int status,
                     const char *content_type,
                     const char *body,
                     size_t len);

/* ---- the host's routes (http_api.c, http_static.c) ---- */

typedef struct sam__http_api sam__http_api;

typedef struct sam__http_api_config {
  sam_hostsvc *svc;              /* borrowed */
  const sam__admin_token *token; /* borrowed; the hash to check against */
  const char *web_dir;           /* static files; NULL = none served */
  size_t max_body;               /* 0 = 1 MiB */
} sam__http_api_config;

/*
 * Creates the router. Its request function is sam__http_api_on_req with
 * the router as ud (give both to sam__httpd_start). Ownership: strings are
 * copied; free with sam__http_api_free once the server is closed and every
 * hostsvc call answered. Returns 0 or SAM_ENOMEM/SAM_EINVAL.
 */
int sam__http_api_new(const sam__http_api_config *cfg, sam__http_api **out);
void sam__http_api_free(sam__http_api *api);

/* The sam__httpd_req_fn of the router (ud = the sam__http_api). */
int sam__http_api_on_req(h2o_req_t *req, void *ud);

/*
 * Adds the headers every reply of the host carries: CSP (no inline script,
 * no framing), nosniff, no referrer. Thread: loop.
 */
void sam__http_security_headers(h2o_req_t *req);

/* Sends {"status":..., "message":...} with `http` status. Thread: loop. */
void sam__http_send_error(h2o_req_t *req,
                          int http,
                          const char *status,
                          const char *message);

/*
 * Serves a static file below web_dir for the URL path `rel` (already
 * stripped of its /ui/ prefix; "" = index.html). Refuses any path with a
 * ".." or "." segment, a backslash, a NUL or a percent escape (404); reads
 * the file with uv_fs (never blocking the loop) up to 8 MiB. Thread: loop.
 * Returns 0 (the request will be answered exactly once).
 */
int sam__http_static_serve(h2o_req_t *req,
                           const char *web_dir,
                           const char *rel,
                           size_t rel_len);

/* The MIME type for a file name ("application/octet-stream" if unknown). */
const char *sam__http_mime_type(const char *name);

#endif /* SAM_HTTP_H */
