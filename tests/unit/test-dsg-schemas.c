/*
 * test-dsg-schemas.c: the plugin's embedded JSON, checked with the host's
 * own validator: the form schema compiles as a form schema, every record
 * schema compiles, sample records and profiles validate (and broken ones do
 * not, naming the field), and every catalog model and rule template
 * satisfies both the plugin-facing schemas (software-model,
 * reclamation-rule) and the host records they are materialized into.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"
#include "sam_schema.h"
#include "sam_test.h"

#include "dsg_embed.h"

static sam__schema *compile_text(const char *text, size_t len, unsigned flags) {
  sam__schema *s = NULL;
  char err[512] = "";
  int rc = sam__schema_compile(text, len, flags, &s, err, sizeof(err));

  if (rc != 0)
    SAM_T_FAIL("schema does not compile [%s]", err);
  return s;
}

static sam__schema *compile_file(const char *name) {
  char path[1024];
  FILE *f;
  char *buf;
  long n;
  sam__schema *s;

  snprintf(path, sizeof(path), "%s/schemas/%s", SAM_SOURCE_DIR, name);
  f = fopen(path, "rb");
  if (f == NULL)
    SAM_T_FAIL("cannot open [%s]", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  EXPECT_TRUE(buf != NULL);
  EXPECT_EQ_INT(n, (long)fread(buf, 1, (size_t)n, f));
  buf[n] = '\0';
  fclose(f);
  s = compile_text(buf, (size_t)n, 0);
  free(buf);
  return s;
}

static void expect_valid_obj(const sam__schema *s, json_object *o) {
  sam__schema_error errs[4];
  size_t n = 0;

  if (sam__schema_validate_obj(s, o, errs, 4, &n) != 0)
    SAM_T_FAIL("expected valid, got [%s]: %s [%s]",
               n > 0 ? errs[0].pointer : "?", n > 0 ? errs[0].reason : "?",
               json_object_to_json_string(o));
}

static void expect_valid(const sam__schema *s, const char *json) {
  sam__schema_error errs[4];
  size_t n = 0;

  if (sam__schema_validate(s, json, strlen(json), errs, 4, &n) != 0)
    SAM_T_FAIL("expected valid, got [%s]: %s [%s]",
               n > 0 ? errs[0].pointer : "?", n > 0 ? errs[0].reason : "?",
               json);
}

/* Invalid, and some error names `pointer`. */
static void
expect_invalid(const sam__schema *s, const char *json, const char *pointer) {
  sam__schema_error errs[16];
  size_t n = 0;
  size_t i;

  EXPECT_EQ_INT(SAM_EINVAL,
                sam__schema_validate(s, json, strlen(json), errs, 16, &n));
  for (i = 0; i < n; i++) {
    if (strstr(errs[i].pointer, pointer) != NULL)
      return;
  }
  SAM_T_FAIL("no error at [%s] for [%s] (first: [%s] %s)", pointer, json,
             n > 0 ? errs[0].pointer : "", n > 0 ? errs[0].reason : "");
}

#define GUID "0b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
#define PROFILE_HEAD                                                           \
  "{\"display_name\":\"DocuSign Integration\","                                \
  "\"integration_type\":\"account_level\",\"client_id\":\"" GUID "\","         \
  "\"client_secret\":\"s3cret\",\"download_enabled\":true,"                    \
  "\"reclaim_enabled\":true,"

