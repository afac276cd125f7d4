/* registry_json.c: the registry as JSON text for hosts and tests. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runtime_int.h"

static json_object *json_or_string(const char *s, size_t len) {
  json_object *o;

  if (s == NULL)
    return NULL;
  o = json_tokener_parse(s);
  if (o == NULL)
    o = json_object_new_string_len(s, (int)len);
  return o;
}

static void add_str(json_object *o, const char *k, const char *v) {
  json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static json_object *reg_json(const sam__reg *r) {
  json_object *o = json_object_new_object();
  json_object *a;
  size_t i;

  if (o == NULL)
    return NULL;
  switch (r->kind) {
  case SAM__REG_PROFILE_TYPE:
    add_str(o, "type_id", r->id);
    add_str(o, "display_name", r->display_name);
    json_object_object_add(o, "form_schema_version",
                           json_object_new_int64(r->version));
    json_object_object_add(o, "form_schema",
                           json_or_string(r->json, r->json_len));
    a = json_object_new_array();
    for (i = 0; i < r->n_secret_fields; i++)
      json_object_array_add(a, json_object_new_string(r->secret_fields[i]));
    json_object_object_add(o, "secret_fields", a);
    break;
  case SAM__REG_RECORD_TYPE:
    add_str(o, "record_type", r->id);
    json_object_object_add(o, "schema_version",
                           json_object_new_int64(r->version));
    add_str(o, "key_pointer", r->key_pointer);
    a = json_object_new_array();
    for (i = 0; i < r->n_indexes; i++)
      json_object_array_add(a, json_object_new_string(r->indexes[i]));
    json_object_object_add(o, "indexes", a);
    json_object_object_add(
        o, "validate_writes",
        json_object_new_boolean((r->flags & SAM_RECORD_VALIDATE_WRITES) != 0));
    json_object_object_add(o, "schema", json_or_string(r->json, r->json_len));
    break;
  case SAM__REG_PROCESS:
  case SAM__REG_ACTION:
    add_str(o, r->kind == SAM__REG_PROCESS ? "process_id" : "action_id", r->id);
    add_str(o, "display_name", r->display_name);
    json_object_object_add(o, "flags", json_object_new_int64(r->flags));
    json_object_object_add(o, "timeout_ms",
                           json_object_new_int64((int64_t)r->timeout_ms));
    if (r->kind == SAM__REG_PROCESS) {
      json_object_object_add(
          o, "cancellable",
          json_object_new_boolean((r->flags & SAM_PROC_CANCELLABLE) != 0));
      json_object_object_add(
          o, "mutates_remote",
          json_object_new_boolean((r->flags & SAM_PROC_MUTATES_REMOTE) != 0));
      json_object_object_add(
          o, "dry_run",
          json_object_new_boolean((r->flags & SAM_PROC_DRY_RUN) != 0));
      if (r->json != NULL)
        json_object_object_add(o, "input_schema",
                               json_or_string(r->json, r->json_len));
    } else {
      json_object_object_add(
          o, "ui", json_object_new_boolean((r->flags & SAM_ACTION_UI) != 0));
      json_object_object_add(
          o, "oauth_start",
          json_object_new_boolean((r->flags & SAM_ACTION_OAUTH_START) != 0));
      json_object_object_add(
          o, "oauth_callback",
          json_object_new_boolean((r->flags & SAM_ACTION_OAUTH_CALLBACK) != 0));
    }
    break;
  case SAM__REG_MODEL:
    add_str(o, "identifier", r->id);
    json_object_object_add(o, "model", json_or_string(r->json, r->json_len));
    break;
  case SAM__REG_TEMPLATE:
    add_str(o, "template_id", r->id);
    json_object_object_add(o, "template_version",
                           json_object_new_int64(r->version));
    json_object_object_add(o, "rule", json_or_string(r->json, r->json_len));
    break;
  default:
    break;
  }
  return o;
}

char *sam_runtime_registry_json(sam_runtime *rt) {
  static const struct {
    int kind;
    const char *key;
  } lists[] = {{SAM__REG_RECORD_TYPE, "record_types"},
               {SAM__REG_PROCESS, "processes"},
               {SAM__REG_ACTION, "actions"},
               {SAM__REG_MODEL, "models"},
               {SAM__REG_TEMPLATE, "rule_templates"}};
  json_object *root = json_object_new_object();
  json_object *plugins = json_object_new_array();
  json_object *host_types = json_object_new_array();
  char *out = NULL;
  sam_host *h;
  size_t i, k;

  if (root == NULL || plugins == NULL || host_types == NULL) {
    json_object_put(root);
    json_object_put(plugins);
    json_object_put(host_types);
    return NULL;
  }
  for (h = rt->plugins; h != NULL; h = h->next) {
    json_object *p;

    if (!h->published || h->phase != SAM__PHASE_RUNNING)
      continue;
    p = json_object_new_object();
    add_str(p, "name", h->name);
    add_str(p, "version", h->version);
    json_object_object_add(p, "degraded", json_object_new_boolean(h->degraded));
    for (i = 0; i < h->regs.n; i++) {
      if (h->regs.v[i]->kind == SAM__REG_PROFILE_TYPE)
        json_object_object_add(p, "profile_type", reg_json(h->regs.v[i]));
    }
    for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
      json_object *a = json_object_new_array();

      for (i = 0; i < h->regs.n; i++) {
        if (h->regs.v[i]->kind == lists[k].kind)
          json_object_array_add(a, reg_json(h->regs.v[i]));
      }
      json_object_object_add(p, lists[k].key, a);
    }
    json_object_array_add(plugins, p);
  }
  for (i = 0; i < rt->host_types.n; i++)
    json_object_array_add(host_types, reg_json(rt->host_types.v[i]));
  json_object_object_add(root, "plugins", plugins);
  json_object_object_add(root, "host_record_types", host_types);
  out = sam__strdup(json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(root);
  return out;
}
