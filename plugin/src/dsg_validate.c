/*
 * dsg_validate.c: Validate Connection (issue 5 item 4; SAM-MODEL.md: it
 * verifies the download APIs only). userinfo -> the account whose
 * account_id equals the Technical account Id -> its base_uri -> GET
 * {base_uri}/restapi/v2.1/accounts/{id}/users?count=1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dsg_action.h"
#include "dsg_api.h"
#include "dsg_log.h"
#include "dsg_oauth.h"
#include "dsg_token.h"

typedef struct val_ext {
  char *base_uri;
  char *account_name;
} val_ext;

static void val_ext_free(void *p) {
  val_ext *e = p;

  free(e->base_uri);
  free(e->account_name);
  free(e);
}

static void token_args(const dsg_action *a, dsg_token_args *ta) {
  ta->profile_id = a->profile_id;
  ta->client_id = a->client_id;
  ta->instance = a->instance;
}

/* Completes with status and msg; a rate limit carries retry_after_s. */
static void fail(dsg_action *a, int status, const char *msg, int64_t ra) {
  char res[64];

  if (ra >= 0) {
    snprintf(res, sizeof(res), "{\"retry_after_s\":%lld}", (long long)ra);
    dsg_action_complete(a, status, msg, res);
    return;
  }
  dsg_action_complete(a, status, msg, NULL);
}

static void on_users(int status,
                     const dsg_http_resp *resp,
                     const char *msg,
                     int64_t ra,
                     void *ud) {
  dsg_action *a = ud;
  val_ext *e = a->ext;
  json_object *res = NULL;
  json_object *patch = NULL;
  const char *text;
  char m[1200];

  a->call = NULL;
  if (status != SAM_OK) {
    /* No request was sent (no token, needs consent): the token cache's
     * message stands alone. */
    snprintf(m, sizeof(m), "%s%s", resp != NULL ? "users list: " : "", msg);
    fail(a, status, m, ra);
    return;
  }
  res = json_object_new_object();
  patch = json_object_new_object();
  if (res == NULL || patch == NULL ||
      json_object_object_add(res, "profile_patch", patch) != 0) {
    json_object_put(patch);
    json_object_put(res);
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return;
  }
  json_object_object_add(patch, "base_uri",
                         json_object_new_string(e->base_uri));
  if (e->account_name != NULL)
    json_object_object_add(patch, "account_name",
                           json_object_new_string(e->account_name));
  json_object_object_add(patch, "connection_status",
                         json_object_new_string("validated"));
  json_object_object_add(res, "connection_status",
                         json_object_new_string("validated"));
  text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);
  snprintf(m, sizeof(m),
           "connection validated [account=%s] [account_name=%s] "
           "[base_uri=%s]",
           a->account_id, e->account_name != NULL ? e->account_name : "",
           e->base_uri);
  dsg_action_complete(a, text != NULL ? SAM_OK : SAM_ENOMEM,
                      text != NULL ? m : "out of memory", text);
  json_object_put(res);
}

static void on_userinfo(int status,
                        const dsg_http_resp *resp,
                        const char *msg,
                        int64_t ra,
                        void *ud) {
  dsg_action *a = ud;
  val_ext *e = a->ext;
  json_object *root = NULL;
  json_object *acct;
  const char *base;
  const char *name;
  dsg_token_args ta;
  char found[600];
  char m[1200];
  char *url = NULL;
  size_t n;
  int rc;

  a->call = NULL;
  if (status != SAM_OK) {
    snprintf(m, sizeof(m), "%s%s", resp != NULL ? "userinfo: " : "", msg);
    fail(a, status, m, ra);
    return;
  }
  root = dsg_json_parse(resp->body, resp->body_len);
  acct = dsg_api_find_account(root, a->account_id, found, sizeof(found));
  if (acct == NULL) {
    snprintf(m, sizeof(m),
             "the account [%s] is not among the consenting user's accounts "
             "[found: %s]: check the Technical account Id, or run Get OAuth "
             "Token as a user of that account",
             a->account_id, root != NULL ? found : "unreadable userinfo");
    dsg_action_complete(a, SAM_EINVAL, m, NULL);
    goto done;
  }
  base = dsg_json_str(acct, "base_uri");
  name = dsg_json_str(acct, "account_name");
  if (base == NULL || strncmp(base, "http", 4) != 0) {
    dsg_action_complete(a, SAM_EPROTO,
                        "userinfo: the account has no usable base_uri", NULL);
    goto done;
  }
  e->base_uri = strdup(base);
  if (name != NULL)
    e->account_name = strndup(name, dsg_utf8_prefix(name, 200));
  if (e->base_uri == NULL || (name != NULL && e->account_name == NULL)) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    goto done;
  }
  n = strlen(e->base_uri);
  if (n > 0 && e->base_uri[n - 1] == '/')
    e->base_uri[n - 1] = '\0';
  dsg_token_set_base_uri(a->ctx, a->profile_id, e->base_uri);
  n = strlen(e->base_uri) + strlen(a->account_id) + 64;
  url = malloc(n);
  if (url == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    goto done;
  }
  snprintf(url, n, "%s/restapi/v2.1/accounts/%s/users?count=1", e->base_uri,
           a->account_id);
  token_args(a, &ta);
  rc = dsg_api_get(a->ctx, &ta, url, on_users, a, &a->call);
  if (rc != 0) {
    snprintf(m, sizeof(m), "cannot start the users list [%s]",
             sam_err_name(rc));
    dsg_action_complete(a, rc, m, NULL);
  }

done:
  free(url);
  json_object_put(root);
}

int dsg_validate_start(sam_job *job, const sam_job_input *in, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_action *a = NULL;
  val_ext *e;
  dsg_token_args ta;
  char err[512];
  char url[600];
  int rc;

  if (ctx->stopping)
    return SAM_EBUSY;
  rc = dsg_action_new(ctx, job, in, &a, err, sizeof(err));
  if (rc != 0)
    return dsg_action_fail_start(ctx, job, rc, err);
  e = dsg_action_ext(a, sizeof(*e), val_ext_free);
  if (e == NULL)
    return SAM_OK;
  snprintf(url, sizeof(url), "%s/oauth/userinfo", a->instance);
  token_args(a, &ta);
  /* on_userinfo may run inside (no token, needs consent): it completes the
   * job, which C1 allows inside start; touch nothing of a after. */
  rc = dsg_api_get(ctx, &ta, url, on_userinfo, a, &a->call);
  if (rc != 0) {
    snprintf(err, sizeof(err), "cannot start userinfo [%s]", sam_err_name(rc));
    dsg_action_complete(a, rc, err, NULL);
  }
  return SAM_OK;
}
