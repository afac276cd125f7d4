/*
 * sim_load.c: loads an account file (ARCHITECTURE.md): {"account",
 * "billingPlan", "billingChargeItems", "integrationUser", "users",
 * "envelopes"} in DocuSign's own shapes; dates absolute or relative
 * ("-61d").
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *jstr(json_object *o, const char *k) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static int is_relative(const char *s) {
  const char *p = s + 1;

  if (s[0] != '-' && s[0] != '+')
    return 0;
  while ((*p >= '0' && *p <= '9') || *p == '.')
    p++;
  return p > s + 1 && (*p == 'd' || *p == 'h' || *p == 'm' || *p == 's') &&
         p[1] == '\0';
}

/* Replaces relative date strings by absolute DocuSign dates, in place. */
static void resolve_dates(json_object *o) {
  if (json_object_is_type(o, json_type_object)) {
    json_object_object_foreach(o, k, v) {
      if (json_object_is_type(v, json_type_string) &&
          is_relative(json_object_get_string(v))) {
        int64_t t;
        char buf[40];
        if (sim_time_parse(json_object_get_string(v), &t) == 0) {
          sim_time_fmt(t, buf);
          json_object_object_add(o, k, json_object_new_string(buf));
        }
      } else {
        resolve_dates(v);
      }
    }
  } else if (json_object_is_type(o, json_type_array)) {
    size_t i, n = json_object_array_length(o);
    for (i = 0; i < n; i++)
      resolve_dates(json_object_array_get_idx(o, i));
  }
}

static int64_t jtime(json_object *o, const char *k) {
  const char *s = jstr(o, k);
  int64_t t;

  if (s == NULL || sim_time_parse(s, &t) != 0)
    return SIM_T_NONE;
  return t;
}

static int group_slot(sim_account *a, json_object *g) {
  const char *id = jstr(g, "groupId"), *name = jstr(g, "groupName");
  const char *type = jstr(g, "groupType");
  int i;

  if (id == NULL)
    return -1;
  for (i = 0; i < a->ngroups; i++)
    if (strcmp(a->groups[i].id, id) == 0)
      return i;
  if (a->ngroups == SIM_MAX_GROUPS)
    return -1;
  snprintf(a->groups[i].id, sizeof(a->groups[i].id), "%s", id);
  snprintf(a->groups[i].name, sizeof(a->groups[i].name), "%s",
           name ? name : id);
  snprintf(a->groups[i].type, sizeof(a->groups[i].type), "%s",
           type ? type : "CustomGroup");
  a->groups[i].profile = SIM_NO_PROFILE;
  a->ngroups++;
  return i;
}

static int add_str(sim_account *a, const char *s, uint32_t *off) {
  *off = 0;
  if (s == NULL)
    return 0;
  return sim_arena_add(a, s, strlen(s), off);
}

