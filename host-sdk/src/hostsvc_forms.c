/*
 * hostsvc_forms.c: profile forms. Validates a submission against the
 * plugin's form schema and reports every failure with its JSON Pointer,
 * refuses unknown and readOnly fields, applies defaults, fills the
 * redirect URL, takes x-sam-secret fields out (they are sealed, never
 * stored in the record), and works out the account key (uniqueness) and
 * whether an update must return the profile to Draft.
 *
 * x-sam-ui hints this file reads (all optional):
 *   "unique": ["account_id"]         fields naming the remote account; two
 *                                    profiles of one type may not share them
 *   "reset_on_change": ["client_id"] fields whose change drops the tokens
 *   "processes": [{"process","field","locked"}]  process check boxes
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

json_object *sam__hs_form_schema(json_object *plugin) {
  json_object *pt, *fs;

  if (plugin == NULL ||
      !json_object_object_get_ex(plugin, "profile_type", &pt) ||
      !json_object_object_get_ex(pt, "form_schema", &fs) ||
      !json_object_is_type(fs, json_type_object))
    return NULL;
  return fs;
}

static json_object *props_of(json_object *schema) {
  json_object *p;

  if (schema == NULL || !json_object_object_get_ex(schema, "properties", &p) ||
      !json_object_is_type(p, json_type_object))
    return NULL;
  return p;
}

static int flag_of(json_object *prop, const char *k) {
  json_object *v;

  return prop != NULL && json_object_object_get_ex(prop, k, &v) &&
         json_object_get_boolean(v);
}

static json_object *ui_list(json_object *schema, const char *k) {
  json_object *ui, *v;

  if (!json_object_object_get_ex(schema, "x-sam-ui", &ui) ||
      !json_object_object_get_ex(ui, k, &v) ||
      !json_object_is_type(v, json_type_array))
    return NULL;
  return v;
}

static int in_list(json_object *arr, const char *name) {
  size_t i, n = arr != NULL ? json_object_array_length(arr) : 0;

  for (i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

    if (s != NULL && strcmp(s, name) == 0)
      return 1;
  }
  return 0;
}

static void add_err(json_object *errs, const char *pointer, const char *msg) {
  json_object *e = json_object_new_object();

  json_object_object_add(e, "pointer", json_object_new_string(pointer));
  json_object_object_add(e, "message", json_object_new_string(msg));
  json_object_array_add(errs, e);
}

static int has_err_for(json_object *errs, const char *pointer) {
  size_t i, n = json_object_array_length(errs);

  for (i = 0; i < n; i++) {
    const char *p = sam__hs_str(json_object_array_get_idx(errs, i), "pointer");

    if (p != NULL && strcmp(p, pointer) == 0)
      return 1;
  }
  return 0;
}

/* Runs the validator and appends its errors. A "required" failure is
 * reported at the missing field's pointer. skip_required (may be NULL)
 * names fields whose absence is fine (secrets already set). only_prefix
 * (may be NULL) keeps errors under those top-level fields only. */
static int validate_into(json_object *schema,
                         json_object *inst,
                         json_object *skip_required,
                         json_object *only,
                         json_object *errs) {
  sam__schema *s = NULL;
  sam__schema_error e[SAM__HS_MAX_ERRS];
  size_t n = 0, i;
  char why[512];
  int rc;

  rc = sam__schema_compile_obj(schema, SAM__SCHEMA_FORM, &s, why, sizeof(why));
  if (rc != 0)
    return SAM_EINVAL;
  (void)sam__schema_validate_obj(s, inst, e, SAM__HS_MAX_ERRS, &n);
  for (i = 0; i < n; i++) {
    char ptr[520];
    char msg[520];
    const char *req = "must have required property [";
    const char *top;

    snprintf(ptr, sizeof(ptr), "%.250s", e[i].pointer);
    snprintf(msg, sizeof(msg), "%.250s", e[i].reason);
    if (strncmp(e[i].reason, req, strlen(req)) == 0) {
      const char *name = e[i].reason + strlen(req);
      size_t len = strcspn(name, "]");
      char field[200];

      snprintf(field, sizeof(field), "%.*s", (int)len, name);
      if (e[i].pointer[0] == '\0' && skip_required != NULL &&
          json_object_object_get_ex(skip_required, field, NULL))
        continue;
      snprintf(ptr, sizeof(ptr), "%.250s/%.200s", e[i].pointer, field);
      snprintf(msg, sizeof(msg), "is required [%s]", field);
    }
    if (only != NULL) {
      char first[200];

      top = ptr[0] == '/' ? ptr + 1 : ptr;
      snprintf(first, sizeof(first), "%.*s", (int)strcspn(top, "/"), top);
      if (!json_object_object_get_ex(only, first, NULL))
        continue;
    }
    if (!has_err_for(errs, ptr))
      add_err(errs, ptr, msg);
  }
  sam__schema_free(s);
  return 0;
}

