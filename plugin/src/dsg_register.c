/*
 * dsg_register.c: the profile type, record types, processes, actions, the
 * software model catalog and the reclamation rule templates (ABI.md 9.3).
 *
 * The JSON comes from schemas/ and is compiled in (dsg_embed.h), so the
 * plugin never reads a file at run time.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"

#include "dsg_embed.h"
#include "dsg_action.h"
#include "dsg_download.h"
#include "dsg_log.h"
#include "dsg_oauth.h"
#include "dsg_reclaim.h"
#include "dsg_register.h"

#define DSG_PROFILE_TYPE "docusign_subscription"
#define DSG_FORM_SCHEMA_VERSION 1
#define DSG_RECORD_SCHEMA_VERSION 1

/* ---- process handlers ---- */

static int start_download(sam_job *job, const sam_job_input *in, void *ud) {
  return dsg_download_start(job, in, ud);
}

static int start_reclaim(sam_job *job, const sam_job_input *in, void *ud) {
  return dsg_reclaim_start(job, in, ud);
}

/* For a process without work to stop (none left since reclaim landed). */
static void cancel_noop(sam_job *job, void *ud) {
  (void)job;
  (void)ud;
}

/* ---- registration helpers ---- */

static int fail_msg(
    int rc, char *err, size_t err_len, const char *what, const char *name) {
  snprintf(err, err_len, "%s failed [%s] [%s]", what, name, sam_err_name(rc));
  return rc;
}

static int register_record(dsg_ctx *ctx,
                           const char *type,
                           const char *schema,
                           size_t len,
                           const char *key,
                           const char *indexes,
                           char *err,
                           size_t err_len) {
  sam_record_type_desc d;
  int rc;

  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.schema_version = DSG_RECORD_SCHEMA_VERSION;
  d.record_type = type;
  d.schema_json = schema;
  d.schema_len = len;
  d.key_pointer = key;
  d.indexes_json = indexes;
  /* Test mode asks the host to validate every write (ABI.md 9.6). */
  d.flags = ctx->cfg.test_mode ? SAM_RECORD_VALIDATE_WRITES : 0;
  rc = ctx->api->register_record_type(ctx->host, ctx->pt, &d);
  return rc != 0 ? fail_msg(rc, err, err_len, "register_record_type", type) : 0;
}

static int register_proc(dsg_ctx *ctx,
                         const char *id,
                         const char *display,
                         uint32_t flags,
                         sam_start_fn start,
                         char *err,
                         size_t err_len) {
  sam_process_desc d;
  int rc;

  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.flags = flags;
  d.process_id = id;
  d.display_name = display;
  d.start = start;
  /* download and reclaim have their own cancel (dsg_download.c,
   * dsg_reclaim.c). */
  d.cancel = start == start_download  ? dsg_download_cancel
             : start == start_reclaim ? dsg_reclaim_cancel
                                      : cancel_noop;
  d.ud = ctx;
  rc = ctx->api->register_process(ctx->host, ctx->pt, &d);
  return rc != 0 ? fail_msg(rc, err, err_len, "register_process", id) : 0;
}

static int register_act(dsg_ctx *ctx,
                        const char *id,
                        const char *display,
                        uint32_t flags,
                        sam_start_fn start,
                        char *err,
                        size_t err_len) {
  sam_action_desc d;
  int rc;

  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.flags = flags;
  d.action_id = id;
  d.display_name = display;
  d.start = start;
  d.cancel = dsg_action_cancel_fn;
  d.ud = ctx;
  rc = ctx->api->register_action(ctx->host, ctx->pt, &d);
  return rc != 0 ? fail_msg(rc, err, err_len, "register_action", id) : 0;
}

/* Parses an embedded JSON document; it is ours, so failure is a bug. */
static int parse_embedded(const char *text,
                          size_t len,
                          const char *name,
                          json_object **out,
                          char *err,
                          size_t err_len) {
  json_tokener *tok = json_tokener_new();
  json_object *root;

  *out = NULL;
  if (tok == NULL)
    return SAM_ENOMEM;
  root = json_tokener_parse_ex(tok, text, (int)len);
  if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
    snprintf(err, err_len, "embedded [%s] is not valid JSON [%s]", name,
             json_tokener_error_desc(json_tokener_get_error(tok)));
    json_object_put(root);
    json_tokener_free(tok);
    return SAM_EINVAL;
  }
  json_tokener_free(tok);
  *out = root;
  return 0;
}

/* Returns the array under `key` of an embedded document, or NULL. */
static json_object *array_at(json_object *root, const char *key) {
  json_object *a = NULL;

  if (!json_object_object_get_ex(root, key, &a) ||
      !json_object_is_type(a, json_type_array))
    return NULL;
  return a;
}

