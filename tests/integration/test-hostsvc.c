/*
 * test-hostsvc.c: the service layer (sam_hostsvc.h) through
 * sam_hostsvc_call, on the test host (in-memory backend; HOSTSVC_BACKEND=
 * sqlite: the SQLite store) with the scheduler and the hsfx fixture
 * plugin: form validation with per-field errors, write-only secrets,
 * duplicate accounts, the OAuth state and redirect, materialization,
 * validate -> publish -> jobs, credential change -> Draft. The lists,
 * edits, jobs and delete cases are in test-hostsvc-lists.c. Ends with an
 * empty loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "test-hostsvc.h"

/* ---- the tests ---- */


static void test_registry(void) {
  EXPECT_EQ_INT(200, call("GET", "/api/v1/plugins", NULL, NULL));
  EXPECT_CONTAINS(last.body, "\"hsfx\"");
  EXPECT_EQ_INT(200, call("GET", "/api/v1/profile-types", NULL, NULL));
  EXPECT_CONTAINS(last.body, "hsfx_account");
  EXPECT_CONTAINS(last.body, "x-sam-secret");
  EXPECT_EQ_INT(404, call("GET", "/api/v1/nothing", NULL, NULL));
}

static void test_create_errors(void) {
  /* Every invalid field is reported, each at its pointer. */
  EXPECT_EQ_INT(
      400,
      call("POST", "/api/v1/profiles", NULL,
           "{\"type_id\":\"hsfx_account\",\"form\":{\"display_name\":\"\","
           "\"client_id\":\"bad id!\",\"account_id\":\"abc\","
           "\"client_secret\":\"sh0rtpw\",\"region\":\"mars\","
           "\"bogus\":1,\"account_name\":\"x\",\"download_enabled\":false}}"));
  EXPECT_EQ_STR("SAM_EINVAL", jstr(last.json, "status"));
  EXPECT_TRUE(has_error_at("/display_name"));
  EXPECT_TRUE(has_error_at("/client_id"));
  EXPECT_TRUE(has_error_at("/account_id"));
  EXPECT_TRUE(has_error_at("/client_secret"));
  EXPECT_TRUE(has_error_at("/region"));
  EXPECT_TRUE(has_error_at("/bogus"));
  EXPECT_TRUE(has_error_at("/account_name"));
  EXPECT_TRUE(has_error_at("/download_enabled")); /* const */
  EXPECT_CONTAINS(last.body, "unknown field [bogus]");
  EXPECT_CONTAINS(last.body, "read-only [account_name]");
  EXPECT_NOT_CONTAINS(last.body, "sh0rtpw");

  /* Missing required fields, at their pointers. */
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"hsfx_account\",\"form\":{}}"));
  EXPECT_TRUE(has_error_at("/client_id"));
  EXPECT_TRUE(has_error_at("/client_secret"));
  EXPECT_TRUE(has_error_at("/display_name"));

  /* The host fills redirect_url: a client may not. */
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"hsfx_account\",\"form\":{"
                          "\"redirect_url\":\"http://evil\"}}"));
  EXPECT_TRUE(has_error_at("/redirect_url"));

  /* Unknown top-level field, unknown type, not JSON. */
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"hsfx_account\",\"x\":1,"
                          "\"form\":{}}"));
  EXPECT_TRUE(has_error_at("/x"));
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"nope\",\"form\":{}}"));
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL, "{\"type_"));
}

