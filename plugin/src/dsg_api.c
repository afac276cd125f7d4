/*
 * dsg_api.c: DocuSign calls with the profile's token (one refresh and one
 * retry on 401, A18) and the reading of DocuSign's error replies (section
 * 8, 2.4, A17-A20).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dsg_action.h"
#include "dsg_api.h"
#include "dsg_log.h"

struct dsg_api_call {
  dsg_ctx *ctx;
  char *profile_id;
  char *client_id;
  char *instance;
  char *url;
  char *method; /* NULL: GET (dsg_api_send, addition) */
  char *body;   /* NULL: none */
  dsg_api_cb cb;
  void *ud;
  dsg_token_waiter w;
  dsg_http_req *req;
  uint64_t gen;  /* generation of the token the request carries */
  int retried;   /* the one A18 retry was made */
  int cancelled; /* cb never runs; free when the request callback comes */
};

static void call_free(dsg_api_call *c) {
  free(c->profile_id);
  free(c->client_id);
  free(c->instance);
  free(c->url);
  free(c->method);
  free(c->body);
  free(c);
}

static void finish(dsg_api_call *c,
                   int status,
                   const dsg_http_resp *resp,
                   const char *msg,
                   int64_t retry_after) {
  c->cb(status, resp, msg, retry_after, c->ud);
  call_free(c);
}

static void on_token(
    int status, const char *token, uint64_t gen, const char *msg, void *ud);

static int ask_token(dsg_api_call *c, int force) {
  dsg_token_args ta;

  ta.profile_id = c->profile_id;
  ta.client_id = c->client_id;
  ta.instance = c->instance;
  return dsg_token_get(c->ctx, &ta, force, c->gen, &c->w, on_token, c);
}

static void on_resp(const dsg_http_resp *resp, void *ud) {
  dsg_api_call *c = ud;
  char msg[1024];
  int64_t ra = -1;
  int rc;

  c->req = NULL;
  if (c->cancelled) {
    call_free(c);
    return;
  }
  if (resp->status == SAM_OK && resp->http_status == 401 && !c->retried &&
      !c->ctx->stopping) {
    /* A18: refresh once (unless someone already did), then retry once. */
    c->retried = 1;
    rc = ask_token(c, 1);
    if (rc == 0)
      return;
    snprintf(msg, sizeof(msg), "cannot refresh the token [%s]",
             sam_err_name(rc));
    finish(c, rc, resp, msg, -1);
    return;
  }
  if (resp->status == SAM_OK && resp->http_status >= 200 &&
      resp->http_status < 300) {
    finish(c, SAM_OK, resp, "", -1);
    return;
  }
  rc = dsg_api_describe(resp, NULL, msg, sizeof(msg), &ra);
  if (resp->http_status == 401)
    snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
             "; refused again after a token refresh: run Get OAuth Token "
             "again");
  finish(c, rc, resp, msg, ra);
}

static void on_token(
    int status, const char *token, uint64_t gen, const char *msg, void *ud) {
  dsg_api_call *c = ud;
  dsg_http_req_opts o;
  const char *headers[] = {"Accept: application/json",
                           "Content-Type: application/json", NULL};
  char m[256];
  int rc;

  if (c->cancelled) {
    /* dsg_api_cancel ran while no request was out: cb never runs. */
    call_free(c);
    return;
  }
  if (status != SAM_OK) {
    finish(c, status, NULL, msg, -1);
    return;
  }
  c->gen = gen;
  memset(&o, 0, sizeof(o));
  o.url = c->url;
  o.method = c->method;
  o.body = c->body;
  o.body_len = c->body != NULL ? strlen(c->body) : 0;
  if (c->body == NULL)
    headers[1] = NULL; /* no Content-Type without a body */
  o.headers = headers;
  o.bearer_token = token;
  rc = dsg_http_request(c->ctx->http, &o, on_resp, c, &c->req);
  if (rc != 0) {
    snprintf(m, sizeof(m), "cannot start the request [%s]", sam_err_name(rc));
    finish(c, rc, NULL, m, -1);
  }
}