static const char *string_at(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static int register_models(dsg_ctx *ctx, char *err, size_t err_len) {
  json_object *root = NULL;
  json_object *models;
  size_t i;
  int rc;

  rc = parse_embedded(dsg_embed_docusign_model_catalog,
                      dsg_embed_docusign_model_catalog_len,
                      "docusign-model-catalog.json", &root, err, err_len);
  if (rc != 0)
    return rc;
  models = array_at(root, "models");
  if (models == NULL) {
    snprintf(err, err_len, "embedded model catalog has no [models] array");
    rc = SAM_EINVAL;
    goto done;
  }
  for (i = 0; i < json_object_array_length(models); i++) {
    json_object *e = json_object_array_get_idx(models, i);
    json_object *model = NULL;
    sam_model_desc d;
    const char *id = string_at(e, "identifier");
    const char *text;

    if (id == NULL || !json_object_object_get_ex(e, "model", &model)) {
      snprintf(err, err_len,
               "model catalog entry [%zu] lacks identifier "
               "or model",
               i);
      rc = SAM_EINVAL;
      goto done;
    }
    text = json_object_to_json_string_ext(model, JSON_C_TO_STRING_PLAIN);
    if (text == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
    memset(&d, 0, sizeof(d));
    d.struct_size = sizeof(d);
    d.identifier = id;
    d.model_json = text;
    d.model_len = strlen(text);
    rc = ctx->api->register_model(ctx->host, ctx->pt, &d);
    if (rc != 0) {
      fail_msg(rc, err, err_len, "register_model", id);
      goto done;
    }
  }

done:
  json_object_put(root);
  return rc;
}

static int register_templates(dsg_ctx *ctx, char *err, size_t err_len) {
  json_object *root = NULL;
  json_object *tpls;
  size_t i;
  int rc;

  rc = parse_embedded(dsg_embed_docusign_rule_templates,
                      dsg_embed_docusign_rule_templates_len,
                      "docusign-rule-templates.json", &root, err, err_len);
  if (rc != 0)
    return rc;
  tpls = array_at(root, "templates");
  if (tpls == NULL) {
    snprintf(err, err_len, "embedded rule templates have no [templates]");
    rc = SAM_EINVAL;
    goto done;
  }
  for (i = 0; i < json_object_array_length(tpls); i++) {
    json_object *e = json_object_array_get_idx(tpls, i);
    json_object *rule = NULL;
    json_object *ver = NULL;
    sam_rule_template_desc d;
    const char *id = string_at(e, "template_id");
    const char *text;

    if (id == NULL || !json_object_object_get_ex(e, "rule", &rule) ||
        !json_object_object_get_ex(e, "template_version", &ver) ||
        !json_object_is_type(ver, json_type_int)) {
      snprintf(err, err_len,
               "rule template entry [%zu] lacks template_id, "
               "template_version or rule",
               i);
      rc = SAM_EINVAL;
      goto done;
    }
    text = json_object_to_json_string_ext(rule, JSON_C_TO_STRING_PLAIN);
    if (text == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
    memset(&d, 0, sizeof(d));
    d.struct_size = sizeof(d);
    d.template_version = (uint32_t)json_object_get_int(ver);
    d.template_id = id;
    d.rule_json = text;
    d.rule_len = strlen(text);
    rc = ctx->api->register_rule_template(ctx->host, ctx->pt, &d);
    if (rc != 0) {
      fail_msg(rc, err, err_len, "register_rule_template", id);
      goto done;
    }
  }

done:
  json_object_put(root);
  return rc;
}

int dsg_register_all(dsg_ctx *ctx, char *err, size_t err_len) {
  const sam_host_api *api = ctx->api;
  sam_profile_type_desc pd;
  int rc;

  memset(&pd, 0, sizeof(pd));
  pd.struct_size = sizeof(pd);
  pd.form_schema_version = DSG_FORM_SCHEMA_VERSION;
  pd.type_id = DSG_PROFILE_TYPE;
  pd.display_name = "DocuSign Subscription";
  pd.form_schema_json = dsg_embed_docusign_profile_form;
  pd.form_schema_len = dsg_embed_docusign_profile_form_len;
  rc = api->register_profile_type(ctx->host, &pd, &ctx->pt);
  if (rc != 0)
    return fail_msg(rc, err, err_len, "register_profile_type",
                    DSG_PROFILE_TYPE);

  rc = register_record(ctx, DSG_RT_CONSUMPTION, dsg_embed_docusign_consumption,
                       dsg_embed_docusign_consumption_len, "/account_id",
                       "[\"/billing_status\"]", err, err_len);
  if (rc == 0)
    rc = register_record(ctx, DSG_RT_DOWNLOAD_STATE,
                         dsg_embed_docusign_download_state,
                         dsg_embed_docusign_download_state_len, "/run_id",
                         "[\"/status\"]", err, err_len);
  if (rc == 0)
    rc = register_record(ctx, DSG_RT_RECLAIM_INTENT,
                         dsg_embed_docusign_reclaim_intent,
                         dsg_embed_docusign_reclaim_intent_len, "/batch_id",
                         "[\"/state\", \"/run_id\"]", err, err_len);
  if (rc != 0)
    return rc;

  rc = register_proc(ctx, "download", "Download subscriptions",
                     SAM_PROC_CANCELLABLE, start_download, err, err_len);
  if (rc == 0)
    rc = register_proc(ctx, "reclaim", "Reclaim subscriptions",
                       SAM_PROC_CANCELLABLE | SAM_PROC_MUTATES_REMOTE |
                           SAM_PROC_DRY_RUN,
                       start_reclaim, err, err_len);
  if (rc != 0)
    return rc;

  rc = register_act(ctx, "get_oauth_token", "Get OAuth Token",
                    SAM_ACTION_UI | SAM_ACTION_OAUTH_START, dsg_oauth_start,
                    err, err_len);
  if (rc == 0)
    rc = register_act(ctx, "validate_connection", "Validate Connection",
                      SAM_ACTION_UI, dsg_validate_start, err, err_len);
  if (rc == 0)
    rc = register_act(ctx, "oauth_callback", "OAuth callback",
                      SAM_ACTION_OAUTH_CALLBACK, dsg_oauth_callback, err,
                      err_len);
  /* Undo of a reclaim: per subscription, so no button (the host routes
   * POST .../lists/subscriptions/{key}/restore to it). */
  if (rc == 0)
    rc = register_act(ctx, "restore_subscription", "Restore subscription", 0,
                      dsg_restore_start, err, err_len);
  if (rc != 0)
    return rc;

  rc = register_models(ctx, err, err_len);
  if (rc != 0)
    return rc;
  return register_templates(ctx, err, err_len);
}
