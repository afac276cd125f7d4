/*
 * sim_oauth.c: DocuSign's authorization code grant as DOCUSIGN.md 2 and
 * A14-A17, A23, A29 describe: the consent page, codes (single use, 120 s,
 * PKCE S256 only), tokens with rotation of refresh tokens, and userinfo.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

struct sim_token {
  sim_token *next;
  char tok[48];
  int refresh;
  int extended;
  int64_t expires_ms;
};

struct sim_code {
  sim_code *next;
  char code[48];
  char challenge[128];
  int has_challenge;
  int extended;
  int64_t expires_ms;
};

struct sim_txn {
  sim_txn *next;
  char id[48];
  char redirect[1024];
  char state[512];
  char challenge[128];
  int has_challenge;
  int extended;
  int64_t expires_ms;
};

static int64_t now_ms(sim_ctx *c) {
  (void)c;
  return (int64_t)(uv_hrtime() / 1000000);
}

/*
 * base64url without padding of `n` bytes into `out` (room for 4n/3+4).
 */
void sim_b64url(const unsigned char *in, size_t n, char *out) {
  int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n), i;

  while (len > 0 && out[len - 1] == '=')
    len--;
  out[len] = '\0';
  for (i = 0; i < len; i++) {
    if (out[i] == '+')
      out[i] = '-';
    else if (out[i] == '/')
      out[i] = '_';
  }
}

static int random_token(char *out) {
  unsigned char raw[24];

  if (RAND_bytes(raw, sizeof(raw)) != 1)
    return -1;
  sim_b64url(raw, sizeof(raw), out);
  return 0;
}

/* ---- token table ---- */

static void prune(sim_ctx *c) {
  int64_t now = now_ms(c);
  sim_token **pt = &c->tokens;
  sim_code **pc = &c->codes;
  sim_txn **px = &c->txns;

  while (*pt) {
    if ((*pt)->expires_ms <= now - 3600 * 1000) {
      sim_token *d = *pt;
      *pt = d->next;
      free(d);
    } else {
      pt = &(*pt)->next;
    }
  }
  while (*pc) {
    if ((*pc)->expires_ms <= now) {
      sim_code *d = *pc;
      *pc = d->next;
      free(d);
    } else {
      pc = &(*pc)->next;
    }
  }
  while (*px) {
    if ((*px)->expires_ms <= now) {
      sim_txn *d = *px;
      *px = d->next;
      free(d);
    } else {
      px = &(*px)->next;
    }
  }
}

static sim_token *
token_new(sim_ctx *c, int refresh, int extended, int64_t expires_ms) {
  sim_token *t = calloc(1, sizeof(*t));

  if (t == NULL || random_token(t->tok) != 0) {
    free(t);
    return NULL;
  }
  t->refresh = refresh;
  t->extended = extended;
  t->expires_ms = expires_ms;
  t->next = c->tokens;
  c->tokens = t;
  return t;
}

static sim_token *token_find(sim_ctx *c, const char *s, size_t n, int refresh) {
  sim_token *t;

  for (t = c->tokens; t != NULL; t = t->next)
    if (t->refresh == refresh && strlen(t->tok) == n &&
        memcmp(t->tok, s, n) == 0)
      return t;
  return NULL;
}

static void token_drop(sim_ctx *c, sim_token *t) {
  sim_token **p;

  for (p = &c->tokens; *p; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      free(t);
      return;
    }
  }
}

/*
 * 0 when `hdr` (`len` bytes) is "Bearer <live access token>", else -1.
 */
int sim_oauth_check_bearer(sim_ctx *c, const char *hdr, size_t len) {
  sim_token *t;

  if (hdr == NULL || len < 8 || strncasecmp(hdr, "Bearer ", 7) != 0)
    return -1;
  t = token_find(c, hdr + 7, len - 7, 0);
  if (t == NULL || t->expires_ms <= now_ms(c))
    return -1;
  return 0;
}

/*
 * Expires every access token now (and refresh tokens with `refresh_too`).
 */
void sim_oauth_expire_all(sim_ctx *c, int refresh_too) {
  sim_token *t;
  int64_t now = now_ms(c);

  for (t = c->tokens; t != NULL; t = t->next)
    if (!t->refresh || refresh_too)
      t->expires_ms = now;
}

