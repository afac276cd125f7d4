/*
 * dsg_candidates_run.c: the candidate refresh after a complete download
 * (see dsg_candidates_run.h). One store operation at a time, in this
 * order: rules, entitlements, exclusion rules, the candidate index,
 * userinfo, the subscriptions page by page (new candidates written per
 * page), then the candidates to close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_action.h"
#include "dsg_candidates.h"
#include "dsg_candidates_run.h"
#include "dsg_dates.h"
#include "dsg_exclusions.h"
#include "dsg_log.h"
#include "dsg_reclaim_util.h"

/* Records per store query: one page is parsed in one callback on the
 * host's loop; 100 keep a callback near a millisecond (500 took 5 ms). */
#define PAGE 100
#define ACTOR "download"

/* One user that has or had candidates. */
typedef struct cent {
  char *uid;
  char *open_key;     /* the open candidate, or NULL */
  uint32_t n;         /* candidates ever written for the user */
  int64_t last_kept;  /* last Closed Skipped from Awaiting Approval */
  char *close_reason; /* set: close the open candidate with this reason */
  int seen;           /* a subscription was read for it */
} cent;

typedef struct run {
  dsg_ctx *ctx;
  sam_job *job;
  char *profile_id;
  json_object *profile;
  dsg_token_args ta;
  char *instance;
  void (*cb)(int, const char *, void *);
  void *ud;
  dsg_rs rs;
  dsg_whoami_req who;
  int step;
  char *cursor;
  json_object *rules;  /* array of rule records */
  json_object *prices; /* model -> {unit_cost, currency} */
  json_object *id_rules;
  json_object *user_rules;
  dsg_exclusions *excl;
  char *sub;
  /* candidate index: open addressing on uid */
  cent *tab;
  size_t cap;
  size_t used;
  /* the page's new candidates */
  json_object *fresh; /* array */
  size_t fresh_i;     /* one-by-one fallback position */
  /* closing */
  size_t close_i;
  char close_key[80];
  char *close_reason;
  /* counts */
  long created;
  long closed;
  long open_before;
} run;

enum { ST_RULES, ST_PRICES, ST_IDX, ST_UEX, ST_CANDS, ST_SUBS };

static void next_step(run *r);
static void scan_subs(run *r);
static void close_next(run *r);

/* ---- the index ---- */

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;

  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return h;
}

static int grow(run *r) {
  size_t ncap = r->cap ? r->cap * 2 : 1024;
  cent *nt = calloc(ncap, sizeof(*nt));
  size_t i;

  if (nt == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < r->cap; i++) {
    size_t j;

    if (r->tab[i].uid == NULL)
      continue;
    j = (size_t)hash(r->tab[i].uid) & (ncap - 1);
    while (nt[j].uid != NULL)
      j = (j + 1) & (ncap - 1);
    nt[j] = r->tab[i];
  }
  free(r->tab);
  r->tab = nt;
  r->cap = ncap;
  return 0;
}

/* The entry of uid; created when create is set (NULL: out of memory). */
static cent *find(run *r, const char *uid, int create) {
  size_t j;

  if (r->cap == 0 || (create && (r->used + 1) * 2 > r->cap)) {
    if (!create && r->cap == 0)
      return NULL;
    if (grow(r) != 0)
      return NULL;
  }
  j = (size_t)hash(uid) & (r->cap - 1);
  while (r->tab[j].uid != NULL) {
    if (strcmp(r->tab[j].uid, uid) == 0)
      return &r->tab[j];
    j = (j + 1) & (r->cap - 1);
  }
  if (!create)
    return NULL;
  r->tab[j].uid = strdup(uid);
  if (r->tab[j].uid == NULL)
    return NULL;
  r->tab[j].last_kept = DSG_TIME_UNKNOWN;
  r->used++;
  return &r->tab[j];
}

/* ---- lifecycle ---- */

static void run_free(run *r) {
  size_t i;

  for (i = 0; i < r->cap; i++) {
    free(r->tab[i].uid);
    free(r->tab[i].open_key);
    free(r->tab[i].close_reason);
  }
  free(r->tab);
  free(r->profile_id);
  free(r->instance);
  free(r->cursor);
  free(r->sub);
  json_object_put(r->profile);
  json_object_put(r->rules);
  json_object_put(r->prices);
  json_object_put(r->id_rules);
  json_object_put(r->user_rules);
  json_object_put(r->fresh);
  dsg_exclusions_free(r->excl);
  free(r);
}