static void test_form(void) {
  sam__schema *s =
      compile_text(dsg_embed_docusign_profile_form,
                   dsg_embed_docusign_profile_form_len, SAM__SCHEMA_FORM);

  expect_valid(s, PROFILE_HEAD
               "\"account_id\":\"" GUID "\","
               "\"instance_url\":\"https://account.docusign.com\"}");
  expect_valid(s, PROFILE_HEAD
               "\"account_id\":\"12345678\","
               "\"instance_url\":\"https://account-d.docusign.com\","
               "\"redirect_url\":\"https://sam.example/oauth_redirect.do\","
               "\"profile_type\":\"DocuSign Subscription\","
               "\"connection_status\":\"validated\"}");
  /* A client id with a colon would break Basic client authentication. */
  expect_invalid(
      s,
      "{\"display_name\":\"x\",\"integration_type\":\"account_level\","
      "\"client_id\":\"a:b\",\"client_secret\":\"s\","
      "\"download_enabled\":true,\"reclaim_enabled\":true,"
      "\"account_id\":\"1\",\"instance_url\":"
      "\"https://account.docusign.com\"}",
      "/client_id");
  /* The simulator on loopback (tests). */
  expect_valid(s, PROFILE_HEAD "\"account_id\":\"" GUID "\","
                               "\"instance_url\":\"http://127.0.0.1:40123\"}");

  expect_invalid(s,
                 PROFILE_HEAD
                 "\"account_id\":\"acct-1\","
                 "\"instance_url\":\"https://account.docusign.com\"}",
                 "/account_id");
  expect_invalid(s,
                 PROFILE_HEAD
                 "\"account_id\":\"" GUID "\","
                 "\"instance_url\":\"http://account.docusign.com\"}",
                 "/instance_url");
  expect_invalid(s,
                 PROFILE_HEAD "\"account_id\":\"" GUID "\","
                              "\"instance_url\":\"https://evil.example\"}",
                 "/instance_url");
  expect_invalid(
      s,
      "{\"display_name\":\"x\",\"integration_type\":\"account_level\","
      "\"client_id\":\"c\",\"client_secret\":\"s\","
      "\"download_enabled\":false,\"reclaim_enabled\":false,"
      "\"account_id\":\"1\",\"instance_url\":"
      "\"https://account.docusign.com\"}",
      "/download_enabled");
  expect_invalid(s,
                 "{\"display_name\":\"x\",\"integration_type\":\"org_level\","
                 "\"client_id\":\"c\",\"client_secret\":\"s\","
                 "\"download_enabled\":true,\"reclaim_enabled\":false,"
                 "\"account_id\":\"1\",\"instance_url\":"
                 "\"https://account.docusign.com\"}",
                 "/integration_type");
  expect_invalid(s,
                 PROFILE_HEAD
                 "\"account_id\":\"1\",\"extra\":1,"
                 "\"instance_url\":\"https://account.docusign.com\"}",
                 "");
  expect_invalid(s,
                 PROFILE_HEAD
                 "\"account_id\":\"1\","
                 "\"profile_type\":\"Other\","
                 "\"instance_url\":\"https://account.docusign.com\"}",
                 "/profile_type");
  sam__schema_free(s);
}

static void test_records(void) {
  sam__schema *s;

  s = compile_text(dsg_embed_docusign_consumption,
                   dsg_embed_docusign_consumption_len, 0);
  expect_valid(s, "{\"account_id\":\"" GUID "\",\"billing_status\":"
                  "\"unavailable_reseller\",\"plan_name\":\"Business Pro\","
                  "\"fetched_at\":\"2026-11-28T10:00:00Z\"}");
  expect_valid(s, "{\"account_id\":\"" GUID "\",\"billing_status\":"
                  "\"available\",\"seats_allowed\":\"10\","
                  "\"seat_charge\":{\"included_quantity\":\"10\"},"
                  "\"fetched_at\":\"2026-11-28T10:00:00Z\"}");
  /* Reseller: consumption values must be absent, never zero. */
  expect_invalid(s,
                 "{\"account_id\":\"a\",\"billing_status\":"
                 "\"unavailable_reseller\",\"seat_charge\":"
                 "{\"used_quantity\":\"0\"},"
                 "\"fetched_at\":\"2026-11-28T10:00:00Z\"}",
                 "");
  expect_invalid(s,
                 "{\"account_id\":\"a\",\"billing_status\":\"maybe\","
                 "\"fetched_at\":\"2026-11-28T10:00:00Z\"}",
                 "/billing_status");
  sam__schema_free(s);

  s = compile_text(dsg_embed_docusign_download_state,
                   dsg_embed_docusign_download_state_len, 0);
  expect_valid(s, "{\"run_id\":\"r1\",\"status\":\"running\","
                  "\"started_at\":\"2026-11-28T10:00:00Z\",\"page_size\":100,"
                  "\"total_set_size\":250,\"pages_total\":3,"
                  "\"pages_done\":[{\"from\":0,\"to\":1}]}");
  expect_invalid(s,
                 "{\"run_id\":\"r1\",\"status\":\"running\","
                 "\"started_at\":\"2026-11-28T10:00:00Z\","
                 "\"page_size\":500,\"pages_done\":[]}",
                 "/page_size");
  sam__schema_free(s);

  s = compile_text(dsg_embed_docusign_reclaim_intent,
                   dsg_embed_docusign_reclaim_intent_len, 0);
  expect_valid(s, "{\"batch_id\":\"b1\",\"user_ids\":[\"" GUID "\"],"
                  "\"state\":\"pending\","
                  "\"created_at\":\"2026-11-28T10:00:00Z\"}");
  expect_invalid(s,
                 "{\"batch_id\":\"b1\",\"user_ids\":[],"
                 "\"state\":\"done\","
                 "\"created_at\":\"2026-11-28T10:00:00Z\"}",
                 "/state");
  sam__schema_free(s);
}