static void test_create_ok(void) {
  char path[128], *all;

  EXPECT_EQ_INT(
      201, call("POST", "/api/v1/profiles", NULL, create_body("42", "Acme")));
  snprintf(pid1, sizeof(pid1), "%s", jstr(last.json, "profile_id"));
  EXPECT_EQ_STR("draft", jstr(last.json, "state"));
  EXPECT_EQ_STR("not_connected", jstr(last.json, "connection_status"));
  EXPECT_EQ_STR("eu", jstr(last.json, "form.region")); /* default */
  EXPECT_EQ_STR(PUBLIC_URL "/oauth_redirect.do",
                jstr(last.json, "form.redirect_url"));
  EXPECT_TRUE(
      json_object_get_boolean(jget(last.json, "form.client_secret.set")));
  EXPECT_NOT_CONTAINS(last.body, SECRET);

  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("Acme", jstr(last.json, "display_name"));
  EXPECT_NOT_CONTAINS(last.body, SECRET);
  EXPECT_EQ_INT(200,
                call("GET", "/api/v1/profiles", "type=hsfx_account", NULL));
  EXPECT_NOT_CONTAINS(last.body, SECRET);

  /* The secret is sealed, not in any record. */
  all = raw_all("_host", "sam_profile");
  EXPECT_CONTAINS(all, pid1);
  EXPECT_NOT_CONTAINS(all, SECRET);
  free(all);
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "client_secret"));

  /* Same account again: refused; another account: fine. */
  EXPECT_EQ_INT(409, call("POST", "/api/v1/profiles", NULL,
                          create_body("42", "Acme again")));
  EXPECT_EQ_STR("SAM_ECONFLICT", jstr(last.json, "status"));
  EXPECT_EQ_INT(
      201, call("POST", "/api/v1/profiles", NULL, create_body("43", "Other")));
  snprintf(pid2, sizeof(pid2), "%s", jstr(last.json, "profile_id"));

  /* Two creates for one new account in flight at once: one wins. */
  {
    reply a = {0}, b = {0};
    char body[512];

    snprintf(body, sizeof(body), "%s", create_body("44", "Race"));
    EXPECT_EQ_INT(0,
                  sam_hostsvc_call(svc, "POST", "/api/v1/profiles", NULL, body,
                                   strlen(body), "tester", on_reply, &a));
    EXPECT_EQ_INT(0,
                  sam_hostsvc_call(svc, "POST", "/api/v1/profiles", NULL, body,
                                   strlen(body), "tester", on_reply, &b));
    run_until(&a.done);
    run_until(&b.done);
    EXPECT_EQ_INT(201 + 409, a.http + b.http);
    snprintf(path, sizeof(path), "/api/v1/profiles/%s",
             jstr(a.http == 201 ? a.json : b.json, "profile_id"));
    free(a.body);
    free(b.body);
    json_object_put(a.json);
    json_object_put(b.json);
    EXPECT_EQ_INT(200, call("DELETE", path, NULL, NULL));
  }
  EXPECT_EQ_INT(404, call("GET", "/api/v1/profiles/nope", NULL, NULL));
}

/* Runs get_token on `s` and returns the state (static buffer). */
static const char *oauth_start(sam_hostsvc *s, const char *pid) {
  static char state[128];
  char path[160];
  const char *url, *p;

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/get_token", pid);
  EXPECT_EQ_INT(200, call_on(s, "POST", path, NULL, NULL));
  EXPECT_EQ_STR("SAM_OK", jstr(last.json, "status"));
  url = jstr(last.json, "result.redirect_url");
  EXPECT_TRUE(url != NULL);
  p = strstr(url, "state=");
  EXPECT_TRUE(p != NULL);
  snprintf(state, sizeof(state), "%.*s", (int)strcspn(p + 6, "&"), p + 6);
  EXPECT_EQ_INT(43, strlen(state)); /* 32 bytes, base64url */
  EXPECT_CONTAINS(url, "oauth_redirect.do");
  return state;
}

static int redirect(sam_hostsvc *s, const char *code, const char *state) {
  char q[300];

  snprintf(q, sizeof(q), "code=%s&state=%s", code, state);
  return call_on(s, "GET", "/oauth_redirect.do", q, NULL);
}

