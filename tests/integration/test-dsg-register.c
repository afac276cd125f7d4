/*
 * test-dsg-register.c: the real plugin (libsam_docusign.so) loaded through
 * the test host. Asserts what it registered, that its not-yet-implemented
 * processes and actions answer SAM_ENOTSUP with a message, that a bad
 * config_json fails init with a message naming the field, and that
 * shutdown completes with the loop empty.
 *
 * argv[1]: the plugin's manifest in the build tree.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "sam_test_host.h"

static const char *g_manifest;

#define PROFILE_JSON                                                           \
  "{\"display_name\":\"DocuSign Integration\","                                \
  "\"integration_type\":\"account_level\",\"client_id\":\"cid\","              \
  "\"account_id\":\"12345678\","                                               \
  "\"instance_url\":\"http://127.0.0.1:9\",\"download_enabled\":true,"         \
  "\"reclaim_enabled\":true}"

static json_object *get(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v))
    SAM_T_FAIL("missing key [%s] in [%.300s]", key,
               json_object_to_json_string(o));
  return v;
}

static const char *get_str(json_object *o, const char *key) {
  return json_object_get_string(get(o, key));
}

/* The array element whose `key` equals `id`, or a failure. */
static json_object *find(json_object *arr, const char *key, const char *id) {
  size_t i;

  for (i = 0; i < json_object_array_length(arr); i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    json_object *v = NULL;
    if (json_object_object_get_ex(e, key, &v) &&
        strcmp(json_object_get_string(v), id) == 0)
      return e;
  }
  SAM_T_FAIL("no entry with [%s=%s]", key, id);
  return NULL;
}

typedef struct harness {
  uv_loop_t loop;
  sam_test_host *th;
} harness;

static void h_start(harness *h) {
  EXPECT_EQ_INT(0, uv_loop_init(&h->loop));
  EXPECT_EQ_INT(0, sam_test_host_new(&h->loop, NULL, &h->th));
}

static void h_finish(harness *h) {
  EXPECT_EQ_INT(0, sam_test_host_shutdown(h->th));
  EXPECT_EQ_STR("", sam_test_host_violations(h->th));
  sam_test_host_free(h->th);
  EXPECT_EQ_INT(0, uv_run(&h->loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&h->loop));
}

static void test_registry(void) {
  harness h;
  sam_load_result res;
  json_object *root;
  json_object *plugins;
  json_object *p;
  json_object *pt;
  json_object *arr;
  json_object *e;
  json_object *form;
  const char *const models[] = {"Account Administrator",
                                "DocuSign Sender",
                                "DocuSign Viewer",
                                "Sender",
                                "Viewer",
                                "Signer",
                                "Standard",
                                "Professional",
                                "Business Pro"};
  size_t i;

  h_start(&h);
  memset(&res, 0, sizeof(res));
  EXPECT_EQ_INT(
      0, sam_test_host_load(h.th, g_manifest, "{\"test_mode\":true}", &res));
  if (res.status != 0)
    SAM_T_FAIL("load failed [%s]", res.message);
  root = json_tokener_parse(sam_test_host_registry_json(h.th));
  EXPECT_TRUE(root != NULL);
  plugins = get(root, "plugins");
  EXPECT_EQ_INT(1, json_object_array_length(plugins));
  p = json_object_array_get_idx(plugins, 0);
  EXPECT_EQ_STR("docusign", get_str(p, "name"));

  /* One profile type, its form with the secret field. */
  pt = get(p, "profile_type");
  EXPECT_EQ_STR("docusign_subscription", get_str(pt, "type_id"));
  EXPECT_EQ_STR("DocuSign Subscription", get_str(pt, "display_name"));
  arr = get(pt, "secret_fields");
  EXPECT_EQ_INT(1, json_object_array_length(arr));
  EXPECT_EQ_STR("client_secret",
                json_object_get_string(json_object_array_get_idx(arr, 0)));
  form = get(get(pt, "form_schema"), "properties");
  EXPECT_TRUE(
      json_object_get_boolean(get(get(form, "download_enabled"), "const")));
  EXPECT_TRUE(
      json_object_get_boolean(get(get(form, "reclaim_enabled"), "default")));
  EXPECT_EQ_STR("https://account.docusign.com",
                get_str(get(form, "instance_url"), "default"));

  /* Record types. */
  arr = get(p, "record_types");
  EXPECT_EQ_INT(3, json_object_array_length(arr));
  e = find(arr, "record_type", "docusign_consumption");
  EXPECT_EQ_STR("/account_id", get_str(e, "key_pointer"));
  EXPECT_TRUE(json_object_get_boolean(get(e, "validate_writes")));
  e = find(arr, "record_type", "docusign_download_state");
  EXPECT_EQ_STR("/run_id", get_str(e, "key_pointer"));
  e = find(arr, "record_type", "docusign_reclaim_intent");
  EXPECT_EQ_STR("/batch_id", get_str(e, "key_pointer"));

  /* Processes and their flags. */
  arr = get(p, "processes");
  EXPECT_EQ_INT(2, json_object_array_length(arr));
  e = find(arr, "process_id", "download");
  EXPECT_EQ_STR("Download subscriptions", get_str(e, "display_name"));
  EXPECT_EQ_INT(SAM_PROC_CANCELLABLE, json_object_get_int(get(e, "flags")));
  e = find(arr, "process_id", "reclaim");
  EXPECT_EQ_STR("Reclaim subscriptions", get_str(e, "display_name"));
  EXPECT_EQ_INT(SAM_PROC_CANCELLABLE | SAM_PROC_MUTATES_REMOTE |
                    SAM_PROC_DRY_RUN,
                json_object_get_int(get(e, "flags")));

  /* Actions. */
  arr = get(p, "actions");
  EXPECT_EQ_INT(4, json_object_array_length(arr));
  e = find(arr, "action_id", "restore_subscription"); /* Undo, no button */
  EXPECT_EQ_INT(0, json_object_get_int(get(e, "flags")));
  e = find(arr, "action_id", "get_oauth_token");
  EXPECT_EQ_INT(SAM_ACTION_UI | SAM_ACTION_OAUTH_START,
                json_object_get_int(get(e, "flags")));
  e = find(arr, "action_id", "validate_connection");
  EXPECT_EQ_INT(SAM_ACTION_UI, json_object_get_int(get(e, "flags")));
  e = find(arr, "action_id", "oauth_callback");
  EXPECT_EQ_INT(SAM_ACTION_OAUTH_CALLBACK,
                json_object_get_int(get(e, "flags")));

  /* The catalog and one rule template per model. */
  arr = get(p, "models");
  EXPECT_EQ_INT(sizeof(models) / sizeof(models[0]),
                json_object_array_length(arr));
  for (i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
    json_object *m = get(find(arr, "identifier", models[i]), "model");
    EXPECT_EQ_STR("DocuSign", get_str(m, "publisher"));
    EXPECT_EQ_STR("DocuSign eSignature", get_str(m, "product"));
    EXPECT_EQ_STR(models[i], get_str(m, "edition"));
    EXPECT_EQ_STR("user", get_str(m, "metric"));
  }
  arr = get(p, "rule_templates");
  EXPECT_EQ_INT(sizeof(models) / sizeof(models[0]),
                json_object_array_length(arr));
  e = get(find(arr, "template_id", "docusign_assigned_60d_docusign_sender"),
          "rule");
  EXPECT_EQ_STR("subscription_assigned_date", get_str(e, "basis"));
  EXPECT_EQ_INT(60,
                json_object_get_int(get(e, "last_activity_threshold_days")));
  EXPECT_EQ_INT(60, json_object_get_int(get(e, "grace_days")));
  EXPECT_EQ_INT(0, json_object_get_int(get(e, "days_before_auto_reclamation")));
  EXPECT_TRUE(!json_object_get_boolean(get(e, "notify_user")));
  EXPECT_TRUE(json_object_get_boolean(get(e, "create_candidate")));
  EXPECT_TRUE(json_object_get_boolean(get(e, "active")));
  EXPECT_EQ_STR("Software managers", get_str(e, "assignment_group"));
  EXPECT_EQ_STR("DocuSign Sender", get_str(e, "software_model"));
  find(arr, "template_id", "docusign_assigned_60d_business_pro");
  find(arr, "template_id", "docusign_assigned_60d_account_administrator");
  json_object_put(root);
  h_finish(&h);
}