/*
 * Frees all tokens, codes and consent transactions.
 */
void sim_oauth_free(sim_ctx *c) {
  while (c->tokens) {
    sim_token *t = c->tokens;
    c->tokens = t->next;
    free(t);
  }
  while (c->codes) {
    sim_code *t = c->codes;
    c->codes = t->next;
    free(t);
  }
  while (c->txns) {
    sim_txn *t = c->txns;
    c->txns = t->next;
    free(t);
  }
}

/* ---- replies ---- */

static int oauth_error(sim_req *r, const char *err, const char *desc) {
  sim_buf b = {0};

  sim_json_obj(&b);
  sim_json_kstr(&b, "error", err);
  if (desc != NULL)
    sim_json_kstr(&b, "error_description", desc);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 400, &b);
}

static void put_encoded(sim_buf *b, const char *s) {
  static const char hx[] = "0123456789ABCDEF";

  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
        ch == '~') {
      sim_buf_raw(b, (const char *)&ch, 1);
    } else {
      char e[3] = {'%', hx[ch >> 4], hx[ch & 15]};
      sim_buf_raw(b, e, 3);
    }
  }
}

/* 302 to redirect_uri with `k1=v1` (and error or code) plus state. */
static int redirect_to(sim_req *r,
                       const char *uri,
                       const char *k1,
                       const char *v1,
                       const char *state,
                       int has_state) {
  sim_buf b = {0};

  sim_buf_cstr(&b, uri);
  sim_buf_cstr(&b, strchr(uri, '?') ? "&" : "?");
  sim_buf_cstr(&b, k1);
  sim_buf_cstr(&b, "=");
  put_encoded(&b, v1);
  if (has_state) {
    sim_buf_cstr(&b, "&state=");
    put_encoded(&b, state);
  }
  {
    /* h2o keeps the pointer it is given: copy into the request pool */
    h2o_iovec_t v = h2o_strdup(&r->req->pool, b.p, b.len);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_LOCATION,
                   NULL, v.base, v.len);
  }
  sim_buf_free(&b);
  return sim_reply(r, 302, "text/plain", "", 0);
}

static int issue_code(sim_req *r,
                      const char *redirect,
                      const char *state,
                      int has_state,
                      const char *challenge,
                      int has_ch,
                      int extended) {
  sim_ctx *c = r->ctx;
  sim_code *code = calloc(1, sizeof(*code));

  if (code == NULL || random_token(code->code) != 0) {
    free(code);
    return sim_reply(r, 500, "text/plain", "out of memory\n", 14);
  }
  snprintf(code->challenge, sizeof(code->challenge), "%s", challenge);
  code->has_challenge = has_ch;
  code->extended = extended;
  code->expires_ms = now_ms(c) + c->code_ttl * 1000;
  code->next = c->codes;
  c->codes = code;
  return redirect_to(r, redirect, "code", code->code, state, has_state);
}

static int registered(sim_ctx *c, const char *uri) {
  int i;

  for (i = 0; i < c->nredirects; i++)
    if (strcmp(c->redirects[i], uri) == 0)
      return 1;
  return 0;
}

