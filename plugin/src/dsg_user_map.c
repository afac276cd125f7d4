/*
 * dsg_user_map.c: userInformation -> sam_subscription.
 */
#include "dsg_user_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsg_dates.h"
#include "sam/sam_plugin.h"

dsg_user_kind dsg_user_status_kind(const char *status) {
  if (status == NULL)
    return DSG_USER_INACTIVE;
  if (strcmp(status, "Active") == 0 || strcmp(status, "ActivationSent") == 0 ||
      strcmp(status, "ActivationRequired") == 0)
    return DSG_USER_ACTIVE;
  if (strcmp(status, "Closed") == 0)
    return DSG_USER_CLOSED;
  return DSG_USER_INACTIVE;
}

/* A string member, or NULL (missing, null or another type). Numbers are not
 * accepted: every userInformation field is a JSON string (DOCUSIGN.md 3). */
static const char *str_of(json_object *o, const char *key) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* Byte length of at most max_chars UTF-8 characters of s. */
static size_t utf8_prefix(const char *s, size_t max_chars) {
  size_t i = 0, chars = 0;

  while (s[i] != '\0' && chars < max_chars) {
    i++;
    while ((s[i] & 0xC0) == 0x80)
      i++;
    chars++;
  }
  return i;
}

/* Adds key = s cut to max_chars characters. */
static int
put_str(json_object *o, const char *key, const char *s, size_t max_chars) {
  json_object *v =
      json_object_new_string_len(s, (int)utf8_prefix(s, max_chars));

  if (v == NULL || json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return SAM_ENOMEM;
  }
  return 0;
}

static int put_obj(json_object *o, const char *key, json_object *v) {
  if (json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return SAM_ENOMEM;
  }
  return 0;
}

static int put_bool(json_object *o, const char *key, int b) {
  json_object *v = json_object_new_boolean(b != 0);

  return v == NULL ? SAM_ENOMEM : put_obj(o, key, v);
}

static int put_time(json_object *o, const char *key, int64_t t) {
  char buf[DSG_DATE_BUF];

  if (dsg_date_format(t, buf, sizeof(buf)) != 0)
    return put_obj(o, key, NULL);
  return put_str(o, key, buf, sizeof(buf));
}

/* Copies prev[key] (a date-time string) when it is one. */
static int
keep_prev_time(json_object *prev, json_object *o, const char *key, int64_t *t) {
  const char *s = str_of(prev, key);
  int64_t v;

  *t = DSG_TIME_UNKNOWN;
  if (s == NULL || dsg_date_parse(s, &v) != 0)
    return 0;
  *t = v;
  return put_time(o, key, v);
}

static int add_attributes(json_object *user, json_object *rec) {
  static const char *const keys[] = {
      "userName", "userStatus",  "permissionProfileName", "permissionProfileId",
      "isAdmin",  "licenseType", "licenseStatus"};
  json_object *attrs = json_object_new_object();
  size_t i;
  int rc;

  if (attrs == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    const char *s = str_of(user, keys[i]);

    if (s == NULL)
      continue;
    rc = put_str(attrs, keys[i], s, 1000);
    if (rc != 0) {
      json_object_put(attrs);
      return rc;
    }
  }
  return put_obj(rec, "attributes", attrs);
}

static int add_display_name(json_object *user, json_object *rec) {
  const char *name = str_of(user, "userName");
  const char *first = str_of(user, "firstName");
  const char *last = str_of(user, "lastName");
  char *joined;
  int rc;

  if (name != NULL && *name != '\0')
    return put_str(rec, "display_name", name, 300);
  if (first == NULL)
    first = "";
  if (last == NULL)
    last = "";
  if (*first == '\0' && *last == '\0')
    return 0;
  joined = malloc(strlen(first) + strlen(last) + 2);
  if (joined == NULL)
    return SAM_ENOMEM;
  sprintf(joined, "%s%s%s", first, *first && *last ? " " : "", last);
  rc = put_str(rec, "display_name", joined, 300);
  free(joined);
  return rc;
}

/* A8: "True"/"true" in any case; anything else is false. A JSON boolean
 * (not DocuSign's format) is taken at its value too: admin protection
 * must not fail open on a type surprise. */
static int is_admin(json_object *user, const char *admin) {
  json_object *v = NULL;

  if (admin != NULL)
    return strcasecmp(admin, "true") == 0;
  return json_object_object_get_ex(user, "isAdmin", &v) &&
         json_object_is_type(v, json_type_boolean) &&
         json_object_get_boolean(v);
}