static int
load_user(sim_account *a, json_object *j, uint64_t *rng, char *err, size_t n) {
  sim_user u;
  const char *s;
  json_object *gl;

  memset(&u, 0, sizeof(u));
  s = jstr(j, "userId");
  if (s != NULL) {
    if (sim_guid_parse(s, u.id) != 0) {
      snprintf(err, n, "bad userId [%s]; use a GUID", s);
      return -1;
    }
  } else {
    uint64_t x = sim_rand_next(rng), y = sim_rand_next(rng);
    memcpy(u.id, &x, 8);
    memcpy(u.id + 8, &y, 8);
  }
  if (sim_user_find(a, u.id) >= 0) {
    snprintf(err, n, "duplicate userId [%s]", s ? s : "");
    return -1;
  }
  if (add_str(a, jstr(j, "userName"), &u.user_name) ||
      add_str(a, jstr(j, "firstName"), &u.first) ||
      add_str(a, jstr(j, "lastName"), &u.last) ||
      add_str(a, jstr(j, "email"), &u.email))
    goto oom;
  s = jstr(j, "userStatus");
  if (s == NULL) {
    u.status = SIM_ST_ACTIVE;
  } else {
    int st = sim_status_from_name(s, strlen(s));
    if (st < 0) {
      snprintf(err, n, "bad userStatus [%s]", s);
      return -1;
    }
    u.status = (uint8_t)st;
  }
  u.profile = SIM_NO_PROFILE;
  s = jstr(j, "permissionProfileName");
  if (s != NULL) {
    int p = sim_profile_find(a, s, 1);
    const char *pid = jstr(j, "permissionProfileId");
    if (p < 0) {
      snprintf(err, n, "too many permission profiles [max=%d]",
               SIM_MAX_PROFILES);
      return -1;
    }
    if (pid != NULL)
      snprintf(a->profiles[p].id, sizeof(a->profiles[p].id), "%s", pid);
    u.profile = (uint8_t)p;
  }
  s = jstr(j, "isAdmin");
  if (s != NULL
          ? strcasecmp(s, "true") == 0
          : (u.profile != SIM_NO_PROFILE &&
             strcmp(a->profiles[u.profile].name, "Account Administrator") == 0))
    u.flags |= SIM_UF_ADMIN;
  u.created = jtime(j, "createdDateTime");
  u.added = jtime(j, "userAddedToAccountDateTime");
  u.license = (uint8_t)sim_license_find(a, jstr(j, "licenseType"),
                                        jstr(j, "licenseStatus"));
  if (json_object_object_get_ex(j, "groupList", &gl) &&
      json_object_is_type(gl, json_type_array)) {
    size_t i;
    for (i = 0; i < json_object_array_length(gl); i++) {
      int g = group_slot(a, json_object_array_get_idx(gl, i));
      if (g >= 0)
        u.groups |= (uint16_t)(1u << g);
    }
  }
  if (sim_user_append(a, &u) != 0)
    goto oom;
  return 0;

oom:
  snprintf(err, n, "out of memory loading users [count=%zu]", a->nusers);
  return -1;
}

static int env_status(const char *s) {
  int i;

  for (i = 0; s != NULL && i < SIM_ENV_NSTATUS; i++)
    if (strcasecmp(sim_env_status_names[i], s) == 0)
      return i;
  return 0;
}

static int cmp_env(const void *x, const void *y) {
  const sim_env *a = x, *b = y;

  if (a->sender != b->sender)
    return a->sender < b->sender ? -1 : 1;
  return 0;
}

static int load_envs(sim_account *a, json_object *arr, uint64_t *rng) {
  size_t i, n = json_object_array_length(arr), k = 0;

  a->envs = calloc(n ? n : 1, sizeof(*a->envs));
  if (a->envs == NULL)
    return -1;
  for (i = 0; i < n; i++) {
    json_object *j = json_object_array_get_idx(arr, i), *snd = NULL;
    sim_env *e = &a->envs[k];
    const char *sid;
    uint8_t id[16];
    long u;
    if (!json_object_object_get_ex(j, "sender", &snd))
      continue;
    sid = jstr(snd, "userId");
    if (sid == NULL || sim_guid_parse(sid, id) != 0)
      continue;
    u = sim_user_find(a, id);
    if (u < 0)
      continue; /* a sender who is not in the account sends nothing */
    if (jstr(j, "envelopeId") == NULL ||
        sim_guid_parse(jstr(j, "envelopeId"), e->id) != 0) {
      uint64_t x = sim_rand_next(rng), y = sim_rand_next(rng);
      memcpy(e->id, &x, 8);
      memcpy(e->id + 8, &y, 8);
    }
    e->sender = (uint32_t)u;
    e->status = (uint8_t)env_status(jstr(j, "status"));
    e->created = jtime(j, "createdDateTime");
    e->sent = jtime(j, "sentDateTime");
    e->changed = jtime(j, "statusChangedDateTime");
    e->completed = jtime(j, "completedDateTime");
    k++;
  }
  a->nenvs = k;
  qsort(a->envs, k, sizeof(*a->envs), cmp_env);
  for (i = 0; i < k; i++) {
    sim_user *u = &a->users[a->envs[i].sender];
    if (u->env_count == 0)
      u->env_first = (uint32_t)i;
    if (u->env_count < UINT16_MAX)
      u->env_count++;
  }
  return 0;
}

