/*
 * sim_control.c: the control API under /_sim/ (loopback only, like every
 * listener) and the stats it reads back. Tests script faults, users, tokens
 * and limits through it; README.md documents every call.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- stats ---- */

/*
 * Counts one reply for `key` and `status` (0 = connection reset). An empty
 * key (control calls) is not counted.
 */
void sim_stat_count(sim_ctx *c, const char *key, int status) {
  size_t i;

  if (key == NULL || key[0] == '\0')
    return;
  for (i = 0; i < c->nstats; i++) {
    if (c->stats[i].status == status && strcmp(c->stats[i].key, key) == 0) {
      c->stats[i].count++;
      return;
    }
  }
  if (c->nstats == c->capstats) {
    size_t cap = c->capstats ? c->capstats * 2 : 32;
    sim_stat *p = realloc(c->stats, cap * sizeof(*p));
    if (p == NULL)
      return;
    c->stats = p;
    c->capstats = cap;
  }
  snprintf(c->stats[c->nstats].key, sizeof(c->stats[0].key), "%s", key);
  c->stats[c->nstats].status = status;
  c->stats[c->nstats].count = 1;
  c->nstats++;
}

/* ---- faults ---- */

/*
 * Clears every fault (no latency, no errors, scope "rest").
 */
void sim_faults_clear(sim_faults *f) {
  memset(f, 0, sizeof(*f));
}

static int jnum(json_object *o, const char *k, double *out) {
  json_object *v;

  if (!json_object_object_get_ex(o, k, &v))
    return 0;
  if (json_object_is_type(v, json_type_string))
    *out = atof(json_object_get_string(v));
  else
    *out = json_object_get_double(v);
  return 1;
}

static int jint(json_object *o, const char *k, int *out) {
  double d;

  if (!jnum(o, k, &d))
    return 0;
  *out = (int)d;
  return 1;
}

static int jbool(json_object *o, const char *k, int *out) {
  json_object *v;

  if (!json_object_object_get_ex(o, k, &v))
    return 0;
  if (json_object_is_type(v, json_type_string))
    *out = strcasecmp(json_object_get_string(v), "true") == 0 ||
           strcmp(json_object_get_string(v), "1") == 0;
  else
    *out = json_object_get_boolean(v);
  return 1;
}

static const char *jstr(json_object *o, const char *k) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* A fault field's number: a JSON number, or a string holding exactly one
 * (the command line passes strings), within [lo, hi]. */
static int fault_num(json_object *v, double lo, double hi, double *out) {
  double d;

  if (json_object_is_type(v, json_type_string)) {
    const char *t = json_object_get_string(v);
    char *end = NULL;

    d = strtod(t, &end);
    if (t[0] == '\0' || end == NULL || *end != '\0')
      return -1;
  } else if (json_object_is_type(v, json_type_int) ||
             json_object_is_type(v, json_type_double)) {
    d = json_object_get_double(v);
  } else {
    return -1;
  }
  if (!(d >= lo && d <= hi)) /* also refuses NaN */
    return -1;
  *out = d;
  return 0;
}

/*
 * Sets the fault fields present in `o` (see README.md); others keep their
 * values. All or nothing: on a bad field nothing changes, -1 is returned
 * and err names the field and its value (e.g. "bad fault [rate_500=abc]:
 * a number 0..1 expected").
 */