static void finish(run *r, int status, const char *msg) {
  json_object *o = json_object_new_object();

  if (status == SAM_OK) {
    json_object_object_add(o, "created", json_object_new_int64(r->created));
    json_object_object_add(o, "closed_skipped",
                           json_object_new_int64(r->closed));
    json_object_object_add(
        o, "open_total",
        json_object_new_int64(r->open_before - r->closed + r->created));
    dsg_logf(r->ctx, r->job, SAM_LOG_INFO,
             "candidates refreshed [profile=%s] [created=%ld] "
             "[closed_skipped=%ld]",
             r->profile_id, r->created, r->closed);
  } else {
    json_object_object_add(o, "error", json_object_new_string(msg));
    dsg_logf(r->ctx, r->job, SAM_LOG_ERROR,
             "candidate refresh failed [profile=%s] [%s] %s", r->profile_id,
             sam_err_name(status), msg);
  }
  r->cb(status, o != NULL ? dsg_ru_text(o) : "{}", r->ud);
  json_object_put(o);
  run_free(r);
}

static void fail_rc(run *r, int rc, const char *what) {
  char m[256];

  snprintf(m, sizeof(m), "%s failed [%s]", what, sam_err_name(rc));
  finish(r, rc, m);
}

/* ---- reading the small types ---- */

static json_object *rec_json(const sam_record *rec) {
  return dsg_json_parse(rec->json, rec->json_len);
}

static void add_page(run *r, const sam_store_result *res) {
  size_t i;

  for (i = 0; i < res->n; i++) {
    json_object *o = rec_json(&res->recs[i]);

    if (o == NULL)
      continue;
    switch (r->step) {
    case ST_RULES:
      json_object_array_add(r->rules, o);
      break;
    case ST_PRICES: {
      json_object *p = json_object_new_object();
      json_object *uc = NULL;
      const char *model = dsg_ru_str(o, "software_model");

      if (model != NULL && json_object_object_get_ex(o, "unit_cost", &uc) &&
          (json_object_is_type(uc, json_type_double) ||
           json_object_is_type(uc, json_type_int))) {
        json_object_object_add(p, "unit_cost", json_object_get(uc));
        if (dsg_ru_str(o, "currency") != NULL)
          json_object_object_add(
              p, "currency", json_object_new_string(dsg_ru_str(o, "currency")));
        json_object_object_add(r->prices, model, p);
      } else {
        json_object_put(p);
      }
      json_object_put(o);
      break;
    }
    case ST_IDX:
      json_object_array_add(r->id_rules, o);
      break;
    case ST_UEX:
      json_object_array_add(r->user_rules, o);
      break;
    case ST_CANDS: {
      const char *uid = dsg_ru_str(o, "external_user_id");
      cent *e = uid != NULL ? find(r, uid, 1) : NULL;

      if (e != NULL) {
        json_object *h = NULL;
        size_t hn;

        e->n++;
        if (dsg_ru_bool(o, "open", 0) && e->open_key == NULL) {
          e->open_key = strdup(res->recs[i].key);
          r->open_before++;
        }
        /* kept on approval: the last move was Awaiting Approval -> Closed
         * Skipped (SAM-MODEL.md 9) */
        if (json_object_object_get_ex(o, "history", &h) &&
            (hn = json_object_array_length(h)) > 0) {
          json_object *last = json_object_array_get_idx(h, hn - 1);
          const char *from = dsg_ru_str(last, "from");
          const char *to = dsg_ru_str(last, "to");
          int64_t at;

          if (from != NULL && to != NULL &&
              strcmp(from, "awaiting_approval") == 0 &&
              strcmp(to, "closed_skipped") == 0 &&
              dsg_date_parse(dsg_ru_str(last, "at"), &at) == 0 &&
              (e->last_kept == DSG_TIME_UNKNOWN || at > e->last_kept))
            e->last_kept = at;
        }
      }
      json_object_put(o);
      break;
    }
    default:
      json_object_put(o);
    }
  }
}