static void test_oauth(void) {
  char state[128], path[160], q[300];
  char *rec;

  /* Wrong state: refused, the plugin is not called. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid1));
  EXPECT_EQ_INT(400, redirect(svc, "good-code",
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  EXPECT_EQ_STR("text/html", last.ctype);
  EXPECT_EQ_INT(0, count_callbacks());
  EXPECT_EQ_INT(400, call("GET", "/oauth_redirect.do", "code=x", NULL));
  EXPECT_EQ_INT(0, count_callbacks());

  /* The right state: the callback runs, the patch is merged, the catalog
   * is materialized; the page never shows the code or a token. */
  EXPECT_EQ_INT(200, redirect(svc, "good-code", state));
  EXPECT_EQ_STR("text/html", last.ctype);
  EXPECT_EQ_INT(1, count_callbacks());
  EXPECT_NOT_CONTAINS(last.body, "good-code");
  EXPECT_NOT_CONTAINS(last.body, "fx-access-token");
  snprintf(path, sizeof(path), "/ui/profiles/%s", pid1);
  EXPECT_CONTAINS(last.body, path);

  /* Replayed: refused without calling the plugin. */
  EXPECT_EQ_INT(400, redirect(svc, "good-code", state));
  EXPECT_EQ_INT(1, count_callbacks());

  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("connected", jstr(last.json, "connection_status"));
  EXPECT_EQ_STR("Acme Corp", jstr(last.json, "form.account_name"));
  EXPECT_EQ_STR("https://api.example.test", jstr(last.json, "form.base_uri"));
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "tokens"));

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/models", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  EXPECT_EQ_STR("Pro Seat", jstr(last.json, "items.0.identifier"));
  EXPECT_EQ_STR("catalog", jstr(last.json, "items.0.source"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/rules", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  EXPECT_EQ_STR("hsfx_assigned_60d", jstr(last.json, "items.0.rule_id"));

  /* An admin edits the rule (validated), then a second connect with an
   * older stored template version: the edit stays, the new template is
   * offered as a suggestion, nothing is duplicated. */
  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/lists/rules/hsfx_assigned_60d", pid1);
  EXPECT_EQ_INT(
      400, call("PATCH", path, NULL, "{\"last_activity_threshold_days\":0}"));
  EXPECT_TRUE(has_error_at("/last_activity_threshold_days"));
  EXPECT_EQ_INT(400, call("PATCH", path, NULL, "{\"rule_id\":\"x\"}"));
  EXPECT_EQ_INT(
      200, call("PATCH", path, NULL, "{\"last_activity_threshold_days\":90}"));
  EXPECT_TRUE(json_object_get_boolean(jget(last.json, "edited")));
  rec = raw_get(pid1, "sam_reclamation_rule", "hsfx_assigned_60d");
  {
    json_object *o = json_tokener_parse(rec);

    json_object_object_add(o, "template_version", json_object_new_int(0));
    EXPECT_EQ_INT(0, raw_put(pid1, "sam_reclamation_rule", "hsfx_assigned_60d",
                             json_object_to_json_string(o)));
    json_object_put(o);
  }
  free(rec);
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid1));
  EXPECT_EQ_INT(200, redirect(svc, "good-code", state));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/rules", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  EXPECT_EQ_INT(90, json_object_get_int(jget(
                        last.json, "items.0.last_activity_threshold_days")));
  EXPECT_EQ_INT(
      1, json_object_get_int(
             jget(last.json, "items.0.suggested_update.template_version")));
  /* Accepting the suggestion takes the template over. */
  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/lists/rules/hsfx_assigned_60d", pid1);
  EXPECT_EQ_INT(200, call("PATCH", path, NULL, "{\"accept_suggestion\":true}"));
  EXPECT_EQ_INT(
      60, json_object_get_int(jget(last.json, "last_activity_threshold_days")));
  EXPECT_EQ_INT(1, json_object_get_int(jget(last.json, "template_version")));
  EXPECT_TRUE(jget(last.json, "suggested_update") == NULL);
  EXPECT_TRUE(!json_object_get_boolean(jget(last.json, "edited")));
  EXPECT_EQ_INT(409, call("PATCH", path, NULL, "{\"accept_suggestion\":true}"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/models", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));

  /* Declined consent: the message is stored, the plugin is not called. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid2));
  snprintf(q, sizeof(q), "error=access_denied&state=%s", state);
  EXPECT_EQ_INT(400, call("GET", "/oauth_redirect.do", q, NULL));
  EXPECT_CONTAINS(last.body, "access_denied");
  EXPECT_EQ_INT(2, count_callbacks());
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid2);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_CONTAINS(jstr(last.json, "last_error"), "access_denied");

  /* A code the provider rejects, and a patch of a field the plugin may
   * not patch: failure pages, last_error set. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid2));
  EXPECT_EQ_INT(400, redirect(svc, "bad-code", state));
  EXPECT_CONTAINS(last.body, "rejected");
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid2));
  EXPECT_EQ_INT(400, redirect(svc, "bad-patch", state));
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_CONTAINS(jstr(last.json, "last_error"), "profile_patch");
  EXPECT_EQ_STR("abc-123", jstr(last.json, "form.client_id"));

  /* Expired state (TTL 1 ms): refused without calling the plugin. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc_short, pid2));
  uv_sleep(20);
  uv_update_time(&loop);
  EXPECT_EQ_INT(400, redirect(svc_short, "good-code", state));
  EXPECT_CONTAINS(last.body, "expired");
  EXPECT_EQ_INT(4, count_callbacks());
}

static void test_validate_publish(void) {
  char path[160];

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/publish", pid1);
  EXPECT_EQ_INT(409, call("POST", path, NULL, NULL));
  EXPECT_CONTAINS(last.body, "Validate Connection");

  /* validate on a profile without tokens fails with the plugin's message,
   * mapped to 403 (SAM_EAUTH), and stored as last_error. */
  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/actions/validate_connection", pid2);
  EXPECT_EQ_INT(403, call("POST", path, NULL, NULL));
  EXPECT_EQ_STR("SAM_EAUTH", jstr(last.json, "status"));
  EXPECT_CONTAINS(jstr(last.json, "message"), "Get OAuth Token");
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid2);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("needs_consent", jstr(last.json, "connection_status"));
  EXPECT_CONTAINS(jstr(last.json, "last_error"), "validate_connection");
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/oauth_callback",
           pid1);
  EXPECT_EQ_INT(404, call("POST", path, NULL, NULL)); /* not a UI action */

  /* An action past its deadline answers 504 once it has completed. */
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/slow", pid1);
  EXPECT_EQ_INT(504, call("POST", path, NULL, NULL));
  EXPECT_EQ_STR("SAM_ETIMEDOUT", jstr(last.json, "status"));
  EXPECT_EQ_INT(404,
                call("POST", "/api/v1/profiles/nope/actions/slow", NULL, NULL));

  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/actions/validate_connection", pid1);
  EXPECT_EQ_INT(200, call("POST", path, NULL, NULL));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("validated", jstr(last.json, "connection_status"));

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/publish", pid1);
  EXPECT_EQ_INT(200, call("POST", path, NULL, NULL));
  EXPECT_EQ_STR("published", jstr(last.json, "state"));
  EXPECT_TRUE(jstr(last.json, "run_job_id") != NULL);
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));
  EXPECT_CONTAINS(last.body, "SAM - Refresh Acme Subscriptions");
  EXPECT_EQ_INT(200, call("GET", "/api/v1/jobs", NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));

  /* Start-up renewal of the published profiles' jobs is idempotent. */
  svc_start();
  EXPECT_EQ_INT(200, call("GET", "/api/v1/jobs", NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));
}

