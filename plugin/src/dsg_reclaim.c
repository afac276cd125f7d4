/*
 * dsg_reclaim.c: the Reclaim process (dsg_reclaim.h). The flow, one step
 * in flight at a time:
 *
 *   rules, exclusion rules -> userinfo (integration user, REST base)
 *   -> intents still pending or sent: reconciled from DocuSign first
 *   -> active seats (the cap) -> open candidates to act on
 *   -> per batch of <= 50: store pre-check of each subscription, intent
 *      "pending", GET re-check of each user, DELETE users, intent "sent",
 *      each user's outcome, intent "reconciled"
 *   -> the candidates beyond the cap go to Attention Required.
 *
 * A dry run does the same reads and GETs and writes nothing anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_dates.h"
#include "dsg_log.h"
#include "dsg_reclaim.h"
#include "dsg_reclaim_check.h"
#include "dsg_reclaim_int.h"

#define PAGE 500


/* ---- lifecycle ---- */

static void item_clear(rc_item *it) {
  free(it->key);
  free(it->uid);
  free(it->upn);
  free(it->rule_id);
  free(it->why);
  json_object_put(it->sub);
  memset(it, 0, sizeof(*it));
}

static void rc_free(void *ext) {
  rc_run *r = ext;
  size_t i;

  for (i = 0; i < r->n_items; i++)
    item_clear(&r->items[i]);
  item_clear(&r->scratch);
  free(r->items);
  free(r->cursor);
  free(r->sub_id);
  free(r->rest);
  free(r->job_id);
  free(r->ld_type);
  free(r->ld_scope);
  free(r->ld_filter);
  json_object_put(r->rules);
  json_object_put(r->id_rules);
  json_object_put(r->user_rules);
  json_object_put(r->intents);
  json_object_put(r->outcomes);
  json_object_put(r->send);
  json_object_put(r->batch_ids);
  json_object_put(r->reply);
  json_object_put(r->closed_ids);
  json_object_put(r->report);
  dsg_exclusions_free(r->excl);
  json_object_put(r->assigned);
  dsg_rc_pace_free(r);
  free(r);
}

void dsg_rc_finish(rc_run *r, int status, const char *msg) {
  json_object *o = json_object_new_object();
  char m[1200];

  /* no paced request may start once the job is complete */
  if (r->pc_timer != NULL)
    uv_timer_stop(r->pc_timer);
  r->pc_cb = NULL;
  json_object_object_add(o, "dry_run", json_object_new_boolean(r->dry));
  json_object_object_add(o, "considered",
                         json_object_new_int64((int64_t)r->n_items));
  json_object_object_add(o, "closed", json_object_new_int64(r->closed));
  json_object_object_add(o, "skipped", json_object_new_int64(r->skipped));
  json_object_object_add(o, "failed", json_object_new_int64(r->failed));
  json_object_object_add(o, "attention_required",
                         json_object_new_int64(r->attention));
  if (r->dry)
    json_object_object_add(o, "would_close", json_object_new_int64(r->sent));
  json_object_object_add(o, "cap", json_object_new_int64((int64_t)r->cap));
  json_object_object_add(o, "active_seats",
                         json_object_new_int64((int64_t)r->active_seats));
  json_object_object_add(o, "rate_limit_errors",
                         json_object_new_int64(r->limit_errors));
  json_object_object_add(o, "rate_limit_waits",
                         json_object_new_int64(r->limit_waits));
  if (status == SAM_EAGAIN && r->retry_after_s > 0) {
    json_object_object_add(o, "partial", json_object_new_boolean(1));
    json_object_object_add(o, "retry_after_s",
                           json_object_new_int64(r->retry_after_s));
  }
  json_object_object_add(o, "closed_user_ids", json_object_get(r->closed_ids));
  json_object_object_add(o, "report", json_object_get(r->report));
  if (status == SAM_ECANCELED) {
    size_t i;
    size_t used;

    used = (size_t)snprintf(m, sizeof(m),
                            "cancelled before the next DocuSign write; closed "
                            "%ld user(s)",
                            r->closed);
    for (i = 0; i < json_object_array_length(r->closed_ids) && used < 1000;
         i++) {
      int n = snprintf(
          m + used, sizeof(m) - used, "%s%s", i == 0 ? ": " : ", ",
          json_object_get_string(json_object_array_get_idx(r->closed_ids, i)));

      if (n > 0)
        used += (size_t)n;
    }
    msg = m;
  }
  dsg_action_complete(r->a, status, msg, o != NULL ? dsg_ru_text(o) : NULL);
  json_object_put(o);
}

