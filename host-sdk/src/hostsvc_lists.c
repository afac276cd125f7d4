/*
 * hostsvc_lists.c: a profile's related lists (SAM-MODEL.md 5), paged from
 * the store, and the edits the editable ones allow: exclusion rules
 * (create, update, delete), reclamation rules (update), unrecognized
 * identifiers (map to a model), candidates (state transitions of
 * SAM-MODEL.md 10, each recorded in the history).
 *
 * GET /api/v1/profiles/{id}/lists/{list}?cursor=&limit=&filter.<f>=&sort=
 *   limit 1..500 (default 50). filter.<field> is equality on an indexed
 *   field (see hostsvc_types.c; an unindexed field is refused with the
 *   list of indexed ones). sort accepts only the list's key field,
 *   ascending: the store pages in key order with an opaque cursor, and
 *   any other order would need the whole list in memory (100,000 rows).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

enum {
  SCOPE_PROFILE = 0,
  SCOPE_HOST_BY_PROFILE,
  SCOPE_HOST_BY_TYPE,
  SCOPE_HOST_ALL
};

typedef struct list_def {
  const char *name;
  const char *type;
  int scope;
  const char *key_field;
  int can_post;
  int can_patch;
  int can_delete;
} list_def;

static const list_def lists[] = {
    {"models", "sam_software_model", SCOPE_PROFILE, "identifier", 0, 0, 0},
    {"unrecognized", "sam_unrecognized_identifier", SCOPE_PROFILE, "identifier",
     0, 1, 0},
    {"jobs", "sam_scheduled_job", SCOPE_HOST_BY_PROFILE, "job_key", 0, 0, 0},
    {"job-results", "sam_job_result", SCOPE_HOST_BY_PROFILE, "job_id", 0, 0, 0},
    {"subscriptions", "sam_subscription", SCOPE_PROFILE, "external_user_id", 0,
     0, 0},
    {"identifier-exclusions", "sam_exclusion_identifier", SCOPE_HOST_BY_TYPE,
     "rule_id", 1, 1, 1},
    {"user-exclusions", "sam_exclusion_user", SCOPE_HOST_ALL, "rule_id", 1, 1,
     1},
    {"rules", "sam_reclamation_rule", SCOPE_PROFILE, "rule_id", 0, 1, 0},
    {"candidates", "sam_candidate", SCOPE_PROFILE, "candidate_id", 0, 1, 0},
};

static const list_def *find_list(const char *name) {
  size_t i;

  for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
    if (strcmp(lists[i].name, name) == 0)
      return &lists[i];
  }
  return NULL;
}

static const char *scope_of(const list_def *l, sam__hs_call *c) {
  return l->scope == SCOPE_PROFILE ? c->segs[3] : SAM__HS_HOST_SCOPE;
}

static json_object *err1(const char *pointer, const char *msg) {
  json_object *a = json_object_new_array();
  json_object *e = json_object_new_object();

  json_object_object_add(e, "pointer", json_object_new_string(pointer));
  json_object_object_add(e, "message", json_object_new_string(msg));
  json_object_array_add(a, e);
  return a;
}

/* Validates a record against its host type's schema; per-field errors. */
static json_object *
validate_record(sam_hostsvc *svc, const char *type, json_object *rec) {
  const sam__hs_type *t = sam__hs_type_find(svc, type);
  sam__schema *s = NULL;
  sam__schema_error e[SAM__HS_MAX_ERRS];
  json_object *errs;
  size_t n = 0, i;
  char why[256];

  if (t == NULL ||
      sam__schema_compile_obj(t->schema, 0, &s, why, sizeof(why)) != 0)
    return err1("", "the record schema cannot be used");
  if (sam__schema_validate_obj(s, rec, e, SAM__HS_MAX_ERRS, &n) == 0) {
    sam__schema_free(s);
    return NULL;
  }
  sam__schema_free(s);
  errs = json_object_new_array();
  for (i = 0; i < n; i++) {
    json_object *o = json_object_new_object();

    json_object_object_add(o, "pointer", json_object_new_string(e[i].pointer));
    json_object_object_add(o, "message", json_object_new_string(e[i].reason));
    json_object_array_add(errs, o);
  }
  return errs;
}