void sam__hs_form_clear(sam__hs_form *f) {
  json_object_put(f->form);
  json_object_put(f->secrets);
  json_object_put(f->errors);
  free(f->account_key);
  memset(f, 0, sizeof(*f));
}

static char *account_key(json_object *schema, json_object *form) {
  json_object *uniq = ui_list(schema, "unique");
  char buf[512] = "";
  size_t i, n, o = 0;

  /* Without x-sam-ui "unique" the host cannot tell which fields name the
   * remote account, so it makes no uniqueness check for that type. */
  if (uniq == NULL || (n = json_object_array_length(uniq)) == 0)
    return NULL;
  for (i = 0; i < n; i++) {
    const char *k = json_object_get_string(json_object_array_get_idx(uniq, i));
    json_object *v;
    const char *s;
    size_t j;

    if (k == NULL || !json_object_object_get_ex(form, k, &v) || v == NULL)
      return NULL;
    s = json_object_get_string(v);
    for (j = 0; s[j] != '\0' && o + 2 < sizeof(buf); j++)
      buf[o++] = (char)tolower((unsigned char)s[j]);
    if (i + 1 < n && o + 2 < sizeof(buf))
      buf[o++] = '|';
  }
  buf[o < 200 ? o : 200] = '\0';
  return strdup(buf);
}

