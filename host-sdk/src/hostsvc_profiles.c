/*
 * hostsvc_profiles.c: integration profiles (SAM-MODEL.md 2, 3, 12): create
 * (Draft), read (secrets shown as {"set": bool}), list, update (may return
 * to Draft and drop the tokens and jobs), delete (subscriptions, jobs and
 * plugin records go; open candidates become closed_skipped; rules stay;
 * secrets are destroyed).
 *
 * Profiles are host-level records (scope ""), keyed by profile_id.
 * Request bodies:
 *   POST  {"type_id": "...", "display_name"?: "...", "form": {...}}
 *   PATCH {"display_name"?: "...", "form": {...changed fields...}}
 * A form field set to null in a PATCH is cleared; an x-sam-secret field
 * left out keeps its sealed value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

/* ---- views ---- */

json_object *sam__hs_profile_view(json_object *profile, json_object *plugin) {
  json_object *out = sam__hs_copy(profile);
  json_object *form = NULL, *set = NULL, *pt, *names;
  size_t i, n;

  if (out == NULL)
    return NULL;
  json_object_object_get_ex(out, "form", &form);
  json_object_object_get_ex(profile, "secrets_set", &set);
  if (form != NULL && plugin != NULL &&
      json_object_object_get_ex(plugin, "profile_type", &pt) &&
      json_object_object_get_ex(pt, "secret_fields", &names)) {
    n = json_object_array_length(names);
    for (i = 0; i < n; i++) {
      const char *k =
          json_object_get_string(json_object_array_get_idx(names, i));
      json_object *v = NULL, *o = json_object_new_object();

      json_object_object_get_ex(set, k, &v);
      json_object_object_add(
          o, "set",
          json_object_new_boolean(v != NULL && json_object_get_boolean(v)));
      json_object_object_add(form, k, o);
    }
  }
  json_object_object_del(out, "secrets_set");
  return out;
}

char *sam__hs_profile_plugin_json(sam_hostsvc *svc, json_object *profile) {
  json_object *o = json_object_new_object();
  json_object *form = NULL;
  const char *k2[] = {"profile_id", "type_id", "display_name", "state",
                      "connection_status"};
  char *text;
  size_t i;

  if (o == NULL)
    return NULL;
  if (json_object_object_get_ex(profile, "form", &form)) {
    json_object_object_foreach(form, k, v) {
      json_object_object_add(o, k, json_object_get(v));
    }
  }
  for (i = 0; i < sizeof(k2) / sizeof(k2[0]); i++) {
    json_object *v;

    if (json_object_object_get_ex(profile, k2[i], &v))
      json_object_object_add(o, k2[i], json_object_get(v));
  }
  if (svc->test_mode) {
    json_object *h = json_object_new_object();

    json_object_object_add(h, "test_mode", json_object_new_boolean(1));
    json_object_object_add(o, "_host", h);
  }
  text = strdup(sam__hs_text(o));
  json_object_put(o);
  return text;
}

/* ---- load and save ---- */

static void
on_loaded(sam__hs_call *c, int status, const sam_store_result *res) {
  sam__hs_step_fn then = c->then;

  if (status == 0 && (res == NULL || res->n != 1))
    status = SAM_ENOENT;
  if (status == 0) {
    json_object *p = sam__hs_parse(res->recs[0].json, res->recs[0].json_len);

    if (p == NULL) {
      status = SAM_EIO;
    } else {
      json_object_put(c->profile);
      c->profile = p;
      c->profile_version = res->recs[0].version;
      if (sam__hs_registry(c) != 0) {
        status = SAM_ENOMEM;
      } else {
        json_object *pl = sam__hs_plugin_by_name(c, sam__hs_str(p, "plugin"));

        json_object_put(c->plugin);
        c->plugin = pl != NULL ? json_object_get(pl) : NULL;
      }
    }
  }
  then(c, status);
}

