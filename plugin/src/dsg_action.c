/*
 * dsg_action.c: the plumbing the three profile actions share (job
 * tracking, exactly-once completion, cancellation, tracked secret calls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dsg_action.h"
#include "dsg_config.h"
#include "dsg_log.h"

/* ---- JSON helpers ---- */

const char *dsg_json_str(json_object *o, const char *key) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

size_t dsg_utf8_prefix(const char *s, size_t max_chars) {
  size_t i = 0;
  size_t chars = 0;

  while (s[i] != '\0') {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      /* A lead byte (or ASCII) starts a character. */
      if (chars == max_chars)
        break;
      chars++;
    }
    i++;
  }
  return i;
}

json_object *dsg_json_parse(const char *text, size_t len) {
  json_tokener *tok;
  json_object *root;

  if (text == NULL || len == 0 || len > (size_t)1 << 30)
    return NULL;
  tok = json_tokener_new();
  if (tok == NULL)
    return NULL;
  root = json_tokener_parse_ex(tok, text, (int)len);
  if (root != NULL && json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(root);
    root = NULL;
  }
  json_tokener_free(tok);
  return root;
}

void dsg_json_put_wiped(json_object *o) {
  if (o == NULL)
    return;
  json_object_object_foreach(o, k, val) {
    (void)k;
    if (json_object_is_type(val, json_type_string))
      OPENSSL_cleanse((char *)json_object_get_string(val),
                      (size_t)json_object_get_string_len(val));
  }
  json_object_put(o);
}

/* ---- lifecycle ---- */

static void action_free(dsg_action *a) {
  if (a->free_ext != NULL && a->ext != NULL)
    a->free_ext(a->ext);
  json_object_put(a->profile);
  free(a->profile_id);
  free(a->instance);
  free(a);
}

static void on_abort(dsg_job_ref *ref) {
  dsg_action_cancel((dsg_action *)ref);
}

int dsg_action_new(dsg_ctx *ctx,
                   sam_job *job,
                   const sam_job_input *in,
                   dsg_action **out,
                   char *err,
                   size_t err_len) {
  dsg_action *a = NULL;
  size_t n;
  int rc;

  *out = NULL;
  if (in == NULL || in->profile_id == NULL || in->profile_json == NULL) {
    snprintf(err, err_len, "the job has no profile");
    return SAM_EINVAL;
  }
  a = calloc(1, sizeof(*a));
  if (a == NULL)
    goto nomem;
  a->ctx = ctx;
  a->job = job;
  a->profile_id = strdup(in->profile_id);
  if (a->profile_id == NULL)
    goto nomem;
  a->profile = dsg_json_parse(in->profile_json, in->profile_len);
  if (a->profile == NULL ||
      !json_object_is_type(a->profile, json_type_object)) {
    snprintf(err, err_len, "the profile is not a JSON object");
    rc = SAM_EINVAL;
    goto fail;
  }
  a->client_id = dsg_json_str(a->profile, "client_id");
  a->account_id = dsg_json_str(a->profile, "account_id");
  a->instance_url = dsg_json_str(a->profile, "instance_url");
  if (a->client_id == NULL || a->client_id[0] == '\0') {
    snprintf(err, err_len, "client_id is required: enter the Client Id");
    rc = SAM_EINVAL;
    goto fail;
  }
  if (a->account_id == NULL || a->account_id[0] == '\0') {
    snprintf(err, err_len,
             "account_id is required: enter the Technical account Id");
    rc = SAM_EINVAL;
    goto fail;
  }
  rc =
      dsg_check_instance_url(a->instance_url, ctx->cfg.test_mode, err, err_len);
  if (rc != 0)
    goto fail;
  a->instance = strdup(a->instance_url);
  if (a->instance == NULL)
    goto nomem;
  n = strlen(a->instance);
  if (n > 0 && a->instance[n - 1] == '/')
    a->instance[n - 1] = '\0';
  a->ref.job = job;
  a->ref.abort = on_abort;
  dsg_job_track(ctx, &a->ref);
  *out = a;
  return 0;

nomem:
  snprintf(err, err_len, "out of memory");
  rc = SAM_ENOMEM;
fail:
  if (a != NULL)
    action_free(a);
  return rc;
}

void *dsg_action_ext(dsg_action *a, size_t size, void (*free_ext)(void *ext)) {
  void *e = calloc(1, size);

  if (e == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return NULL;
  }
  a->ext = e;
  a->free_ext = free_ext;
  return e;
}

