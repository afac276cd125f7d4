/*
 * registry.c: plugin instances, their phases (ABI.md 8.4), the register_*
 * calls of the host table, staging until post_init, and rollback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runtime_int.h"
#include "sam_copy_in.h"

#ifndef SAM_HOST_VERSION
#define SAM_HOST_VERSION "0"
#endif

#define PT_DESC_V1_0                                                           \
  (offsetof(sam_profile_type_desc, form_schema_len) + sizeof(size_t))
#define RT_DESC_V1_0                                                           \
  (offsetof(sam_record_type_desc, reserved0) + sizeof(uint32_t))
#define PROC_DESC_V1_0                                                         \
  (offsetof(sam_process_desc, ud_free) + sizeof(sam_free_fn))
#define ACTION_DESC_V1_0                                                       \
  (offsetof(sam_action_desc, ud_free) + sizeof(sam_free_fn))
#define MODEL_DESC_V1_0 (offsetof(sam_model_desc, model_len) + sizeof(size_t))
#define TPL_DESC_V1_0                                                          \
  (offsetof(sam_rule_template_desc, rule_len) + sizeof(size_t))

/* ---- small helpers ---- */

int sam__id_valid(const char *id, size_t max) {
  size_t i;

  if (id == NULL || id[0] == '\0')
    return 0;
  for (i = 0; id[i] != '\0'; i++) {
    char c = id[i];

    if (i >= max)
      return 0;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

static int list_push(sam__reg_list *l, sam__reg *r) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    sam__reg **v = realloc(l->v, cap * sizeof(*v));

    if (v == NULL)
      return SAM_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = r;
  return 0;
}

void sam__reg_free(sam__reg *r) {
  uint32_t i;

  if (r == NULL)
    return;
  free(r->id);
  free(r->display_name);
  free(r->json);
  free(r->key_pointer);
  for (i = 0; i < r->n_indexes; i++)
    free(r->indexes[i]);
  free(r->indexes);
  for (i = 0; i < r->n_secret_fields; i++)
    free(r->secret_fields[i]);
  free(r->secret_fields);
  sam__schema_free(r->schema);
  free(r);
}

static size_t text_len(const char *s, size_t len) {
  return (s != NULL && len == 0) ? strlen(s) : len;
}

static json_object *parse_json(const char *s, size_t len) {
  json_tokener *tok;
  json_object *o;

  if (s == NULL || len > (size_t)INT32_MAX)
    return NULL;
  tok = json_tokener_new();
  if (tok == NULL)
    return NULL;
  o = json_tokener_parse_ex(tok, s, (int)len);
  if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(o);
    o = NULL;
  }
  if (o != NULL && tok->char_offset < (int)len) {
    /* Trailing garbage after the document. */
    size_t i;

    for (i = (size_t)tok->char_offset; i < len; i++) {
      if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') {
        json_object_put(o);
        o = NULL;
        break;
      }
    }
  }
  json_tokener_free(tok);
  return o;
}

/* Records a failed registration: the first message is kept for post_init
 * and the loader; the ud (owned by the host from the call on) is kept to
 * be freed on rollback, or after shutdown when init is over. */