void dsg_rc_finish_done(rc_run *r) {
  char m[600];

  if (r->fatal_rc != 0) {
    dsg_rc_finish(r, r->fatal_rc, r->fatal);
    return;
  }
  if (r->stop) {
    dsg_rc_finish(r, SAM_ECANCELED, "");
    return;
  }
  if (r->dry)
    snprintf(m, sizeof(m),
             "dry run: would close %ld of %zu candidate(s); %ld skipped, %ld "
             "failed re-checks, %ld beyond the cap of %llu; nothing was "
             "changed",
             r->sent, r->n_items, r->skipped, r->failed, r->attention,
             (unsigned long long)r->cap);
  else
    snprintf(m, sizeof(m),
             "closed %ld of %zu candidate(s); %ld skipped, %ld failed, %ld "
             "to Attention Required%s",
             r->closed, r->n_items, r->skipped, r->failed, r->attention,
             r->capped ? "; reclaim cap reached" : "");
  dsg_rc_finish(r, SAM_OK, m);
}

int dsg_rc_aborted(rc_run *r) {
  if (!r->aborting)
    return 0;
  dsg_rc_finish(r, SAM_ECANCELED, "");
  return 1;
}

static void rc_abort(dsg_job_ref *ref) {
  dsg_action *a = (dsg_action *)ref;
  rc_run *r = a->ext;

  r->stop = 1;
  r->aborting = 1;
  if (r->call != NULL) {
    /* the whoami's call is the same pointer while it is in flight */
    /* its callback never runs: nothing else is in flight */
    dsg_api_cancel(r->call);
    r->call = NULL;
    dsg_rc_finish(r, SAM_ECANCELED, "");
    return;
  }
  if (r->rs.busy) {
    dsg_rs_cancel(&r->rs); /* completes from the store callback */
    return;
  }
  dsg_rc_finish(r, SAM_ECANCELED, "");
}

void dsg_reclaim_cancel(sam_job *job, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_job_ref *ref;

  for (ref = ctx->jobs; ref != NULL; ref = ref->next) {
    if (ref->job == job && ref->abort == rc_abort) {
      rc_run *r = ((dsg_action *)ref)->ext;

      /* Stop at the next checkpoint: a DELETE in flight is never cut. */
      r->stop = 1;
      if (r->pc_cb != NULL && r->call == NULL && !r->rs.busy &&
          r->pc_timer != NULL && uv_is_active((uv_handle_t *)r->pc_timer)) {
        /* Waiting for a rate-limit reset (up to an hour): nothing is in
         * flight, so end now; the batch's intent stays pending and the
         * next run re-reads its users first. */
        dsg_rc_finish(r, SAM_ECANCELED, "");
      }
      return;
    }
  }
}

/* ---- paged loading ---- */

