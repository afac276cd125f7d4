/*
 * dsg_oauth.c: Get OAuth Token and the OAuth callback (ABI.md 9.4,
 * DOCUSIGN.md 2.1-2.5, A14-A17, A23).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "dsg_action.h"
#include "dsg_api.h"
#include "dsg_log.h"
#include "dsg_oauth.h"
#include "dsg_token.h"

/* PKCE (RFC 7636): 32 random bytes give a 43-character verifier. */
#define VERIFIER_BYTES 32

/* ---- helpers ---- */

size_t dsg_b64url(const unsigned char *in, size_t n, char *out) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i;
  size_t o = 0;

  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    out[o++] = tab[(v >> 6) & 63];
    out[o++] = tab[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    out[o++] = tab[(v >> 6) & 63];
  }
  out[o] = '\0';
  return o;
}

static void wipe_free(char *s) {
  if (s == NULL)
    return;
  OPENSSL_cleanse(s, strlen(s));
  free(s);
}

/* Percent-encodes s (curl's rules: everything but unreserved). *out is
 * malloc'd. Returns 0 or SAM_ENOMEM. */
static int escape(const char *s, char **out) {
  char *e = curl_easy_escape(NULL, s, 0);

  *out = NULL;
  if (e == NULL)
    return SAM_ENOMEM;
  *out = strdup(e);
  OPENSSL_cleanse(e, strlen(e));
  curl_free(e);
  return *out != NULL ? 0 : SAM_ENOMEM;
}

/* Serialises o into a malloc'd string (NULL on ENOMEM). */
static char *json_text(json_object *o) {
  const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

  return t != NULL ? strdup(t) : NULL;
}

static void token_args(const dsg_action *a, dsg_token_args *ta) {
  ta->profile_id = a->profile_id;
  ta->client_id = a->client_id;
  ta->instance = a->instance;
}

/* ---- get_oauth_token ---- */

typedef struct start_ext {
  char *redirect_url;
} start_ext;

static void start_ext_free(void *p) {
  start_ext *e = p;

  free(e->redirect_url);
  free(e);
}

static void
on_pending_stored(dsg_action *a, int status, const char *value, size_t len) {
  start_ext *e = a->ext;
  json_object *o;
  char *res = NULL;
  char msg[160];

  (void)value;
  (void)len;
  if (status != 0) {
    snprintf(msg, sizeof(msg),
             "cannot store the pending authorization [%s]; try again",
             sam_err_name(status));
    dsg_action_complete(a, status, msg, NULL);
    return;
  }
  o = json_object_new_object();
  if (o != NULL &&
      json_object_object_add(o, "redirect_url",
                             json_object_new_string(e->redirect_url)) == 0)
    res = json_text(o);
  json_object_put(o);
  if (res == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return;
  }
  dsg_action_complete(a, SAM_OK, "open the redirect_url to consent", res);
  free(res);
}