int sam__hs_form_check(sam__hs_call *c,
                       json_object *plugin,
                       json_object *sub,
                       json_object *old_form,
                       json_object *old_secrets_set,
                       sam__hs_form *f) {
  json_object *schema = sam__hs_form_schema(plugin);
  json_object *props = props_of(schema);
  json_object *inst = NULL, *skip = NULL, *reset_list, *procs;
  int rc = SAM_ENOMEM;

  memset(f, 0, sizeof(*f));
  if (schema == NULL || props == NULL)
    return SAM_EINVAL;
  f->errors = json_object_new_array();
  f->secrets = json_object_new_object();
  f->form =
      old_form != NULL ? sam__hs_copy(old_form) : json_object_new_object();
  skip = json_object_new_object();
  if (f->errors == NULL || f->secrets == NULL || f->form == NULL ||
      skip == NULL)
    goto fail;
  if (sub == NULL || !json_object_is_type(sub, json_type_object)) {
    add_err(f->errors, "", "the form must be a JSON object");
    rc = 0;
    goto fail;
  }
  reset_list = ui_list(schema, "reset_on_change");
  json_object_object_foreach(sub, k, v) {
    json_object *prop = NULL;
    char ptr[300], msg[400];
    int secret;

    snprintf(ptr, sizeof(ptr), "/%s", k);
    if (!json_object_object_get_ex(props, k, &prop)) {
      snprintf(msg, sizeof(msg),
               "unknown field [%s]; the form has no such field", k);
      add_err(f->errors, ptr, msg);
      continue;
    }
    if (flag_of(prop, "readOnly")) {
      snprintf(msg, sizeof(msg),
               "is read-only [%s]; the host or the plugin fills it", k);
      add_err(f->errors, ptr, msg);
      continue;
    }
    secret = flag_of(prop, "x-sam-secret");
    if (old_form != NULL) {
      json_object *old = NULL;
      int in_reset =
          reset_list != NULL
              ? in_list(reset_list, k)
              : (secret ||
                 in_list(json_object_object_get(schema, "required"), k));
      int changed = secret || !json_object_object_get_ex(old_form, k, &old) ||
                    !json_object_equal(old, v);

      if (in_reset && changed)
        f->reset = 1;
    }
    if (secret) {
      json_object_object_add(f->secrets, k, json_object_get(v));
    } else if (v == NULL) {
      json_object_object_del(f->form, k); /* null clears an optional field */
    } else {
      json_object_object_add(f->form, k, json_object_get(v));
    }
  }
  /* Process check boxes: clearing an optional one returns to Draft. */
  procs = ui_list(schema, "processes");
  if (old_form != NULL && procs != NULL) {
    size_t i, n = json_object_array_length(procs);

    for (i = 0; i < n; i++) {
      const char *field =
          sam__hs_str(json_object_array_get_idx(procs, i), "field");
      json_object *ov, *nv;

      if (field != NULL && json_object_object_get_ex(old_form, field, &ov) &&
          json_object_get_boolean(ov) &&
          json_object_object_get_ex(f->form, field, &nv) &&
          !json_object_get_boolean(nv))
        f->process_cleared = 1;
    }
  }
  /* Defaults, readOnly ones included (e.g. a fixed profile type label). */
  {
    json_object_object_foreach(props, pk, prop) {
      json_object *def;

      if (!json_object_object_get_ex(f->form, pk, NULL) &&
          !flag_of(prop, "x-sam-secret") &&
          json_object_object_get_ex(prop, "default", &def))
        json_object_object_add(f->form, pk, sam__hs_copy(def));
      if (flag_of(prop, "x-sam-secret") && old_secrets_set != NULL) {
        json_object *set;

        if (json_object_object_get_ex(old_secrets_set, pk, &set) &&
            json_object_get_boolean(set))
          json_object_object_add(skip, pk, json_object_new_boolean(1));
      }
    }
  }
  if (json_object_object_get_ex(props, "redirect_url", NULL))
    json_object_object_add(f->form, "redirect_url",
                           json_object_new_string(c->svc->redirect_uri));
  inst = sam__hs_copy(f->form);
  if (inst == NULL)
    goto fail;
  {
    json_object_object_foreach(f->secrets, sk, sv) {
      json_object_object_add(inst, sk, json_object_get(sv));
    }
  }
  rc = validate_into(schema, inst, skip, NULL, f->errors);
  if (rc != 0)
    goto fail;
  f->account_key = account_key(schema, f->form);
  if (json_object_array_length(f->errors) == 0) {
    json_object_put(f->errors);
    f->errors = NULL;
  }
  json_object_put(inst);
  json_object_put(skip);
  return 0;

fail:
  json_object_put(inst);
  json_object_put(skip);
  if (rc != 0) {
    sam__hs_form_clear(f);
    return rc;
  }
  return 0;
}

int sam__hs_patch_check(json_object *plugin,
                        json_object *patch,
                        json_object *form,
                        json_object **errors) {
  json_object *schema = sam__hs_form_schema(plugin);
  json_object *props = props_of(schema);
  json_object *errs = json_object_new_array();
  json_object *inst = NULL, *skip = NULL;
  int rc = SAM_ENOMEM;

  *errors = NULL;
  if (errs == NULL)
    return SAM_ENOMEM;
  if (props == NULL || !json_object_is_type(patch, json_type_object)) {
    add_err(errs, "", "profile_patch must be an object");
    *errors = errs;
    return 0;
  }
  inst = sam__hs_copy(form);
  skip = json_object_new_object();
  if (inst == NULL || skip == NULL)
    goto done;
  json_object_object_foreach(patch, k, v) {
    json_object *prop = NULL;
    char ptr[300], msg[400];

    snprintf(ptr, sizeof(ptr), "/%s", k);
    if (!json_object_object_get_ex(props, k, &prop) ||
        !flag_of(prop, "readOnly") || flag_of(prop, "x-sam-secret")) {
      snprintf(msg, sizeof(msg),
               "a plugin may only patch readOnly non-secret form fields [%s]",
               k);
      add_err(errs, ptr, msg);
      continue;
    }
    json_object_object_add(inst, k, json_object_get(v));
    json_object_object_add(skip, k, json_object_new_boolean(1));
  }
  /* Only the patched fields' errors count: the stored form is valid, and
   * its secrets are not part of it. */
  rc = validate_into(schema, inst, NULL, skip, errs);
done:
  json_object_put(inst);
  json_object_put(skip);
  if (rc != 0 || json_object_array_length(errs) == 0) {
    json_object_put(errs);
    return rc;
  }
  *errors = errs;
  return 0;
}