static int reg_fail(
    sam_host *h, sam__reg *r, int rc, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int reg_fail(
    sam_host *h, sam__reg *r, int rc, const char *what, const char *fmt, ...) {
  char msg[256];
  char line[300];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(line, sizeof(line), "%s: %s", what, msg);
  sam__log(h->rt, SAM_LOG_ERROR, h->name, NULL, "%s [%s]", line,
           sam_err_name(rc));
  if (rc != SAM_EBUSY && h->in_init) {
    if (h->n_failed_regs++ == 0)
      snprintf(h->reg_err, sizeof(h->reg_err), "%.255s", line);
  }
  if (r != NULL) {
    if (r->ud_free != NULL) {
      sam__reg_list *l = h->in_init ? &h->regs : &h->late;

      r->kind = SAM__REG_FAILED;
      if (list_push(l, r) == 0)
        return rc;
      /* Out of memory while keeping it: free the ud now rather than leak
       * (this is a host failure, the plugin cannot do better). */
      r->ud_free(r->ud);
    }
    sam__reg_free(r);
  }
  return rc;
}

/* Common prelude: the copy-in result, the phase and the profile type. */
static int reg_check(sam_host *h,
                     sam__reg *r,
                     int copy_rc,
                     size_t size,
                     size_t v1_0,
                     sam_profile_type *pt,
                     const char *what) {
  if (sam__on_loop(h->rt, what) != 0 || !h->in_init ||
      h->phase != SAM__PHASE_INIT)
    return reg_fail(h, r, SAM_EBUSY, what,
                    "registration is allowed only inside init [phase=%d]",
                    h->phase);
  if (copy_rc == SAM_EINVAL)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "descriptor too short or NULL [struct_size=%u] "
                    "[v1.0=%zu]",
                    (unsigned)size, v1_0);
  if (copy_rc == SAM_ENOTSUP)
    return reg_fail(h, r, SAM_ENOTSUP, what,
                    "descriptor sets fields this host does not know "
                    "[struct_size=%u] [host=%zu]",
                    (unsigned)size, v1_0);
  if (pt != NULL && (pt != &h->pt || h->n_profile_types == 0))
    return reg_fail(h, r, SAM_EINVAL, what, "unknown profile type handle");
  return 0;
}

static uint32_t desc_size(const void *d) {
  uint32_t s = 0;

  if (d != NULL)
    memcpy(&s, d, sizeof(s));
  return s;
}

static int dup_id(sam_host *h, int kind, const char *id) {
  size_t i;

  for (i = 0; i < h->regs.n; i++) {
    if (h->regs.v[i]->kind == kind && strcmp(h->regs.v[i]->id, id) == 0)
      return 1;
  }
  return 0;
}

static int reg_commit(sam_host *h, sam__reg *r, const char *what) {
  if (list_push(&h->regs, r) != 0)
    return reg_fail(h, r, SAM_ENOMEM, what, "out of memory");
  return 0;
}

/* Every register_*'s start: a new entry *out, owning ud (NULL for the
 * descriptors without one; freed here when the entry cannot be made), then
 * reg_check. Returns 0, or reg_fail's code (the entry is then gone). */
static int reg_begin(sam_host *h,
                     int copy_rc,
                     const void *src,
                     size_t v1_0,
                     sam_profile_type *pt,
                     const char *what,
                     void *ud,
                     sam_free_fn ud_free,
                     sam__reg **out) {
  sam__reg *r = calloc(1, sizeof(*r));

  *out = r;
  if (r == NULL) {
    /* Still the host's to free: do it now, nothing else can. */
    if (copy_rc != SAM_EINVAL && ud_free != NULL)
      ud_free(ud);
    return reg_fail(h, NULL, SAM_ENOMEM, what, "out of memory");
  }
  r->ud = ud;
  r->ud_free = ud_free;
  return reg_check(h, r, copy_rc, desc_size(src), v1_0, pt, what);
}

/* What processes and actions share, from their descriptors. */
typedef struct {
  int kind;
  const char *noun; /* names the id in messages: "process", "action" */
  uint32_t all_flags;
  uint32_t flags;
  uint64_t timeout_ms;
  const char *id;
  const char *display_name;
  sam_start_fn start;
  sam_cancel_fn cancel;
} runnable;

/* Checks a process's or an action's id (valid, not a duplicate), flags and
 * start. Returns 0, or reg_fail's code (r is then gone). */