static void on_load(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;
  size_t i;
  int rc;

  if (dsg_rc_aborted(r))
    return;
  if (status != SAM_OK) {
    char m[300];

    snprintf(m, sizeof(m), "reading [%s] failed [%s]", r->ld_type,
             sam_err_name(status));
    dsg_rc_finish(r, status, m);
    return;
  }
  for (i = 0; i < res->n; i++) {
    json_object *o = dsg_json_parse(res->recs[i].json, res->recs[i].json_len);

    if (o != NULL)
      r->ld_sink(r, o, &res->recs[i]);
    json_object_put(o);
  }
  free(r->cursor);
  r->cursor = NULL;
  if (res->next_cursor == NULL) {
    r->ld_then(r);
    return;
  }
  r->cursor = strdup(res->next_cursor);
  rc = r->cursor != NULL
           ? dsg_rs_query(&r->rs, r->ld_scope, r->ld_type, r->ld_filter,
                          r->cursor, PAGE, on_load, r)
           : SAM_ENOMEM;
  if (rc != 0)
    dsg_rc_finish(r, rc, "reading the store failed");
}

static void load(rc_run *r,
                 const char *scope,
                 const char *type,
                 const char *filter,
                 void (*sink)(rc_run *, json_object *, const sam_record *),
                 rc_next_fn then) {
  int rc;

  free(r->ld_scope);
  free(r->ld_type);
  free(r->ld_filter);
  r->ld_scope = strdup(scope);
  r->ld_type = strdup(type);
  r->ld_filter = filter != NULL ? strdup(filter) : NULL;
  r->ld_sink = sink;
  r->ld_then = then;
  rc = r->ld_scope != NULL && r->ld_type != NULL
           ? dsg_rs_query(&r->rs, scope, type, filter, NULL, PAGE, on_load, r)
           : SAM_ENOMEM;
  if (rc != 0) {
    char m[300];

    snprintf(m, sizeof(m), "reading [%s] was rejected [%s]", type,
             sam_err_name(rc));
    dsg_rc_finish(r, rc, m);
  }
}

static void sink_array(rc_run *r, json_object *o, const sam_record *rec) {
  json_object *arr = r->step == 0   ? r->rules
                     : r->step == 1 ? r->id_rules
                     : r->step == 2 ? r->user_rules
                                    : r->intents;

  (void)rec;
  json_object_array_add(arr, json_object_get(o));
}

static void sink_seat(rc_run *r, json_object *o, const sam_record *rec) {
  const char *uid = dsg_ru_str(o, "external_user_id");
  int64_t t;

  (void)rec;
  r->active_seats++;
  /* the assigned date orders the candidates (oldest first) */
  if (uid != NULL && r->assigned != NULL &&
      dsg_date_parse(dsg_ru_str(o, "assigned_at"), &t) == 0)
    json_object_object_add(r->assigned, uid, json_object_new_int64(t));
}

/* The rule of a candidate, as a view borrowed from r->rules, or NULL. */
const dsg_rule_view *
dsg_rc_rule_of(rc_run *r, const char *rule_id, dsg_rule_view *v) {
  size_t i;
  char err[128];

  for (i = 0; rule_id != NULL && i < json_object_array_length(r->rules); i++) {
    json_object *rule = json_object_array_get_idx(r->rules, i);
    const char *id = dsg_ru_str(rule, "rule_id");

    if (id != NULL && strcmp(id, rule_id) == 0 &&
        dsg_rule_view_from_json(rule, v, err, sizeof(err)) == 0)
      return v;
  }
  return NULL;
}

