/*
 * dsg_candidates.c: rule evaluation, the candidate state machine, the cap.
 */
#include "dsg_candidates.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsg_dates.h"
#include "sam/sam_plugin.h"

/* ---- rule evaluation ---- */

static json_object *member(json_object *o, const char *key) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, key, &v))
    return NULL;
  return v;
}

static const char *str_of(json_object *o, const char *key) {
  json_object *v = member(o, key);

  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : NULL;
}

static int bool_of(json_object *o, const char *key, int dflt) {
  json_object *v = member(o, key);

  return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v)
                                                   : dflt;
}

static int int_of(json_object *o,
                  const char *key,
                  int64_t lo,
                  int64_t hi,
                  int64_t dflt,
                  uint32_t *out) {
  json_object *v = member(o, key);
  int64_t i;

  if (v == NULL) {
    *out = (uint32_t)dflt;
    return 0;
  }
  if (!json_object_is_type(v, json_type_int))
    return SAM_EINVAL;
  i = json_object_get_int64(v);
  if (i < lo || i > hi)
    return SAM_EINVAL;
  *out = (uint32_t)i;
  return 0;
}

int dsg_rule_view_from_json(json_object *rule,
                            dsg_rule_view *view,
                            char *err,
                            size_t errlen) {
  memset(view, 0, sizeof(*view));
  view->rule_id = str_of(rule, "rule_id");
  if (view->rule_id == NULL || view->rule_id[0] == '\0') {
    snprintf(err, errlen, "reclamation rule without rule_id");
    return SAM_EINVAL;
  }
  if (member(rule, "last_activity_threshold_days") == NULL ||
      int_of(rule, "last_activity_threshold_days", 1, 3650, 60,
             &view->threshold_days) != 0) {
    snprintf(err, errlen,
             "reclamation rule [%s]: last_activity_threshold_days missing or "
             "outside 1..3650",
             view->rule_id);
    return SAM_EINVAL;
  }
  if (int_of(rule, "grace_days", 0, 3650, 0, &view->grace_days) != 0 ||
      int_of(rule, "days_before_auto_reclamation", 0, 365, 0,
             &view->days_before_auto_reclamation) != 0) {
    snprintf(err, errlen,
             "reclamation rule [%s]: grace_days or "
             "days_before_auto_reclamation out of range",
             view->rule_id);
    return SAM_EINVAL;
  }
  view->active = bool_of(rule, "active", 0);
  view->create_candidate = bool_of(rule, "create_candidate", 1);
  view->notify_user = bool_of(rule, "notify_user", 0);
  return 0;
}