static int has_word(const char *s, const char *w) {
  size_t n = strlen(w);
  const char *p = s;

  while ((p = strstr(p, w)) != NULL) {
    if ((p == s || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
      return 1;
    p += n;
  }
  return 0;
}

/* Appends `in` to b with the five HTML-special characters escaped: account
 * names come from account files and may hold markup. */
static void buf_html(sim_buf *b, const char *in) {
  for (; *in != '\0'; in++) {
    switch (*in) {
    case '<':
      sim_buf_printf(b, "&lt;");
      break;
    case '>':
      sim_buf_printf(b, "&gt;");
      break;
    case '&':
      sim_buf_printf(b, "&amp;");
      break;
    case '"':
      sim_buf_printf(b, "&quot;");
      break;
    case '\'':
      sim_buf_printf(b, "&#39;");
      break;
    default:
      sim_buf_printf(b, "%c", *in);
    }
  }
}

static int html(sim_req *r, int status, const char *msg) {
  sim_buf b = {0};
  int rc;

  sim_buf_printf(&b,
                 "<!doctype html><html><body><h1>DocuSign simulator</h1>"
                 "<p>%s</p></body></html>\n",
                 msg);
  rc = sim_reply(r, status, "text/html; charset=utf-8", b.p, b.len);
  sim_buf_free(&b);
  return rc;
}

/* GET /oauth/auth */
static int handle_auth(sim_req *r) {
  sim_ctx *c = r->ctx;
  char client[256], redirect[1024], rtype[64], state[512], scope[256];
  char challenge[128], method[32];
  int has_state, has_ch, has_m, extended;
  sim_txn *t;
  sim_buf b = {0};

  sim_param(r->query, "client_id", client, sizeof(client));
  sim_param(r->query, "redirect_uri", redirect, sizeof(redirect));
  sim_param(r->query, "response_type", rtype, sizeof(rtype));
  has_state = sim_param(r->query, "state", state, sizeof(state));
  sim_param(r->query, "scope", scope, sizeof(scope));
  has_ch = sim_param(r->query, "code_challenge", challenge, sizeof(challenge));
  has_m = sim_param(r->query, "code_challenge_method", method, sizeof(method));
  if (strcmp(client, c->client_id) != 0)
    return html(r, 400, "The client id is not registered (invalid_client).");
  if (!registered(c, redirect))
    return html(r, 400,
                "The redirect URI is not registered for the integration key "
                "(invalid_request).");
  if (strcmp(rtype, "code") != 0)
    return redirect_to(r, redirect, "error", "unsupported_response_type", state,
                       has_state);
  if ((has_ch || has_m) && (!has_ch || !has_m || strcmp(method, "S256") != 0 ||
                            challenge[0] == '\0'))
    return redirect_to(r, redirect, "error", "invalid_request", state,
                       has_state);
  extended = has_word(scope, "extended");
  if (c->auto_consent)
    return issue_code(r, redirect, state, has_state, challenge, has_ch,
                      extended);
  prune(c);
  t = calloc(1, sizeof(*t));
  if (t == NULL || random_token(t->id) != 0) {
    free(t);
    return html(r, 500, "out of memory");
  }
  snprintf(t->redirect, sizeof(t->redirect), "%s", redirect);
  snprintf(t->state, sizeof(t->state), "%s", has_state ? state : "");
  t->extended = has_state ? extended | 2 : extended; /* bit 1: state sent */
  snprintf(t->challenge, sizeof(t->challenge), "%s", challenge);
  t->has_challenge = has_ch;
  t->expires_ms = now_ms(c) + 600 * 1000;
  t->next = c->txns;
  c->txns = t;
  sim_buf_printf(
      &b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>DocuSign "
          "simulator: consent</title></head><body>"
          "<h1>Allow access?</h1><p>The application requests access to the "
          "account <b>");
  buf_html(&b, c->acct.name);
  sim_buf_printf(&b,
                 "</b> (scope: %s).</p>"
                 "<form method=\"post\" action=\"/oauth/consent\">"
                 "<input type=\"hidden\" name=\"txn\" value=\"%s\">"
                 "<button type=\"submit\" name=\"decision\" value=\"accept\" "
                 "id=\"accept\">Accept</button> "
                 "<button type=\"submit\" name=\"decision\" value=\"decline\" "
                 "id=\"decline\">Decline</button></form></body></html>\n",
                 scope[0] ? "given" : "none", t->id);
  {
    int rc = sim_reply(r, 200, "text/html; charset=utf-8", b.p, b.len);
    sim_buf_free(&b);
    return rc;
  }
}

/* POST (or GET) /oauth/consent: txn, decision=accept|decline */
static int handle_consent(sim_req *r) {
  sim_ctx *c = r->ctx;
  char txn[64], decision[32];
  char *form;
  sim_txn **p, *t;
  int rc;

  form = h2o_mem_alloc_pool(&r->req->pool, r->req->entity.len + 1);
  memcpy(form, r->req->entity.base, r->req->entity.len);
  form[r->req->entity.len] = '\0';
  if (!sim_param(form, "txn", txn, sizeof(txn)))
    sim_param(r->query, "txn", txn, sizeof(txn));
  if (!sim_param(form, "decision", decision, sizeof(decision)))
    sim_param(r->query, "decision", decision, sizeof(decision));
  prune(c);
  for (p = &c->txns; *p; p = &(*p)->next)
    if (strcmp((*p)->id, txn) == 0)
      break;
  t = *p;
  if (t == NULL)
    return html(r, 400, "This consent request is unknown or expired.");
  *p = t->next;
  if (strcmp(decision, "accept") == 0)
    rc = issue_code(r, t->redirect, t->state, t->extended & 2, t->challenge,
                    t->has_challenge, t->extended & 1);
  else
    rc = redirect_to(r, t->redirect, "error", "access_denied", t->state,
                     t->extended & 2);
  free(t);
  return rc;
}

static int client_ok(sim_req *r, const char *form) {
  sim_ctx *c = r->ctx;
  size_t hl = 0;
  const char *h = sim_header(r, H2O_TOKEN_AUTHORIZATION, &hl);
  unsigned char dec[512];
  char want[512];
  int n;

  if (h == NULL) {
    char id[256];
    /* a public client: client_id in the body, no secret registered */
    sim_param(form, "client_id", id, sizeof(id));
    return strcmp(id, c->client_id) == 0 && c->client_secret[0] == '\0';
  }
  if (hl < 7 || strncasecmp(h, "Basic ", 6) != 0 || hl - 6 > 600)
    return 0;
  n = EVP_DecodeBlock(dec, (const unsigned char *)h + 6, (int)(hl - 6));
  if (n < 0)
    return 0;
  while (n > 0 && dec[n - 1] == '\0')
    n--; /* EVP_DecodeBlock counts the padding as zero bytes */
  dec[n] = '\0';
  snprintf(want, sizeof(want), "%s:%s", c->client_id, c->client_secret);
  return strcmp((char *)dec, want) == 0;
}

static int token_reply(sim_req *r, int extended, int64_t refresh_exp) {
  sim_ctx *c = r->ctx;
  int64_t now = now_ms(c);
  sim_token *a, *rt;
  sim_buf b = {0};

  prune(c);
  a = token_new(c, 0, extended, now + c->access_ttl * 1000);
  rt = a ? token_new(c, 1, extended, refresh_exp) : NULL;
  if (rt == NULL)
    return oauth_error(r, "server_error", "out of memory");
  sim_json_obj(&b);
  sim_json_kstr(&b, "access_token", a->tok);
  sim_json_kstr(&b, "token_type", "Bearer");
  sim_json_kstr(&b, "refresh_token", rt->tok);
  sim_json_kint(&b, "expires_in", c->access_ttl);
  if (c->quirks.token_scope) /* A15 says none; clients must ignore it */
    sim_json_kstr(&b, "scope", extended ? "signature extended" : "signature");
  sim_json_obj_end(&b);
  sim_add_header(r, "Cache-Control", "no-store");
  sim_add_header(r, "Pragma", "no-cache");
  return sim_reply_json(r, 200, &b);
}

/* POST /oauth/token */
static int handle_token(sim_req *r) {
  sim_ctx *c = r->ctx;
  char grant[64], val[256], verifier[256];
  char *form;
  int64_t now = now_ms(c);

  if (strcmp(r->method, "POST") != 0)
    return oauth_error(r, "invalid_request", "use POST");
  form = h2o_mem_alloc_pool(&r->req->pool, r->req->entity.len + 1);
  memcpy(form, r->req->entity.base, r->req->entity.len);
  form[r->req->entity.len] = '\0';
  if (!client_ok(r, form))
    return oauth_error(r, "invalid_grant", "unauthorized_client");
  sim_param(form, "grant_type", grant, sizeof(grant));
  if (strcmp(grant, "authorization_code") == 0) {
    sim_code **p, *code;
    int ok, ext;
    sim_param(form, "code", val, sizeof(val));
    for (p = &c->codes; *p; p = &(*p)->next)
      if (strcmp((*p)->code, val) == 0)
        break;
    code = *p;
    if (code == NULL || code->expires_ms <= now)
      return oauth_error(r, "invalid_grant", "expired_client_token");
    *p = code->next; /* single use, whatever happens next */
    ok = 1;
    if (code->has_challenge) {
      unsigned char md[32];
      unsigned int mdlen = 0;
      char enc[64];
      if (!sim_param(form, "code_verifier", verifier, sizeof(verifier)) ||
          EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
                     NULL) != 1) {
        ok = 0;
      } else {
        sim_b64url(md, mdlen, enc);
        ok = strcmp(enc, code->challenge) == 0;
      }
    } else if (sim_param(form, "code_verifier", verifier, sizeof(verifier))) {
      ok = 0; /* A16: a verifier only when a challenge was sent */
    }
    ext = code->extended;
    free(code);
    if (!ok)
      return oauth_error(r, "invalid_grant", "expired_client_token");
    return token_reply(r, ext, now + c->refresh_ttl * 1000);
  }
  if (strcmp(grant, "refresh_token") == 0) {
    sim_token *t;
    int ext;
    int64_t exp;
    sim_param(form, "refresh_token", val, sizeof(val));
    t = token_find(c, val, strlen(val), 1);
    if (t == NULL || t->expires_ms <= now)
      return oauth_error(r, "invalid_grant", NULL);
    ext = t->extended;
    /* A14: extended gives a fresh full lifetime, else the original one */
    exp = ext ? now + c->refresh_ttl * 1000 : t->expires_ms;
    token_drop(c, t); /* rotation: the old refresh token dies at once */
    return token_reply(r, ext, exp);
  }
  return oauth_error(r, "unsupported_grant_type", NULL);
}

/* GET /oauth/userinfo */
static int handle_userinfo(sim_req *r) {
  sim_ctx *c = r->ctx;
  size_t hl = 0;
  const char *h = sim_header(r, H2O_TOKEN_AUTHORIZATION, &hl);
  const sim_user *u = sim_integ_user(c);
  sim_buf b = {0};
  char id[37], date[40];

  c->userinfo_calls++;
  if (sim_oauth_check_bearer(c, h, hl) != 0) {
    sim_json_obj(&b);
    sim_json_kstr(&b, "error", "invalid_request");
    sim_json_kstr(&b, "error_description", "The access token is invalid.");
    sim_json_obj_end(&b);
    return sim_reply_json(r, 401, &b);
  }
  sim_guid_fmt(c->acct.integ_id, id);
  sim_json_obj(&b);
  sim_json_kstr(&b, "sub", id);
  sim_json_kstr(&b, "name", u ? sim_str(&c->acct, u->user_name) : "");
  sim_json_kstr(&b, "given_name", u ? sim_str(&c->acct, u->first) : "");
  sim_json_kstr(&b, "family_name", u ? sim_str(&c->acct, u->last) : "");
  if (u && u->created != SIM_T_NONE) {
    sim_time_fmt(u->created, date);
    sim_json_kstr(&b, "created", date);
  }
  sim_json_kstr(&b, "email", u ? sim_str(&c->acct, u->email) : "");
  sim_json_key(&b, "accounts");
  sim_json_arr(&b);
  sim_json_obj(&b);
  sim_json_kstr(&b, "account_id", c->acct.guid);
  sim_json_key(&b, "is_default");
  sim_json_rawval(&b, "true");
  sim_json_kstr(&b, "account_name", c->acct.name);
  sim_json_kstr(&b, "base_uri",
                c->https_base[0] ? c->https_base : c->http_base);
  sim_json_obj_end(&b);
  sim_json_arr_end(&b);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

/*
 * Handles /oauth/auth, /oauth/consent, /oauth/token and /oauth/userinfo.
 * Loop thread; one reply. Returns 0.
 */
int sim_oauth_handle(sim_req *r) {
  if (strcmp(r->path, "/oauth/auth") == 0)
    return handle_auth(r);
  if (strcmp(r->path, "/oauth/consent") == 0)
    return handle_consent(r);
  if (strcmp(r->path, "/oauth/token") == 0)
    return handle_token(r);
  if (strcmp(r->path, "/oauth/userinfo") == 0)
    return handle_userinfo(r);
  return sim_reply(r, 404, "text/plain", "not found\n", 10);
}