int sam__hs_load_profile(sam__hs_call *c,
                         const char *id,
                         sam__hs_step_fn then) {
  c->then = then;
  return sam__hs_get(c, SAM__HS_HOST_SCOPE, "sam_profile", id, on_loaded);
}

static void on_saved(sam__hs_call *c, int status, const sam_store_result *res) {
  if (status == 0 && res != NULL && res->n == 1)
    c->profile_version = res->recs[0].version;
  c->then(c, status);
}

int sam__hs_save_profile(sam__hs_call *c, sam__hs_step_fn then) {
  char now[32];
  const char *id = sam__hs_str(c->profile, "profile_id");
  json_object *form;

  sam__hs_now(now);
  json_object_object_add(c->profile, "updated_at", json_object_new_string(now));
  /* The form may carry a readOnly connection_status: keep it in step. */
  if (json_object_object_get_ex(c->profile, "form", &form) &&
      json_object_object_get_ex(form, "connection_status", NULL) &&
      sam__hs_str(c->profile, "connection_status") != NULL)
    json_object_object_add(
        form, "connection_status",
        json_object_new_string(sam__hs_str(c->profile, "connection_status")));
  c->then = then;
  return sam__hs_put(c, SAM__HS_HOST_SCOPE, "sam_profile", id, c->profile,
                     c->profile_version != 0 ? c->profile_version : SAM_IF_ANY,
                     on_saved);
}

static void reply_profile(sam__hs_call *c, int http) {
  sam__hs_reply_json(c, http, sam__hs_profile_view(c->profile, c->plugin));
}

static void reply_status(sam__hs_call *c, int status, const char *what) {
  if (status == SAM_ENOENT)
    sam__hs_reply_err(c, status, NULL, "no such profile [id=%s]",
                      c->n_segs > 3 ? c->segs[3] : "");
  else if (status == SAM_ECONFLICT)
    sam__hs_reply_err(c, status, NULL,
                      "the profile changed meanwhile [id=%s]; read it again",
                      c->n_segs > 3 ? c->segs[3] : "");
  else
    sam__hs_reply_err(c, status, NULL, "%s failed [%s]", what,
                      sam_err_name(status));
}

/* ---- secrets ---- */

static void on_secret(int status, void *ud) {
  sam__hs_call *c = ud;

  c->pending--;
  if (status != 0 && c->first_err == 0)
    c->first_err = status;
  if (c->pending == 0)
    c->then(c, c->first_err);
}

/* Seals each secret of `secrets` (or deletes each name of `names` when
 * secrets is NULL), then calls then(c, status) once. */
static int seal_secrets(sam__hs_call *c,
                        const char *pid,
                        json_object *secrets,
                        sam__hs_step_fn then) {
  int started = 0, rc = 0;

  c->first_err = 0;
  c->then = then;
  c->pending++; /* guard: then runs only after the loop below */
  json_object_object_foreach(secrets, k, v) {
    const char *s = v != NULL ? json_object_get_string(v) : NULL;

    rc = sam_runtime_set_form_secret(c->svc->rt, pid, k, s,
                                     s != NULL ? strlen(s) : 0, on_secret, c);
    if (rc != 0)
      break;
    c->pending++;
    started++;
  }
  c->pending--;
  if (rc != 0 && c->first_err == 0)
    c->first_err = rc;
  if (c->pending == 0) {
    /* Nothing queued (or all rejected): finish on the store's next turn is
     * not needed; replies are deferred anyway. */
    then(c, c->first_err);
  }
  (void)started;
  return 0;
}

/* ---- create ---- */

static void create_saved(sam__hs_call *c, int status) {
  if (status != 0) {
    reply_status(c, status, "saving the profile");
    return;
  }
  reply_profile(c, 201);
}

static void create_sealed(sam__hs_call *c, int status) {
  int rc;

  if (status != 0) {
    sam__hs_reply_err(c, status, NULL,
                      "sealing the profile's secrets failed [%s]",
                      sam_err_name(status));
    return;
  }
  rc = sam__hs_save_profile(c, create_saved);
  if (rc != 0)
    reply_status(c, rc, "saving the profile");
}