int sim_faults_apply_json(sim_faults *f,
                          json_object *o,
                          char *err,
                          size_t err_len) {
  static const struct {
    const char *name;
    double hi;
    int is_int;
    size_t off;
  } fields[] = {
#define D(n, hi) {#n, hi, 0, offsetof(sim_faults, n)}
#define I(n, hi)                                                               \
  { #n, hi, 1, offsetof(sim_faults, n) }
      D(latency_ms, 600000),
      D(jitter_ms, 600000),
      {"rate_500", 1, 0, offsetof(sim_faults, rate[0])},
      {"rate_502", 1, 0, offsetof(sim_faults, rate[1])},
      {"rate_503", 1, 0, offsetof(sim_faults, rate[2])},
      {"rate_reset", 1, 0, offsetof(sim_faults, rate[3])},
      {"rate_truncate", 1, 0, offsetof(sim_faults, rate[4])},
      {"rate_malformed", 1, 0, offsetof(sim_faults, rate[5])},
      D(rate_slow, 1),
      {"next_500", 1000000, 1, offsetof(sim_faults, next_status[0])},
      {"next_502", 1000000, 1, offsetof(sim_faults, next_status[1])},
      {"next_503", 1000000, 1, offsetof(sim_faults, next_status[2])},
      {"next_429", 1000000, 1, offsetof(sim_faults, next_status[3])},
      I(next_reset, 1000000),
      I(next_truncate, 1000000),
      I(next_malformed, 1000000),
      I(next_slow, 1000000),
      I(slow_chunk_ms, 600000),
      I(slow_chunk_bytes, 1 << 20),
#undef D
#undef I
  };
  static const char *const scopes[] = {"rest", "oauth", "all", "write"};
  sim_faults n = *f;
  size_t i;

  json_object_object_foreach(o, k, v) {
    const char *shown =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    int known = 0;

    if (strcmp(k, "scope") == 0) {
      const char *t = json_object_is_type(v, json_type_string)
                          ? json_object_get_string(v)
                          : "";

      for (i = 0; i < 4; i++)
        if (strcmp(t, scopes[i]) == 0) {
          n.scope = (int)i;
          known = 1;
        }
      if (!known) {
        snprintf(err, err_len,
                 "bad fault [scope=%.80s]: rest, oauth, all or write "
                 "expected",
                 shown);
        return -1;
      }
      continue;
    }
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
      double d;

      if (strcmp(k, fields[i].name) != 0)
        continue;
      known = 1;
      if (fault_num(v, 0, fields[i].hi, &d) != 0 ||
          (fields[i].is_int && d != (double)(int)d)) {
        snprintf(err, err_len, "bad fault [%s=%.80s]: %s 0..%.0f expected", k,
                 shown, fields[i].is_int ? "a whole number" : "a number",
                 fields[i].hi);
        return -1;
      }
      if (fields[i].is_int)
        *(int *)((char *)&n + fields[i].off) = (int)d;
      else
        *(double *)((char *)&n + fields[i].off) = d;
    }
    if (!known) {
      snprintf(err, err_len,
               "unknown fault field [%.80s]; see tools/docusign-sim/README.md",
               k);
      return -1;
    }
  }
  *f = n;
  return 0;
}

static void faults_json(sim_buf *b, const sim_faults *f) {
  static const char *const scopes[] = {"rest", "oauth", "all", "write"};

  sim_json_obj(b);
  sim_json_kdouble(b, "latency_ms", f->latency_ms);
  sim_json_kdouble(b, "jitter_ms", f->jitter_ms);
  sim_json_kdouble(b, "rate_500", f->rate[0]);
  sim_json_kint(b, "next_500", f->next_status[0]);
  sim_json_kint(b, "next_502", f->next_status[1]);
  sim_json_kint(b, "next_503", f->next_status[2]);
  sim_json_kint(b, "next_429", f->next_status[3]);
  sim_json_kint(b, "next_reset", f->next_reset);
  sim_json_kint(b, "next_truncate", f->next_truncate);
  sim_json_kint(b, "next_malformed", f->next_malformed);
  sim_json_kint(b, "next_slow", f->next_slow);
  sim_json_kdouble(b, "rate_502", f->rate[1]);
  sim_json_kdouble(b, "rate_503", f->rate[2]);
  sim_json_kdouble(b, "rate_reset", f->rate[3]);
  sim_json_kdouble(b, "rate_truncate", f->rate[4]);
  sim_json_kdouble(b, "rate_malformed", f->rate[5]);
  sim_json_kdouble(b, "rate_slow", f->rate_slow);
  sim_json_kint(b, "slow_chunk_ms", f->slow_chunk_ms);
  sim_json_kint(b, "slow_chunk_bytes", f->slow_chunk_bytes);
  sim_json_kstr(b, "scope", scopes[f->scope]);
  sim_json_obj_end(b);
}

/* ---- users ---- */

/*
 * Adds `n` generated users with `status` (<0: the usual mix) and, when
 * `profile` names one, that permission profile. Their ids are appended to
 * `ids` as JSON strings. Returns 0 or -1.
 */