int dsg_api_get(dsg_ctx *ctx,
                const dsg_token_args *ta,
                const char *url,
                dsg_api_cb cb,
                void *ud,
                dsg_api_call **out) {
  return dsg_api_send(ctx, ta, NULL, url, NULL, cb, ud, out);
}

int dsg_api_send(dsg_ctx *ctx,
                 const dsg_token_args *ta,
                 const char *method,
                 const char *url,
                 const char *body,
                 dsg_api_cb cb,
                 void *ud,
                 dsg_api_call **out) {
  dsg_api_call *c;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (ctx->stopping)
    return SAM_EBUSY;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return SAM_ENOMEM;
  c->ctx = ctx;
  c->cb = cb;
  c->ud = ud;
  c->profile_id = strdup(ta->profile_id);
  c->client_id = strdup(ta->client_id);
  c->instance = strdup(ta->instance);
  c->url = strdup(url);
  c->method = method != NULL ? strdup(method) : NULL;
  c->body = body != NULL ? strdup(body) : NULL;
  if (c->profile_id == NULL || c->client_id == NULL || c->instance == NULL ||
      c->url == NULL || (method != NULL && c->method == NULL) ||
      (body != NULL && c->body == NULL)) {
    call_free(c);
    return SAM_ENOMEM;
  }
  /* on_token may run inside dsg_token_get (a cached token): it only starts
   * the HTTP request, whose callback comes later, so cb never runs here. */
  if (out != NULL)
    *out = c;
  rc = ask_token(c, 0);
  if (rc != 0) {
    if (out != NULL)
      *out = NULL;
    call_free(c);
    return rc;
  }
  return 0;
}

void dsg_api_cancel(dsg_api_call *c) {
  if (c == NULL)
    return;
  if (c->w.queued) {
    dsg_token_cancel(&c->w);
    call_free(c);
    return;
  }
  if (c->req != NULL) {
    c->cancelled = 1;
    dsg_http_cancel(c->req);
    return;
  }
  /* Neither queued nor sending: cannot happen outside a callback. */
  c->cancelled = 1;
}

/* ---- reading replies ---- */