static void seal_and_save(sam__hs_call *c) {
  const char *pid = sam__hs_str(c->profile, "profile_id");

  (void)seal_secrets(c, pid, c->work, create_sealed);
}

static void
create_unique(sam__hs_call *c, int status, const sam_store_result *res) {
  const char *self = sam__hs_str(c->profile, "profile_id");
  size_t i;

  if (status != 0) {
    reply_status(c, status, "checking for a duplicate account");
    return;
  }
  for (i = 0; res != NULL && i < res->n; i++) {
    if (self == NULL || strcmp(res->recs[i].key, self) != 0) {
      json_object *errs = json_object_new_array();
      json_object *e = json_object_new_object();

      json_object_object_add(e, "pointer", json_object_new_string(""));
      json_object_object_add(
          e, "message",
          json_object_new_string("another profile of this type already "
                                 "covers this remote account"));
      json_object_array_add(errs, e);
      sam__hs_reply_err(c, SAM_ECONFLICT, errs,
                        "a profile for this account already exists [id=%s]",
                        res->recs[i].key);
      return;
    }
  }
  c->then(c, 0);
}

static int check_unique(sam__hs_call *c,
                        const char *type_id,
                        const char *key,
                        sam__hs_step_fn then) {
  json_object *f;
  size_t n = strlen(type_id) + strlen(key) + 2;
  int rc;

  /* The store check below cannot see a create that is still in flight:
   * a claim held until this call is answered closes that window. */
  c->claim = malloc(n);
  if (c->claim == NULL)
    return SAM_ENOMEM;
  snprintf(c->claim, n, "%s|%s", type_id, key);
  if (json_object_object_get_ex(c->svc->claims, c->claim, NULL)) {
    free(c->claim);
    c->claim = NULL;
    sam__hs_reply_err(c, SAM_ECONFLICT, NULL,
                      "a profile for this account is being saved right now");
    return 0;
  }
  json_object_object_add(c->svc->claims, c->claim, json_object_new_boolean(1));
  f = json_object_new_object();

  json_object_object_add(f, "/type_id", json_object_new_string(type_id));
  json_object_object_add(f, "/account_key", json_object_new_string(key));
  c->then = then;
  rc = sam__hs_query(c, SAM__HS_HOST_SCOPE, "sam_profile", f, NULL, 2,
                     create_unique);
  json_object_put(f);
  return rc;
}

static void create_unique_ok(sam__hs_call *c, int status) {
  (void)status;
  seal_and_save(c);
}

static int body_fields_ok(sam__hs_call *c, const char *const *allowed) {
  json_object *errs;

  if (c->req == NULL || !json_object_is_type(c->req, json_type_object)) {
    sam__hs_reply_err(c, SAM_EINVAL, NULL, "the body must be a JSON object");
    return 0;
  }
  errs = json_object_new_array();
  json_object_object_foreach(c->req, k, v) {
    size_t i;
    int ok = 0;

    (void)v;
    for (i = 0; allowed[i] != NULL; i++)
      ok |= strcmp(allowed[i], k) == 0;
    if (!ok) {
      json_object *e = json_object_new_object();
      char ptr[300], msg[300];

      snprintf(ptr, sizeof(ptr), "/%s", k);
      snprintf(msg, sizeof(msg), "unknown field [%s]", k);
      json_object_object_add(e, "pointer", json_object_new_string(ptr));
      json_object_object_add(e, "message", json_object_new_string(msg));
      json_object_array_add(errs, e);
    }
  }
  if (json_object_array_length(errs) > 0) {
    sam__hs_reply_err(c, SAM_EINVAL, errs, "the body has unknown fields");
    return 0;
  }
  json_object_put(errs);
  return 1;
}