static int
runnable_check(sam_host *h, sam__reg *r, const char *what, const runnable *u) {
  if (!sam__id_valid(u->id, SAM__ID_MAX))
    return reg_fail(h, r, SAM_EINVAL, what,
                    "%s_id must match [a-z0-9_]{1,64} [%s=%s]", u->noun,
                    u->noun, u->id ? u->id : "(null)");
  if (dup_id(h, u->kind, u->id))
    return reg_fail(h, r, SAM_EINVAL, what, "duplicate [%s=%s]", u->noun,
                    u->id);
  if ((u->flags & ~u->all_flags) != 0)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "unknown flags [flags=0x%x] [%s=%s]", (unsigned)u->flags,
                    u->noun, u->id);
  if (u->start == NULL)
    return reg_fail(h, r, SAM_EINVAL, what, "start is required [%s=%s]",
                    u->noun, u->id);
  return 0;
}

/* Sets a checked process's or action's fields on r (copies of the
 * strings). Returns 0, or reg_fail's code (r is then gone). */
static int
runnable_fill(sam_host *h, sam__reg *r, const char *what, const runnable *u) {
  r->kind = u->kind;
  r->host = h;
  r->flags = u->flags;
  r->timeout_ms = u->timeout_ms;
  r->start = u->start;
  r->cancel = u->cancel;
  r->id = sam__strdup(u->id);
  r->display_name = sam__strdup(u->display_name ? u->display_name : "");
  if (r->id == NULL || r->display_name == NULL)
    return reg_fail(h, r, SAM_ENOMEM, what, "out of memory");
  return 0;
}

/* ---- the form schema's x-sam-secret fields ---- */

static int collect_secret_fields(sam__reg *r) {
  json_object *root = parse_json(r->json, r->json_len);
  json_object *props = NULL;
  int rc = 0;

  if (root == NULL)
    return SAM_EINVAL;
  if (json_object_object_get_ex(root, "properties", &props) &&
      json_object_is_type(props, json_type_object)) {
    json_object_object_foreach(props, key, val) {
      json_object *flag = NULL;

      if (!json_object_is_type(val, json_type_object) ||
          !json_object_object_get_ex(val, "x-sam-secret", &flag) ||
          !json_object_get_boolean(flag))
        continue;
      char **v =
          realloc(r->secret_fields, (r->n_secret_fields + 1) * sizeof(*v));
      if (v == NULL) {
        rc = SAM_ENOMEM;
        break;
      }
      r->secret_fields = v;
      v[r->n_secret_fields] = sam__strdup(key);
      if (v[r->n_secret_fields] == NULL) {
        rc = SAM_ENOMEM;
        break;
      }
      r->n_secret_fields++;
    }
  }
  json_object_put(root);
  return rc;
}

/* ---- register_* ---- */

int sam__api_register_profile_type(sam_host *host,
                                   const sam_profile_type_desc *src,
                                   sam_profile_type **out) {
  static const char what[] = "register_profile_type";
  sam_host *h = sam__host_check(host);
  sam_profile_type_desc d;
  char err[256];
  sam__reg *r;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (h == NULL)
    return SAM_EINVAL;
  rc = sam__copy_in(&d, sizeof(d), PT_DESC_V1_0, src);
  rc = reg_begin(h, rc, src, PT_DESC_V1_0, NULL, what, NULL, NULL, &r);
  if (rc != 0)
    return rc;
  if (out == NULL)
    return reg_fail(h, r, SAM_EINVAL, what, "out is NULL");
  if (h->n_profile_types > 0)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "one profile type per plugin [type=%s]",
                    d.type_id ? d.type_id : "");
  if (!sam__id_valid(d.type_id, SAM__ID_MAX) ||
      strncmp(d.type_id, "sam_", 4) == 0)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "type_id must match [a-z0-9_]{1,64} without the sam_ "
                    "prefix [type=%s]",
                    d.type_id ? d.type_id : "(null)");
  if (d.display_name == NULL || d.form_schema_json == NULL)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "display_name and form_schema_json are required "
                    "[type=%s]",
                    d.type_id);
  r->kind = SAM__REG_PROFILE_TYPE;
  r->host = h;
  r->version = d.form_schema_version;
  r->json_len = text_len(d.form_schema_json, d.form_schema_len);
  r->id = sam__strdup(d.type_id);
  r->display_name = sam__strdup(d.display_name);
  r->json = sam__strndup(d.form_schema_json, r->json_len);
  if (r->id == NULL || r->display_name == NULL || r->json == NULL)
    return reg_fail(h, r, SAM_ENOMEM, what, "out of memory");
  err[0] = '\0';
  rc = sam__schema_compile(r->json, r->json_len, SAM__SCHEMA_FORM, &r->schema,
                           err, sizeof(err));
  if (rc != 0)
    /* The validator's form rules already name "form schema [<pointer>]". */
    return reg_fail(
        h, r, SAM_EINVAL, what, "%s%s",
        strncmp(err, "form schema", 11) == 0 ? "" : "form schema: ", err);
  rc = collect_secret_fields(r);
  if (rc != 0)
    return reg_fail(h, r, rc, what, "form schema fields [type=%s]", r->id);
  rc = reg_commit(h, r, what);
  if (rc != 0)
    return rc;
  h->n_profile_types++;
  h->pt.magic = SAM__MAGIC_PT;
  h->pt.host = h;
  *out = &h->pt;
  return 0;
}