static void reply_store_err(sam__hs_call *c, int status, const char *what) {
  if (status == SAM_ENOENT)
    sam__hs_reply_err(c, status, NULL, "no such item [list=%s] [key=%s]",
                      c->segs[5], c->n_segs > 6 ? c->segs[6] : "");
  else if (status == SAM_ECONFLICT)
    sam__hs_reply_err(c, status, NULL,
                      "the item changed meanwhile; read it again [key=%s]",
                      c->n_segs > 6 ? c->segs[6] : "");
  else
    sam__hs_reply_err(c, status, NULL, "%s failed [%s]", what,
                      sam_err_name(status));
}

/* ---- GET a page ---- */

static void
page_done(sam__hs_call *c, int status, const sam_store_result *res) {
  if (status != 0) {
    if (!sam__hs_reply_cursor_err(c, status))
      reply_store_err(c, status, "reading the list");
    return;
  }
  sam__hs_reply_page(c, res);
}

static void get_page(sam__hs_call *c, const list_def *l) {
  const sam__hs_type *t = sam__hs_type_find(c->svc, l->type);
  json_object *filter = json_object_new_object();
  const char *lim = sam__hs_str(c->qs, "limit");
  const char *sort = sam__hs_str(c->qs, "sort");
  long limit = SAM__HS_PAGE_DEFAULT;
  int rc;

  if (lim != NULL) {
    char *end = NULL;

    limit = strtol(lim, &end, 10);
    if (end == lim || *end != '\0' || limit < 1 || limit > SAM__HS_PAGE_MAX) {
      json_object_put(filter);
      sam__hs_reply_err(c, SAM_EINVAL, err1("/limit", "must be 1..500"),
                        "limit must be 1..%d [limit=%s]", SAM__HS_PAGE_MAX,
                        lim);
      return;
    }
  }
  if (sort != NULL && strcmp(sort, l->key_field) != 0) {
    json_object_put(filter);
    sam__hs_reply_err(c, SAM_EINVAL, err1("/sort", "unsupported sort"),
                      "sort supports only [%s] ascending: the store pages in "
                      "key order [sort=%s]",
                      l->key_field, sort);
    return;
  }
  json_object_object_foreach(c->qs, k, v) {
    char ptr[300];
    const char *field, *ty, *val = json_object_get_string(v);

    if (strncmp(k, "filter.", 7) != 0) {
      if (strcmp(k, "cursor") != 0 && strcmp(k, "limit") != 0 &&
          strcmp(k, "sort") != 0) {
        json_object_put(filter);
        sam__hs_reply_err(c, SAM_EINVAL, NULL, "unknown query parameter [%s]",
                          k);
        return;
      }
      continue;
    }
    field = k + 7;
    snprintf(ptr, sizeof(ptr), "/%s", field);
    if (!sam__hs_type_indexed(t, ptr)) {
      json_object_put(filter);
      sam__hs_reply_err(c, SAM_EINVAL, err1(ptr, "not filterable"),
                        "field [%s] is not indexed; filterable: %s", field,
                        t->indexes);
      return;
    }
    ty = sam__hs_type_prop_type(t, field);
    if (ty != NULL && strcmp(ty, "boolean") == 0)
      json_object_object_add(filter, ptr,
                             json_object_new_boolean(strcmp(val, "true") == 0));
    else if (ty != NULL &&
             (strcmp(ty, "integer") == 0 || strcmp(ty, "number") == 0))
      json_object_object_add(filter, ptr,
                             json_object_new_int64(strtoll(val, NULL, 10)));
    else
      json_object_object_add(filter, ptr, json_object_new_string(val));
  }
  if (l->scope == SCOPE_HOST_BY_PROFILE)
    json_object_object_add(filter, "/profile_id",
                           json_object_new_string(c->segs[3]));
  else if (l->scope == SCOPE_HOST_BY_TYPE)
    json_object_object_add(
        filter, "/profile_type",
        json_object_new_string(sam__hs_str(c->profile, "type_id")));
  rc = sam__hs_query(c, scope_of(l, c), l->type, filter,
                     sam__hs_str(c->qs, "cursor"), (uint32_t)limit, page_done);
  json_object_put(filter);
  if (rc != 0)
    reply_store_err(c, rc, "reading the list");
}