/* assigned_at and assigned_source (SAM-MODEL.md 6, ARCHITECTURE.md). */
static int
add_assigned(json_object *user, json_object *rec, int64_t first_seen) {
  int64_t t;
  const char *src = "first_seen";

  if (dsg_date_parse(str_of(user, "userAddedToAccountDateTime"), &t) == 0)
    src = "added_to_account";
  else if (dsg_date_parse(str_of(user, "createdDateTime"), &t) == 0)
    src = "created";
  else
    t = first_seen;
  if (put_time(rec, "assigned_at", t) != 0)
    return SAM_ENOMEM;
  return put_str(rec, "assigned_source", src, 32);
}

static int
add_state(json_object *user, json_object *prev, json_object *rec, int64_t now) {
  dsg_user_kind kind = dsg_user_status_kind(str_of(user, "userStatus"));
  const char *prev_state = str_of(prev, "state");
  int64_t t;
  int rc;

  if (kind == DSG_USER_ACTIVE)
    rc = put_str(rec, "state", "active", 16);
  else if (kind == DSG_USER_INACTIVE)
    rc = put_str(rec, "state", "inactive", 16);
  else if (prev_state != NULL && strcmp(prev_state, "reclaimed") == 0) {
    /* Closed by our own reclaim: keep it reclaimed, so undo still works. */
    rc = put_str(rec, "state", "reclaimed", 16);
    if (rc == 0)
      rc = keep_prev_time(prev, rec, "reclaimed_at", &t);
  } else {
    rc = put_str(rec, "state", "removed", 16);
    if (rc == 0 && prev_state != NULL && strcmp(prev_state, "removed") == 0)
      rc = keep_prev_time(prev, rec, "removed_at", &t);
    else
      t = DSG_TIME_UNKNOWN;
    if (rc == 0 && t == DSG_TIME_UNKNOWN)
      rc = put_time(rec, "removed_at", now);
  }
  if (rc == 0)
    rc = put_bool(rec, "active", kind == DSG_USER_ACTIVE);
  return rc;
}

int dsg_user_map(json_object *user,
                 json_object *prev,
                 const dsg_user_map_opts *opts,
                 json_object **out,
                 char *err,
                 size_t errlen) {
  json_object *rec = NULL;
  const char *uid, *email, *lic, *ident, *model = NULL, *admin;
  char *lower = NULL;
  char reason[301];
  int64_t first_seen, t;
  int excluded, rc = SAM_EINVAL;

  if (out != NULL)
    *out = NULL;
  if (user == NULL || opts == NULL || out == NULL) {
    snprintf(err, errlen, "user map: NULL argument");
    return SAM_EINVAL;
  }
  {
    char probe[DSG_DATE_BUF];

    if (dsg_date_format(opts->now, probe, sizeof(probe)) != 0) {
      snprintf(err, errlen, "user map: now is not a writable time [%lld]",
               (long long)opts->now);
      return SAM_EINVAL;
    }
  }
  rc = SAM_EPROTO;
  if (!json_object_is_type(user, json_type_object)) {
    snprintf(err, errlen, "user entry is not an object [%s]",
             json_type_to_name(json_object_get_type(user)));
    goto fail;
  }
  uid = str_of(user, "userId");
  if (uid == NULL || *uid == '\0' || strlen(uid) > 200) {
    snprintf(err, errlen, "user without a usable userId [%.64s]",
             uid == NULL ? "(missing)" : uid);
    goto fail;
  }
  rc = SAM_ENOMEM;
  rec = json_object_new_object();
  if (rec == NULL)
    goto fail;
  email = str_of(user, "email");
  if (email == NULL)
    email = "";
  lower = dsg_str_lower(email);
  if (lower == NULL)
    goto fail;
  lic = str_of(user, "licenseType");
  ident =
      lic != NULL && *lic != '\0' ? lic : str_of(user, "permissionProfileName");
  if (ident == NULL)
    ident = "";
  if (opts->model_lookup != NULL && *ident != '\0')
    model = opts->model_lookup(ident, opts->model_ud);
  admin = str_of(user, "isAdmin");
  excluded = dsg_exclusions_match(opts->exclusions, ident, email, reason,
                                  sizeof(reason));

  if (put_str(rec, "external_user_id", uid, 200) != 0 ||
      put_str(rec, "user_principal_name", email, 320) != 0 ||
      put_str(rec, "upn_lower", lower, 320) != 0 ||
      add_display_name(user, rec) != 0)
    goto fail;
  if (str_of(user, "userStatus") != NULL &&
      put_str(rec, "remote_status", str_of(user, "userStatus"), 64) != 0)
    goto fail;
  if (add_state(user, prev, rec, opts->now) != 0 ||
      put_bool(rec, "is_admin", is_admin(user, admin)) != 0 ||
      put_str(rec, "subscription_identifier", ident, 200) != 0)
    goto fail;
  if (model != NULL ? put_str(rec, "software_model", model, 200) != 0
                    : put_obj(rec, "software_model", NULL) != 0)
    goto fail;
  if (keep_prev_time(prev, rec, "first_seen_at", &first_seen) != 0)
    goto fail;
  if (first_seen == DSG_TIME_UNKNOWN) {
    first_seen = opts->now;
    if (put_time(rec, "first_seen_at", first_seen) != 0)
      goto fail;
  }
  if (put_time(rec, "last_seen_at", opts->now) != 0 ||
      add_assigned(user, rec, first_seen) != 0 ||
      keep_prev_time(prev, rec, "last_activity_at", &t) != 0 ||
      put_bool(rec, "excluded", excluded) != 0)
    goto fail;
  if (excluded ? put_str(rec, "exclusion_reason", reason, 300) != 0
               : put_obj(rec, "exclusion_reason", NULL) != 0)
    goto fail;
  if (add_attributes(user, rec) != 0)
    goto fail;
  if (opts->run_id != NULL && put_str(rec, "last_run_id", opts->run_id, 64))
    goto fail;
  free(lower);
  *out = rec;
  return 0;

fail:
  if (rc == SAM_ENOMEM)
    snprintf(err, errlen, "user map: out of memory");
  free(lower);
  json_object_put(rec);
  return rc;
}