/* Builds the verifier, the pending secret and the authorization URL. */
static int build_start(dsg_action *a,
                       const sam_job_input *in,
                       char **pending,
                       char *err,
                       size_t err_len) {
  start_ext *e = a->ext;
  unsigned char rnd[VERIFIER_BYTES];
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char verifier[64];
  char challenge[64];
  char *q_client = NULL, *q_redirect = NULL, *q_state = NULL;
  json_object *o = NULL;
  size_t n;
  int rc = SAM_ENOMEM;

  *pending = NULL;
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
    snprintf(err, err_len, "no random bytes for the PKCE verifier");
    return SAM_EIO;
  }
  dsg_b64url(rnd, sizeof(rnd), verifier);
  OPENSSL_cleanse(rnd, sizeof(rnd));
  if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) !=
      1) {
    snprintf(err, err_len, "SHA-256 failed for the PKCE challenge");
    rc = SAM_EIO;
    goto done;
  }
  dsg_b64url(md, mdlen, challenge);
  if (escape(a->client_id, &q_client) != 0 ||
      escape(in->redirect_uri, &q_redirect) != 0 ||
      escape(in->oauth_state, &q_state) != 0)
    goto nomem;
  n = strlen(a->instance) + strlen(q_client) + strlen(q_redirect) +
      strlen(q_state) + strlen(challenge) + 200;
  e->redirect_url = malloc(n);
  if (e->redirect_url == NULL)
    goto nomem;
  /* DOCUSIGN.md 2.1; scope "signature extended" (2.3). */
  snprintf(e->redirect_url, n,
           "%s/oauth/auth?response_type=code&scope=signature%%20extended"
           "&client_id=%s&redirect_uri=%s&state=%s&code_challenge=%s"
           "&code_challenge_method=S256",
           a->instance, q_client, q_redirect, q_state, challenge);
  o = json_object_new_object();
  if (o == NULL ||
      json_object_object_add(o, "state",
                             json_object_new_string(in->oauth_state)) != 0 ||
      json_object_object_add(o, "verifier", json_object_new_string(verifier)) !=
          0 ||
      json_object_object_add(o, "created",
                             json_object_new_int64((int64_t)time(NULL))) != 0)
    goto nomem;
  *pending = json_text(o);
  if (*pending == NULL)
    goto nomem;
  rc = 0;
  goto done;

nomem:
  snprintf(err, err_len, "out of memory");
  rc = SAM_ENOMEM;
done:
  if (o != NULL) {
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    if (t != NULL)
      OPENSSL_cleanse((char *)t, strlen(t));
  }
  json_object_put(o);
  OPENSSL_cleanse(verifier, sizeof(verifier));
  free(q_client);
  free(q_redirect);
  free(q_state);
  return rc;
}

int dsg_oauth_start(sam_job *job, const sam_job_input *in, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_action *a = NULL;
  start_ext *e;
  char err[512];
  char *pending = NULL;
  int rc;

  if (ctx->stopping)
    return SAM_EBUSY;
  rc = dsg_action_new(ctx, job, in, &a, err, sizeof(err));
  if (rc != 0)
    return dsg_action_fail_start(ctx, job, rc, err);
  if (in->oauth_state == NULL || in->oauth_state[0] == '\0' ||
      in->redirect_uri == NULL || in->redirect_uri[0] == '\0') {
    dsg_action_complete(a, SAM_EINVAL,
                        "the host passed no oauth_state or redirect_uri", NULL);
    return SAM_OK;
  }
  e = dsg_action_ext(a, sizeof(*e), start_ext_free);
  if (e == NULL)
    return SAM_OK;
  rc = build_start(a, in, &pending, err, sizeof(err));
  if (rc == 0) {
    /* ABI.md 9.4 step 2: stored before the URL is handed out. */
    rc = dsg_action_secret_put(a, DSG_PENDING_SECRET, pending, strlen(pending),
                               on_pending_stored);
    if (rc != 0)
      snprintf(err, sizeof(err), "cannot store the pending authorization [%s]",
               sam_err_name(rc));
  }
  wipe_free(pending);
  if (rc != 0)
    dsg_action_complete(a, rc, err, NULL);
  return SAM_OK;
}

/* ---- oauth_callback ---- */

typedef struct cb_ext {
  char *code;
  char *state;
  char *verifier;
  char *access;
  char *doc; /* the tokens document being stored */
} cb_ext;

static void cb_ext_free(void *p) {
  cb_ext *e = p;

  wipe_free(e->code);
  wipe_free(e->state);
  wipe_free(e->verifier);
  wipe_free(e->access);
  dsg_token_free_json(e->doc);
  free(e);
}