static const char *
pick_display_name(json_object *req, json_object *form, json_object *plugin) {
  const char *s = sam__hs_str(form, "display_name");
  json_object *pt = NULL;

  if (s == NULL)
    s = sam__hs_str(req, "display_name");
  if (s == NULL && json_object_object_get_ex(plugin, "profile_type", &pt))
    s = sam__hs_str(pt, "display_name");
  return s != NULL ? s : "profile";
}

static json_object *secrets_set_of(json_object *secrets, json_object *old) {
  json_object *set = old != NULL ? sam__hs_copy(old) : json_object_new_object();

  json_object_object_foreach(secrets, k, v) {
    json_object_object_add(set, k, json_object_new_boolean(v != NULL));
  }
  return set;
}

static void route_create(sam__hs_call *c) {
  static const char *const allowed[] = {"type_id", "display_name", "form",
                                        NULL};
  sam__hs_form f;
  json_object *plugin, *p;
  const char *type_id;
  char id[33], now[32];
  int rc;

  if (!body_fields_ok(c, allowed))
    return;
  type_id = sam__hs_str(c->req, "type_id");
  if (sam__hs_registry(c) != 0) {
    sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return;
  }
  plugin = sam__hs_plugin_by_type(c, type_id);
  if (plugin == NULL) {
    sam__hs_reply_err(c, SAM_EINVAL, NULL,
                      "unknown profile type [type_id=%s]; see "
                      "/api/v1/profile-types",
                      type_id != NULL ? type_id : "");
    return;
  }
  rc = sam__hs_form_check(c, plugin, json_object_object_get(c->req, "form"),
                          NULL, NULL, &f);
  if (rc != 0) {
    sam__hs_reply_err(c, rc, NULL, "the form schema cannot be used [%s]",
                      sam_err_name(rc));
    return;
  }
  if (f.errors != NULL) {
    sam__hs_reply_err(c, SAM_EINVAL, f.errors,
                      "the form has [%zu] invalid field(s)",
                      json_object_array_length(f.errors));
    f.errors = NULL;
    sam__hs_form_clear(&f);
    return;
  }
  if (sam__hs_random_hex(id) != 0) {
    sam__hs_form_clear(&f);
    sam__hs_reply_err(c, SAM_EIO, NULL, "no randomness for an id");
    return;
  }
  sam__hs_now(now);
  p = json_object_new_object();
  json_object_object_add(p, "profile_id", json_object_new_string(id));
  json_object_object_add(p, "type_id", json_object_new_string(type_id));
  json_object_object_add(p, "plugin",
                         json_object_new_string(sam__hs_str(plugin, "name")));
  json_object_object_add(
      p, "display_name",
      json_object_new_string(pick_display_name(c->req, f.form, plugin)));
  json_object_object_add(p, "state", json_object_new_string("draft"));
  json_object_object_add(p, "connection_status",
                         json_object_new_string("not_connected"));
  json_object_object_add(p, "form", json_object_get(f.form));
  json_object_object_add(p, "secrets_set", secrets_set_of(f.secrets, NULL));
  json_object_object_add(
      p, "account_key",
      f.account_key != NULL ? json_object_new_string(f.account_key) : NULL);
  json_object_object_add(p, "last_error", NULL);
  json_object_object_add(p, "created_at", json_object_new_string(now));
  json_object_object_add(p, "updated_at", json_object_new_string(now));
  c->profile = p;
  /* SAM_IF_NEW: ids are random, a clash is a bug worth an error. */
  c->profile_version = SAM_IF_NEW;
  c->plugin = json_object_get(plugin);
  c->work = json_object_get(f.secrets);
  if (f.account_key != NULL) {
    rc = check_unique(c, type_id, f.account_key, create_unique_ok);
    sam__hs_form_clear(&f);
    if (rc != 0)
      reply_status(c, rc, "checking for a duplicate account");
    return;
  }
  sam__hs_form_clear(&f);
  seal_and_save(c);
}

/* ---- read and list ---- */

static void got_profile(sam__hs_call *c, int status) {
  if (status != 0) {
    reply_status(c, status, "reading the profile");
    return;
  }
  reply_profile(c, 200);
}