static void sink_cand(rc_run *r, json_object *o, const sam_record *rec) {
  dsg_cand_state st = dsg_cand_state_parse(dsg_ru_str(o, "state"));
  const char *uid = dsg_ru_str(o, "external_user_id");
  const char *rid = dsg_ru_str(o, "rule_id");
  dsg_rule_view v;
  const dsg_rule_view *rule;
  rc_item *it;

  if (uid == NULL || !dsg_ru_bool(o, "open", 0))
    return;
  if (st == DSG_CAND_READY) {
    /* Ready is acted on only when the rule does not notify users. */
    rule = dsg_rc_rule_of(r, rid, &v);
    if (rule != NULL ? rule->notify_user : dsg_ru_bool(o, "notify_user", 1))
      return;
  } else if (st != DSG_CAND_AWAITING_REVOCATION) {
    return;
  }
  if (r->n_items == r->items_cap) {
    size_t ncap = r->items_cap ? r->items_cap * 2 : 64;
    rc_item *n = realloc(r->items, ncap * sizeof(*n));

    if (n == NULL)
      return;
    r->items = n;
    r->items_cap = ncap;
  }
  it = &r->items[r->n_items];
  memset(it, 0, sizeof(*it));
  it->key = strdup(rec->key);
  it->uid = strdup(uid);
  it->upn = dsg_ru_str(o, "user_principal_name") != NULL
                ? strdup(dsg_ru_str(o, "user_principal_name"))
                : NULL;
  it->rule_id = rid != NULL ? strdup(rid) : NULL;
  it->why =
      dsg_ru_str(o, "reason") != NULL ? strdup(dsg_ru_str(o, "reason")) : NULL;
  it->state = st;
  it->verdict = -1;
  if (it->key == NULL || it->uid == NULL) {
    item_clear(it);
    return;
  }
  r->n_items++;
}

/* ---- the start of a run ---- */

/* The assigned date of a candidate's user, INT64_MAX when unknown. */
static int64_t assigned_of(const rc_run *r, const char *uid) {
  json_object *v = NULL;

  if (r->assigned == NULL || !json_object_object_get_ex(r->assigned, uid, &v))
    return INT64_MAX;
  return json_object_get_int64(v);
}

typedef struct {
  int64_t at;
  rc_item it;
} sort_ent;

static int cmp_ent(const void *a, const void *b) {
  const sort_ent *x = a;
  const sort_ent *y = b;
  int c;

  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  c = strcmp(x->it.uid, y->it.uid);
  if (c != 0)
    return c;
  return strcmp(x->it.key, y->it.key);
}

/* Oldest assigned date first (unknown last), then by userId: which users
 * are closed under the cap is predictable (plugin/README.md). */
static void order_items(rc_run *r) {
  sort_ent *e;
  size_t i;

  if (r->n_items < 2)
    return;
  e = malloc(r->n_items * sizeof(*e));
  if (e == NULL)
    return; /* the store's order then */
  for (i = 0; i < r->n_items; i++) {
    e[i].at = assigned_of(r, r->items[i].uid);
    e[i].it = r->items[i];
  }
  qsort(e, r->n_items, sizeof(*e), cmp_ent);
  for (i = 0; i < r->n_items; i++)
    r->items[i] = e[i].it;
  free(e);
}

static void got_cands(rc_run *r) {
  uint64_t cap = dsg_cand_close_cap(r->active_seats, r->cap_pct, 1);
  char m[300];

  if (r->cap_abs >= 0)
    cap = (uint64_t)r->cap_abs;
  r->cap = cap;
  dsg_logf(r->ctx, r->a->job, SAM_LOG_INFO,
           "reclaim%s: %zu candidate(s) to act on [active_seats=%llu] "
           "[cap=%llu]",
           r->dry ? " (dry run)" : "", r->n_items,
           (unsigned long long)r->active_seats, (unsigned long long)cap);
  order_items(r);
  json_object_put(r->assigned);
  r->assigned = NULL;
  snprintf(m, sizeof(m), "%zu candidate(s) to act on, oldest assigned first",
           r->n_items);
  dsg_rc_progress(r, m);
  r->next = 0;
  dsg_rc_select_next(r);
}

static void got_seats(rc_run *r) {
  r->step = 4;
  load(r, r->a->profile_id, "sam_candidate", "{\"/open\":true}", sink_cand,
       got_cands);
}

static void reconciled(rc_run *r) {
  if (r->fatal_rc != 0) {
    dsg_rc_finish(r, r->fatal_rc, r->fatal);
    return;
  }
  json_object_put(r->outcomes);
  r->outcomes = NULL;
  r->batch_id[0] = '\0';
  load(r, r->a->profile_id, "sam_subscription", "{\"/active\":true}", sink_seat,
       got_seats);
}