static void on_page(void *owner, int status, const sam_store_result *res) {
  run *r = owner;
  static const char *const what[] = {
      "reading the reclamation rules", "reading the entitlements",
      "reading the identifier exclusions", "reading the user exclusions",
      "reading the candidates"};

  if (status != SAM_OK) {
    fail_rc(r, status, what[r->step]);
    return;
  }
  add_page(r, res);
  free(r->cursor);
  r->cursor = NULL;
  if (res->next_cursor != NULL) {
    r->cursor = strdup(res->next_cursor);
    if (r->cursor == NULL) {
      fail_rc(r, SAM_ENOMEM, what[r->step]);
      return;
    }
  } else {
    r->step++;
  }
  next_step(r);
}

static void on_whoami(
    int status, const char *sub, const char *rest, const char *msg, void *ud) {
  run *r = ud;

  (void)rest;
  if (status != SAM_OK) {
    /* Without the integration user the protection cannot hold: stop. */
    finish(r, status, msg);
    return;
  }
  r->sub = strdup(sub);
  if (r->sub == NULL) {
    finish(r, SAM_ENOMEM, "out of memory");
    return;
  }
  scan_subs(r);
}

static void next_step(run *r) {
  static const char *const types[] = {"sam_reclamation_rule", "sam_entitlement",
                                      "sam_exclusion_identifier",
                                      "sam_exclusion_user", "sam_candidate"};
  const char *scope;
  char err[256];
  int rc;

  if (r->step < ST_SUBS) {
    scope =
        r->step == ST_IDX || r->step == ST_UEX ? DSG_HOST_SCOPE : r->profile_id;
    rc = dsg_rs_query(&r->rs, scope, types[r->step], NULL, r->cursor, PAGE,
                      on_page, r);
    if (rc != 0)
      fail_rc(r, rc, types[r->step]);
    return;
  }
  rc = dsg_exclusions_new(DSG_PROFILE_TYPE_ID, r->id_rules, r->user_rules,
                          &r->excl, NULL, err, sizeof(err));
  if (rc != 0) {
    finish(r, rc, err);
    return;
  }
  rc = dsg_whoami(r->ctx, &r->ta, dsg_ru_str(r->profile, "account_id"), &r->who,
                  on_whoami, r);
  if (rc != 0)
    fail_rc(r, rc, "userinfo");
}

/* ---- the subscriptions ---- */

static const dsg_rule_view *
rule_for(run *r, const char *model, dsg_rule_view *view) {
  size_t i;
  json_object *any = NULL;
  char err[128];

  for (i = 0; i < json_object_array_length(r->rules); i++) {
    json_object *rule = json_object_array_get_idx(r->rules, i);
    const char *m = dsg_ru_str(rule, "software_model");

    if (m == NULL) {
      if (any == NULL)
        any = rule;
      continue;
    }
    if (model != NULL && strcmp(m, model) == 0 &&
        dsg_rule_view_from_json(rule, view, err, sizeof(err)) == 0)
      return view;
  }
  if (any != NULL && dsg_rule_view_from_json(any, view, err, sizeof(err)) == 0)
    return view;
  return NULL;
}

/* Why an open candidate of this subscription must close, or NULL. */
static const char *close_reason(run *r, json_object *s, char *buf, size_t len) {
  const char *state = dsg_ru_str(s, "state");
  const char *uid = dsg_ru_str(s, "external_user_id");
  char why[400];

  if (state == NULL || strcmp(state, "active") != 0 ||
      !dsg_ru_bool(s, "active", 0)) {
    snprintf(buf, len, "subscription is no longer active [state=%s]",
             state != NULL ? state : "");
    return buf;
  }
  if (dsg_ru_bool(s, "is_admin", 0)) {
    snprintf(buf, len,
             "the user became an account administrator: never a "
             "candidate");
    return buf;
  }
  if (uid != NULL && r->sub != NULL && strcmp(uid, r->sub) == 0) {
    snprintf(buf, len,
             "the integration's own DocuSign user: never a "
             "candidate");
    return buf;
  }
  if (dsg_ru_bool(s, "excluded", 0)) {
    snprintf(buf, len, "excluded (%.300s)",
             dsg_ru_str(s, "exclusion_reason") != NULL
                 ? dsg_ru_str(s, "exclusion_reason")
                 : "no reason recorded");
    return buf;
  }
  if (dsg_exclusions_match(r->excl, dsg_ru_str(s, "subscription_identifier"),
                           dsg_ru_str(s, "user_principal_name"), why,
                           sizeof(why))) {
    snprintf(buf, len, "%s", why);
    return buf;
  }
  return NULL;
}