static void on_userinfo(dsg_action *a, const dsg_http_resp *resp) {
  json_object *root = NULL;
  json_object *acct;
  json_object *res = NULL;
  json_object *patch;
  const char *base;
  const char *name;
  char found[600];
  char msg[1200];
  char *text = NULL;
  int64_t ra = -1;
  int rc;

  if (resp->status != SAM_OK || resp->http_status != 200) {
    rc = dsg_api_describe(resp, "userinfo", msg, sizeof(msg), &ra);
    dsg_action_complete(a, rc, msg, NULL);
    return;
  }
  root = dsg_json_parse(resp->body, resp->body_len);
  acct = dsg_api_find_account(root, a->account_id, found, sizeof(found));
  if (acct == NULL) {
    snprintf(msg, sizeof(msg),
             "the account [%s] is not among the consenting user's accounts "
             "[found: %s]: check the Technical account Id, or consent as a "
             "user of that account",
             a->account_id, root != NULL ? found : "unreadable userinfo");
    dsg_action_complete(a, SAM_EINVAL, msg, NULL);
    goto done;
  }
  base = dsg_json_str(acct, "base_uri");
  name = dsg_json_str(acct, "account_name");
  if (base == NULL || base[0] == '\0') {
    dsg_action_complete(a, SAM_EPROTO, "userinfo: the account has no base_uri",
                        NULL);
    goto done;
  }
  dsg_token_set_base_uri(a->ctx, a->profile_id, base);
  res = json_object_new_object();
  patch = json_object_new_object();
  if (res == NULL || patch == NULL ||
      json_object_object_add(res, "profile_patch", patch) != 0) {
    json_object_put(patch);
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    goto done;
  }
  if (name != NULL)
    /* The form's maxLength (200) counts characters: cut on a UTF-8
     * boundary, never inside a character. */
    json_object_object_add(
        patch, "account_name",
        json_object_new_string_len(name, (int)dsg_utf8_prefix(name, 200)));
  json_object_object_add(patch, "base_uri", json_object_new_string(base));
  json_object_object_add(patch, "connection_status",
                         json_object_new_string("connected"));
  text = json_text(res);
  snprintf(msg, sizeof(msg), "connected [account=%s] [base_uri=%s]",
           name != NULL ? name : "", base);
  dsg_action_complete(a, text != NULL ? SAM_OK : SAM_ENOMEM,
                      text != NULL ? msg : "out of memory", text);

done:
  free(text);
  json_object_put(res);
  json_object_put(root);
}

static void
on_pending_deleted(dsg_action *a, int status, const char *value, size_t len) {
  cb_ext *e = a->ext;
  dsg_http_req_opts o;
  const char *headers[] = {"Accept: application/json", NULL};
  char url[600];
  char msg[160];
  int rc;

  (void)value;
  (void)len;
  if (status != 0 && status != SAM_ENOENT)
    dsg_logf(a->ctx, a->job, SAM_LOG_WARN,
             "could not delete the pending authorization [%s]",
             sam_err_name(status));
  /* A23: userinfo right after the exchange, with the new token. */
  snprintf(url, sizeof(url), "%s/oauth/userinfo", a->instance);
  memset(&o, 0, sizeof(o));
  o.url = url;
  o.headers = headers;
  o.bearer_token = e->access;
  rc = dsg_action_http(a, &o, on_userinfo);
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot start userinfo [%s]", sam_err_name(rc));
    dsg_action_complete(a, rc, msg, NULL);
  }
}

static void
on_tokens_stored(dsg_action *a, int status, const char *value, size_t len) {
  cb_ext *e = a->ext;
  dsg_token_args ta;
  char msg[200];
  int rc;

  (void)value;
  (void)len;
  if (status != 0) {
    snprintf(msg, sizeof(msg),
             "the OAuth tokens could not be stored [%s]: run Get OAuth Token "
             "again",
             sam_err_name(status));
    dsg_action_complete(a, status, msg, NULL);
    return;
  }
  token_args(a, &ta);
  rc = dsg_token_install_commit(a->ctx, &ta, e->doc);
  if (rc != 0) {
    dsg_action_complete(a, rc, "cannot cache the new tokens", NULL);
    return;
  }
  rc =
      dsg_action_secret_put(a, DSG_PENDING_SECRET, NULL, 0, on_pending_deleted);
  if (rc != 0)
    on_pending_deleted(a, rc, NULL, 0);
}