static void got_intents(rc_run *r) {
  size_t n = json_object_array_length(r->intents);

  if (n > 0 && r->dry) {
    rc_item it;
    char m[200];

    memset(&it, 0, sizeof(it));
    it.uid = "(intents)";
    snprintf(m, sizeof(m),
             "%zu interrupted batch(es) await reconciliation: a real run "
             "re-reads those users from DocuSign before anything else",
             n);
    dsg_rc_report(r, &it, "note", m);
    reconciled(r);
    return;
  }
  dsg_rc_reconcile(r, reconciled);
}

static void got_pending(rc_run *r) {
  load(r, r->a->profile_id, DSG_RT_INTENT, "{\"/state\":\"sent\"}", sink_array,
       got_intents);
}

static void on_whoami(
    int status, const char *sub, const char *rest, const char *msg, void *ud) {
  rc_run *r = ud;

  r->call = NULL;
  if (status != SAM_OK) {
    if (r->in_who) {
      r->who_rc = status;
      snprintf(r->fatal, sizeof(r->fatal), "%.590s", msg);
      return;
    }
    dsg_rc_finish(r, status, msg);
    return;
  }
  r->sub_id = strdup(sub);
  r->rest = strdup(rest);
  if (r->sub_id == NULL || r->rest == NULL) {
    dsg_rc_finish(r, SAM_ENOMEM, "out of memory");
    return;
  }
  r->step = 3;
  load(r, r->a->profile_id, DSG_RT_INTENT, "{\"/state\":\"pending\"}",
       sink_array, got_pending);
}

static void got_user_rules(rc_run *r) {
  char err[256];
  int rc;

  rc = dsg_exclusions_new("docusign_subscription", r->id_rules, r->user_rules,
                          &r->excl, NULL, err, sizeof(err));
  if (rc != 0) {
    dsg_rc_finish(r, rc, err);
    return;
  }
  /* A failure may come back inside the call (no token): on_whoami then
   * leaves it in r->who_rc for us to finish after the call returned. */
  r->in_who = 1;
  rc = dsg_whoami(
      r->ctx,
      &(dsg_token_args){r->a->profile_id, r->a->client_id, r->a->instance},
      r->a->account_id, &r->who, on_whoami, r);
  r->in_who = 0;
  if (rc != 0)
    dsg_rc_finish(r, rc, "userinfo could not start");
  else if (r->who_rc != 0)
    dsg_rc_finish(r, r->who_rc, r->fatal);
  else
    r->call = r->who.call;
}

static void got_id_rules(rc_run *r) {
  r->step = 2;
  load(r, DSG_HOST_SCOPE, "sam_exclusion_user", NULL, sink_array,
       got_user_rules);
}

static void got_rules(rc_run *r) {
  r->step = 1;
  load(r, DSG_HOST_SCOPE, "sam_exclusion_identifier", NULL, sink_array,
       got_id_rules);
}

static int64_t int_param(json_object *o, const char *k, int64_t dflt) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_int))
    return dflt;
  return json_object_get_int64(v);
}