static int make_candidate(run *r,
                          json_object *s,
                          const dsg_rule_view *rule,
                          cent *e,
                          const char *reason,
                          int64_t now) {
  json_object *c = NULL;
  json_object *p = NULL;
  char key[80];
  char err[256];
  const char *model = dsg_ru_str(s, "software_model");
  int rc;

  dsg_candidate_key(r->profile_id, e->uid, e->n, key, sizeof(key));
  rc = dsg_cand_new(key, s, rule, 0, now, ACTOR, reason, &c, err, sizeof(err));
  if (rc != 0) {
    dsg_logf(r->ctx, r->job, SAM_LOG_WARN,
             "candidate not created [user=%s] [%s]", e->uid, err);
    return 0;
  }
  if (rule->notify_user) {
    char m[600];

    snprintf(m, sizeof(m),
             "rule [%s] notifies users, but this host has no user directory to "
             "resolve [%s] to a person: turn Notify user off on the rule, or "
             "move the candidate by hand",
             rule->rule_id,
             dsg_ru_str(s, "user_principal_name") != NULL
                 ? dsg_ru_str(s, "user_principal_name")
                 : e->uid);
    json_object_object_add(c, "error_message", json_object_new_string(m));
  }
  if (model != NULL && json_object_object_get_ex(r->prices, model, &p)) {
    json_object *uc = NULL;
    const char *cur = dsg_ru_str(p, "currency");

    json_object_object_get_ex(p, "unit_cost", &uc);
    json_object_object_add(c, "potential_savings",
                           json_object_new_double(json_object_get_double(uc)));
    json_object_object_add(c, "currency",
                           cur != NULL ? json_object_new_string(cur) : NULL);
  } else {
    json_object_object_add(c, "potential_savings", NULL);
  }
  json_object_array_add(r->fresh, c);
  return 0;
}

static void put_fresh(run *r);

static void on_fresh_put(void *owner, int status, const sam_store_result *res) {
  run *r = owner;
  size_t n = json_object_array_length(r->fresh);

  (void)res;
  if (r->fresh_i == 0 && status == SAM_OK) {
    r->created += (long)n;
  } else if (r->fresh_i == 0 &&
             (status == SAM_EEXIST || status == SAM_ECONFLICT)) {
    /* Another run wrote some of them first: one by one, keeping theirs. */
    r->fresh_i = 1;
    put_fresh(r);
    return;
  } else if (r->fresh_i > 0) {
    if (status == SAM_OK)
      r->created++;
    else if (status != SAM_EEXIST) {
      fail_rc(r, status, "writing a candidate");
      return;
    }
    if (r->fresh_i < n) {
      r->fresh_i++;
      put_fresh(r);
      return;
    }
  } else {
    fail_rc(r, status, "writing the candidates");
    return;
  }
  json_object_put(r->fresh);
  r->fresh = NULL;
  r->fresh_i = 0;
  if (r->cursor == NULL) {
    r->close_i = 0;
    close_next(r);
  } else {
    scan_subs(r);
  }
}

static void put_fresh(run *r) {
  size_t n = json_object_array_length(r->fresh);
  size_t i, lo = 0, hi = n;
  sam_record *recs = calloc(n, sizeof(*recs));
  int rc;

  if (recs == NULL) {
    fail_rc(r, SAM_ENOMEM, "writing the candidates");
    return;
  }
  if (r->fresh_i > 0) {
    lo = r->fresh_i - 1;
    hi = r->fresh_i;
  }
  for (i = lo; i < hi; i++) {
    json_object *c = json_object_array_get_idx(r->fresh, i);

    recs[i - lo].struct_size = sizeof(sam_record);
    recs[i - lo].if_version = SAM_IF_NEW;
    recs[i - lo].key = dsg_ru_str(c, "candidate_id");
    recs[i - lo].json = dsg_ru_text(c);
    recs[i - lo].json_len = strlen(recs[i - lo].json);
  }
  rc = dsg_rs_put(&r->rs, r->profile_id, "sam_candidate", recs, hi - lo,
                  on_fresh_put, r);
  free(recs);
  if (rc != 0)
    fail_rc(r, rc, "writing the candidates");
}