static json_object *parse_embedded(const char *text) {
  json_object *o = json_tokener_parse(text);

  EXPECT_TRUE(o != NULL);
  return o;
}

static void test_catalog(void) {
  sam__schema *plugin_s = compile_file("software-model.schema.json");
  sam__schema *host_s = compile_file("sam-software-model.schema.json");
  json_object *root = parse_embedded(dsg_embed_docusign_model_catalog);
  json_object *models = NULL;
  size_t i;

  EXPECT_TRUE(json_object_object_get_ex(root, "models", &models));
  EXPECT_TRUE(json_object_array_length(models) >= 8);
  for (i = 0; i < json_object_array_length(models); i++) {
    json_object *e = json_object_array_get_idx(models, i);
    json_object *m = NULL;
    json_object *id = NULL;
    json_object *copy = NULL;

    EXPECT_TRUE(json_object_object_get_ex(e, "model", &m));
    EXPECT_TRUE(json_object_object_get_ex(e, "identifier", &id));
    expect_valid_obj(plugin_s, m);
    /* As the host materializes it. */
    EXPECT_EQ_INT(0, json_object_deep_copy(m, &copy, NULL));
    json_object_object_add(copy, "identifier", json_object_get(id));
    json_object_object_add(copy, "source", json_object_new_string("catalog"));
    json_object_object_add(copy, "catalog_version", json_object_new_int(1));
    expect_valid_obj(host_s, copy);
    json_object_put(copy);
  }
  json_object_put(root);
  sam__schema_free(plugin_s);
  sam__schema_free(host_s);
}

static void test_templates(void) {
  sam__schema *plugin_s = compile_file("reclamation-rule.schema.json");
  sam__schema *host_s = compile_file("sam-reclamation-rule.schema.json");
  json_object *root = parse_embedded(dsg_embed_docusign_rule_templates);
  json_object *cat = parse_embedded(dsg_embed_docusign_model_catalog);
  json_object *tpls = NULL;
  json_object *models = NULL;
  size_t i;

  EXPECT_TRUE(json_object_object_get_ex(root, "templates", &tpls));
  EXPECT_TRUE(json_object_object_get_ex(cat, "models", &models));
  /* One template per model. */
  EXPECT_EQ_INT(json_object_array_length(models),
                json_object_array_length(tpls));
  for (i = 0; i < json_object_array_length(tpls); i++) {
    json_object *e = json_object_array_get_idx(tpls, i);
    json_object *r = NULL;
    json_object *tid = NULL;
    json_object *copy = NULL;

    EXPECT_TRUE(json_object_object_get_ex(e, "rule", &r));
    EXPECT_TRUE(json_object_object_get_ex(e, "template_id", &tid));
    EXPECT_TRUE(strncmp(json_object_get_string(tid), "docusign_assigned_60d_",
                        22) == 0);
    expect_valid_obj(plugin_s, r);
    EXPECT_EQ_INT(0, json_object_deep_copy(r, &copy, NULL));
    json_object_object_add(copy, "rule_id", json_object_new_string("r1"));
    json_object_object_add(copy, "template_id", json_object_get(tid));
    json_object_object_add(copy, "template_version", json_object_new_int(1));
    expect_valid_obj(host_s, copy);
    json_object_put(copy);
  }
  /* notify_user off means no waiting days. */
  expect_invalid(plugin_s,
                 "{\"name\":\"n\",\"applies_to\":\"subscription_software\","
                 "\"software_model\":\"Sender\",\"basis\":"
                 "\"subscription_assigned_date\","
                 "\"last_activity_threshold_days\":60,\"notify_user\":false,"
                 "\"days_before_auto_reclamation\":5,\"grace_days\":60,"
                 "\"create_candidate\":true,\"assignment_group\":\"g\","
                 "\"active\":true}",
                 "/days_before_auto_reclamation");
  json_object_put(cat);
  json_object_put(root);
  sam__schema_free(plugin_s);
  sam__schema_free(host_s);
}

int main(void) {
  SAM_T_RUN(test_form);
  SAM_T_RUN(test_records);
  SAM_T_RUN(test_catalog);
  SAM_T_RUN(test_templates);
  return 0;
}