int dsg_reclaim_start(sam_job *job, const sam_job_input *in, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_action *a = NULL;
  json_object *params = NULL;
  rc_run *r;
  char err[512];
  int64_t pct;
  int rc;

  if (ctx->stopping)
    return SAM_EBUSY;
  rc = dsg_action_new(ctx, job, in, &a, err, sizeof(err));
  if (rc != 0)
    return dsg_action_fail_start(ctx, job, rc, err);
  r = calloc(1, sizeof(*r));
  if (r == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return SAM_OK;
  }
  a->ext = r;
  a->free_ext = rc_free;
  a->ref.abort = rc_abort;
  r->a = a;
  r->ctx = ctx;
  r->rs.ctx = ctx;
  r->dry = (in->flags & SAM_JOB_DRY_RUN) != 0;
  r->job_id = strndup(in->job_id != NULL ? in->job_id : "job", 60);
  r->rules = json_object_new_array();
  r->id_rules = json_object_new_array();
  r->user_rules = json_object_new_array();
  r->intents = json_object_new_array();
  r->closed_ids = json_object_new_array();
  r->report = json_object_new_array();
  r->assigned = json_object_new_object();
  r->deadline = in->deadline_ms;
  if (dsg_rc_pace_init(r) != 0 || r->assigned == NULL || r->job_id == NULL ||
      r->rules == NULL || r->id_rules == NULL || r->user_rules == NULL ||
      r->intents == NULL || r->closed_ids == NULL || r->report == NULL) {
    dsg_rc_finish(r, SAM_ENOMEM, "out of memory");
    return SAM_OK;
  }
  if (!dsg_ru_bool(a->profile, "reclaim_enabled", 1)) {
    dsg_rc_finish(r, SAM_OK,
                  "reclaiming is off for this profile (Reclaim subscriptions "
                  "is cleared): no DocuSign user was closed and the "
                  "candidates stay where they are");
    return SAM_OK;
  }
  if (in->params_json != NULL && in->params_len > 0)
    params = dsg_json_parse(in->params_json, in->params_len);
  pct = int_param(a->profile, "reclaim_cap_percent", 5);
  pct = int_param(params, "cap_percent", pct);
  r->cap_pct = pct < 0 ? 0 : pct > 100 ? 100 : (uint32_t)pct;
  r->cap_abs = int_param(params, "cap", -1);
  json_object_put(params);
  r->step = 0;
  load(r, a->profile_id, "sam_reclamation_rule", NULL, sink_array, got_rules);
  return SAM_OK;
}

/* ---- selecting a batch ---- */

/* Why the stored subscription rules the user out now, or NULL. */
static const char *precheck(rc_run *r, json_object *s, char *buf, size_t len) {
  const char *state = dsg_ru_str(s, "state");
  const char *uid = dsg_ru_str(s, "external_user_id");
  char why[400];

  if (state == NULL || strcmp(state, "active") != 0 ||
      !dsg_ru_bool(s, "active", 0)) {
    snprintf(buf, len, "the subscription is no longer active [state=%s]",
             state != NULL ? state : "");
    return buf;
  }
  if (dsg_ru_bool(s, "is_admin", 0)) {
    snprintf(buf, len, "account administrator: never closed");
    return buf;
  }
  if (uid != NULL && r->sub_id != NULL && strcmp(uid, r->sub_id) == 0) {
    snprintf(buf, len, "the integration's own DocuSign user: never closed");
    return buf;
  }
  if (dsg_ru_bool(s, "excluded", 0)) {
    snprintf(buf, len, "excluded (%.300s)",
             dsg_ru_str(s, "exclusion_reason") != NULL
                 ? dsg_ru_str(s, "exclusion_reason")
                 : "no reason recorded");
    return buf;
  }
  /* re-read exclusions: a rule added since the download counts */
  if (dsg_exclusions_match(r->excl, dsg_ru_str(s, "subscription_identifier"),
                           dsg_ru_str(s, "user_principal_name"), why,
                           sizeof(why))) {
    snprintf(buf, len, "%s", why);
    return buf;
  }
  return NULL;
}

void dsg_rc_skip(rc_run *r,
                 rc_item *it,
                 dsg_cand_state to,
                 const char *reason,
                 rc_next_fn then) {
  r->skipped++;
  dsg_rc_report(r, it,
                r->dry
                    ? "would skip"
                    : (to == DSG_CAND_CLOSED_CANCELED ? "canceled" : "skipped"),
                reason);
  dsg_rc_move(r, it, to,
              to == DSG_CAND_CLOSED_CANCELED ? DSG_TRIG_ACTIVITY
                                             : DSG_TRIG_SUBSCRIPTION_GONE,
              reason, then);
}

