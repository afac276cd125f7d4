/*
 * http_api.c: the reference host's routes on the generic h2o server. Every
 * /api/ call (admin token required) and GET /oauth_redirect.do (no token)
 * go to sam_hostsvc_call; / and /ui/ serve static files (http_static.c).
 * This file owns the transport rules: the admin token, body size, content
 * type, methods, security headers and caching.
 */
#include "sam_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"

#define DEFAULT_MAX_BODY (1024 * 1024)

struct sam__http_api {
  sam_hostsvc *svc;
  const sam__admin_token *token;
  char *web_dir;
  size_t max_body;
};

/* A hostsvc call waiting for its answer. Malloc'd, because the request may
 * go away (client gone) before the service answers; the request's pool
 * holds a back-reference that forgets the request when it is disposed. */
typedef struct pending_ref pending_ref;
typedef struct pending {
  h2o_req_t *req; /* NULL once h2o disposed the request */
  pending_ref *ref;
} pending;

struct pending_ref {
  pending *p;
};

/* ---- replies ---- */

/*
 * See sam_http.h.
 */
void sam__http_security_headers(h2o_req_t *req) {
  sam__httpd_add_header(req, "Content-Security-Policy",
                        "default-src 'self'; script-src 'self'; "
                        "object-src 'none'; base-uri 'none'; "
                        "form-action 'self'; frame-ancestors 'none'");
  sam__httpd_add_header(req, "X-Content-Type-Options", "nosniff");
  sam__httpd_add_header(req, "Referrer-Policy", "no-referrer");
  sam__httpd_add_header(req, "X-Frame-Options", "DENY");
}

/*
 * See sam_http.h.
 */
void sam__http_send_error(h2o_req_t *req,
                          int http,
                          const char *status,
                          const char *message) {
  json_object *o = json_object_new_object();
  const char *text = NULL;
  size_t len = 0;

  if (o != NULL &&
      json_object_object_add(o, "status", json_object_new_string(status)) ==
          0 &&
      json_object_object_add(o, "message", json_object_new_string(message)) ==
          0)
    text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (text == NULL) {
    text = "{\"status\":\"SAM_ENOMEM\",\"message\":\"out of memory\"}";
    len = strlen(text);
  }
  sam__httpd_add_header(req, "Cache-Control", "no-store");
  sam__httpd_send(req, http, "application/json", text, len);
  json_object_put(o);
}

/* "GET /x?y" as text for messages: method and path without the query,
 * bounded, into out. */
static void describe(h2o_req_t *req, size_t plen, char *out, size_t n) {
  snprintf(out, n, "%.*s %.*s",
           (int)(req->method.len > 16 ? 16 : req->method.len), req->method.base,
           (int)(plen > 200 ? 200 : plen), req->path.base);
}

static void send_not_found(h2o_req_t *req, size_t plen) {
  char what[240], msg[300];

  describe(req, plen, what, sizeof(what));
  snprintf(msg, sizeof(msg), "no such resource [%s]", what);
  sam__http_send_error(req, 404, "SAM_ENOENT", msg);
}

/* ---- the hostsvc call ---- */

static void ref_disposed(void *x) {
  pending_ref *r = x;

  if (r->p != NULL)
    r->p->req = NULL;
}

static void on_reply(const sam_hostsvc_reply *r, void *ud) {
  pending *p = ud;
  h2o_req_t *req = p->req;
  char num[16];

  if (req == NULL) {
    free(p); /* the client left: nothing to answer */
    return;
  }
  p->ref->p = NULL;
  free(p);
  if (r->location != NULL)
    sam__httpd_add_header(req, "Location", r->location);
  if (r->retry_after_s > 0) {
    snprintf(num, sizeof(num), "%u", (unsigned)r->retry_after_s);
    sam__httpd_add_header(req, "Retry-After", num);
  }
  sam__httpd_add_header(req, "Cache-Control", "no-store");
  sam__httpd_send(req, r->http_status > 0 ? r->http_status : 500,
                  r->content_type != NULL ? r->content_type
                                          : "application/json",
                  r->body, r->body != NULL ? r->body_len : 0);
}

