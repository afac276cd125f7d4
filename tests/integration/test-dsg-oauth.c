/*
 * test-dsg-oauth.c: Get OAuth Token, the OAuth callback and Validate
 * Connection of the real plugin, driven through a runtime against the
 * DocuSign simulator over HTTPS with a throwaway CA: the whole flow through
 * the consent page, and every failure with its message and nothing stored
 * (wrong state, replayed code, wrong client secret, account not in
 * userinfo, non-admin user, unknown CA, rate limit). Secrets never appear
 * in the log in clear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <openssl/evp.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-dsg-oauth-common.h"

#include "dsg_api.h"
#include "dsg_oauth.h"

static json_object *patch_of(oh_run *r) {
  json_object *p = NULL;

  EXPECT_TRUE(r->res != NULL);
  EXPECT_TRUE(json_object_object_get_ex(r->res, "profile_patch", &p));
  return p;
}

/* The whole flow through the consent page; then a replayed code. */
static void test_flow(void) {
  oh h;
  oh_run r;
  json_object *p;
  char code[256];
  char code2[256];
  char cfg[600];
  char *tokens = NULL;
  char *again = NULL;
  char *pending = NULL;
  json_object *t;
  const char *url;

  oh_sim_start(&h, NULL);
  /* http_debug on: the redacted curl trace goes to the log too. */
  snprintf(cfg, sizeof(cfg),
           "{\"ca_file\":\"%s\",\"test_mode\":true,\"http_debug\":true}",
           h.tls.ca);
  oh_start(&h, NULL, cfg, NULL);

  /* The authorization URL (DOCUSIGN.md 2.1). */
  oh_action(&h, "get_oauth_token", NULL, "st-flow-1", NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  url = json_object_get_string(json_object_object_get(r.res, "redirect_url"));
  EXPECT_TRUE(url != NULL);
  EXPECT_TRUE(strncmp(url, h.sim.https, strlen(h.sim.https)) == 0);
  EXPECT_CONTAINS(url, "/oauth/auth?response_type=code");
  EXPECT_CONTAINS(url, "scope=signature%20extended");
  EXPECT_CONTAINS(url, "client_id=" CLIENT_ID);
  EXPECT_CONTAINS(url, "redirect_uri=https%3A%2F%2F127.0.0.1%3A1%2Foauth_"
                       "redirect.do");
  EXPECT_CONTAINS(url, "state=st-flow-1");
  EXPECT_CONTAINS(url, "code_challenge_method=S256");
  EXPECT_TRUE(strstr(url, "code_challenge=") != NULL);
  EXPECT_EQ_INT(0, oh_secret(&h, "oauth_pending", &pending));
  EXPECT_CONTAINS(pending, "\"state\":\"st-flow-1\"");
  EXPECT_CONTAINS(pending, "\"verifier\":\"");
  free(pending);
  oh_run_free(&r);

  /* Consent on the page (Accept), then the callback. */
  oh_consent(&h, "st-flow-2", 1, code, sizeof(code));
  oh_action(&h, "oauth_callback", NULL, "st-flow-2", code, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  p = patch_of(&r);
  EXPECT_EQ_STR(h.sim.https,
                json_object_get_string(json_object_object_get(p, "base_uri")));
  EXPECT_TRUE(json_object_object_get(p, "account_name") != NULL);
  EXPECT_EQ_STR("connected", json_object_get_string(json_object_object_get(
                                 p, "connection_status")));
  oh_run_free(&r);
  /* Tokens stored through the host; the pending state deleted. */
  EXPECT_EQ_INT(0, oh_secret(&h, "oauth_tokens", &tokens));
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_pending", &pending));

  /* Validate Connection. */
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  p = patch_of(&r);
  EXPECT_EQ_STR("validated", json_object_get_string(json_object_object_get(
                                 p, "connection_status")));
  EXPECT_EQ_STR(h.sim.https,
                json_object_get_string(json_object_object_get(p, "base_uri")));
  oh_run_free(&r);
  EXPECT_EQ_INT(1, oh_stat(&h, "/users", 200));

  /* A replayed code: refused with a clear message, nothing stored. */
  oh_consent(&h, "st-flow-3", 1, code2, sizeof(code2)); /* fresh pending */
  oh_action(&h, "oauth_callback", NULL, "st-flow-3", code, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_CONTAINS(r.message, "authorization code");
  EXPECT_CONTAINS(r.message, "expired_client_token");
  EXPECT_CONTAINS(r.message, "run Get OAuth Token again");
  oh_run_free(&r);
  EXPECT_EQ_INT(0, oh_secret(&h, "oauth_tokens", &again));
  EXPECT_EQ_STR(tokens, again);

  /* No secret in clear in the log: the client secret, the code, the
   * tokens. */
  t = json_tokener_parse(tokens);
  EXPECT_TRUE(t != NULL);
  EXPECT_TRUE(h.log != NULL);
  EXPECT_CONTAINS(h.log, "token"); /* the trace did log something */
  EXPECT_NOT_CONTAINS(h.log, CLIENT_SECRET);
  EXPECT_NOT_CONTAINS(h.log, code);
  EXPECT_NOT_CONTAINS(
      h.log, json_object_get_string(json_object_object_get(t, "access_token")));
  EXPECT_NOT_CONTAINS(h.log, json_object_get_string(
                                 json_object_object_get(t, "refresh_token")));
  json_object_put(t);
  free(tokens);
  free(again);
  oh_finish(&h);
}

/* A callback with a wrong state: refused by the plugin's own compare,
 * before any call to DocuSign; nothing stored. */
static void test_wrong_state(void) {
  oh h;
  oh_run r;
  char code[256];
  char *v = NULL;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, NULL);
  oh_consent(&h, "st-right", 0, code, sizeof(code));
  oh_stats_reset(&h);
  oh_action(&h, "oauth_callback", NULL, "st-wrong", code, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_CONTAINS(r.message, "state does not match");
  oh_run_free(&r);
  EXPECT_EQ_INT(0, oh_stat(&h, "/", 0));
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_tokens", &v));
  /* A pending authorization without a state. */
  EXPECT_EQ_INT(0, oh_secret_put(&h, "oauth_pending", "{}"));
  oh_action(&h, "oauth_callback", NULL, "st-right", code, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  oh_run_free(&r);
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_tokens", &v));
  oh_finish(&h);
}

/* A wrong client secret: DocuSign refuses the exchange; nothing stored. */
static void test_wrong_secret(void) {
  oh h;
  oh_run r;
  char code[256];
  char *v = NULL;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, "not-the-secret");
  oh_consent(&h, "st-1", 0, code, sizeof(code));
  oh_action(&h, "oauth_callback", NULL, "st-1", code, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_CONTAINS(r.message, "client credentials");
  EXPECT_CONTAINS(r.message, "[error=invalid_grant]");
  EXPECT_CONTAINS(r.message, "Client secret");
  EXPECT_NOT_CONTAINS(r.message, "not-the-secret");
  oh_run_free(&r);
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_tokens", &v));
  EXPECT_NOT_CONTAINS(h.log, "not-the-secret");
  oh_finish(&h);
}

/* A code that is no longer valid (the simulator answers a used, unknown
 * or expired code alike, A17): spent by an exchange the test makes first,
 * so no waiting for the 2-minute expiry is needed. */
static void test_used_code(void) {
  oh h;
  oh_run r;
  char code[256];
  char url[256];
  char *v = NULL;
  sim_resp sr;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, NULL);
  oh_consent(&h, "st-1", 0, code, sizeof(code));
  /* Someone else redeems the code first (single use, A16). */
  snprintf(url, sizeof(url), "%s/oauth/token", h.sim.https);
  {
    char form[400];
    snprintf(form, sizeof(form), "grant_type=authorization_code&code=%s", code);
    EXPECT_EQ_INT(CURLE_OK, sim_http("POST", url,
                                     "Basic c2ltLWludGVncmF0aW9uLWtleTpz"
                                     "aW0tc2VjcmV0",
                                     form, "application/x-www-form-urlencoded",
                                     h.tls.ca, &sr));
    sim_resp_free(&sr);
  }
  oh_action(&h, "oauth_callback", NULL, "st-1", code, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_CONTAINS(r.message, "invalid, already used or expired");
  oh_run_free(&r);
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_tokens", &v));
  oh_finish(&h);
}

/* The Technical account Id is not among userinfo's accounts. */
static void test_account_not_found(void) {
  oh h;
  oh_run r;
  char profile[1024];
  const char *other = "00000000-1111-2222-3333-444444444444";

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, NULL);
  snprintf(profile, sizeof(profile),
           "{\"client_id\":\"%s\",\"account_id\":\"%s\","
           "\"instance_url\":\"%s\"}",
           CLIENT_ID, other, h.sim.https);
  snprintf(h.profile, sizeof(h.profile), "%s", profile);
  {
    char code[256];
    oh_consent(&h, "st-1", 0, code, sizeof(code));
    oh_action(&h, "oauth_callback", NULL, "st-1", code, &r);
    EXPECT_EQ_INT(SAM_EINVAL, r.status);
    EXPECT_CONTAINS(r.message, other);
    EXPECT_CONTAINS(r.message, h.sim.account_id);
    EXPECT_CONTAINS(r.message, "not among the consenting user's accounts");
    oh_run_free(&r);
  }
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EINVAL, r.status);
  EXPECT_CONTAINS(r.message, "[found: ");
  EXPECT_CONTAINS(r.message, h.sim.account_id);
  oh_run_free(&r);
  oh_finish(&h);
}

/* The consenting user is not an account administrator. */
static void test_non_admin(void) {
  oh h;
  oh_run r;

  oh_sim_start(&h, (const char *const[]){"--auto-consent",
                                         "--integration-non-admin", NULL});
  oh_start(&h, NULL, NULL, NULL);
  oh_connect(&h, "st-1");
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_CONTAINS(r.message, "not an administrator");
  EXPECT_CONTAINS(r.message, "USER_LACKS_PERMISSIONS");
  oh_run_free(&r);
  oh_finish(&h);
}

/* Rate limited on the users call: SAM_EAGAIN with the reset time. */
static void test_rate_limited(void) {
  oh h;
  oh_run r;
  json_object *ra = NULL;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, NULL, NULL);
  oh_connect(&h, "st-1");
  EXPECT_EQ_INT(200, sim_control(&h.sim, "faults", "{\"next_429\":1}"));
  oh_action(&h, "validate_connection", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_EAGAIN, r.status);
  EXPECT_CONTAINS(r.message, "rate limited");
  EXPECT_CONTAINS(r.message, "BURST_APIINVOCATION_LIMIT_EXCEEDED");
  EXPECT_CONTAINS(r.message, "allowed again at [");
  EXPECT_TRUE(json_object_object_get_ex(r.res, "retry_after_s", &ra));
  EXPECT_TRUE(json_object_get_int64(ra) >= 1);
  oh_run_free(&r);
  oh_finish(&h);
}

/* A server certificate from an unknown CA: no ca_file, so the system store
 * is used, and the handshake is refused with curl's message. */
static void test_unknown_ca(void) {
  oh h;
  oh_run r;
  char code[256];
  char *v = NULL;

  oh_sim_start(&h, (const char *const[]){"--auto-consent", NULL});
  oh_start(&h, NULL, "{\"test_mode\":true}", NULL);
  oh_consent(&h, "st-1", 0, code, sizeof(code));
  oh_action(&h, "oauth_callback", NULL, "st-1", code, &r);
  EXPECT_TRUE(r.status != SAM_OK);
  EXPECT_CONTAINS(r.message, "network or TLS failure");
  EXPECT_CONTAINS(r.message, "[curl: ");
  EXPECT_CONTAINS(r.message, "certificate");
  oh_run_free(&r);
  EXPECT_EQ_INT(SAM_ENOENT, oh_secret(&h, "oauth_tokens", &v));
  oh_finish(&h);
}

/* Instance URL rules: plain http is refused outside loopback. */
static void test_instance_url(void) {
  oh h;
  oh_run r;
  char profile[512];

  oh_sim_start(&h, NULL);
  oh_start(&h, NULL, NULL, NULL);
  snprintf(profile, sizeof(profile),
           "{\"client_id\":\"%s\",\"account_id\":\"%s\","
           "\"instance_url\":\"http://account.docusign.com\"}",
           CLIENT_ID, h.sim.account_id);
  oh_action(&h, "get_oauth_token", profile, "st-1", NULL, &r);
  EXPECT_EQ_INT(SAM_EINVAL, r.status);
  EXPECT_CONTAINS(r.message, "instance_url");
  oh_run_free(&r);
  oh_finish(&h);
}

/* ---- the pure parts (dsg_core linked in) ---- */

static dsg_http_resp resp_of(long http, const char *body) {
  dsg_http_resp r;

  memset(&r, 0, sizeof(r));
  r.status = SAM_OK;
  r.http_status = http;
  r.body = body;
  r.body_len = strlen(body);
  r.content_type = "application/json";
  r.ratelimit_limit = r.ratelimit_remaining = r.ratelimit_reset = -1;
  r.burstlimit_limit = r.burstlimit_remaining = r.retry_after_s = -1;
  r.error = "";
  return r;
}

static void test_pure(void) {
  /* RFC 7636 appendix B. */
  const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char out[128];
  char msg[1024];
  char found[256];
  int64_t ra = 0;
  dsg_http_resp r;
  json_object *ui;
  time_t now = time(NULL);

  EXPECT_EQ_INT(1, EVP_Digest(verifier, strlen(verifier), md, &mdlen,
                              EVP_sha256(), NULL));
  EXPECT_EQ_INT(43, dsg_b64url(md, mdlen, out));
  EXPECT_EQ_STR("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", out);
  EXPECT_EQ_INT(2, dsg_b64url((const unsigned char *)"\xfb", 1, out));
  EXPECT_EQ_STR("-w", out);

  /* Rate limits: decided on the code, not the status (A20). */
  EXPECT_TRUE(dsg_api_is_rate_limited(429, NULL));
  EXPECT_TRUE(
      dsg_api_is_rate_limited(400, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"));
  EXPECT_TRUE(!dsg_api_is_rate_limited(400, "USER_LACKS_PERMISSIONS"));
  r = resp_of(400, "{\"errorCode\":\"HOURLY_APIINVOCATION_LIMIT_EXCEEDED\","
                   "\"message\":\"x\"}");
  r.ratelimit_reset = (int64_t)now + 600;
  EXPECT_EQ_INT(SAM_EAGAIN,
                dsg_api_describe(&r, "users", msg, sizeof(msg), &ra));
  EXPECT_TRUE(ra > 590 && ra <= 600);
  EXPECT_CONTAINS(msg, "users: rate limited");
  EXPECT_CONTAINS(msg, "allowed again at [20");
  /* Non-admin, other errors, transport failures. */
  r = resp_of(400, "{\"errorCode\":\"USER_LACKS_PERMISSIONS\","
                   "\"message\":\"This user lacks sufficient permissions\"}");
  EXPECT_EQ_INT(SAM_EAUTH, dsg_api_describe(&r, NULL, msg, sizeof(msg), NULL));
  EXPECT_CONTAINS(msg, "not an administrator");
  r = resp_of(404, "not json");
  EXPECT_EQ_INT(SAM_ENOENT, dsg_api_describe(&r, NULL, msg, sizeof(msg), NULL));
  EXPECT_CONTAINS(msg, "[http=404] [errorCode=]");
  r = resp_of(0, "");
  r.status = SAM_EAGAIN;
  r.error = "Could not connect to server";
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_api_describe(&r, "x", msg, sizeof(msg), NULL));
  EXPECT_CONTAINS(msg, "[curl: Could not connect to server]");
  r = resp_of(400, "{\"error\":\"invalid_grant\"}");
  dsg_api_oauth_error(&r, out, sizeof(out), found, sizeof(found));
  EXPECT_EQ_STR("invalid_grant", out);
  EXPECT_EQ_STR("", found);

  /* userinfo accounts: case-insensitive match, else the list. */
  ui = json_tokener_parse(
      "{\"accounts\":[{\"account_id\":\"AAAA\"},{\"account_id\":\"bbbb\"}]}");
  EXPECT_TRUE(dsg_api_find_account(ui, "BBBB", found, sizeof(found)) != NULL);
  EXPECT_TRUE(dsg_api_find_account(ui, "cccc", found, sizeof(found)) == NULL);
  EXPECT_EQ_STR("AAAA, bbbb", found);
  json_object_put(ui);
  EXPECT_TRUE(dsg_api_find_account(NULL, "x", found, sizeof(found)) == NULL);
}

int main(void) {
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  SAM_T_RUN(test_pure);
  SAM_T_RUN(test_flow);
  SAM_T_RUN(test_wrong_state);
  SAM_T_RUN(test_wrong_secret);
  SAM_T_RUN(test_used_code);
  SAM_T_RUN(test_account_not_found);
  SAM_T_RUN(test_non_admin);
  SAM_T_RUN(test_rate_limited);
  SAM_T_RUN(test_unknown_ca);
  SAM_T_RUN(test_instance_url);
  curl_global_cleanup();
  return 0;
}