static void on_subs(void *owner, int status, const sam_store_result *res) {
  run *r = owner;
  int64_t now = dsg_ru_now();
  size_t i;

  if (status != SAM_OK) {
    fail_rc(r, status, "reading the subscriptions");
    return;
  }
  r->fresh = json_object_new_array();
  if (r->fresh == NULL) {
    fail_rc(r, SAM_ENOMEM, "reading the subscriptions");
    return;
  }
  for (i = 0; i < res->n; i++) {
    json_object *s = rec_json(&res->recs[i]);
    const char *uid = dsg_ru_str(s, "external_user_id");
    cent *e;
    char buf[600];
    char reason[1024];
    const char *why;
    dsg_rule_view view;
    dsg_eval_in in;

    if (uid == NULL) {
      json_object_put(s);
      continue;
    }
    e = find(r, uid, 0);
    if (e != NULL)
      e->seen = 1;
    why = close_reason(r, s, buf, sizeof(buf));
    if (why != NULL) {
      if (e != NULL && e->open_key != NULL && e->close_reason == NULL)
        e->close_reason = strdup(why);
      json_object_put(s);
      continue;
    }
    memset(&in, 0, sizeof(in));
    in.subscription = s;
    in.rule = rule_for(r, dsg_ru_str(s, "software_model"), &view);
    in.integration_user_id = r->sub;
    in.now = now;
    in.has_open_candidate = e != NULL && e->open_key != NULL;
    in.last_skipped_at = e != NULL ? e->last_kept : DSG_TIME_UNKNOWN;
    if (dsg_cand_evaluate(&in, reason, sizeof(reason)) == 1) {
      if (e == NULL)
        e = find(r, uid, 1);
      if (e == NULL) {
        json_object_put(s);
        fail_rc(r, SAM_ENOMEM, "indexing the candidates");
        return;
      }
      e->seen = 1;
      make_candidate(r, s, in.rule, e, reason, now);
      e->n++;
      /* counted as open so a duplicate subscription row cannot add one */
      free(e->open_key);
      e->open_key = strdup("(new)");
    }
    json_object_put(s);
  }
  free(r->cursor);
  r->cursor = NULL;
  if (res->next_cursor != NULL) {
    r->cursor = strdup(res->next_cursor);
    if (r->cursor == NULL) {
      fail_rc(r, SAM_ENOMEM, "reading the subscriptions");
      return;
    }
  }
  if (json_object_array_length(r->fresh) > 0) {
    r->fresh_i = 0;
    put_fresh(r);
    return;
  }
  json_object_put(r->fresh);
  r->fresh = NULL;
  if (r->cursor != NULL) {
    scan_subs(r);
    return;
  }
  r->close_i = 0;
  close_next(r);
}

static void scan_subs(run *r) {
  int rc = dsg_rs_query(&r->rs, r->profile_id, "sam_subscription", NULL,
                        r->cursor, PAGE, on_subs, r);

  if (rc != 0)
    fail_rc(r, rc, "reading the subscriptions");
}

/* ---- closing ---- */

static void on_close_put(void *owner, int status, const sam_store_result *res) {
  run *r = owner;

  (void)res;
  if (status == SAM_OK)
    r->closed++;
  else
    /* e.g. ECONFLICT: moved meanwhile by a person or the reclaim; the next
     * refresh looks again. */
    dsg_logf(r->ctx, r->job, SAM_LOG_WARN,
             "candidate not closed [candidate=%s] [%s]", r->close_key,
             sam_err_name(status));
  close_next(r);
}

