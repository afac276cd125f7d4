/*
 * test-sim-oauth.c: tools/docusign-sim OAuth (DOCUSIGN.md 2, A14-A19, A23,
 * A24, A29): consent page, PKCE, codes, refresh rotation and lifetimes,
 * userinfo, token and permission errors. Runs the simulator as a child.
 */
#include "sim/sim_t.h"

static void test_oauth(void) {
  const char *args[] = {"--users", "3", NULL};
  char loc[2048], form[1024], url[512];
  json_object *o;
  sim_resp r;
  char *code;

  sim_start(args);
  /* the refresh grant rotates: new token works, the old one is dead */
  snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s", RT);
  o = token_call(form, "sim-secret", 200);
  EXPECT_TRUE(sim_jstr(o, "refresh_token") != NULL);
  EXPECT_TRUE(strcmp(sim_jstr(o, "refresh_token"), RT) != 0);
  EXPECT_EQ_STR("Bearer", sim_jstr(o, "token_type"));
  EXPECT_EQ_INT(28800, json_object_get_int(get(o, "expires_in")));
  EXPECT_TRUE(get(o, "scope") == NULL); /* A15 */
  {
    char newrt[256];
    snprintf(newrt, sizeof(newrt), "%s", sim_jstr(o, "refresh_token"));
    json_object_put(o);
    o = token_call(form, "sim-secret", 400); /* the old one: A14 */
    EXPECT_EQ_STR("invalid_grant", sim_jstr(o, "error"));
    json_object_put(o);
    snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
             newrt);
    o = token_call(form, "wrong", 400); /* A17 wrong secret */
    EXPECT_EQ_STR("invalid_grant", sim_jstr(o, "error"));
    EXPECT_EQ_STR("unauthorized_client", sim_jstr(o, "error_description"));
    json_object_put(o);
    o = token_call(form, "sim-secret", 200);
    json_object_put(o);
  }
  /* A16: plain is refused with a redirect carrying the state */
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s9"
                "&code_challenge=abc&code_challenge_method=plain",
                302, loc, sizeof(loc));
  EXPECT_CONTAINS(loc, "error=invalid_request");
  EXPECT_CONTAINS(loc, "state=s9");
  /* unregistered redirect and unknown client: an error page, no redirect */
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2Fevil%2Fcb",
                400, NULL, 0);
  auth_redirect("response_type=code&client_id=nope"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
                400, NULL, 0);
  auth_redirect("response_type=token&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=q",
                302, loc, sizeof(loc));
  EXPECT_CONTAINS(loc, "error=unsupported_response_type");
  /* no challenge: a verifier is refused (A16); the code is single use */
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=a",
                302, loc, sizeof(loc));
  code = strstr(loc, "code=");
  EXPECT_TRUE(code != NULL);
  code += 5;
  code[strcspn(code, "&")] = '\0';
  snprintf(form, sizeof(form),
           "grant_type=authorization_code&code=%s&code_verifier=xyz", code);
  o = token_call(form, "sim-secret", 400);
  EXPECT_EQ_STR("invalid_grant", sim_jstr(o, "error"));
  json_object_put(o);
  snprintf(form, sizeof(form), "grant_type=authorization_code&code=%s", code);
  o = token_call(form, "sim-secret", 400); /* used up by the failed try */
  EXPECT_EQ_STR("expired_client_token", sim_jstr(o, "error_description"));
  json_object_put(o);
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=a",
                302, loc, sizeof(loc));
  code = strstr(loc, "code=") + 5;
  code[strcspn(code, "&")] = '\0';
  snprintf(form, sizeof(form), "grant_type=authorization_code&code=%s", code);
  o = token_call(form, "sim-secret", 200);
  json_object_put(o);
  o = token_call(form, "sim-secret", 400);
  EXPECT_EQ_STR("expired_client_token", sim_jstr(o, "error_description"));
  json_object_put(o);
  o = token_call("grant_type=password", "sim-secret", 400);
  EXPECT_EQ_STR("unsupported_grant_type", sim_jstr(o, "error"));
  json_object_put(o);
  /* userinfo: sub = the consenting user's id, base_uri points back (A24) */
  snprintf(url, sizeof(url), "%s/oauth/userinfo", S.http);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(200, r.status);
  o = sim_resp_json(&r);
  EXPECT_EQ_STR(S.integ, sim_jstr(o, "sub"));
  {
    json_object *acc = json_object_array_get_idx(get(o, "accounts"), 0);
    EXPECT_EQ_STR(S.account_id, sim_jstr(acc, "account_id"));
    EXPECT_EQ_STR(S.http, sim_jstr(acc, "base_uri"));
    EXPECT_TRUE(json_object_is_type(get(acc, "is_default"), json_type_boolean));
  }
  json_object_put(o);
  sim_resp_free(&r);
  sim_http("GET", url, "Bearer nope", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(401, r.status);
  sim_resp_free(&r);
  {
    json_object *u = rest("GET", NULL, 200, NULL, "/users/%s", S.integ);
    EXPECT_EQ_STR("True", sim_jstr(u, "isAdmin"));
    json_object_put(u);
  }
  /* A23: userinfo calls are counted */
  snprintf(url, sizeof(url), "%s/_sim/stats", S.http);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  EXPECT_EQ_INT(2, json_object_get_int(get(o, "userinfo_calls")));
  json_object_put(o);
  sim_resp_free(&r);
  stop();
}