static int call_service(sam__http_api *api,
                        h2o_req_t *req,
                        const char *actor,
                        size_t plen) {
  pending *p;
  char *method, *path, *query = NULL;
  int rc;

  p = calloc(1, sizeof(*p));
  if (p == NULL)
    goto nomem;
  p->req = req;
  p->ref = h2o_mem_alloc_shared(&req->pool, sizeof(*p->ref), ref_disposed);
  p->ref->p = p;
  method = h2o_mem_alloc_pool(&req->pool, req->method.len + 1);
  memcpy(method, req->method.base, req->method.len);
  method[req->method.len] = '\0';
  path = h2o_mem_alloc_pool(&req->pool, plen + 1);
  memcpy(path, req->path.base, plen);
  path[plen] = '\0';
  if (req->query_at != SIZE_MAX) {
    size_t ql = req->path.len - plen - 1;
    query = h2o_mem_alloc_pool(&req->pool, ql + 1);
    memcpy(query, req->path.base + plen + 1, ql);
    query[ql] = '\0';
  }
  rc = sam_hostsvc_call(
      api->svc, method, path, query,
      req->entity.base != NULL && req->entity.len > 0 ? req->entity.base : NULL,
      req->entity.base != NULL ? req->entity.len : 0, actor, on_reply, p);
  if (rc == 0)
    return 0;
  p->ref->p = NULL;
  free(p);
  if (rc == SAM_EBUSY) { /* the service layer is closing */
    sam__httpd_add_header(req, "Retry-After", "5");
    sam__http_send_error(req, 503, "SAM_EBUSY", "the host is stopping");
    return 0;
  }

nomem:
  sam__http_send_error(req, 500, "SAM_ENOMEM", "out of memory");
  return 0;
}

/* ---- checks ---- */