/* ---- edits ---- */

static const char *const cand_states[] = {"attention_required",
                                          "ready",
                                          "awaiting_user",
                                          "awaiting_approval",
                                          "awaiting_revocation",
                                          "closed_complete",
                                          "closed_skipped",
                                          "closed_canceled",
                                          NULL};

static int is_open_state(const char *s) {
  return strncmp(s, "closed_", 7) != 0;
}

/* SAM-MODEL.md 10's transitions (the "(new)" rows are the plugin's). */
static int transition_ok(const char *from, const char *to) {
  static const char *const pairs[][2] = {
      {"attention_required", "ready"},
      {"ready", "awaiting_user"},
      {"ready", "awaiting_revocation"},
      {"awaiting_user", "awaiting_revocation"},
      {"awaiting_user", "awaiting_approval"},
      {"awaiting_approval", "closed_skipped"},
      {"awaiting_approval", "awaiting_revocation"},
      {"awaiting_revocation", "closed_complete"},
      {"awaiting_revocation", "attention_required"},
      {"awaiting_revocation", "closed_skipped"},
  };
  size_t i;

  if (is_open_state(from) &&
      (strcmp(to, "closed_skipped") == 0 || strcmp(to, "closed_canceled") == 0))
    return 1;
  for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    if (strcmp(pairs[i][0], from) == 0 && strcmp(pairs[i][1], to) == 0)
      return 1;
  }
  return 0;
}

static void lower(char *s) {
  for (; *s != '\0'; s++)
    *s = (char)tolower((unsigned char)*s);
}

/* Copies the allowed fields of the body over rec; refuses the others. */
static json_object *
apply_fields(json_object *rec, json_object *body, const char *const *allowed) {
  json_object *errs = json_object_new_array();

  if (body == NULL || !json_object_is_type(body, json_type_object)) {
    json_object_put(errs);
    return err1("", "the body must be a JSON object");
  }
  json_object_object_foreach(body, k, v) {
    size_t i;
    int ok = 0;

    for (i = 0; allowed[i] != NULL; i++)
      ok |= strcmp(allowed[i], k) == 0;
    if (!ok) {
      char ptr[300], msg[300];
      json_object *e = json_object_new_object();

      snprintf(ptr, sizeof(ptr), "/%s", k);
      snprintf(msg, sizeof(msg), "unknown or read-only field [%s]", k);
      json_object_object_add(e, "pointer", json_object_new_string(ptr));
      json_object_object_add(e, "message", json_object_new_string(msg));
      json_object_array_add(errs, e);
      continue;
    }
    json_object_object_add(rec, k, json_object_get(v));
  }
  if (json_object_array_length(errs) == 0) {
    json_object_put(errs);
    return NULL;
  }
  return errs;
}

static void normalize_user_rule(json_object *rec) {
  const char *keys[] = {"user_principal_name", "domain"};
  size_t i;

  for (i = 0; i < 2; i++) {
    const char *s = sam__hs_str(rec, keys[i]);

    if (s != NULL) {
      char *d = strdup(s);

      lower(d);
      json_object_object_add(rec, keys[i], json_object_new_string(d));
      free(d);
    }
  }
}