/* The consent page shows the account name as text, never as markup. */
static void test_consent_escapes_account_name(void) {
  const char *argv[] = {"--redirect-uri", REDIRECT, "--account",
                        SAM_SOURCE_DIR "/tests/fixtures/accounts/markup.json",
                        NULL};
  char url[1024];
  sim_resp r;

  EXPECT_EQ_INT(0, sim_child_start(&S, SIM_EXE, argv));
  snprintf(url, sizeof(url),
           "%s/oauth/auth?response_type=code&client_id=sim-integration-key"
           "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb&state=zz",
           S.http);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(200, r.status);
  EXPECT_CONTAINS(r.body, "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co");
  EXPECT_NOT_CONTAINS(r.body, "<img");
  sim_resp_free(&r);
  stop();
}

static void test_consent_page(void) {
  const char *argv[] = {"--redirect-uri", REDIRECT, "--users", "2", NULL};
  char url[1024], loc[1024], *txn;
  sim_resp r;

  EXPECT_EQ_INT(0, sim_child_start(&S, SIM_EXE, argv));
  snprintf(url, sizeof(url),
           "%s/oauth/auth?response_type=code&client_id=sim-integration-key"
           "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb&state=zz",
           S.http);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(200, r.status);
  EXPECT_CONTAINS(r.body, "Accept");
  EXPECT_CONTAINS(r.body, "Decline");
  txn = strstr(r.body, "name=\"txn\" value=\"");
  EXPECT_TRUE(txn != NULL);
  txn += strlen("name=\"txn\" value=\"");
  txn[strcspn(txn, "\"")] = '\0';
  {
    char form[256], u2[256];
    sim_resp d;
    snprintf(u2, sizeof(u2), "%s/oauth/consent", S.http);
    snprintf(form, sizeof(form), "txn=%s&decision=decline", txn);
    sim_http("POST", u2, NULL, form, "application/x-www-form-urlencoded", NULL,
             &d);
    EXPECT_EQ_INT(302, d.status);
    sim_resp_header(&d, "location", loc, sizeof(loc));
    EXPECT_CONTAINS(loc, "error=access_denied");
    EXPECT_CONTAINS(loc, "state=zz"); /* A17 */
    sim_resp_free(&d);
    /* the transaction is gone after one decision */
    sim_http("POST", u2, NULL, form, "application/x-www-form-urlencoded", NULL,
             &d);
    EXPECT_EQ_INT(400, d.status);
    sim_resp_free(&d);
  }
  sim_resp_free(&r);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  txn = strstr(r.body, "name=\"txn\" value=\"") + 18;
  txn[strcspn(txn, "\"")] = '\0';
  {
    char form[256], u2[256];
    sim_resp d;
    snprintf(u2, sizeof(u2), "%s/oauth/consent", S.http);
    snprintf(form, sizeof(form), "txn=%s&decision=accept", txn);
    sim_http("POST", u2, NULL, form, "application/x-www-form-urlencoded", NULL,
             &d);
    EXPECT_EQ_INT(302, d.status);
    sim_resp_header(&d, "location", loc, sizeof(loc));
    EXPECT_CONTAINS(loc, "http://127.0.0.1:9/cb?code=");
    EXPECT_CONTAINS(loc, "state=zz");
    sim_resp_free(&d);
  }
  sim_resp_free(&r);
  stop();
}