/* Validates and copies a record type; shared with host-owned types. */
static int record_type_fill(sam__reg *r,
                            const sam_record_type_desc *d,
                            char *err,
                            size_t err_len) {
  json_object *arr = NULL;
  size_t i, n;
  int rc = SAM_EINVAL;

  if (sam__reserved_zero(d, offsetof(sam_record_type_desc, reserved0),
                         sizeof(uint32_t)) != 0) {
    snprintf(err, err_len, "reserved0 must be zero");
    return SAM_EINVAL;
  }
  if ((d->flags & ~(uint32_t)SAM_RECORD_ALL_FLAGS) != 0) {
    snprintf(err, err_len, "unknown flags [flags=0x%x]", (unsigned)d->flags);
    return SAM_EINVAL;
  }
  if (d->schema_json == NULL || d->key_pointer == NULL ||
      d->key_pointer[0] != '/') {
    snprintf(err, err_len,
             "schema_json and a key_pointer starting with / are required");
    return SAM_EINVAL;
  }
  r->kind = SAM__REG_RECORD_TYPE;
  r->flags = d->flags;
  r->version = d->schema_version;
  r->json_len = text_len(d->schema_json, d->schema_len);
  r->id = sam__strdup(d->record_type);
  r->json = sam__strndup(d->schema_json, r->json_len);
  r->key_pointer = sam__strdup(d->key_pointer);
  if (r->id == NULL || r->json == NULL || r->key_pointer == NULL) {
    snprintf(err, err_len, "out of memory");
    return SAM_ENOMEM;
  }
  if (d->indexes_json != NULL) {
    arr = parse_json(d->indexes_json, strlen(d->indexes_json));
    if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
      snprintf(err, err_len, "indexes_json must be a JSON array of pointers");
      goto done;
    }
    n = json_object_array_length(arr);
    r->indexes = calloc(n ? n : 1, sizeof(char *));
    if (r->indexes == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
    for (i = 0; i < n; i++) {
      json_object *e = json_object_array_get_idx(arr, i);
      const char *p = json_object_get_string(e);

      if (!json_object_is_type(e, json_type_string) || p[0] != '/') {
        snprintf(err, err_len, "index pointer must start with / [index=%zu]",
                 i);
        goto done;
      }
      r->indexes[i] = sam__strdup(p);
      if (r->indexes[i] == NULL) {
        rc = SAM_ENOMEM;
        goto done;
      }
      r->n_indexes++;
    }
  }
  rc = sam__schema_compile(r->json, r->json_len, 0, &r->schema, err, err_len);
  if (rc != 0)
    rc = SAM_EINVAL;

done:
  json_object_put(arr);
  return rc;
}