int dsg_user_removed_record(json_object *prev, int64_t now, json_object **out) {
  json_object *rec = NULL;
  const char *state = str_of(prev, "state");
  char when[DSG_DATE_BUF];

  *out = NULL;
  if (prev == NULL || !json_object_is_type(prev, json_type_object) ||
      dsg_date_format(now, when, sizeof(when)) != 0)
    return SAM_EINVAL;
  if (json_object_deep_copy(prev, &rec, NULL) != 0 || rec == NULL)
    return SAM_ENOMEM;
  if (state != NULL &&
      (strcmp(state, "removed") == 0 || strcmp(state, "reclaimed") == 0)) {
    *out = rec;
    return 0;
  }
  if (put_str(rec, "state", "removed", 16) != 0 ||
      put_bool(rec, "active", 0) != 0 ||
      put_str(rec, "removed_at", when, sizeof(when)) != 0) {
    json_object_put(rec);
    return SAM_ENOMEM;
  }
  *out = rec;
  return 0;
}

static int ignored_key(const char *k) {
  return strcmp(k, "last_seen_at") == 0 || strcmp(k, "last_run_id") == 0;
}

int dsg_user_record_changed(json_object *prev, json_object *next) {
  if (prev == NULL || next == NULL)
    return 1;
  {json_object_object_foreach(next, k, v){json_object *pv = NULL;

  if (ignored_key(k))
    continue;
  if (!json_object_object_get_ex(prev, k, &pv) || !json_object_equal(pv, v))
    return 1;
}
}
{
  json_object_object_foreach(prev, k, v) {
    (void)v;
    if (!ignored_key(k) && !json_object_object_get_ex(next, k, NULL))
      return 1;
  }
}
return 0;
}

/* ---- identifier tally ---- */

typedef struct tally_entry {
  char *identifier;
  char *model;
  uint64_t count;
  uint64_t hash;
} tally_entry;

struct dsg_ident_tally {
  tally_entry *e; /* in first-seen order */
  size_t n, cap;
  size_t *slots; /* open addressing: index + 1, 0 = empty */
  size_t nslots; /* power of two, > 2 * n */
};