/* ---- paging ---- */

static void test_auth_errors(void) {
  const char *args[] = {"--users", "5", "--integration-non-admin", NULL};
  json_object *o;
  char url[512];
  sim_resp r;

  sim_start(args);
  o = rest("GET", NULL, 400, NULL, "/users");
  expect_error(o, "USER_LACKS_PERMISSIONS");
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/billing_charges");
  expect_error(o, "USER_LACKS_PERMISSIONS");
  json_object_put(o);
  o = rest("DELETE", "{\"users\":[{\"userId\":\"x\"}]}", 400, NULL, "/users");
  expect_error(o, "USER_LACKS_PERMISSIONS");
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, ""); /* account info: any user */
  json_object_put(o);
  /* the control API makes the user an admin */
  EXPECT_EQ_INT(200,
                sim_control(&S, "users/integration", "{\"isAdmin\":true}"));
  o = rest("GET", NULL, 200, NULL, "/users");
  json_object_put(o);
  /* A19: an account that is not the caller's; numeric id works */
  snprintf(url, sizeof(url), "%s/restapi/v2.1/accounts/12345/users", S.http);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(400, r.status);
  o = sim_resp_json(&r);
  expect_error(o, "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT");
  json_object_put(o);
  sim_resp_free(&r);
  snprintf(url, sizeof(url), "%s/restapi/v2.1/accounts/%s/users?count=1",
           S.http, S.external_id);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(200, r.status);
  sim_resp_free(&r);
  /* A18: unknown and expired tokens */
  snprintf(url, sizeof(url), "%s/users", S.rest);
  sim_http("GET", url, "Bearer nope", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(401, r.status);
  o = sim_resp_json(&r);
  expect_error(o, "AUTHORIZATION_INVALID_TOKEN");
  json_object_put(o);
  sim_resp_free(&r);
  EXPECT_EQ_INT(200, sim_control(&S, "tokens/expire", "{}"));
  o = rest("GET", NULL, 401, NULL, "/users");
  expect_error(o, "AUTHORIZATION_INVALID_TOKEN");
  json_object_put(o);
  /* the refresh token still works after the access token expired */
  {
    char form[512], basic[256], pair[128];
    snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
             RT);
    snprintf(pair, sizeof(pair), "sim-integration-key:sim-secret");
    strcpy(basic, "Basic ");
    EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)pair,
                    (int)strlen(pair));
    snprintf(url, sizeof(url), "%s/oauth/token", S.http);
    sim_http("POST", url, basic, form, "application/x-www-form-urlencoded",
             NULL, &r);
    EXPECT_EQ_INT(200, r.status);
    o = sim_resp_json(&r);
    snprintf(BEARER, sizeof(BEARER), "Bearer %s", sim_jstr(o, "access_token"));
    json_object_put(o);
    sim_resp_free(&r);
  }
  o = rest("GET", NULL, 200, NULL, "/users");
  json_object_put(o);
  stop();
}

/* ---- account, billing, profiles, groups, envelopes ---- */