int sam__api_register_record_type(sam_host *host,
                                  sam_profile_type *pt,
                                  const sam_record_type_desc *src) {
  static const char what[] = "register_record_type";
  sam_host *h = sam__host_check(host);
  sam_record_type_desc d;
  char err[256];
  size_t nlen;
  sam__reg *r;
  int rc;

  if (h == NULL)
    return SAM_EINVAL;
  rc = sam__copy_in(&d, sizeof(d), RT_DESC_V1_0, src);
  rc = reg_begin(h, rc, src, RT_DESC_V1_0, pt, what, NULL, NULL, &r);
  if (rc != 0)
    return rc;
  nlen = strlen(h->name);
  if (!sam__id_valid(d.record_type, SAM__ID_MAX) ||
      strncmp(d.record_type, h->name, nlen) != 0 ||
      d.record_type[nlen] != '_' || d.record_type[nlen + 1] == '\0' ||
      strncmp(d.record_type, "sam_", 4) == 0)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "record type must be named <plugin>_<thing> "
                    "[record_type=%s] [plugin=%s]",
                    d.record_type ? d.record_type : "(null)", h->name);
  if (dup_id(h, SAM__REG_RECORD_TYPE, d.record_type))
    return reg_fail(h, r, SAM_EINVAL, what, "duplicate [record_type=%s]",
                    d.record_type);
  err[0] = '\0';
  r->host = h;
  rc = record_type_fill(r, &d, err, sizeof(err));
  if (rc != 0)
    return reg_fail(h, r, rc, what, "[record_type=%s]: %s", d.record_type, err);
  return reg_commit(h, r, what);
}

int sam__api_register_process(sam_host *host,
                              sam_profile_type *pt,
                              const sam_process_desc *src) {
  static const char what[] = "register_process";
  sam_host *h = sam__host_check(host);
  sam_process_desc d;
  char err[256];
  runnable u;
  sam__reg *r;
  int rc;

  if (h == NULL)
    return SAM_EINVAL;
  rc = sam__copy_in(&d, sizeof(d), PROC_DESC_V1_0, src);
  rc = reg_begin(h, rc, src, PROC_DESC_V1_0, pt, what, d.ud, d.ud_free, &r);
  if (rc != 0)
    return rc;
  u = (runnable){.kind = SAM__REG_PROCESS,
                 .noun = "process",
                 .all_flags = SAM_PROC_ALL_FLAGS,
                 .flags = d.flags,
                 .timeout_ms = d.timeout_ms,
                 .id = d.process_id,
                 .display_name = d.display_name,
                 .start = d.start,
                 .cancel = d.cancel};
  rc = runnable_check(h, r, what, &u);
  if (rc != 0)
    return rc;
  if ((d.flags & SAM_PROC_CANCELLABLE) && d.cancel == NULL)
    return reg_fail(h, r, SAM_EINVAL, what,
                    "SAM_PROC_CANCELLABLE requires cancel [process=%s]",
                    d.process_id);
  rc = runnable_fill(h, r, what, &u);
  if (rc != 0)
    return rc;
  if (d.input_schema_json != NULL) {
    r->json_len = text_len(d.input_schema_json, d.input_schema_len);
    r->json = sam__strndup(d.input_schema_json, r->json_len);
    if (r->json == NULL)
      return reg_fail(h, r, SAM_ENOMEM, what, "out of memory");
    err[0] = '\0';
    if (sam__schema_compile(r->json, r->json_len, 0, &r->schema, err,
                            sizeof(err)) != 0)
      return reg_fail(h, r, SAM_EINVAL, what, "input schema [process=%s]: %s",
                      r->id, err);
  }
  return reg_commit(h, r, what);
}