/*
 * Loads the account file at `path` into the empty `a`. Loop thread, before
 * serving. On failure writes a message with bracketed values to `err` and
 * returns -1; `a` must still be freed by the caller.
 */
int sim_load_account(sim_account *a, const char *path, char *err, size_t n) {
  json_object *root = NULL, *users, *v;
  uint64_t rng = 0x5eed;
  const char *s;
  size_t i;
  int rc = -1;

  root = json_object_from_file(path);
  if (root == NULL || !json_object_is_type(root, json_type_object)) {
    char why[256];
    size_t len;
    snprintf(why, sizeof(why), "%s",
             json_util_get_last_err() ? json_util_get_last_err() : "");
    len = strlen(why);
    while (len > 0 && (why[len - 1] == '\n' || why[len - 1] == ' '))
      why[--len] = '\0';
    snprintf(err, n,
             "cannot read account file [%s] [%s]; check the path and that "
             "it is one JSON object",
             path, why);
    goto done;
  }
  resolve_dates(root);
  if (!json_object_object_get_ex(root, "users", &users) ||
      !json_object_is_type(users, json_type_array)) {
    snprintf(err, n, "account file has no users array [%s]", path);
    goto done;
  }
  if (json_object_object_get_ex(root, "account", &v))
    a->info = json_object_get(v);
  if (json_object_object_get_ex(root, "billingPlan", &v))
    a->plan = json_object_get(v);
  if (json_object_object_get_ex(root, "billingChargeItems", &v))
    a->charges = json_object_get(v);
  snprintf(a->guid, sizeof(a->guid), "%s",
           jstr(a->info, "accountIdGuid")
               ? jstr(a->info, "accountIdGuid")
               : "7d3a1e52-0c4b-4e2f-9a31-5b2f6c1d9e80");
  snprintf(a->external_id, sizeof(a->external_id), "%s",
           jstr(a->info, "externalAccountId")
               ? jstr(a->info, "externalAccountId")
               : "18811881");
  snprintf(a->name, sizeof(a->name), "%s",
           jstr(a->info, "accountName") ? jstr(a->info, "accountName")
                                        : "Loaded Account");
  (void)sim_profile_find(a, "Account Administrator", 1);
  (void)sim_profile_find(a, "DocuSign Sender", 1);
  (void)sim_profile_find(a, "DocuSign Viewer", 1);
  if (sim_index_rebuild(a) != 0)
    goto oom;
  for (i = 0; i < json_object_array_length(users); i++) {
    if (load_user(a, json_object_array_get_idx(users, i), &rng, err, n) != 0)
      goto done;
  }
  if (json_object_object_get_ex(root, "envelopes", &v) &&
      json_object_is_type(v, json_type_array) && load_envs(a, v, &rng) != 0)
    goto oom;
  s = jstr(root, "integrationUser");
  if (s != NULL) {
    uint8_t id[16];
    if (sim_guid_parse(s, id) != 0 || sim_user_find(a, id) < 0) {
      snprintf(err, n, "integrationUser [%s] is not a userId in users", s);
      goto done;
    }
    memcpy(a->integ_id, id, 16);
  } else {
    for (i = 0; i < a->nusers; i++)
      if ((a->users[i].flags & SIM_UF_ADMIN) &&
          a->users[i].status == SIM_ST_ACTIVE)
        break;
    if (i == a->nusers)
      i = 0;
    if (a->nusers > 0)
      memcpy(a->integ_id, a->users[i].id, 16);
  }
  a->next_rand = rng;
  sim_account_finish(a, sim_time_now());
  rc = 0;
  goto done;

oom:
  snprintf(err, n, "out of memory loading [%s]", path);
done:
  json_object_put(root);
  return rc;
}