static void listed(sam__hs_call *c, int status, const sam_store_result *res) {
  json_object *out, *items;
  size_t i;

  if (status != 0) {
    if (!sam__hs_reply_cursor_err(c, status))
      reply_status(c, status, "listing profiles");
    return;
  }
  out = json_object_new_object();
  items = json_object_new_array();
  for (i = 0; i < res->n; i++) {
    json_object *p = sam__hs_parse(res->recs[i].json, res->recs[i].json_len);
    json_object *pl = sam__hs_plugin_by_name(c, sam__hs_str(p, "plugin"));

    if (p == NULL)
      continue;
    json_object_array_add(items, sam__hs_profile_view(p, pl));
    json_object_put(p);
  }
  json_object_object_add(out, "items", items);
  json_object_object_add(out, "next_cursor",
                         res->next_cursor != NULL
                             ? json_object_new_string(res->next_cursor)
                             : NULL);
  sam__hs_reply_json(c, 200, out);
}

static void route_list(sam__hs_call *c) {
  json_object *f = json_object_new_object();
  const char *type = sam__hs_str(c->qs, "type");
  const char *lim = sam__hs_str(c->qs, "limit");
  long limit = lim != NULL ? strtol(lim, NULL, 10) : SAM__HS_PAGE_DEFAULT;
  int rc;

  if (limit < 1 || limit > SAM__HS_PAGE_MAX) {
    json_object_put(f);
    sam__hs_reply_err(c, SAM_EINVAL, NULL, "limit must be 1..%d [limit=%s]",
                      SAM__HS_PAGE_MAX, lim);
    return;
  }
  if (type != NULL)
    json_object_object_add(f, "/type_id", json_object_new_string(type));
  if (sam__hs_registry(c) != 0) {
    json_object_put(f);
    sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return;
  }
  rc = sam__hs_query(c, SAM__HS_HOST_SCOPE, "sam_profile", f,
                     sam__hs_str(c->qs, "cursor"), (uint32_t)limit, listed);
  json_object_put(f);
  if (rc != 0)
    reply_status(c, rc, "listing profiles");
}

/* ---- update ---- */

static void update_jobs_done(sam__hs_call *c, int status) {
  if (status != 0) {
    sam__hs_reply_err(c, status, NULL,
                      "the profile was saved but its jobs could not be "
                      "updated [%s]; publish it again",
                      sam_err_name(status));
    return;
  }
  reply_profile(c, 200);
}

static void update_saved(sam__hs_call *c, int status) {
  const char *state = sam__hs_str(c->profile, "state");
  int rc;

  if (status != 0) {
    reply_status(c, status, "saving the profile");
    return;
  }
  if (!c->flag && state != NULL && strcmp(state, "published") == 0) {
    /* A published profile's jobs carry its JSON and its name: renew. */
    rc = sam__hs_ensure_jobs(c, update_jobs_done);
    if (rc != 0)
      update_jobs_done(c, rc);
    return;
  }
  reply_profile(c, 200);
}

static void update_jobs_removed(int status, void *ud) {
  sam__hs_call *c = ud;
  int rc;

  c->pending--;
  if (status != 0 && status != SAM_ENOENT) {
    sam__hs_reply_err(c, status, NULL, "removing the profile's jobs failed");
    return;
  }
  rc = sam__hs_save_profile(c, update_saved);
  if (rc != 0)
    reply_status(c, rc, "saving the profile");
}

static void update_after_tokens(sam__hs_call *c, int status) {
  const char *pid = sam__hs_str(c->profile, "profile_id");
  int rc;

  if (status != 0 && status != SAM_ENOENT) {
    sam__hs_reply_err(c, status, NULL, "dropping the stored tokens failed");
    return;
  }
  if (c->flag && c->svc->sched != NULL) {
    rc = sam_sched_remove_jobs(c->svc->sched, pid, update_jobs_removed, c);
    if (rc == 0) {
      c->pending++;
      return;
    }
  }
  rc = sam__hs_save_profile(c, update_saved);
  if (rc != 0)
    reply_status(c, rc, "saving the profile");
}