int sam__api_register_action(sam_host *host,
                             sam_profile_type *pt,
                             const sam_action_desc *src) {
  static const char what[] = "register_action";
  static const uint32_t oauth_flags[2] = {SAM_ACTION_OAUTH_START,
                                          SAM_ACTION_OAUTH_CALLBACK};
  sam_host *h = sam__host_check(host);
  sam_action_desc d;
  runnable u;
  sam__reg *r;
  size_t i, k;
  int rc;

  if (h == NULL)
    return SAM_EINVAL;
  rc = sam__copy_in(&d, sizeof(d), ACTION_DESC_V1_0, src);
  rc = reg_begin(h, rc, src, ACTION_DESC_V1_0, pt, what, d.ud, d.ud_free, &r);
  if (rc != 0)
    return rc;
  u = (runnable){.kind = SAM__REG_ACTION,
                 .noun = "action",
                 .all_flags = SAM_ACTION_ALL_FLAGS,
                 .flags = d.flags,
                 .timeout_ms = d.timeout_ms,
                 .id = d.action_id,
                 .display_name = d.display_name,
                 .start = d.start,
                 .cancel = d.cancel};
  rc = runnable_check(h, r, what, &u);
  if (rc != 0)
    return rc;
  for (k = 0; k < 2; k++) {
    if (!(d.flags & oauth_flags[k]))
      continue;
    for (i = 0; i < h->regs.n; i++) {
      if (h->regs.v[i]->kind == SAM__REG_ACTION &&
          (h->regs.v[i]->flags & oauth_flags[k]))
        return reg_fail(h, r, SAM_EINVAL, what,
                        "at most one action per OAuth flag [action=%s] "
                        "[other=%s]",
                        d.action_id, h->regs.v[i]->id);
    }
  }
  rc = runnable_fill(h, r, what, &u);
  if (rc != 0)
    return rc;
  return reg_commit(h, r, what);
}

/* Models and rule templates: an id and a JSON object. */
static int reg_json_entry(sam_host *h,
                          sam__reg *r,
                          int kind,
                          const char *what,
                          const char *id,
                          int id_is_ident,
                          const char *json,
                          size_t len,
                          uint32_t version) {
  json_object *o;

  if (id_is_ident ? (id == NULL || id[0] == '\0' || strlen(id) > 256)
                  : !sam__id_valid(id, SAM__ID_MAX))
    return reg_fail(h, r, SAM_EINVAL, what, "bad id [id=%s]",
                    id ? id : "(null)");
  if (dup_id(h, kind, id))
    return reg_fail(h, r, SAM_EINVAL, what, "duplicate [id=%s]", id);
  len = text_len(json, len);
  o = parse_json(json, len);
  if (o == NULL || !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    return reg_fail(h, r, SAM_EINVAL, what, "not a JSON object [id=%s]", id);
  }
  json_object_put(o);
  r->kind = kind;
  r->host = h;
  r->version = version;
  r->id = sam__strdup(id);
  r->json = sam__strndup(json, len);
  r->json_len = len;
  if (r->id == NULL || r->json == NULL)
    return reg_fail(h, r, SAM_ENOMEM, what, "out of memory");
  return reg_commit(h, r, what);
}

int sam__api_register_model(sam_host *host,
                            sam_profile_type *pt,
                            const sam_model_desc *src) {
  static const char what[] = "register_model";
  sam_host *h = sam__host_check(host);
  sam_model_desc d;
  sam__reg *r;
  int rc;

  if (h == NULL)
    return SAM_EINVAL;
  rc = sam__copy_in(&d, sizeof(d), MODEL_DESC_V1_0, src);
  rc = reg_begin(h, rc, src, MODEL_DESC_V1_0, pt, what, NULL, NULL, &r);
  if (rc != 0)
    return rc;
  if (sam__reserved_zero(&d, offsetof(sam_model_desc, reserved0),
                         sizeof(uint32_t)) != 0)
    return reg_fail(h, r, SAM_EINVAL, what, "reserved0 must be zero");
  return reg_json_entry(h, r, SAM__REG_MODEL, what, d.identifier, 1,
                        d.model_json, d.model_len, 0);
}