static void on_exchange(dsg_action *a, const dsg_http_resp *resp) {
  cb_ext *e = a->ext;
  json_object *o = NULL;
  json_object *v;
  const char *access;
  const char *refresh;
  char err[128];
  char desc[256];
  char msg[800];
  int64_t expires_in = 0;
  int rc;

  /* Transport failures and non-4xx errors are described as such; a 4xx is
   * an OAuth refusal (A17). */
  if (resp->status != SAM_OK ||
      (resp->http_status != 200 &&
       (resp->http_status < 400 || resp->http_status >= 500))) {
    rc = dsg_api_describe(resp, "token exchange", msg, sizeof(msg), NULL);
    dsg_action_complete(a, rc, msg, NULL);
    return;
  }
  if (resp->http_status != 200) {
    dsg_api_oauth_error(resp, err, sizeof(err), desc, sizeof(desc));
    if (strcmp(desc, "unauthorized_client") == 0 ||
        strcmp(err, "invalid_client") == 0 ||
        strcmp(err, "unauthorized_client") == 0)
      snprintf(msg, sizeof(msg),
               "DocuSign refused the client credentials [http=%ld] [error=%s] "
               "[error_description=%s]: check the Client Id and the Client "
               "secret, then run Get OAuth Token again",
               resp->http_status, err, desc);
    else
      snprintf(msg, sizeof(msg),
               "DocuSign refused the authorization code: it is invalid, "
               "already used or expired (codes live 2 minutes) [http=%ld] "
               "[error=%s] [error_description=%s]: run Get OAuth Token again",
               resp->http_status, err, desc);
    dsg_action_complete(a, SAM_EAUTH, msg, NULL);
    return;
  }
  o = dsg_json_parse(resp->body, resp->body_len);
  access = dsg_json_str(o, "access_token");
  refresh = dsg_json_str(o, "refresh_token");
  if (o != NULL && json_object_object_get_ex(o, "expires_in", &v))
    expires_in = json_object_get_int64(v);
  if (access == NULL || refresh == NULL || expires_in <= 0) {
    dsg_action_complete(a, SAM_EPROTO,
                        "token exchange: the reply lacks access_token, "
                        "refresh_token or expires_in",
                        NULL);
    goto done;
  }
  e->access = strdup(access);
  rc = e->access != NULL
           ? dsg_token_install_prepare(access, refresh, expires_in,
                                       dsg_json_str(o, "scope") != NULL
                                           ? dsg_json_str(o, "scope")
                                           : "signature extended",
                                       &e->doc)
           : SAM_ENOMEM;
  if (rc == 0)
    rc = dsg_action_secret_put(a, DSG_TOKEN_SECRET, e->doc, strlen(e->doc),
                               on_tokens_stored);
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "the OAuth tokens could not be stored [%s]",
             sam_err_name(rc));
    dsg_action_complete(a, rc, msg, NULL);
  }

done:
  dsg_json_put_wiped(o);
}

static void
on_client_secret(dsg_action *a, int status, const char *value, size_t len) {
  cb_ext *e = a->ext;
  dsg_http_req_opts o;
  const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                           "Accept: application/json", NULL};
  char url[600];
  char msg[200];
  char *secret = NULL;
  char *q_code = NULL;
  char *q_ver = NULL;
  char *body = NULL;
  size_t n;
  int rc = SAM_ENOMEM;

  if (status != 0) {
    snprintf(msg, sizeof(msg),
             status == SAM_ENOENT
                 ? "the Client secret is not set [%s]: enter it on the profile"
                 : "cannot read the Client secret [%s]",
             sam_err_name(status));
    dsg_action_complete(a, status == SAM_ENOENT ? SAM_EINVAL : status, msg,
                        NULL);
    return;
  }
  /* Zeroed: an early failure below wipes it with strlen. */
  secret = calloc(1, len + 1);
  if (secret == NULL || escape(e->code, &q_code) != 0 ||
      escape(e->verifier, &q_ver) != 0)
    goto fail;
  memcpy(secret, value, len);
  secret[len] = '\0';
  n = strlen(q_code) + strlen(q_ver) + 80;
  body = malloc(n);
  if (body == NULL)
    goto fail;
  /* A16: Basic client authentication and code_verifier, no redirect_uri. */
  snprintf(body, n, "grant_type=authorization_code&code=%s&code_verifier=%s",
           q_code, q_ver);
  snprintf(url, sizeof(url), "%s/oauth/token", a->instance);
  memset(&o, 0, sizeof(o));
  o.method = "POST";
  o.url = url;
  o.headers = headers;
  o.basic_user = a->client_id;
  o.basic_password = secret;
  o.body = body;
  o.body_len = strlen(body);
  rc = dsg_action_http(a, &o, on_exchange);
  if (rc == 0)
    goto done;