static void on_sub(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;
  rc_item *it = &r->items[r->next - 1];
  json_object *s = NULL;
  char buf[700];
  const char *why;

  if (dsg_rc_aborted(r))
    return;
  if (status == SAM_OK && res->n == 1)
    s = dsg_json_parse(res->recs[0].json, res->recs[0].json_len);
  else if (status != SAM_OK && status != SAM_ENOENT) {
    char m[300];

    snprintf(m, sizeof(m), "reading the subscription failed [user=%s] [%s]",
             it->uid, sam_err_name(status));
    dsg_rc_finish(r, status, m);
    return;
  }
  if (s == NULL) {
    dsg_rc_skip(r, it, DSG_CAND_CLOSED_SKIPPED,
                "the subscription disappeared before the reclaim",
                dsg_rc_select_next);
    return;
  }
  why = precheck(r, s, buf, sizeof(buf));
  if (why != NULL) {
    json_object_put(s);
    dsg_rc_skip(r, it, DSG_CAND_CLOSED_SKIPPED, why, dsg_rc_select_next);
    return;
  }
  it->sub = s;
  r->batch[r->n_batch++] = r->next - 1;
  dsg_rc_select_next(r);
}

static void overcap(rc_run *r) {
  char reason[160];

  snprintf(reason, sizeof(reason), "reclaim cap reached (%llu of %zu)",
           (unsigned long long)r->cap, r->n_items);
  r->capped = 1;
  /* A dry run moves nothing, so it loops here instead of recursing. */
  while (r->next < r->n_items) {
    rc_item *it = &r->items[r->next++];

    r->attention++;
    dsg_rc_report(r, it, r->dry ? "would skip" : "attention_required", reason);
    if (!r->dry && !r->stop) {
      dsg_rc_move(r, it, DSG_CAND_ATTENTION_REQUIRED, DSG_TRIG_CAP_REACHED,
                  reason, overcap);
      return;
    }
  }
  dsg_rc_finish_done(r);
}

static void after_intent(rc_run *r) {
  if (r->fatal_rc != 0) {
    dsg_rc_finish_done(r);
    return;
  }
  dsg_rc_recheck_batch(r);
}

void dsg_rc_select_next(rc_run *r) {
  json_object *ids;
  size_t i;
  int rc;

  if (r->fatal_rc != 0 || (r->stop && r->n_batch == 0)) {
    dsg_rc_finish_done(r);
    return;
  }
  if (r->n_batch < DSG_RECLAIM_BATCH && r->next < r->n_items &&
      (uint64_t)r->sent + r->n_batch < r->cap && !r->stop) {
    rc_item *it = &r->items[r->next++];

    rc = dsg_rs_get(&r->rs, r->a->profile_id, "sam_subscription", it->uid,
                    on_sub, r);
    if (rc != 0)
      dsg_rc_finish(r, rc, "reading a subscription was rejected");
    return;
  }
  if (r->n_batch == 0) {
    if (r->next < r->n_items)
      overcap(r);
    else
      dsg_rc_finish_done(r);
    return;
  }
  /* The batch is full, the cap is reached or no candidate is left. */
  r->batch_no++;
  snprintf(r->batch_id, sizeof(r->batch_id), "%s-b%u", r->job_id, r->batch_no);
  ids = json_object_new_array();
  for (i = 0; i < r->n_batch; i++)
    json_object_array_add(ids,
                          json_object_new_string(r->items[r->batch[i]].uid));
  json_object_put(r->outcomes);
  r->outcomes = NULL;
  json_object_put(r->send);
  r->send = json_object_new_array();
  json_object_put(r->batch_ids);
  r->batch_ids = ids;
  /* Intent first: written and confirmed before anything is sent. */
  dsg_rc_intent_put(r, r->batch_id, ids, "pending", after_intent);
}