int dsg_action_fail_start(dsg_ctx *ctx,
                          sam_job *job,
                          int status,
                          const char *msg) {
  int rc = ctx->api->job_complete(job, status, msg, NULL, 0);

  if (rc != 0)
    dsg_logf(ctx, NULL, SAM_LOG_ERROR, "job_complete failed [%s]",
             sam_err_name(rc));
  return SAM_OK;
}

void dsg_action_complete(dsg_action *a,
                         int status,
                         const char *msg,
                         const char *result_json) {
  dsg_ctx *ctx = a->ctx;
  int rc;

  rc = ctx->api->job_complete(a->job, status, msg != NULL ? msg : "",
                              result_json,
                              result_json != NULL ? strlen(result_json) : 0);
  if (rc != 0)
    dsg_logf(ctx, NULL, SAM_LOG_ERROR, "job_complete failed [%s]",
             sam_err_name(rc));
  a->job = NULL;
  /* Untracking may finish a shutdown and free ctx: nothing of ctx after. */
  dsg_job_untrack(ctx, &a->ref);
  action_free(a);
}

/* ---- cancellation ---- */

void dsg_action_cancel(dsg_action *a) {
  if (a->cancelled)
    return;
  a->cancelled = 1;
  if (a->op_busy) {
    /* The secret callback still comes (C3, C4); complete from there. */
    if (a->op.op != NULL)
      a->ctx->api->op_cancel(a->op.op);
    return;
  }
  if (a->call != NULL) {
    dsg_api_cancel(a->call);
    a->call = NULL;
  }
  if (a->req != NULL) {
    /* Its callback still runs (SAM_ECANCELED, or the real status if it had
     * finished); complete from there. */
    dsg_http_cancel(a->req);
    return;
  }
  dsg_action_complete(a, SAM_ECANCELED, "cancelled", NULL);
}

void dsg_action_cancel_fn(sam_job *job, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_job_ref *r;

  for (r = ctx->jobs; r != NULL; r = r->next) {
    if (r->job == job) {
      dsg_action_cancel((dsg_action *)r);
      return;
    }
  }
}

/* ---- secrets ---- */

static void on_secret(int status, const char *value, size_t len, void *ud) {
  dsg_action *a = ud;
  dsg_action_secret_fn then = a->op_then;

  a->op_busy = 0;
  a->op_then = NULL;
  /* The job is still tracked, so this cannot finish a shutdown. */
  dsg_op_untrack(a->ctx, &a->op);
  if (a->cancelled) {
    dsg_action_complete(a, SAM_ECANCELED, "cancelled", NULL);
    return;
  }
  then(a, status, value, len);
}

int dsg_action_secret_get(dsg_action *a,
                          const char *name,
                          dsg_action_secret_fn then) {
  int rc;

  a->op.op = NULL;
  rc = a->ctx->api->secret_get(a->ctx->host, a->profile_id, name, on_secret, a,
                               &a->op.op);
  if (rc != 0)
    return rc;
  a->op_busy = 1;
  a->op_then = then;
  dsg_op_track(a->ctx, &a->op);
  return 0;
}

int dsg_action_secret_put(dsg_action *a,
                          const char *name,
                          const char *value,
                          size_t len,
                          dsg_action_secret_fn then) {
  int rc;

  a->op.op = NULL;
  rc = a->ctx->api->secret_put(a->ctx->host, a->profile_id, name, value, len,
                               on_secret, a, &a->op.op);
  if (rc != 0)
    return rc;
  a->op_busy = 1;
  a->op_then = then;
  dsg_op_track(a->ctx, &a->op);
  return 0;
}

/* ---- HTTP ---- */

static void on_http(const dsg_http_resp *resp, void *ud) {
  dsg_action *a = ud;
  dsg_action_http_fn then = a->http_then;

  a->req = NULL;
  a->http_then = NULL;
  if (a->cancelled) {
    dsg_action_complete(a, SAM_ECANCELED, "cancelled", NULL);
    return;
  }
  then(a, resp);
}

int dsg_action_http(dsg_action *a,
                    const dsg_http_req_opts *opts,
                    dsg_action_http_fn then) {
  int rc = dsg_http_request(a->ctx->http, opts, on_http, a, &a->req);

  if (rc != 0) {
    a->req = NULL;
    return rc;
  }
  a->http_then = then;
  return 0;
}