static void
saved_item(sam__hs_call *c, int status, const sam_store_result *res) {
  (void)res;
  if (status != 0) {
    reply_store_err(c, status, "saving the item");
    return;
  }
  sam__hs_reply_json(c, c->flag ? 201 : 200, json_object_get(c->work));
}

static void write_item(sam__hs_call *c,
                       const list_def *l,
                       const char *key,
                       uint64_t if_version) {
  json_object *errs = validate_record(c->svc, l->type, c->work);
  int rc;

  if (errs != NULL) {
    sam__hs_reply_err(c, SAM_EINVAL, errs, "the item is not valid [list=%s]",
                      l->name);
    return;
  }
  rc = sam__hs_put(c, scope_of(l, c), l->type, key, c->work, if_version,
                   saved_item);
  if (rc != 0)
    reply_store_err(c, rc, "saving the item");
}

static void post_item(sam__hs_call *c, const list_def *l) {
  static const char *const id_allowed[] = {"subscription_identifier", "domain",
                                           "active", NULL};
  static const char *const user_allowed[] = {"user_principal_name", "domain",
                                             "active", "profile_type", NULL};
  json_object *errs;
  char id[33], now[32];
  int user = strcmp(l->name, "user-exclusions") == 0;

  c->work = json_object_new_object();
  errs = apply_fields(c->work, c->req, user ? user_allowed : id_allowed);
  if (errs != NULL) {
    sam__hs_reply_err(c, SAM_EINVAL, errs, "the body has unknown fields");
    return;
  }
  if (user) {
    int has_upn = sam__hs_str(c->work, "user_principal_name") != NULL;
    int has_dom = sam__hs_str(c->work, "domain") != NULL;

    if (has_upn == has_dom) {
      sam__hs_reply_err(c, SAM_EINVAL,
                        err1("/user_principal_name",
                             "give exactly one of user_principal_name "
                             "(exact, case-insensitive) or domain"),
                        "a user exclusion names a user or a domain");
      return;
    }
    normalize_user_rule(c->work);
  } else {
    json_object_object_add(
        c->work, "profile_type",
        json_object_new_string(sam__hs_str(c->profile, "type_id")));
  }
  if (!json_object_object_get_ex(c->work, "active", NULL))
    json_object_object_add(c->work, "active", json_object_new_boolean(1));
  if (sam__hs_random_hex(id) != 0) {
    sam__hs_reply_err(c, SAM_EIO, NULL, "no randomness for an id");
    return;
  }
  sam__hs_now(now);
  json_object_object_add(c->work, "rule_id", json_object_new_string(id));
  json_object_object_add(c->work, "created_at", json_object_new_string(now));
  json_object_object_add(c->work, "created_by",
                         json_object_new_string(c->actor));
  c->flag = 1;
  write_item(c, l, id, SAM_IF_NEW);
}

static void
model_checked(sam__hs_call *c, int status, const sam_store_result *res) {
  (void)res;
  if (status == SAM_ENOENT) {
    sam__hs_reply_err(
        c, SAM_EINVAL,
        err1("/software_model", "no such software model on this profile"),
        "unknown software model [%s]", sam__hs_str(c->work, "software_model"));
    return;
  }
  if (status != 0) {
    reply_store_err(c, status, "reading the software model");
    return;
  }
  write_item(c, find_list("unrecognized"), c->segs[6], c->u64);
}