static void test_not_implemented(void) {
  harness h;
  sam_load_result res;

  h_start(&h);
  EXPECT_EQ_INT(0, sam_test_host_load(h.th, g_manifest, NULL, &res));
  if (res.status != 0)
    SAM_T_FAIL("load failed [%s]", res.message);
  /* download is implemented (test-dsg-download): against this profile's
   * unreachable Instance URL it completes once, with a real status. */
  {
    sam_test_run run;

    memset(&run, 0, sizeof(run));
    EXPECT_EQ_INT(0, sam_test_host_run(h.th, SAM_JOB_PROCESS, "download", "p1",
                                       PROFILE_JSON, NULL, 0, 0, 0, &run));
    EXPECT_EQ_INT(1, run.completions);
    EXPECT_TRUE(run.status != SAM_ENOTSUP && run.status != SAM_OK);
  }
  /* reclaim is implemented (test-dsg-reclaim): with this test host's
   * store it completes once, with a real status. */
  {
    sam_test_run run;

    memset(&run, 0, sizeof(run));
    EXPECT_EQ_INT(0, sam_test_host_run(h.th, SAM_JOB_PROCESS, "reclaim", "p1",
                                       PROFILE_JSON, NULL, SAM_JOB_DRY_RUN, 0,
                                       0, &run));
    EXPECT_EQ_INT(1, run.completions);
    EXPECT_TRUE(run.status != SAM_ENOTSUP);
  }
  /* The actions are implemented (test-dsg-oauth); without a token,
   * Validate Connection fails at once with a message saying what to do. */
  {
    sam_test_run run;

    memset(&run, 0, sizeof(run));
    EXPECT_EQ_INT(0,
                  sam_test_host_run(h.th, SAM_JOB_ACTION, "validate_connection",
                                    "p1", PROFILE_JSON, NULL, 0, 0, 0, &run));
    EXPECT_EQ_INT(1, run.completions);
    EXPECT_TRUE(run.status != SAM_OK && run.status != SAM_ENOTSUP);
  }
  h_finish(&h);
}

static void test_bad_config(void) {
  harness h;
  sam_load_result res;
  json_object *root;

  h_start(&h);
  memset(&res, 0, sizeof(res));
  sam_test_host_load(h.th, g_manifest, "{\"test_mode\":\"yes\"}", &res);
  EXPECT_EQ_INT(SAM_EINVAL, res.status);
  EXPECT_CONTAINS(res.message, "[test_mode]");
  EXPECT_CONTAINS(res.message, "[\"yes\"]");
  root = json_tokener_parse(sam_test_host_registry_json(h.th));
  EXPECT_TRUE(root != NULL);
  EXPECT_EQ_INT(0, json_object_array_length(get(root, "plugins")));
  json_object_put(root);
  h_finish(&h);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <plugin.manifest.json>\n", argv[0]);
    return 2;
  }
  g_manifest = argv[1];
  SAM_T_RUN(test_registry);
  SAM_T_RUN(test_not_implemented);
  SAM_T_RUN(test_bad_config);
  return 0;
}