static void update_sealed(sam__hs_call *c, int status) {
  if (status != 0) {
    sam__hs_reply_err(c, status, NULL,
                      "sealing the profile's secrets failed [%s]",
                      sam_err_name(status));
    return;
  }
  if (c->step) {
    /* A credential changed: the stored tokens belong to the old ones. */
    int rc = sam__hs_drop_secrets(c, sam__hs_str(c->profile, "profile_id"), 0,
                                  update_after_tokens);

    if (rc != 0)
      update_after_tokens(c, rc);
    return;
  }
  update_after_tokens(c, 0);
}

static void update_unique_ok(sam__hs_call *c, int status) {
  (void)status;
  (void)seal_secrets(c, sam__hs_str(c->profile, "profile_id"), c->work,
                     update_sealed);
}

static void update_loaded(sam__hs_call *c, int status) {
  sam__hs_form f;
  json_object *form = NULL, *set = NULL;
  const char *old_key, *dn;
  int rc;

  if (status != 0) {
    reply_status(c, status, "reading the profile");
    return;
  }
  if (c->plugin == NULL) {
    sam__hs_reply_err(c, SAM_EBUSY, NULL,
                      "the profile's plugin is not loaded [plugin=%s]",
                      sam__hs_str(c->profile, "plugin"));
    return;
  }
  json_object_object_get_ex(c->profile, "form", &form);
  json_object_object_get_ex(c->profile, "secrets_set", &set);
  rc = sam__hs_form_check(c, c->plugin,
                          json_object_object_get(c->req, "form") != NULL
                              ? json_object_object_get(c->req, "form")
                              : json_object_new_object(),
                          form, set, &f);
  if (rc != 0) {
    sam__hs_reply_err(c, rc, NULL, "the form schema cannot be used");
    return;
  }
  if (f.errors != NULL) {
    sam__hs_reply_err(c, SAM_EINVAL, f.errors,
                      "the form has [%zu] invalid field(s)",
                      json_object_array_length(f.errors));
    f.errors = NULL;
    sam__hs_form_clear(&f);
    return;
  }
  json_object_object_add(c->profile, "form", json_object_get(f.form));
  json_object_object_add(c->profile, "secrets_set",
                         secrets_set_of(f.secrets, set));
  dn = sam__hs_str(f.form, "display_name");
  if (dn == NULL)
    dn = sam__hs_str(c->req, "display_name");
  if (dn != NULL)
    json_object_object_add(c->profile, "display_name",
                           json_object_new_string(dn));
  c->step = f.reset;
  c->flag = f.reset || f.process_cleared;
  if (c->flag) {
    const char *cs = sam__hs_str(c->profile, "connection_status");

    json_object_object_add(c->profile, "state",
                           json_object_new_string("draft"));
    if (f.reset)
      json_object_object_add(c->profile, "connection_status",
                             json_object_new_string("not_connected"));
    else if (cs != NULL && strcmp(cs, "validated") == 0)
      json_object_object_add(c->profile, "connection_status",
                             json_object_new_string("connected"));
  }
  old_key = sam__hs_str(c->profile, "account_key");
  c->work = json_object_get(f.secrets);
  if (f.account_key != NULL &&
      (old_key == NULL || strcmp(old_key, f.account_key) != 0)) {
    json_object_object_add(c->profile, "account_key",
                           json_object_new_string(f.account_key));
    rc = check_unique(c, sam__hs_str(c->profile, "type_id"), f.account_key,
                      update_unique_ok);
    sam__hs_form_clear(&f);
    if (rc != 0)
      reply_status(c, rc, "checking for a duplicate account");
    return;
  }
  sam__hs_form_clear(&f);
  update_unique_ok(c, 0);
}

/* ---- delete ---- */

