/*
 * dsg_reclaim_util.c: see dsg_reclaim_util.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsg_action.h"
#include "dsg_reclaim_util.h"

/* ---- the store sequencer ---- */

static void on_store(int status, const sam_store_result *res, void *ud) {
  dsg_rs *s = ud;
  dsg_rs_fn then = s->then;
  void *owner = s->owner;

  s->busy = 0;
  s->then = NULL;
  /* The owner's job is still tracked, so this cannot finish a shutdown. */
  dsg_op_untrack(s->ctx, &s->op);
  then(owner, status, res);
}

static int begin(dsg_rs *s, dsg_rs_fn then, void *owner) {
  if (s->busy)
    return SAM_EBUSY;
  if (s->ctx->stopping)
    return SAM_ECANCELED;
  s->then = then;
  s->owner = owner;
  s->op.op = NULL;
  return 0;
}

static int submitted(dsg_rs *s, int rc) {
  if (rc != 0) {
    s->then = NULL;
    return rc;
  }
  s->busy = 1;
  dsg_op_track(s->ctx, &s->op);
  return 0;
}

int dsg_rs_query(dsg_rs *s,
                 const char *scope,
                 const char *type,
                 const char *filter_json,
                 const char *cursor,
                 uint32_t limit,
                 dsg_rs_fn then,
                 void *owner) {
  int rc = begin(s, then, owner);

  if (rc != 0)
    return rc;
  rc = s->ctx->api->store_query(s->ctx->host, scope, type, filter_json, cursor,
                                limit, on_store, s, &s->op.op);
  return submitted(s, rc);
}

int dsg_rs_get(dsg_rs *s,
               const char *scope,
               const char *type,
               const char *key,
               dsg_rs_fn then,
               void *owner) {
  int rc = begin(s, then, owner);

  if (rc != 0)
    return rc;
  rc = s->ctx->api->store_get(s->ctx->host, scope, type, key, on_store, s,
                              &s->op.op);
  return submitted(s, rc);
}

int dsg_rs_put(dsg_rs *s,
               const char *scope,
               const char *type,
               const sam_record *recs,
               size_t n,
               dsg_rs_fn then,
               void *owner) {
  int rc = begin(s, then, owner);

  if (rc != 0)
    return rc;
  rc = s->ctx->api->store_put_batch(s->ctx->host, scope, type, recs, n,
                                    on_store, s, &s->op.op);
  return submitted(s, rc);
}

void dsg_rs_cancel(dsg_rs *s) {
  if (s != NULL && s->busy && s->op.op != NULL)
    s->ctx->api->op_cancel(s->op.op);
}

/* ---- userinfo ---- */

static void on_userinfo(int status,
                        const dsg_http_resp *resp,
                        const char *msg,
                        int64_t retry_after_s,
                        void *ud) {
  dsg_whoami_req *w = ud;
  json_object *root = NULL;
  json_object *acct;
  const char *sub;
  const char *base;
  char found[256];
  char m[512];
  char *rest = NULL;
  size_t n;

  (void)retry_after_s;
  w->call = NULL;
  if (status != SAM_OK) {
    snprintf(m, sizeof(m), "userinfo: %s", msg != NULL ? msg : "");
    w->cb(status, NULL, NULL, m, w->ud);
    goto done;
  }
  root = dsg_json_parse(resp->body, resp->body_len);
  sub = dsg_ru_str(root, "sub");
  acct = dsg_api_find_account(root, w->account_id, found, sizeof(found));
  base = dsg_ru_str(acct, "base_uri");
  if (sub == NULL || sub[0] == '\0' || base == NULL || base[0] == '\0') {
    snprintf(m, sizeof(m),
             "userinfo: no sub or no base_uri for the account [account=%s] "
             "[accounts=%s]: run Validate Connection",
             w->account_id, found);
    w->cb(SAM_EPROTO, NULL, NULL, m, w->ud);
    goto done;
  }
  n = strlen(base) + strlen(w->account_id) + 40;
  rest = malloc(n);
  if (rest == NULL) {
    w->cb(SAM_ENOMEM, NULL, NULL, "out of memory", w->ud);
    goto done;
  }
  snprintf(rest, n, "%.*s/restapi/v2.1/accounts/%s",
           (int)(strlen(base) - (base[strlen(base) - 1] == '/')), base,
           w->account_id);
  w->cb(SAM_OK, sub, rest, "", w->ud);

done:
  free(rest);
  json_object_put(root);
}

int dsg_whoami(dsg_ctx *ctx,
               const dsg_token_args *ta,
               const char *account_id,
               dsg_whoami_req *w,
               dsg_whoami_cb cb,
               void *ud) {
  char url[600];

  memset(w, 0, sizeof(*w));
  w->cb = cb;
  w->ud = ud;
  snprintf(w->account_id, sizeof(w->account_id), "%s", account_id);
  snprintf(url, sizeof(url), "%s/oauth/userinfo", ta->instance);
  return dsg_api_get(ctx, ta, url, on_userinfo, w, &w->call);
}

/* ---- keys and JSON ---- */

void dsg_candidate_key(const char *profile_id,
                       const char *external_user_id,
                       uint32_t gen,
                       char *out,
                       size_t len) {
  uint64_t h = 1469598103934665603ULL;
  const unsigned char *p;

  for (p = (const unsigned char *)profile_id; p != NULL && *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  h = (h ^ '\n') * 1099511628211ULL;
  for (p = (const unsigned char *)external_user_id; p != NULL && *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  snprintf(out, len, "c-%016llx-%u", (unsigned long long)h, gen);
}

const char *dsg_ru_str(json_object *o, const char *key) {
  return dsg_json_str(o, key);
}

int dsg_ru_bool(json_object *o, const char *key, int dflt) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_boolean))
    return dflt;
  return json_object_get_boolean(v);
}

const char *dsg_ru_text(json_object *o) {
  return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

int64_t dsg_ru_now(void) {
  return (int64_t)time(NULL);
}