static void test_update_resets(void) {
  char path[160];

  /* A change outside reset_on_change keeps the state. */
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200,
                call("PATCH", path, NULL, "{\"form\":{\"region\":\"us\"}}"));
  EXPECT_EQ_STR("published", jstr(last.json, "state"));
  /* A new display name renames the published profile's jobs. */
  EXPECT_EQ_INT(200, call("PATCH", path, NULL,
                          "{\"form\":{\"display_name\":\"Acme Two\"}}"));
  EXPECT_EQ_STR("published", jstr(last.json, "state"));
  EXPECT_EQ_STR("Acme Two", jstr(last.json, "display_name"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));
  EXPECT_CONTAINS(last.body, "SAM - Refresh Acme Two Subscriptions");
  EXPECT_NOT_CONTAINS(last.body, "Refresh Acme Subscriptions");
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(
      400, call("PATCH", path, NULL, "{\"form\":{\"account_name\":\"x\"}}"));
  EXPECT_EQ_INT(400, call("PATCH", path, NULL, "{\"state\":\"published\"}"));
  EXPECT_EQ_INT(
      409, call("PATCH", path, NULL, "{\"form\":{\"account_id\":\"43\"}}"));

  /* Clearing an optional process: Draft, jobs removed, tokens kept. */
  EXPECT_EQ_INT(
      200, call("PATCH", path, NULL, "{\"form\":{\"reclaim_enabled\":false}}"));
  EXPECT_EQ_STR("draft", jstr(last.json, "state"));
  EXPECT_EQ_STR("connected", jstr(last.json, "connection_status"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(0, json_object_array_length(jget(last.json, "items")));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);

  /* A credential change: Draft, tokens gone, jobs removed. */
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "tokens"));
  EXPECT_EQ_INT(
      200, call("PATCH", path, NULL, "{\"form\":{\"client_id\":\"new-id\"}}"));
  EXPECT_EQ_STR("draft", jstr(last.json, "state"));
  EXPECT_EQ_STR("not_connected", jstr(last.json, "connection_status"));
  EXPECT_EQ_STR("new-id", jstr(last.json, "form.client_id"));
  EXPECT_EQ_STR("Acme Two", jstr(last.json, "display_name"));
  EXPECT_TRUE(
      json_object_get_boolean(jget(last.json, "form.client_secret.set")));
  EXPECT_EQ_INT(SAM_ENOENT, raw_secret_status(pid1, "tokens"));
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "client_secret"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(0, json_object_array_length(jget(last.json, "items")));
}

int main(void) {
  setup();
  SAM_T_RUN(test_registry);
  SAM_T_RUN(test_create_errors);
  SAM_T_RUN(test_create_ok);
  SAM_T_RUN(test_oauth);
  SAM_T_RUN(test_validate_publish);
  SAM_T_RUN(test_jobs);
  SAM_T_RUN(test_update_resets);
  SAM_T_RUN(test_lists);
  SAM_T_RUN(test_edits);
  SAM_T_RUN(test_delete);
  teardown();
  return 0;
}