static void test_pkce_and_lifetimes(void) {
  const char *args[] = {"--users", "2", "--refresh-ttl", "3", NULL};
  char loc[2048], form[512], rt_plain[256], rt_ext[256];
  json_object *o;
  char *code;
  time_t t0;

  sim_start(args); /* the harness login used `signature extended` */
  snprintf(rt_ext, sizeof(rt_ext), "%s", RT);
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=p"
                "&scope=signature&prompt=login&login_hint=x%40y.z"
                "&ui_locales=de&code_challenge="
                "AU_o5raObasYfDDnhKvGWYxma_LKUP0ntKivwcjSHds"
                "&code_challenge_method=S256",
                302, loc, sizeof(loc));
  code = strstr(loc, "code=");
  EXPECT_TRUE(code != NULL);
  code += 5;
  code[strcspn(code, "&")] = '\0';
  snprintf(form, sizeof(form), "grant_type=authorization_code&code=%s", code);
  o = token_call(form, "sim-secret", 400); /* verifier missing */
  EXPECT_EQ_STR("invalid_grant", sim_jstr(o, "error"));
  json_object_put(o);
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=p"
                "&scope=signature&code_challenge="
                "AU_o5raObasYfDDnhKvGWYxma_LKUP0ntKivwcjSHds"
                "&code_challenge_method=S256",
                302, loc, sizeof(loc));
  code = strstr(loc, "code=") + 5;
  code[strcspn(code, "&")] = '\0';
  snprintf(form, sizeof(form),
           "grant_type=authorization_code&code=%s&code_verifier=wrong-one",
           code);
  o = token_call(form, "sim-secret", 400); /* verifier does not match */
  EXPECT_EQ_STR("invalid_grant", sim_jstr(o, "error"));
  json_object_put(o);
  auth_redirect("response_type=code&client_id=sim-integration-key"
                "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=p"
                "&scope=signature&code_challenge="
                "AU_o5raObasYfDDnhKvGWYxma_LKUP0ntKivwcjSHds"
                "&code_challenge_method=S256",
                302, loc, sizeof(loc));
  code = strstr(loc, "code=") + 5;
  code[strcspn(code, "&")] = '\0';
  snprintf(form, sizeof(form),
           "grant_type=authorization_code&code=%s&code_verifier=%s", code,
           "sim-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz");
  t0 = time(NULL);
  o = token_call(form, "sim-secret", 200);
  snprintf(rt_plain, sizeof(rt_plain), "%s", sim_jstr(o, "refresh_token"));
  json_object_put(o);
  /* refresh both once a second until the first lifetime has passed */
  while (time(NULL) < t0 + 4) {
    snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
             rt_ext);
    o = token_call(form, "sim-secret", 200);
    snprintf(rt_ext, sizeof(rt_ext), "%s", sim_jstr(o, "refresh_token"));
    json_object_put(o);
    if (time(NULL) < t0 + 2) {
      snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
               rt_plain);
      o = token_call(form, "sim-secret", 200);
      snprintf(rt_plain, sizeof(rt_plain), "%s", sim_jstr(o, "refresh_token"));
      json_object_put(o);
    }
    nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
  }
  snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
           rt_plain);
  o = token_call(form, "sim-secret", 400); /* kept the first expiry */
  EXPECT_EQ_STR("invalid_grant", sim_jstr(o, "error"));
  json_object_put(o);
  snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
           rt_ext);
  o = token_call(form, "sim-secret", 200); /* extended: still alive */
  json_object_put(o);
  stop();
}

/* --integration-user picks the consenting user: sub and admin rights follow */
static void test_integration_user(void) {
  const char *args[] = {"--users", "40", "--seed", "2", NULL};
  const char *args2[] = {"--users", "40", "--seed", "2", "--integration-user",
                         NULL,      NULL};
  char id[64] = "", url[256];
  json_object *o, *users;
  size_t i;
  sim_resp r;

  sim_start(args);
  o = rest("GET", NULL, 200, NULL, "/users?additional_info=true");
  users = get(o, "users");
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    if (strcmp(sim_jstr(u, "isAdmin"), "False") == 0 &&
        strcmp(sim_jstr(u, "userStatus"), "Active") == 0) {
      snprintf(id, sizeof(id), "%s", sim_jstr(u, "userId"));
      break;
    }
  }
  json_object_put(o);
  stop();
  EXPECT_TRUE(id[0] != '\0');
  args2[5] = id;
  sim_start(args2);
  EXPECT_EQ_STR(id, S.integ);
  snprintf(url, sizeof(url), "%s/oauth/userinfo", S.http);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  EXPECT_EQ_STR(id, sim_jstr(o, "sub"));
  json_object_put(o);
  sim_resp_free(&r);
  o = rest("GET", NULL, 400, NULL, "/users"); /* a Sender, not an admin */
  expect_error(o, "USER_LACKS_PERMISSIONS");
  json_object_put(o);
  stop();
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SAM_T_RUN(test_oauth);
  SAM_T_RUN(test_consent_page);
  SAM_T_RUN(test_consent_escapes_account_name);
  SAM_T_RUN(test_auth_errors);
  SAM_T_RUN(test_pkce_and_lifetimes);
  SAM_T_RUN(test_integration_user);
  curl_global_cleanup();
  return 0;
}