int sim_users_add_random(
    sim_ctx *c, int n, int status, const char *profile, sim_buf *ids) {
  sim_account *a = &c->acct;
  int i, p = profile ? sim_profile_find(a, profile, 1) : -1;

  for (i = 0; i < n; i++) {
    sim_user *u;
    char id[37];
    if (sim_user_generate(a, &a->next_rand, sim_time_now(), status) != 0)
      return -1;
    u = &a->users[a->nusers - 1];
    u->created = sim_time_now();
    u->added = u->created;
    if (p >= 0) {
      u->profile = (uint8_t)p;
      if (strcmp(a->profiles[p].name, "Account Administrator") == 0)
        u->flags |= SIM_UF_ADMIN;
      else
        u->flags &= (uint8_t)~SIM_UF_ADMIN;
    }
    if (ids != NULL) {
      sim_guid_fmt(u->id, id);
      sim_json_str(ids, id);
    }
  }
  return 0;
}

/*
 * Removes the last `n` users in list order, never the consenting user.
 */
void sim_users_remove_last(sim_ctx *c, int n) {
  sim_account *a = &c->acct;
  size_t i = a->nusers;

  while (n > 0 && i > 0) {
    i--;
    if (memcmp(a->users[i].id, a->integ_id, 16) == 0)
      continue;
    sim_user_remove(a, i);
    n--;
  }
}

/*
 * Removes the first `n` users in list order, never the consenting user:
 * the users after them shift towards the start of the list.
 */
static void users_remove_first(sim_ctx *c, int n) {
  sim_account *a = &c->acct;
  size_t i = 0;

  while (n > 0 && i < a->nusers) {
    if (memcmp(a->users[i].id, a->integ_id, 16) == 0) {
      i++;
      continue;
    }
    sim_user_remove(a, i);
    n--;
  }
}

/* The schedule's remove_first (kept here: sim_sched has no field for it;
 * one simulator per process). */
static int sched_remove_first;

/*
 * Runs a scheduled change once the users-list count reaches its mark, so a
 * test can change the account while a download is in progress.
 */
void sim_sched_after_list(sim_ctx *c) {
  sim_sched *s = &c->sched;

  if (!s->active || c->users_list_calls < s->after_lists)
    return;
  s->active = 0;
  if (s->add > 0)
    (void)sim_users_add_random(c, s->add, SIM_ST_ACTIVE, NULL, NULL);
  if (s->remove > 0)
    sim_users_remove_last(c, s->remove);
  if (sched_remove_first > 0)
    users_remove_first(c, sched_remove_first);
  sched_remove_first = 0;
}

/* ---- handlers ---- */

static json_object *body_json(sim_req *r) {
  json_object *o;

  if (r->req->entity.len == 0)
    return json_object_new_object();
  {
    json_tokener *t = json_tokener_new();
    if (t == NULL)
      return NULL;
    o = json_tokener_parse_ex(t, r->req->entity.base, (int)r->req->entity.len);
    json_tokener_free(t);
  }
  if (o != NULL && !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    o = NULL;
  }
  return o;
}

static int ok(sim_req *r) {
  return sim_reply(r, 200, "application/json", "{\"ok\":true}", 11);
}

static int fail(sim_req *r, int status, const char *msg) {
  sim_buf b = {0};

  sim_json_obj(&b);
  sim_json_kstr(&b, "error", msg);
  sim_json_obj_end(&b);
  return sim_reply_json(r, status, &b);
}