int dsg_api_is_rate_limited(long http_status, const char *error_code) {
  if (http_status == 429)
    return 1;
  return error_code != NULL &&
         (strcasecmp(error_code, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED") == 0 ||
          strcasecmp(error_code, "BURST_APIINVOCATION_LIMIT_EXCEEDED") == 0);
}

void dsg_api_oauth_error(const dsg_http_resp *resp,
                         char *err,
                         size_t err_len,
                         char *desc,
                         size_t desc_len) {
  json_object *o = dsg_json_parse(resp->body, resp->body_len);
  const char *e = dsg_json_str(o, "error");
  const char *d = dsg_json_str(o, "error_description");

  snprintf(err, err_len, "%.100s", e != NULL ? e : "");
  snprintf(desc, desc_len, "%.200s", d != NULL ? d : "");
  json_object_put(o);
}

static void fmt_time(int64_t t, char *out, size_t len) {
  time_t tt = (time_t)t;
  struct tm tm;

  if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
      strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(out, len, "unknown");
}

int dsg_api_describe(const dsg_http_resp *resp,
                     const char *what,
                     char *msg,
                     size_t len,
                     int64_t *retry_after_s) {
  json_object *o;
  const char *code;
  const char *text;
  char pre[80];
  char when[40];
  int64_t now = (int64_t)time(NULL);
  int64_t ra;
  int rc;

  if (retry_after_s != NULL)
    *retry_after_s = -1;
  snprintf(pre, sizeof(pre), "%s%s", what != NULL ? what : "",
           what != NULL ? ": " : "");
  if (resp->status != SAM_OK) {
    snprintf(msg, len,
             "%snetwork or TLS failure reaching DocuSign [%s] [curl: %s]", pre,
             sam_err_name(resp->status),
             resp->error != NULL && resp->error[0] ? resp->error : "no detail");
    return resp->status;
  }
  o = dsg_json_parse(resp->body, resp->body_len);
  code = dsg_json_str(o, "errorCode");
  text = dsg_json_str(o, "message");
  if (code == NULL) {
    code = dsg_json_str(o, "error"); /* OAuth and userinfo shape */
    text = dsg_json_str(o, "error_description");
  }
  if (dsg_api_is_rate_limited(resp->http_status, code)) {
    /* A21: Retry-After when given, else the hourly reset, else the 30 s
     * burst window. */
    if (resp->retry_after_s >= 0)
      ra = resp->retry_after_s;
    else if (code != NULL &&
             strcasecmp(code, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED") == 0 &&
             resp->ratelimit_reset > now)
      ra = resp->ratelimit_reset - now;
    else
      ra = 30;
    if (ra < 1)
      ra = 1;
    fmt_time(resp->ratelimit_reset > 0 &&
                     (code == NULL || strcasecmp(code, "BURST_APIINVOCATION_"
                                                       "LIMIT_EXCEEDED") != 0)
                 ? resp->ratelimit_reset
                 : now + ra,
             when, sizeof(when));
    snprintf(msg, len,
             "%srate limited by DocuSign [http=%ld] [errorCode=%s]; calls are "
             "allowed again at [%s] (in %lld s)",
             pre, resp->http_status, code != NULL ? code : "", when,
             (long long)ra);
    if (retry_after_s != NULL)
      *retry_after_s = ra;
    rc = SAM_EAGAIN;
  } else if (code != NULL && strcmp(code, "USER_LACKS_PERMISSIONS") == 0) {
    snprintf(msg, len,
             "%sthe consenting user is not an administrator of the account "
             "[http=%ld] [errorCode=%s]: consent again as a DocuSign account "
             "administrator",
             pre, resp->http_status, code);
    rc = SAM_EAUTH;
  } else if (code != NULL &&
             strcmp(code, "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT") == 0) {
    snprintf(msg, len,
             "%sthe consenting user does not belong to the account [http=%ld] "
             "[errorCode=%s]: check the Technical account Id",
             pre, resp->http_status, code);
    rc = SAM_EAUTH;
  } else if (resp->http_status >= 500) {
    snprintf(msg, len,
             "%sDocuSign answered with a server error [http=%ld] "
             "[errorCode=%s]; retry later",
             pre, resp->http_status, code != NULL ? code : "");
    rc = dsg_status_from_http(resp->http_status);
  } else {
    snprintf(msg, len,
             "%sDocuSign refused the call [http=%ld] [errorCode=%s] "
             "[message=%.300s]",
             pre, resp->http_status, code != NULL ? code : "",
             text != NULL ? text : "");
    rc = dsg_status_from_http(resp->http_status);
    if (rc == SAM_OK)
      rc = SAM_EPROTO; /* e.g. a 3xx */
  }
  json_object_put(o);
  return rc;
}

json_object *dsg_api_find_account(json_object *root,
                                  const char *account_id,
                                  char *found,
                                  size_t found_len) {
  json_object *accts = NULL;
  size_t i;
  size_t used = 0;

  if (found_len > 0)
    found[0] = '\0';
  if (root == NULL || !json_object_object_get_ex(root, "accounts", &accts) ||
      !json_object_is_type(accts, json_type_array))
    return NULL;
  for (i = 0; i < json_object_array_length(accts); i++) {
    json_object *a = json_object_array_get_idx(accts, i);
    const char *id = dsg_json_str(a, "account_id");

    if (id == NULL)
      continue;
    if (strcasecmp(id, account_id) == 0)
      return a;
    if (used < found_len) {
      int n = snprintf(found + used, found_len - used, "%s%s",
                       used > 0 ? ", " : "", id);
      if (n > 0)
        used += (size_t)n;
    }
  }
  return NULL;
}