static void
delete_done(sam__hs_call *c, int status, const sam_store_result *res) {
  json_object *o;

  (void)res;
  if (status != 0 && status != SAM_ENOENT) {
    reply_status(c, status, "deleting the profile");
    return;
  }
  o = json_object_new_object();
  json_object_object_add(o, "deleted", json_object_new_string(c->segs[3]));
  sam__hs_reply_json(c, 200, o);
}

static void delete_step(sam__hs_call *c, int status);

static void delete_jobs_removed(int status, void *ud) {
  sam__hs_call *c = ud;

  c->pending--;
  delete_step(c, status == SAM_ENOENT ? 0 : status);
}

/* The steps of a delete, in order; each one calls delete_step when done:
 * jobs, open candidates (closed_skipped), subscriptions, unrecognized
 * identifiers, the plugin's own record types, secrets, the record itself.
 * Rules (sam_reclamation_rule), models and job results are kept. */
static void delete_step(sam__hs_call *c, int status) {
  const char *pid = c->segs[3];
  json_object *types = NULL;
  size_t n_types = 0;
  int step = c->step++;
  int rc = 0;

  if (status != 0) {
    reply_status(c, status, "deleting the profile");
    return;
  }
  if (c->plugin != NULL &&
      json_object_object_get_ex(c->plugin, "record_types", &types))
    n_types = json_object_array_length(types);
  if (step == 0) {
    if (c->svc->sched == NULL) {
      delete_step(c, 0);
      return;
    }
    rc = sam_sched_remove_jobs(c->svc->sched, pid, delete_jobs_removed, c);
    if (rc == 0)
      c->pending++;
  } else if (step == 1) {
    rc = sam__hs_close_candidates(c, pid, "profile deleted", delete_step);
  } else if (step == 2) {
    rc = sam__hs_purge_type(c, pid, "sam_subscription", delete_step);
  } else if (step == 3) {
    rc = sam__hs_purge_type(c, pid, "sam_unrecognized_identifier", delete_step);
  } else if ((size_t)step < 4 + n_types) {
    rc = sam__hs_purge_type(
        c, pid,
        sam__hs_str(json_object_array_get_idx(types, (size_t)step - 4),
                    "record_type"),
        delete_step);
  } else if ((size_t)step == 4 + n_types) {
    rc = sam__hs_drop_secrets(c, pid, 1, delete_step);
  } else {
    rc = sam__hs_del(c, SAM__HS_HOST_SCOPE, "sam_profile", pid, SAM_IF_ANY,
                     delete_done);
  }
  if (rc != 0)
    reply_status(c, rc, "deleting the profile");
}

static void delete_loaded(sam__hs_call *c, int status) {
  if (status != 0) {
    reply_status(c, status, "reading the profile");
    return;
  }
  c->step = 0;
  delete_step(c, 0);
}

/* ---- router ---- */

void sam__hs_route_profiles(sam__hs_call *c) {
  static const char *const patch_allowed[] = {"display_name", "form", NULL};
  const char *m = c->method;
  int rc = 0;

  if (c->n_segs == 3) {
    if (strcmp(m, "GET") == 0)
      route_list(c);
    else if (strcmp(m, "POST") == 0)
      route_create(c);
    else
      sam__hs_reply_err(c, SAM_EINVAL, NULL, "method not allowed [%s]", m);
    return;
  }
  if (strcmp(m, "GET") == 0) {
    rc = sam__hs_load_profile(c, c->segs[3], got_profile);
  } else if (strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0) {
    if (!body_fields_ok(c, patch_allowed))
      return;
    rc = sam__hs_load_profile(c, c->segs[3], update_loaded);
  } else if (strcmp(m, "DELETE") == 0) {
    rc = sam__hs_load_profile(c, c->segs[3], delete_loaded);
  } else {
    sam__hs_reply_err(c, SAM_EINVAL, NULL, "method not allowed [%s]", m);
    return;
  }
  if (rc != 0)
    reply_status(c, rc, "reading the profile");
}