static int stats(sim_req *r) {
  sim_ctx *c = r->ctx;
  sim_account *a = &c->acct;
  size_t i, per[SIM_ST_COUNT] = {0};
  int s;
  sim_buf b = {0};

  for (i = 0; i < a->nusers; i++)
    per[a->users[i].status]++;
  sim_json_obj(&b);
  sim_json_kint(&b, "total_requests", c->total_requests);
  sim_json_kint(&b, "inflight", c->inflight - 1); /* not this call */
  sim_json_kint(&b, "peak_concurrent", c->peak_inflight);
  sim_json_kint(&b, "userinfo_calls", c->userinfo_calls);
  sim_json_kint(&b, "users_list_calls", c->users_list_calls);
  sim_json_key(&b, "endpoints");
  sim_json_arr(&b);
  for (i = 0; i < c->nstats; i++) {
    sim_json_obj(&b);
    sim_json_kstr(&b, "endpoint", c->stats[i].key);
    sim_json_kint(&b, "status", c->stats[i].status);
    sim_json_kint(&b, "count", c->stats[i].count);
    sim_json_obj_end(&b);
  }
  sim_json_arr_end(&b);
  sim_json_key(&b, "users");
  sim_json_obj(&b);
  sim_json_kint(&b, "total", (long long)a->nusers);
  for (s = 0; s < SIM_ST_COUNT; s++)
    sim_json_kint(&b, sim_status_names[s], (long long)per[s]);
  sim_json_kint(&b, "seatsInUse", (long long)sim_seats_in_use(a));
  sim_json_obj_end(&b);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

static int list_users(sim_req *r) {
  sim_account *a = &r->ctx->acct;
  char v[32];
  size_t start = 0, count = a->nusers, i;
  sim_buf b = {0};

  if (sim_param(r->query, "start", v, sizeof(v)))
    start = (size_t)atol(v);
  if (sim_param(r->query, "count", v, sizeof(v)))
    count = (size_t)atol(v);
  sim_json_obj(&b);
  sim_json_kint(&b, "total", (long long)a->nusers);
  sim_json_key(&b, "users");
  sim_json_arr(&b);
  for (i = start; i < a->nusers && i - start < count; i++) {
    const sim_user *u = &a->users[i];
    char id[37];
    sim_guid_fmt(u->id, id);
    sim_json_obj(&b);
    sim_json_kstr(&b, "userId", id);
    sim_json_kstr(&b, "userName", sim_str(a, u->user_name));
    sim_json_kstr(&b, "email", sim_str(a, u->email));
    sim_json_kstr(&b, "userStatus", sim_status_names[u->status]);
    sim_json_kstr(&b, "permissionProfileName",
                  u->profile == SIM_NO_PROFILE ? ""
                                               : a->profiles[u->profile].name);
    sim_json_kstr(&b, "isAdmin", (u->flags & SIM_UF_ADMIN) ? "True" : "False");
    sim_json_kstr(&b, "licenseType",
                  u->license ? a->licenses[u->license - 1].type : "");
    sim_json_kint(&b, "envelopes", u->env_count);
    sim_json_obj_end(&b);
  }
  sim_json_arr_end(&b);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

/* A whole-number field of o within [lo, hi]: 0 when absent, 1 when read
 * into *out, -1 (err names it) when bad. */
static int whole_field(json_object *o,
                       const char *k,
                       double lo,
                       double hi,
                       long *out,
                       char *err,
                       size_t err_len) {
  json_object *v;
  double d;

  if (!json_object_object_get_ex(o, k, &v))
    return 0;
  if (fault_num(v, lo, hi, &d) != 0 || d != (double)(long)d) {
    snprintf(err, err_len, "bad [%s=%.80s]: a whole number %.0f..%.0f expected",
             k, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), lo,
             hi);
    return -1;
  }
  *out = (long)d;
  return 1;
}

static int add_users(sim_req *r, json_object *o) {
  sim_ctx *c = r->ctx;
  long n = 1;
  int st = -1;
  const char *s = jstr(o, "userStatus");
  sim_buf b = {0};
  char err[300];

  if (whole_field(o, "count", 0, 10000000, &n, err, sizeof(err)) < 0)
    return fail(r, 400, err);
  if (s != NULL && (st = sim_status_from_name(s, strlen(s))) < 0)
    return fail(r, 400, "unknown userStatus");
  sim_json_obj(&b);
  sim_json_key(&b, "userIds");
  sim_json_arr(&b);
  if (sim_users_add_random(c, (int)n, st, jstr(o, "permissionProfileName"),
                           &b) != 0) {
    sim_buf_free(&b);
    return fail(r, 500, "out of memory");
  }
  sim_json_arr_end(&b);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

static int remove_users(sim_req *r, json_object *o) {
  sim_ctx *c = r->ctx;
  json_object *arr;
  int n = 0;

  if (json_object_object_get_ex(o, "userIds", &arr) &&
      json_object_is_type(arr, json_type_array)) {
    size_t i;
    for (i = 0; i < json_object_array_length(arr); i++) {
      uint8_t id[16];
      long k;
      if (sim_guid_parse(
              json_object_get_string(json_object_array_get_idx(arr, i)), id) !=
          0)
        continue;
      k = sim_user_find(&c->acct, id);
      if (k >= 0)
        sim_user_remove(&c->acct, (size_t)k);
    }
    return ok(r);
  }
  {
    long count = 0;
    char err[300];

    if (whole_field(o, "count", 0, 100000000, &count, err, sizeof(err)) < 0)
      return fail(r, 400, err);
    n = (int)count;
  }
  sim_users_remove_last(c, n);
  return ok(r);
}

/* POST /_sim/users/{id}[/activate] */
static int change_user(sim_req *r, const char *rest, json_object *o) {
  sim_account *a = &r->ctx->acct;
  char idbuf[64];
  const char *slash = strchr(rest, '/'), *s;
  size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
  uint8_t id[16];
  long k;
  int v;
  sim_user *u;
  sim_buf b = {0};

  if (n >= sizeof(idbuf))
    return fail(r, 400, "bad user id");
  memcpy(idbuf, rest, n);
  idbuf[n] = '\0';
  if (strcmp(idbuf, "integration") == 0)
    memcpy(id, a->integ_id, 16);
  else if (sim_guid_parse(idbuf, id) != 0)
    return fail(r, 400, "bad user id");
  k = sim_user_find(a, id);
  if (k < 0)
    return fail(r, 404, "no such user");
  u = &a->users[k];
  if (slash != NULL && strcmp(slash, "/activate") == 0) {
    /* A12: the user clicked the activation link */
    if (u->status == SIM_ST_ACTIVATION_SENT ||
        u->status == SIM_ST_ACTIVATION_REQUIRED)
      u->status = SIM_ST_ACTIVE;
  } else if (slash != NULL) {
    return fail(r, 404, "unknown user action");
  }
  if (jbool(o, "isAdmin", &v)) {
    if (v)
      u->flags |= SIM_UF_ADMIN;
    else
      u->flags &= (uint8_t)~SIM_UF_ADMIN;
  }
  s = jstr(o, "permissionProfileName");
  if (s != NULL) {
    int p = sim_profile_find(a, s, 1);
    if (p < 0)
      return fail(r, 400, "too many profiles");
    u->profile = (uint8_t)p;
  }
  s = jstr(o, "userStatus");
  if (s != NULL) {
    int st = sim_status_from_name(s, strlen(s));
    if (st < 0)
      return fail(r, 400, "unknown userStatus");
    u->status = (uint8_t)st;
  }
  sim_user_json(&b, a, u, 1, 1);
  return sim_reply_json(r, 200, &b);
}

static int limits(sim_req *r, json_object *o) {
  static const char *const names[] = {"hourly", "hourly_window_s", "burst",
                                      "burst_window_s"};
  static const double his[] = {1e9, 86400, 1e9, 86400};
  sim_limits *l = &r->ctx->limits;
  long vals[4] = {l->hourly, l->hourly_window_s, l->burst, l->burst_window_s};
  char err[300];
  double d;
  size_t i;
  int v;
  sim_buf b = {0};

  /* every number first: a bad one changes nothing */
  for (i = 0; i < 4; i++)
    if (whole_field(o, names[i], 1, his[i], &vals[i], err, sizeof(err)) < 0)
      return fail(r, 400, err);
  if (jbool(o, "enabled", &v))
    l->enabled = v;
  l->hourly = vals[0];
  l->hourly_window_s = vals[1];
  l->burst = vals[2];
  l->burst_window_s = vals[3];
  if (jbool(o, "swap_status", &v))
    l->swap_status = v;
  if (jbool(o, "retry_after", &v))
    l->retry_after = v;
  if (jbool(o, "reset", &v) && v)
    sim_limits_reset(l);
  if (jnum(o, "hourly_resets_in_s", &d)) {
    if (d < 1 || d > (l->hourly_window_s > 0 ? l->hourly_window_s : 3600))
      return fail(r, 400, "hourly_resets_in_s must be 1..hourly_window_s");
    sim_limits_hourly_resets_in(l, (int64_t)d);
  }
  if (jnum(o, "burst_resets_in_s", &d)) {
    if (d < 1 || d > (l->burst_window_s > 0 ? l->burst_window_s : 30))
      return fail(r, 400, "burst_resets_in_s must be 1..burst_window_s");
    sim_limits_burst_resets_in(l, (int64_t)d);
  }
  sim_json_obj(&b);
  sim_json_key(&b, "enabled");
  sim_json_rawval(&b, l->enabled ? "true" : "false");
  sim_json_kint(&b, "hourly", l->hourly);
  sim_json_kint(&b, "hourly_used", l->hour_used);
  sim_json_kint(&b, "hourly_window_s", l->hourly_window_s);
  sim_json_kint(&b, "burst", l->burst);
  sim_json_kint(&b, "burst_used", l->burst_used);
  sim_json_kint(&b, "burst_window_s", l->burst_window_s);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

static int quirks(sim_req *r, json_object *o) {
  sim_quirks *q = &r->ctx->quirks;
  const char *s;
  int v;

  if (jbool(o, "users_empty_array", &v))
    q->users_empty_array = v;
  if (jbool(o, "omit_null_uris", &v))
    q->omit_null_uris = v;
  if (jbool(o, "isadmin_lower", &v))
    sim_isadmin_lower = v;
  if (jbool(o, "token_scope", &v))
    q->token_scope = v;
  s = jstr(o, "auth_error_code");
  if (s != NULL)
    snprintf(q->auth_error_code, sizeof(q->auth_error_code), "%s", s);
  s = jstr(o, "date_style");
  if (s != NULL) {
    if (strcmp(s, "docusign") == 0)
      sim_date_style = 0;
    else if (strcmp(s, "millis") == 0)
      sim_date_style = 1;
    else if (strcmp(s, "offset") == 0)
      sim_date_style = 2;
    else
      return fail(r, 400, "date_style must be docusign, millis or offset");
  }
  return ok(r);
}

/*
 * Handles /_sim/... (see README.md). Loop thread; one reply. Returns 0.
 */
int sim_control_handle(sim_req *r) {
  sim_ctx *c = r->ctx;
  const char *p = r->path + 5;
  int post = strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0;
  json_object *o = NULL;
  int rc, v;

  r->stat_key[0] = '\0'; /* control calls are not in the stats */
  if (strcmp(p, "/stats") == 0 && !post)
    return stats(r);
  if (strcmp(p, "/users") == 0 && !post)
    return list_users(r);
  if (strcmp(p, "/faults") == 0 && strcmp(r->method, "GET") == 0) {
    sim_buf b = {0};
    faults_json(&b, &c->faults);
    return sim_reply_json(r, 200, &b);
  }
  if (strcmp(p, "/faults") == 0 && strcmp(r->method, "DELETE") == 0) {
    sim_faults_clear(&c->faults);
    return ok(r);
  }
  if (!post)
    return fail(r, 404,
                "unknown control call; see tools/docusign-sim/README.md");
  o = body_json(r);
  if (o == NULL)
    return fail(r, 400, "the body must be a JSON object");
  if (strcmp(p, "/stats/reset") == 0) {
    c->nstats = 0;
    c->peak_inflight = c->inflight;
    c->userinfo_calls = 0;
    c->users_list_calls = 0;
    c->total_requests = 0;
    rc = ok(r);
  } else if (strcmp(p, "/faults") == 0) {
    char err[300];

    rc = sim_faults_apply_json(&c->faults, o, err, sizeof(err)) == 0
             ? ok(r)
             : fail(r, 400, err);
  } else if (strcmp(p, "/faults/clear") == 0) {
    sim_faults_clear(&c->faults);
    rc = ok(r);
  } else if (strcmp(p, "/tokens/expire") == 0) {
    v = 0;
    jbool(o, "refresh", &v);
    sim_oauth_expire_all(c, v);
    rc = ok(r);
  } else if (strcmp(p, "/users/add") == 0) {
    rc = add_users(r, o);
  } else if (strcmp(p, "/users/remove") == 0) {
    rc = remove_users(r, o);
  } else if (strncmp(p, "/users/", 7) == 0) {
    rc = change_user(r, p + 7, o);
  } else if (strcmp(p, "/limits") == 0) {
    rc = limits(r, o);
  } else if (strcmp(p, "/schedule") == 0) {
    double d = 0;
    c->sched.add = c->sched.remove = 0;
    jnum(o, "after_users_list", &d);
    c->sched.after_lists = c->users_list_calls + (long)d;
    jint(o, "add", &c->sched.add);
    jint(o, "remove", &c->sched.remove);
    sched_remove_first = 0;
    jint(o, "remove_first", &sched_remove_first);
    c->sched.active = d > 0;
    rc = ok(r);
  } else if (strcmp(p, "/quirks") == 0) {
    rc = quirks(r, o);
  } else if (strcmp(p, "/consent") == 0) {
    if (jbool(o, "auto", &v))
      c->auto_consent = v;
    rc = ok(r);
  } else if (strcmp(p, "/account") == 0) {
    if (jbool(o, "reseller", &v))
      c->reseller = v;
    rc = ok(r);
  } else {
    rc = fail(r, 404, "unknown control call; see tools/docusign-sim/README.md");
  }
  json_object_put(o);
  return rc;
}