int sam__api_register_rule_template(sam_host *host,
                                    sam_profile_type *pt,
                                    const sam_rule_template_desc *src) {
  static const char what[] = "register_rule_template";
  sam_host *h = sam__host_check(host);
  sam_rule_template_desc d;
  sam__reg *r;
  int rc;

  if (h == NULL)
    return SAM_EINVAL;
  rc = sam__copy_in(&d, sizeof(d), TPL_DESC_V1_0, src);
  rc = reg_begin(h, rc, src, TPL_DESC_V1_0, pt, what, NULL, NULL, &r);
  if (rc != 0)
    return rc;
  return reg_json_entry(h, r, SAM__REG_TEMPLATE, what, d.template_id, 0,
                        d.rule_json, d.rule_len, d.template_version);
}

/* ---- host-owned record types ---- */

int sam_runtime_register_record_type(sam_runtime *rt,
                                     const sam_record_type_desc *src,
                                     char *err,
                                     size_t err_len) {
  sam_record_type_desc d;
  char buf[256];
  sam__reg *r;
  size_t i;
  int rc;

  if (err == NULL || err_len == 0) {
    err = buf;
    err_len = sizeof(buf);
  }
  err[0] = '\0';
  if (rt->stopping)
    return SAM_EBUSY;
  rc = sam__copy_in(&d, sizeof(d), RT_DESC_V1_0, src);
  if (rc != 0) {
    snprintf(err, err_len, "bad descriptor [struct_size=%u]",
             (unsigned)desc_size(src));
    return rc;
  }
  if (!sam__id_valid(d.record_type, SAM__ID_MAX) ||
      strncmp(d.record_type, "sam_", 4) != 0) {
    snprintf(err, err_len, "host record types are named sam_<thing> [%s]",
             d.record_type ? d.record_type : "(null)");
    return SAM_EINVAL;
  }
  for (i = 0; i < rt->host_types.n; i++) {
    if (strcmp(rt->host_types.v[i]->id, d.record_type) == 0) {
      snprintf(err, err_len, "record type exists [%s]", d.record_type);
      return SAM_EEXIST;
    }
  }
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return SAM_ENOMEM;
  rc = record_type_fill(r, &d, err, err_len);
  if (rc == 0)
    rc = list_push(&rt->host_types, r);
  if (rc != 0)
    sam__reg_free(r);
  return rc;
}

/* ---- lookups ---- */

sam__reg *
sam__registry_find(sam_runtime *rt, sam_host *only, int kind, const char *id) {
  sam_host *h;
  size_t i;

  for (h = rt->plugins; h != NULL; h = h->next) {
    if ((only != NULL && h != only) || !h->published ||
        h->phase != SAM__PHASE_RUNNING)
      continue;
    for (i = 0; i < h->regs.n; i++) {
      if (h->regs.v[i]->kind == kind && strcmp(h->regs.v[i]->id, id) == 0)
        return h->regs.v[i];
    }
  }
  return NULL;
}

sam__reg *
sam__registry_record_type(sam_runtime *rt, sam_host *h, const char *name) {
  size_t i;

  if (name == NULL)
    return NULL;
  if (strncmp(name, "sam_", 4) == 0) {
    for (i = 0; i < rt->host_types.n; i++) {
      if (strcmp(rt->host_types.v[i]->id, name) == 0)
        return rt->host_types.v[i];
    }
    return NULL;
  }
  if (h == NULL)
    return NULL;
  for (i = 0; i < h->regs.n; i++) {
    if (h->regs.v[i]->kind == SAM__REG_RECORD_TYPE &&
        strcmp(h->regs.v[i]->id, name) == 0)
      return h->regs.v[i];
  }
  return NULL;
}

int sam__registry_is_form_secret(sam_host *h, const char *name) {
  size_t i, k;

  for (i = 0; i < h->regs.n; i++) {
    sam__reg *r = h->regs.v[i];

    if (r->kind != SAM__REG_PROFILE_TYPE)
      continue;
    for (k = 0; k < r->n_secret_fields; k++) {
      if (strcmp(r->secret_fields[k], name) == 0)
        return 1;
    }
  }
  return 0;
}