static uint64_t fnv1a(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

int dsg_ident_tally_new(dsg_ident_tally **out) {
  dsg_ident_tally *t = calloc(1, sizeof(*t));

  *out = NULL;
  if (t == NULL)
    return SAM_ENOMEM;
  t->nslots = 16;
  t->slots = calloc(t->nslots, sizeof(*t->slots));
  if (t->slots == NULL) {
    free(t);
    return SAM_ENOMEM;
  }
  *out = t;
  return 0;
}

void dsg_ident_tally_free(dsg_ident_tally *t) {
  size_t i;

  if (t == NULL)
    return;
  for (i = 0; i < t->n; i++) {
    free(t->e[i].identifier);
    free(t->e[i].model);
  }
  free(t->e);
  free(t->slots);
  free(t);
}

static int tally_rehash(dsg_ident_tally *t) {
  size_t nslots = t->nslots * 2, i;
  size_t *slots = calloc(nslots, sizeof(*slots));

  if (slots == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < t->n; i++) {
    size_t j = (size_t)t->e[i].hash & (nslots - 1);

    while (slots[j] != 0)
      j = (j + 1) & (nslots - 1);
    slots[j] = i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = nslots;
  return 0;
}

int dsg_ident_tally_add(dsg_ident_tally *t,
                        const char *identifier,
                        const char *model) {
  uint64_t h;
  size_t j;
  tally_entry *e;

  if (t == NULL || identifier == NULL || *identifier == '\0')
    return SAM_EINVAL;
  h = fnv1a(identifier);
  for (j = (size_t)h & (t->nslots - 1); t->slots[j] != 0;
       j = (j + 1) & (t->nslots - 1)) {
    e = &t->e[t->slots[j] - 1];
    if (e->hash == h && strcmp(e->identifier, identifier) == 0) {
      e->count++;
      if (e->model == NULL && model != NULL) {
        e->model = strdup(model);
        if (e->model == NULL)
          return SAM_ENOMEM;
      }
      return 0;
    }
  }
  if ((t->n + 1) * 2 > t->nslots) {
    if (tally_rehash(t) != 0)
      return SAM_ENOMEM;
    for (j = (size_t)h & (t->nslots - 1); t->slots[j] != 0;
         j = (j + 1) & (t->nslots - 1))
      ;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 8;
    tally_entry *ne = realloc(t->e, cap * sizeof(*ne));

    if (ne == NULL)
      return SAM_ENOMEM;
    t->e = ne;
    t->cap = cap;
  }
  e = &t->e[t->n];
  memset(e, 0, sizeof(*e));
  e->identifier = strdup(identifier);
  e->model = model != NULL ? strdup(model) : NULL;
  if (e->identifier == NULL || (model != NULL && e->model == NULL)) {
    free(e->identifier);
    free(e->model);
    return SAM_ENOMEM;
  }
  e->hash = h;
  e->count = 1;
  t->slots[j] = ++t->n;
  return 0;
}

size_t dsg_ident_tally_size(const dsg_ident_tally *t) {
  return t == NULL ? 0 : t->n;
}

int dsg_ident_tally_get(const dsg_ident_tally *t,
                        size_t i,
                        const char **identifier,
                        uint64_t *count,
                        const char **model) {
  if (t == NULL || i >= t->n)
    return SAM_EINVAL;
  *identifier = t->e[i].identifier;
  *count = t->e[i].count;
  *model = t->e[i].model;
  return 0;
}

int dsg_unrecognized_record(const char *identifier,
                            uint64_t count,
                            json_object *prev,
                            int64_t now,
                            json_object **out,
                            char *err,
                            size_t errlen) {
  json_object *rec = NULL, *v = NULL;
  const char *model = str_of(prev, "software_model");
  int64_t t;

  *out = NULL;
  if (identifier == NULL || *identifier == '\0' ||
      utf8_prefix(identifier, 200) != strlen(identifier)) {
    snprintf(err, errlen, "unrecognized identifier empty or too long [%.64s]",
             identifier != NULL ? identifier : "");
    return SAM_EINVAL;
  }
  rec = json_object_new_object();
  if (rec == NULL)
    goto nomem;
  if (put_str(rec, "identifier", identifier, 200) != 0)
    goto nomem;
  v = json_object_new_int64(count > INT64_MAX ? INT64_MAX : (int64_t)count);
  if (v == NULL || put_obj(rec, "subscription_count", v) != 0)
    goto nomem;
  if (model != NULL ? put_str(rec, "software_model", model, 200) != 0
                    : put_obj(rec, "software_model", NULL) != 0)
    goto nomem;
  v = NULL;
  if (prev != NULL &&
      json_object_object_get_ex(prev, "exclude_from_content_service", &v) &&
      json_object_is_type(v, json_type_boolean))
    v = json_object_get(v);
  else
    v = json_object_new_boolean(0);
  if (v == NULL || put_obj(rec, "exclude_from_content_service", v) != 0)
    goto nomem;
  if (keep_prev_time(prev, rec, "first_seen_at", &t) != 0)
    goto nomem;
  if (t == DSG_TIME_UNKNOWN && put_time(rec, "first_seen_at", now) != 0)
    goto nomem;
  if (put_time(rec, "last_seen_at", now) != 0)
    goto nomem;
  *out = rec;
  return 0;

nomem:
  snprintf(err, errlen, "unrecognized identifier: out of memory");
  json_object_put(rec);
  return SAM_ENOMEM;
}