static void on_close_get(void *owner, int status, const sam_store_result *res) {
  run *r = owner;
  json_object *c;
  sam_record rec;
  char err[256];
  int rc;

  if (status != SAM_OK || res->n != 1) {
    close_next(r);
    return;
  }
  c = rec_json(&res->recs[0]);
  rc = c != NULL ? dsg_cand_apply(c, DSG_CAND_CLOSED_SKIPPED,
                                  DSG_TRIG_SUBSCRIPTION_GONE, dsg_ru_now(),
                                  ACTOR, r->close_reason, err, sizeof(err))
                 : SAM_EINVAL;
  if (rc != 0) {
    json_object_put(c);
    close_next(r);
    return;
  }
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = res->recs[0].version;
  rec.key = r->close_key;
  rec.json = dsg_ru_text(c);
  rec.json_len = strlen(rec.json);
  rc = dsg_rs_put(&r->rs, r->profile_id, "sam_candidate", &rec, 1, on_close_put,
                  r);
  json_object_put(c);
  if (rc != 0)
    fail_rc(r, rc, "closing a candidate");
}

static void close_next(run *r) {
  int rc;

  free(r->close_reason);
  r->close_reason = NULL;
  for (; r->close_i < r->cap; r->close_i++) {
    cent *e = &r->tab[r->close_i];

    if (e->uid == NULL || e->open_key == NULL ||
        strcmp(e->open_key, "(new)") == 0)
      continue;
    if (e->close_reason == NULL && e->seen)
      continue;
    r->close_reason = strdup(
        e->close_reason != NULL ? e->close_reason
                                : "the subscription disappeared from DocuSign");
    snprintf(r->close_key, sizeof(r->close_key), "%s", e->open_key);
    r->close_i++;
    if (r->close_reason == NULL) {
      fail_rc(r, SAM_ENOMEM, "closing a candidate");
      return;
    }
    rc = dsg_rs_get(&r->rs, r->profile_id, "sam_candidate", r->close_key,
                    on_close_get, r);
    if (rc != 0)
      fail_rc(r, rc, "closing a candidate");
    return;
  }
  finish(r, SAM_OK, "");
}

/* ---- entry ---- */

int dsg_candidates_refresh(dsg_ctx *ctx,
                           sam_job *job,
                           const char *profile_id,
                           const char *profile_json,
                           void (*cb)(int status,
                                      const char *summary_json,
                                      void *ud),
                           void *ud) {
  run *r;
  size_t n;
  int rc;

  if (ctx == NULL || profile_id == NULL || profile_json == NULL || cb == NULL)
    return SAM_EINVAL;
  if (ctx->stopping)
    return SAM_EBUSY;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return SAM_ENOMEM;
  r->ctx = ctx;
  r->job = job;
  r->cb = cb;
  r->ud = ud;
  r->rs.ctx = ctx;
  r->profile_id = strdup(profile_id);
  r->profile = dsg_json_parse(profile_json, strlen(profile_json));
  r->rules = json_object_new_array();
  r->prices = json_object_new_object();
  r->id_rules = json_object_new_array();
  r->user_rules = json_object_new_array();
  if (r->profile_id == NULL || r->rules == NULL || r->prices == NULL ||
      r->id_rules == NULL || r->user_rules == NULL) {
    run_free(r);
    return SAM_ENOMEM;
  }
  if (r->profile == NULL || dsg_ru_str(r->profile, "client_id") == NULL ||
      dsg_ru_str(r->profile, "account_id") == NULL ||
      dsg_ru_str(r->profile, "instance_url") == NULL) {
    run_free(r);
    return SAM_EINVAL;
  }
  r->instance = strdup(dsg_ru_str(r->profile, "instance_url"));
  if (r->instance == NULL) {
    run_free(r);
    return SAM_ENOMEM;
  }
  n = strlen(r->instance);
  if (n > 0 && r->instance[n - 1] == '/')
    r->instance[n - 1] = '\0';
  r->ta.profile_id = r->profile_id;
  r->ta.client_id = dsg_ru_str(r->profile, "client_id");
  r->ta.instance = r->instance;
  r->step = ST_RULES;
  rc = dsg_rs_query(&r->rs, r->profile_id, "sam_reclamation_rule", NULL, NULL,
                    PAGE, on_page, r);
  if (rc != 0) {
    run_free(r);
    return rc;
  }
  return 0;
}