static void
patch_loaded(sam__hs_call *c, int status, const sam_store_result *res) {
  static const char *const id_allowed[] = {"subscription_identifier", "domain",
                                           "active", NULL};
  static const char *const user_allowed[] = {"user_principal_name", "domain",
                                             "active", NULL};
  static const char *const rule_allowed[] = {"name",
                                             "last_activity_threshold_days",
                                             "notify_user",
                                             "days_before_auto_reclamation",
                                             "grace_days",
                                             "create_candidate",
                                             "assignment_group",
                                             "active",
                                             "suggested_update",
                                             "accept_suggestion",
                                             NULL};
  static const char *const unrec_allowed[] = {"software_model", NULL};
  const list_def *l = find_list(c->segs[5]);
  json_object *errs = NULL;
  int rc;

  if (status != 0) {
    reply_store_err(c, status, "reading the item");
    return;
  }
  c->work = sam__hs_parse(res->recs[0].json, res->recs[0].json_len);
  c->u64 = res->recs[0].version;
  if (c->work == NULL) {
    reply_store_err(c, SAM_EIO, "reading the item");
    return;
  }
  if (l->scope == SCOPE_HOST_BY_TYPE) {
    const char *pt = sam__hs_str(c->work, "profile_type");

    if (pt == NULL || strcmp(pt, sam__hs_str(c->profile, "type_id")) != 0) {
      reply_store_err(c, SAM_ENOENT, "reading the item");
      return;
    }
  }
  if (strcmp(c->method, "DELETE") == 0) {
    c->flag = 0;
    rc =
        sam__hs_del(c, scope_of(l, c), l->type, c->segs[6], c->u64, saved_item);
    if (rc != 0)
      reply_store_err(c, rc, "deleting the item");
    return;
  }
  if (strcmp(l->name, "candidates") == 0) {
    const char *to = sam__hs_str(c->req, "state");
    const char *reason = sam__hs_str(c->req, "reason");
    const char *from = sam__hs_str(c->work, "state");
    size_t i;
    int known = 0;

    json_object_object_foreach(c->req, k, v) {
      (void)v;
      if (strcmp(k, "state") != 0 && strcmp(k, "reason") != 0) {
        sam__hs_reply_err(c, SAM_EINVAL, err1("", "unknown field"),
                          "unknown field [%s]; send state and reason", k);
        return;
      }
    }
    for (i = 0; to != NULL && cand_states[i] != NULL; i++)
      known |= strcmp(cand_states[i], to) == 0;
    if (!known) {
      sam__hs_reply_err(c, SAM_EINVAL, err1("/state", "unknown state"),
                        "unknown candidate state [%s]", to ? to : "");
      return;
    }
    if (from == NULL || !transition_ok(from, to)) {
      sam__hs_reply_err(c, SAM_ECONFLICT, err1("/state", "not allowed"),
                        "transition not allowed [from=%s] [to=%s]",
                        from ? from : "", to);
      return;
    }
    sam__hs_candidate_move(c->work, to, c->actor,
                           reason != NULL ? reason : "changed by hand");
    write_item(c, l, c->segs[6], c->u64);
    return;
  }
  if (strcmp(l->name, "identifier-exclusions") == 0)
    errs = apply_fields(c->work, c->req, id_allowed);
  else if (strcmp(l->name, "user-exclusions") == 0)
    errs = apply_fields(c->work, c->req, user_allowed);
  else if (strcmp(l->name, "rules") == 0)
    errs = apply_fields(c->work, c->req, rule_allowed);
  else
    errs = apply_fields(c->work, c->req, unrec_allowed);
  if (errs != NULL) {
    sam__hs_reply_err(c, SAM_EINVAL, errs, "the body has unknown fields");
    return;
  }
  if (strcmp(l->name, "user-exclusions") == 0)
    normalize_user_rule(c->work);
  if (strcmp(l->name, "rules") == 0) {
    json_object *acc = NULL, *sug = NULL, *rule = NULL;
    int only_accept = json_object_object_length(c->req) == 1;

    json_object_object_get_ex(c->work, "accept_suggestion", &acc);
    json_object_object_del(c->work, "accept_suggestion");
    json_object_object_add(c->work, "edited", json_object_new_boolean(1));
    if (acc != NULL && json_object_get_boolean(acc)) {
      /* Take the offered template over the admin's version. */
      if (!json_object_object_get_ex(c->work, "suggested_update", &sug) ||
          sug == NULL || !json_object_object_get_ex(sug, "rule", &rule)) {
        sam__hs_reply_err(c, SAM_ECONFLICT,
                          err1("/accept_suggestion", "no suggestion"),
                          "this rule has no suggested update");
        return;
      }
      json_object_get(sug);
      json_object_object_foreach(rule, rk, rv) {
        json_object_object_add(c->work, rk, json_object_get(rv));
      }
      json_object_object_add(
          c->work, "template_version",
          json_object_get(json_object_object_get(sug, "template_version")));
      json_object_put(sug);
      json_object_object_add(c->work, "suggested_update", NULL);
      json_object_object_add(c->work, "edited",
                             json_object_new_boolean(!only_accept));
    }
  }
  if (strcmp(l->name, "unrecognized") == 0 &&
      sam__hs_str(c->work, "software_model") != NULL) {
    rc = sam__hs_get(c, c->segs[3], "sam_software_model",
                     sam__hs_str(c->work, "software_model"), model_checked);
    if (rc != 0)
      reply_store_err(c, rc, "reading the software model");
    return;
  }
  write_item(c, l, c->segs[6], c->u64);
}