static int method_is(h2o_req_t *req, const char *m) {
  return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

/* 1 when the Authorization header carries the admin token. */
static int authorized(sam__http_api *api, h2o_req_t *req) {
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
  const char *v;
  size_t n;

  if (i < 0)
    return 0;
  v = req->headers.entries[i].value.base;
  n = req->headers.entries[i].value.len;
  if (n <= 7 || strncasecmp(v, "Bearer ", 7) != 0)
    return 0;
  v += 7;
  n -= 7;
  while (n > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    n--;
  }
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  return sam__admin_token_check(api->token, v, n);
}

/* 1 when the request's Content-Type is application/json (any params). */
static int json_content_type(h2o_req_t *req) {
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
  const char *v;
  size_t n, k = sizeof("application/json") - 1;

  if (i < 0)
    return 0;
  v = req->headers.entries[i].value.base;
  n = req->headers.entries[i].value.len;
  if (n < k || strncasecmp(v, "application/json", k) != 0)
    return 0;
  return n == k || v[k] == ';' || v[k] == ' ';
}

/* 1 when the request carries "X-SAM-CSRF: 1". */
static int has_csrf_header(h2o_req_t *req) {
  ssize_t i =
      h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-sam-csrf"), -1);

  return i >= 0 &&
         h2o_memis(req->headers.entries[i].value.base,
                   req->headers.entries[i].value.len, H2O_STRLIT("1"));
}

static int api_request(sam__http_api *api, h2o_req_t *req, size_t plen) {
  if (!authorized(api, req)) {
    sam__httpd_add_header(req, "WWW-Authenticate", "Bearer realm=\"samhost\"");
    sam__http_send_error(req, 401, "SAM_EAUTH",
                         "admin token missing or wrong; send Authorization: "
                         "Bearer <token> (see `samhost token reset`)");
    return 0;
  }
  if (!method_is(req, "GET") && !method_is(req, "POST") &&
      !method_is(req, "PUT") && !method_is(req, "PATCH") &&
      !method_is(req, "DELETE")) {
    sam__httpd_add_header(req, "Allow", "GET, POST, PUT, PATCH, DELETE");
    sam__http_send_error(req, 405, "SAM_EINVAL",
                         "method not allowed; use GET, POST, PUT, PATCH or "
                         "DELETE");
    return 0;
  }
  if (!method_is(req, "GET") && !has_csrf_header(req)) {
    /* Defence in depth beside the bearer token: a cross-site form or
     * simple request cannot set a custom header. */
    sam__http_send_error(req, 403, "SAM_EAUTH",
                         "state-changing API calls need the header "
                         "X-SAM-CSRF: 1");
    return 0;
  }
  if (req->entity.base != NULL && req->entity.len > api->max_body) {
    char msg[128];
    snprintf(msg, sizeof(msg), "request body too large [bytes=%zu] [max=%zu]",
             req->entity.len, api->max_body);
    sam__http_send_error(req, 413, "SAM_EINVAL", msg);
    return 0;
  }
  if (req->entity.base != NULL && req->entity.len > 0 &&
      !json_content_type(req)) {
    sam__http_send_error(req, 415, "SAM_EINVAL",
                         "request bodies must be JSON; send Content-Type: "
                         "application/json");
    return 0;
  }
  return call_service(api, req, "admin", plen);
}

/* ---- entry ---- */

/* 1 for an app route: non-empty segments of [A-Za-z0-9_-] only (no dot at
 * all, so never a file, a "." or a ".." segment, nor an escape). */
static int page_route(const char *rel, size_t n) {
  size_t i;

  if (n == 0 || rel[0] == '/' || rel[n - 1] == '/')
    return 0;
  for (i = 0; i < n; i++) {
    char c = rel[i];
    if (c == '/' && rel[i + 1] == '/')
      return 0;
    if (!(c == '/' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
      return 0;
  }
  return 1;
}

/*
 * See sam_http.h. Routes: /api/... (token), /oauth_redirect.do (GET, no
 * token), / and /ui/... (static, GET/HEAD), else 404 JSON.
 */
int sam__http_api_on_req(h2o_req_t *req, void *ud) {
  sam__http_api *api = ud;
  size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
  const char *path = req->path.base;

  sam__http_security_headers(req);
  if (plen >= 5 && memcmp(path, "/api/", 5) == 0)
    return api_request(api, req, plen);
  if (h2o_memis(path, plen, H2O_STRLIT("/oauth_redirect.do"))) {
    if (!method_is(req, "GET")) {
      sam__httpd_add_header(req, "Allow", "GET");
      sam__http_send_error(req, 405, "SAM_EINVAL",
                           "method not allowed; the OAuth redirect is GET");
      return 0;
    }
    return call_service(api, req, "oauth_redirect", plen);
  }
  if (api->web_dir != NULL &&
      (h2o_memis(path, plen, H2O_STRLIT("/")) ||
       h2o_memis(path, plen, H2O_STRLIT("/index.html")) ||
       (plen >= 4 && memcmp(path, "/ui/", 4) == 0))) {
    if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
      sam__httpd_add_header(req, "Allow", "GET, HEAD");
      sam__http_send_error(req, 405, "SAM_EINVAL",
                           "method not allowed; static files are GET");
      return 0;
    }
    if (plen >= 4 && memcmp(path, "/ui/", 4) == 0) {
      /* A page route of the admin app (/ui/profiles/<id>) gets
       * index.html, which routes it; files have a dot in their name. */
      if (page_route(path + 4, plen - 4))
        return sam__http_static_serve(req, api->web_dir, "", 0);
      return sam__http_static_serve(req, api->web_dir, path + 4, plen - 4);
    }
    return sam__http_static_serve(req, api->web_dir, "", 0);
  }
  send_not_found(req, plen);
  return 0;
}

/*
 * See sam_http.h.
 */
int sam__http_api_new(const sam__http_api_config *cfg, sam__http_api **out) {
  sam__http_api *api;

  *out = NULL;
  if (cfg == NULL || cfg->svc == NULL || cfg->token == NULL)
    return SAM_EINVAL;
  api = calloc(1, sizeof(*api));
  if (api == NULL)
    return SAM_ENOMEM;
  api->svc = cfg->svc;
  api->token = cfg->token;
  api->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
  if (cfg->web_dir != NULL) {
    api->web_dir = strdup(cfg->web_dir);
    if (api->web_dir == NULL) {
      free(api);
      return SAM_ENOMEM;
    }
  }
  *out = api;
  return 0;
}

/*
 * See sam_http.h.
 */
void sam__http_api_free(sam__http_api *api) {
  if (api == NULL)
    return;
  free(api->web_dir);
  free(api);
}