static int say(char *reason, size_t len, int verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static int say(char *reason, size_t len, int verdict, const char *fmt, ...) {
  va_list ap;

  if (len > 1001)
    len = 1001; /* sam_candidate.reason maxLength */
  if (reason != NULL && len > 0) {
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
  }
  return verdict;
}

int dsg_cand_evaluate(const dsg_eval_in *in, char *reason, size_t reasonlen) {
  json_object *sub;
  const char *state, *uid, *model, *act_s;
  int64_t assigned, activity, days, grace_age;
  char day[16], act_day[16];
  const dsg_rule_view *r;

  if (reason != NULL && reasonlen > 0)
    reason[0] = '\0';
  if (in == NULL || in->subscription == NULL ||
      !json_object_is_type(in->subscription, json_type_object))
    return SAM_EINVAL;
  sub = in->subscription;
  r = in->rule;
  state = str_of(sub, "state");
  uid = str_of(sub, "external_user_id");
  model = str_of(sub, "software_model");
  if (state == NULL || strcmp(state, "active") != 0 ||
      !bool_of(sub, "active", 0))
    return say(reason, reasonlen, 0,
               "subscription is not active [state=%s]: never a candidate",
               state != NULL ? state : "");
  if (bool_of(sub, "is_admin", 0))
    return say(reason, reasonlen, 0,
               "account administrator: never a candidate");
  /* GUIDs: compared without regard to case, so a differently written sub
   * still protects the integration's user */
  if (uid != NULL && in->integration_user_id != NULL &&
      strcasecmp(uid, in->integration_user_id) == 0)
    return say(reason, reasonlen, 0,
               "the integration's own DocuSign user: never a candidate");
  if (bool_of(sub, "excluded", 0))
    return say(reason, reasonlen, 0, "excluded (%s): never a candidate",
               str_of(sub, "exclusion_reason") != NULL
                   ? str_of(sub, "exclusion_reason")
                   : "no reason recorded");
  if (r == NULL)
    return say(reason, reasonlen, 0, "no reclamation rule for model [%s]",
               model != NULL ? model : "(unrecognized)");
  if (!r->active)
    return say(reason, reasonlen, 0, "rule [%s] is not active", r->rule_id);
  if (!r->create_candidate)
    return say(reason, reasonlen, 0, "rule [%s] creates no candidates",
               r->rule_id);
  if (in->has_open_candidate)
    return say(reason, reasonlen, 0, "already has an open candidate");
  if (dsg_date_parse(str_of(sub, "assigned_at"), &assigned) != 0)
    return say(reason, reasonlen, 0,
               "assigned date unknown: not a candidate on that basis");
  dsg_date_format_day(assigned, day, sizeof(day));
  if (in->last_skipped_at != DSG_TIME_UNKNOWN &&
      dsg_days_between(in->last_skipped_at, in->now) <
          (int64_t)r->threshold_days) {
    char sk[16];

    dsg_date_format_day(in->last_skipped_at, sk, sizeof(sk));
    return say(reason, reasonlen, 0,
               "kept on approval %s, %lld days ago, threshold %u", sk,
               (long long)dsg_days_between(in->last_skipped_at, in->now),
               r->threshold_days);
  }
  grace_age = dsg_days_between(assigned, in->now);
  act_s = str_of(sub, "last_activity_at");
  if (act_s != NULL && dsg_date_parse(act_s, &activity) == 0) {
    /* Activity extension (SAM-MODEL.md 13 item 2): threshold on the last
     * activity, grace on the assigned date. */
    dsg_date_format_day(activity, act_day, sizeof(act_day));
    days = dsg_days_between(activity, in->now);
    if (days < (int64_t)r->threshold_days)
      return say(reason, reasonlen, 0,
                 "last activity %s, %lld days ago, threshold %u: not yet",
                 act_day, (long long)days, r->threshold_days);
    if (grace_age < (int64_t)r->grace_days)
      return say(reason, reasonlen, 0,
                 "assigned %s, %lld days ago, within the %u-day grace for new "
                 "users",
                 day, (long long)grace_age, r->grace_days);
    return say(reason, reasonlen, 1,
               "last activity %s, %lld days ago, threshold %u; assigned %s",
               act_day, (long long)days, r->threshold_days, day);
  }
  if (grace_age < (int64_t)r->threshold_days)
    return say(reason, reasonlen, 0,
               "assigned %s, %lld days ago, threshold %u: not yet", day,
               (long long)grace_age, r->threshold_days);
  if (grace_age < (int64_t)r->grace_days)
    return say(reason, reasonlen, 0,
               "assigned %s, %lld days ago, within the %u-day grace for new "
               "users",
               day, (long long)grace_age, r->grace_days);
  return say(reason, reasonlen, 1, "assigned %s, %lld days ago, threshold %u",
             day, (long long)grace_age, r->threshold_days);
}

/* ---- states ---- */

static const char *const state_names[] = {NULL,
                                          "attention_required",
                                          "ready",
                                          "awaiting_user",
                                          "awaiting_approval",
                                          "awaiting_revocation",
                                          "closed_complete",
                                          "closed_skipped",
                                          "closed_canceled"};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *dsg_cand_state_name(dsg_cand_state s) {
  return (unsigned)s < N_STATES ? state_names[s] : NULL;
}

dsg_cand_state dsg_cand_state_parse(const char *name) {
  size_t i;

  for (i = 1; name != NULL && i < N_STATES; i++)
    if (strcmp(name, state_names[i]) == 0)
      return (dsg_cand_state)i;
  return DSG_CAND_NONE;
}

const char *dsg_cand_trigger_name(dsg_cand_trigger t) {
  switch (t) {
  case DSG_TRIG_RULE_MATCH:
    return "rule_match";
  case DSG_TRIG_RESOLVED:
    return "resolved";
  case DSG_TRIG_RECLAIM:
    return "reclaim";
  case DSG_TRIG_USER_REMOVE:
    return "user_remove";
  case DSG_TRIG_USER_NO_ANSWER:
    return "user_no_answer";
  case DSG_TRIG_USER_KEEP:
    return "user_keep";
  case DSG_TRIG_APPROVER_KEEP:
    return "approver_keep";
  case DSG_TRIG_APPROVER_REJECT:
    return "approver_reject";
  case DSG_TRIG_RECLAIM_SUCCESS:
    return "reclaim_success";
  case DSG_TRIG_RECLAIM_FAILURE:
    return "reclaim_failure";
  case DSG_TRIG_CAP_REACHED:
    return "cap_reached";
  case DSG_TRIG_SUBSCRIPTION_GONE:
    return "subscription_gone";
  case DSG_TRIG_MANUAL_SKIP:
    return "manual_skip";
  case DSG_TRIG_PROFILE_DELETED:
    return "profile_deleted";
  case DSG_TRIG_ACTIVITY:
    return "activity_detected";
  }
  return "unknown";
}

int dsg_cand_is_open(dsg_cand_state s) {
  return s >= DSG_CAND_ATTENTION_REQUIRED && s <= DSG_CAND_AWAITING_REVOCATION;
}

typedef struct edge {
  dsg_cand_state from, to;
  dsg_cand_trigger trig;
} edge;

/* SAM-MODEL.md 10, row by row. "Any open state" rows are handled in code. */
static const edge edges[] = {
    {DSG_CAND_NONE, DSG_CAND_READY, DSG_TRIG_RULE_MATCH},
    {DSG_CAND_NONE, DSG_CAND_ATTENTION_REQUIRED, DSG_TRIG_RULE_MATCH},
    {DSG_CAND_ATTENTION_REQUIRED, DSG_CAND_READY, DSG_TRIG_RESOLVED},
    {DSG_CAND_READY, DSG_CAND_AWAITING_USER, DSG_TRIG_RECLAIM},
    {DSG_CAND_READY, DSG_CAND_AWAITING_REVOCATION, DSG_TRIG_RECLAIM},
    {DSG_CAND_AWAITING_USER, DSG_CAND_AWAITING_REVOCATION,
     DSG_TRIG_USER_REMOVE},
    {DSG_CAND_AWAITING_USER, DSG_CAND_AWAITING_REVOCATION,
     DSG_TRIG_USER_NO_ANSWER},
    {DSG_CAND_AWAITING_USER, DSG_CAND_AWAITING_APPROVAL, DSG_TRIG_USER_KEEP},
    {DSG_CAND_AWAITING_APPROVAL, DSG_CAND_CLOSED_SKIPPED,
     DSG_TRIG_APPROVER_KEEP},
    {DSG_CAND_AWAITING_APPROVAL, DSG_CAND_AWAITING_REVOCATION,
     DSG_TRIG_APPROVER_REJECT},
    {DSG_CAND_AWAITING_REVOCATION, DSG_CAND_CLOSED_COMPLETE,
     DSG_TRIG_RECLAIM_SUCCESS},
    {DSG_CAND_AWAITING_REVOCATION, DSG_CAND_ATTENTION_REQUIRED,
     DSG_TRIG_RECLAIM_FAILURE},
    /* issue 7 item 3: a run that would pass the cap stops with Attention
     * Required on the candidates it did not close */
    {DSG_CAND_READY, DSG_CAND_ATTENTION_REQUIRED, DSG_TRIG_CAP_REACHED},
    {DSG_CAND_AWAITING_REVOCATION, DSG_CAND_ATTENTION_REQUIRED,
     DSG_TRIG_CAP_REACHED},
};

int dsg_cand_allowed(dsg_cand_state from,
                     dsg_cand_state to,
                     dsg_cand_trigger trigger) {
  size_t i;

  if (dsg_cand_is_open(from)) {
    if (to == DSG_CAND_CLOSED_SKIPPED &&
        (trigger == DSG_TRIG_SUBSCRIPTION_GONE ||
         trigger == DSG_TRIG_MANUAL_SKIP ||
         trigger == DSG_TRIG_PROFILE_DELETED))
      return 1;
    if (to == DSG_CAND_CLOSED_CANCELED && trigger == DSG_TRIG_ACTIVITY)
      return 1;
  }
  for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
    if (edges[i].from == from && edges[i].to == to && edges[i].trig == trigger)
      return 1;
  return 0;
}

dsg_cand_state dsg_cand_reclaim_target(int notify_user, uint32_t days) {
  return notify_user && days > 0 ? DSG_CAND_AWAITING_USER
                                 : DSG_CAND_AWAITING_REVOCATION;
}

dsg_cand_state dsg_cand_initial_state(int notify_user, int user_resolved) {
  return notify_user && !user_resolved ? DSG_CAND_ATTENTION_REQUIRED
                                       : DSG_CAND_READY;
}

/* ---- records ---- */

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

static int put(json_object *o, const char *key, json_object *v) {
  if (json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return SAM_ENOMEM;
  }
  return 0;
}

static int
put_str(json_object *o, const char *key, const char *s, size_t max_chars) {
  json_object *v;

  if (s == NULL)
    return put(o, key, NULL);
  v = json_object_new_string_len(s, (int)utf8_prefix(s, max_chars));
  return v == NULL ? SAM_ENOMEM : put(o, key, v);
}

static int put_time(json_object *o, const char *key, int64_t t) {
  char buf[DSG_DATE_BUF];

  if (dsg_date_format(t, buf, sizeof(buf)) != 0)
    return SAM_EINVAL;
  return put_str(o, key, buf, sizeof(buf));
}

int dsg_cand_history_entry(dsg_cand_state from,
                           dsg_cand_state to,
                           int64_t at,
                           const char *actor,
                           const char *reason,
                           json_object **out) {
  json_object *e = NULL;
  int rc = SAM_EINVAL;

  *out = NULL;
  if (dsg_cand_state_name(to) == NULL)
    goto fail;
  rc = SAM_ENOMEM;
  e = json_object_new_object();
  if (e == NULL)
    goto fail;
  rc = put_time(e, "at", at);
  if (rc != 0)
    goto fail;
  rc = SAM_ENOMEM;
  if (put_str(e, "from", dsg_cand_state_name(from), 64) != 0 ||
      put_str(e, "to", dsg_cand_state_name(to), 64) != 0 ||
      put_str(e, "actor", actor != NULL ? actor : "system", 100) != 0 ||
      put_str(e, "reason", reason != NULL ? reason : "", 1000) != 0)
    goto fail;
  *out = e;
  return 0;

fail:
  json_object_put(e);
  return rc;
}

int dsg_cand_new(const char *candidate_id,
                 json_object *subscription,
                 const dsg_rule_view *rule,
                 int user_resolved,
                 int64_t now,
                 const char *actor,
                 const char *reason,
                 json_object **out,
                 char *err,
                 size_t errlen) {
  json_object *c = NULL, *hist = NULL, *entry = NULL;
  const char *uid = str_of(subscription, "external_user_id");
  dsg_cand_state st;
  int rc = SAM_EINVAL;

  *out = NULL;
  if (candidate_id == NULL || *candidate_id == '\0' || rule == NULL ||
      rule->rule_id == NULL || uid == NULL || *uid == '\0') {
    snprintf(err, errlen,
             "candidate needs a candidate_id, a rule and a subscription with "
             "external_user_id [%s]",
             uid != NULL ? uid : "");
    return SAM_EINVAL;
  }
  st = dsg_cand_initial_state(rule->notify_user, user_resolved);
  rc = dsg_cand_history_entry(DSG_CAND_NONE, st, now, actor, reason, &entry);
  if (rc != 0)
    goto fail;
  rc = SAM_ENOMEM;
  c = json_object_new_object();
  hist = json_object_new_array();
  if (c == NULL || hist == NULL)
    goto fail;
  if (json_object_array_add(hist, entry) != 0)
    goto fail;
  entry = NULL;
  if (put_str(c, "candidate_id", candidate_id, 64) != 0 ||
      put_str(c, "external_user_id", uid, 200) != 0)
    goto fail;
  if (str_of(subscription, "user_principal_name") != NULL &&
      put_str(c, "user_principal_name",
              str_of(subscription, "user_principal_name"), 320) != 0)
    goto fail;
  if (str_of(subscription, "subscription_identifier") != NULL &&
      put_str(c, "subscription_identifier",
              str_of(subscription, "subscription_identifier"), 200) != 0)
    goto fail;
  if (put_str(c, "software_model", str_of(subscription, "software_model"),
              200) != 0 ||
      put_str(c, "rule_id", rule->rule_id, 64) != 0 ||
      put_str(c, "state", dsg_cand_state_name(st), 64) != 0 ||
      put(c, "open", json_object_new_boolean(1)) != 0 ||
      put_str(c, "justification", "Low Usage", 100) != 0 ||
      put_str(c, "reason", reason != NULL ? reason : "", 1000) != 0 ||
      put(c, "notify_user", json_object_new_boolean(rule->notify_user)) != 0 ||
      put_time(c, "opened_at", now) != 0 || put(c, "closed_at", NULL) != 0 ||

      put(c, "history", hist) != 0) {
    hist = NULL; /* put() freed it on failure */
    goto fail;
  }
  *out = c;
  return 0;

fail:
  if (rc == SAM_ENOMEM)
    snprintf(err, errlen, "candidate: out of memory");
  json_object_put(entry);
  json_object_put(hist);
  json_object_put(c);
  return rc;
}

int dsg_cand_set_savings(json_object *candidate,
                         const dsg_cand_savings *savings) {
  int known = savings != NULL && savings->amount >= 0;
  json_object *v = NULL;

  if (candidate == NULL || !json_object_is_type(candidate, json_type_object))
    return SAM_EINVAL;
  if (known) {
    v = json_object_new_double(savings->amount);
    if (v == NULL)
      return SAM_ENOMEM;
  }
  if (put(candidate, "potential_savings", v) != 0 ||
      put_str(candidate, "currency", known ? savings->currency : NULL, 3) != 0)
    return SAM_ENOMEM;
  return 0;
}

int dsg_cand_apply(json_object *candidate,
                   dsg_cand_state to,
                   dsg_cand_trigger trigger,
                   int64_t at,
                   const char *actor,
                   const char *reason,
                   char *err,
                   size_t errlen) {
  json_object *hist = member(candidate, "history"), *entry = NULL;
  dsg_cand_state from = dsg_cand_state_parse(str_of(candidate, "state"));
  int rc;

  if (from == DSG_CAND_NONE || !json_object_is_type(hist, json_type_array)) {
    snprintf(err, errlen, "candidate has no known state or no history [%s]",
             str_of(candidate, "state") != NULL ? str_of(candidate, "state")
                                                : "");
    return SAM_EINVAL;
  }
  if (!dsg_cand_allowed(from, to, trigger)) {
    snprintf(err, errlen,
             "candidate transition refused [from=%s] [to=%s] [trigger=%s]",
             dsg_cand_state_name(from),
             dsg_cand_state_name(to) != NULL ? dsg_cand_state_name(to) : "",
             dsg_cand_trigger_name(trigger));
    return SAM_ECONFLICT;
  }
  /* Build everything that can fail before touching the record. */
  rc = dsg_cand_history_entry(from, to, at, actor, reason, &entry);
  if (rc != 0) {
    snprintf(err, errlen, "candidate history entry failed [%s]",
             sam_err_name(rc));
    return rc;
  }
  if (json_object_array_add(hist, entry) != 0) {
    json_object_put(entry);
    snprintf(err, errlen, "candidate: out of memory");
    return SAM_ENOMEM;
  }
  if (put_str(candidate, "state", dsg_cand_state_name(to), 64) != 0 ||
      put(candidate, "open", json_object_new_boolean(dsg_cand_is_open(to))) !=
          0 ||
      (!dsg_cand_is_open(to) && put_time(candidate, "closed_at", at) != 0) ||
      (trigger == DSG_TRIG_RECLAIM_FAILURE &&
       put_str(candidate, "error_message", reason != NULL ? reason : "",
               2000) != 0) ||
      (trigger == DSG_TRIG_RESOLVED &&
       put(candidate, "error_message", NULL) != 0)) {
    snprintf(err, errlen, "candidate: out of memory");
    return SAM_ENOMEM;
  }
  return 0;
}

uint64_t
dsg_cand_close_cap(uint64_t active_seats, uint32_t pct, uint64_t min_closes) {
  uint64_t cap;

  if (pct > 100)
    pct = 100;
  cap = active_seats / 100 * pct + active_seats % 100 * pct / 100;
  return cap > min_closes ? cap : min_closes;
}