static void item_got(sam__hs_call *c, int status, const sam_store_result *res) {
  if (status != 0) {
    reply_store_err(c, status, "reading the item");
    return;
  }
  sam__hs_reply_json(c, 200,
                     sam__hs_parse(res->recs[0].json, res->recs[0].json_len));
}

static void list_profile_loaded(sam__hs_call *c, int status) {
  const list_def *l = find_list(c->segs[5]);
  const char *m = c->method;
  int rc = 0;

  if (status != 0) {
    if (status == SAM_ENOENT)
      sam__hs_reply_err(c, status, NULL, "no such profile [id=%s]", c->segs[3]);
    else
      reply_store_err(c, status, "reading the profile");
    return;
  }
  if (c->n_segs == 6) {
    if (strcmp(m, "GET") == 0)
      get_page(c, l);
    else if (strcmp(m, "POST") == 0 && l->can_post)
      post_item(c, l);
    else
      sam__hs_reply_err(c, SAM_EINVAL, NULL,
                        "method not allowed on this list [%s] [list=%s]", m,
                        l->name);
    return;
  }
  if (strcmp(m, "GET") == 0)
    rc = sam__hs_get(c, scope_of(l, c), l->type, c->segs[6], item_got);
  else if ((strcmp(m, "PATCH") == 0 && l->can_patch) ||
           (strcmp(m, "DELETE") == 0 && l->can_delete))
    rc = sam__hs_get(c, scope_of(l, c), l->type, c->segs[6], patch_loaded);
  else {
    sam__hs_reply_err(c, SAM_EINVAL, NULL,
                      "method not allowed on this list [%s] [list=%s]", m,
                      l->name);
    return;
  }
  if (rc != 0)
    reply_store_err(c, rc, "reading the item");
}

void sam__hs_route_list(sam__hs_call *c) {
  int rc;

  /* (addition, issue 7) the Undo of a reclaim, per subscription */
  if (c->n_segs == 8 && strcmp(c->segs[5], "subscriptions") == 0 &&
      strcmp(c->segs[7], "restore") == 0) {
    sam__hs_route_restore(c);
    return;
  }
  if (c->n_segs < 6 || c->n_segs > 7 || find_list(c->segs[5]) == NULL) {
    sam__hs_reply_err(c, SAM_ENOENT, NULL,
                      "no such list [%s]; lists: models, unrecognized, jobs, "
                      "job-results, subscriptions, identifier-exclusions, "
                      "user-exclusions, rules, candidates",
                      c->n_segs > 5 ? c->segs[5] : "");
    return;
  }
  if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "DELETE") != 0 &&
      (c->req == NULL || !json_object_is_type(c->req, json_type_object))) {
    sam__hs_reply_err(c, SAM_EINVAL, NULL, "the body must be a JSON object");
    return;
  }
  rc = sam__hs_load_profile(c, c->segs[3], list_profile_loaded);
  if (rc != 0)
    reply_store_err(c, rc, "reading the profile");
}