fail:
  snprintf(msg, sizeof(msg), "cannot start the token exchange [%s]",
           sam_err_name(rc));
  dsg_action_complete(a, rc, msg, NULL);
done:
  wipe_free(secret);
  wipe_free(q_code);
  wipe_free(q_ver);
  wipe_free(body);
}

static void
on_pending(dsg_action *a, int status, const char *value, size_t len) {
  cb_ext *e = a->ext;
  json_object *o = NULL;
  const char *state;
  const char *verifier;
  char msg[200];
  size_t sl;
  int rc;

  if (status != 0) {
    snprintf(msg, sizeof(msg),
             status == SAM_ENOENT
                 ? "no authorization is pending for this profile [%s]: run Get "
                   "OAuth Token again"
                 : "cannot read the pending authorization [%s]",
             sam_err_name(status));
    dsg_action_complete(a, status == SAM_ENOENT ? SAM_EAUTH : status, msg,
                        NULL);
    return;
  }
  o = dsg_json_parse(value, len);
  state = dsg_json_str(o, "state");
  verifier = dsg_json_str(o, "verifier");
  sl = strlen(e->state);
  /* Constant-time: the state is a bearer secret of the flow. */
  if (state == NULL || verifier == NULL || strlen(state) != sl ||
      CRYPTO_memcmp(state, e->state, sl) != 0) {
    dsg_action_complete(a, SAM_EAUTH,
                        "the OAuth state does not match the pending "
                        "authorization: nothing was stored; run Get OAuth "
                        "Token again",
                        NULL);
    goto done;
  }
  e->verifier = strdup(verifier);
  if (e->verifier == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    goto done;
  }
  rc = dsg_action_secret_get(a, "client_secret", on_client_secret);
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot read the Client secret [%s]",
             sam_err_name(rc));
    dsg_action_complete(a, rc, msg, NULL);
  }

done:
  dsg_json_put_wiped(o);
}

int dsg_oauth_callback(sam_job *job, const sam_job_input *in, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_action *a = NULL;
  cb_ext *e;
  char err[512];
  char msg[160];
  int rc;

  if (ctx->stopping)
    return SAM_EBUSY;
  rc = dsg_action_new(ctx, job, in, &a, err, sizeof(err));
  if (rc != 0)
    return dsg_action_fail_start(ctx, job, rc, err);
  if (in->oauth_code == NULL || in->oauth_code[0] == '\0' ||
      in->oauth_state == NULL || in->oauth_state[0] == '\0') {
    dsg_action_complete(a, SAM_EINVAL,
                        "the host passed no oauth_code or oauth_state", NULL);
    return SAM_OK;
  }
  e = dsg_action_ext(a, sizeof(*e), cb_ext_free);
  if (e == NULL)
    return SAM_OK;
  e->code = strdup(in->oauth_code);
  e->state = strdup(in->oauth_state);
  if (e->code == NULL || e->state == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return SAM_OK;
  }
  rc = dsg_action_secret_get(a, DSG_PENDING_SECRET, on_pending);
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot read the pending authorization [%s]",
             sam_err_name(rc));
    dsg_action_complete(a, rc, msg, NULL);
  }
  return SAM_OK;
}
