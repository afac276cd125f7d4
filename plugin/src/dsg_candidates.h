/*
 * dsg_candidates.h: reclamation rule evaluation (SAM-MODEL.md 9, 13 items 2
 * and 8; issue 7 items 2 and 3), the removal-candidate state machine of
 * SAM-MODEL.md 10 as a transition function, its history entries, and the
 * per-run close cap. Pure: the caller passes today's time.
 *
 * Time-zone rule: "days ago" counts whole UTC calendar days
 * (dsg_days_between): the UTC date of now minus the UTC date of the
 * assigned instant. An assigned date written with an offset counts by its
 * UTC date. A subscription qualifies when that count >= the threshold, so
 * exactly N days qualifies and N-1 does not, whatever the hour.
 */
#ifndef DSG_CANDIDATES_H
#define DSG_CANDIDATES_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The rule fields evaluation needs (schemas/sam-reclamation-rule). */
typedef struct dsg_rule_view {
  const char *rule_id; /* borrowed */
  int active;
  int create_candidate; /* default 1 */
  int notify_user;
  uint32_t threshold_days; /* last_activity_threshold_days, default 60 */
  uint32_t grace_days;     /* new-user grace, default 0 */
  uint32_t days_before_auto_reclamation;
} dsg_rule_view;

/*
 * Reads a sam_reclamation_rule record into view (strings borrowed from
 * rule, which must outlive view).
 *
 * Thread:    any; pure.
 * Returns:   0, or SAM_EINVAL when rule_id or the threshold is missing or
 *            out of range (err names the field).
 */
int dsg_rule_view_from_json(json_object *rule,
                            dsg_rule_view *view,
                            char *err,
                            size_t errlen);

typedef struct dsg_eval_in {
  json_object *subscription;       /* a sam_subscription record, borrowed */
  const dsg_rule_view *rule;       /* the rule for its model; NULL: none */
  const char *integration_user_id; /* userinfo sub (A24); may be NULL */
  int64_t now;                     /* Unix seconds */
  int has_open_candidate;          /* at most one open candidate */
  /* when the subscription's last candidate closed Skipped (kept on
   * approval), else DSG_TIME_UNKNOWN: it is not flagged again until another
   * threshold period has passed (SAM-MODEL.md 9) */
  int64_t last_skipped_at;
} dsg_eval_in;

/*
 * Decides whether the subscription qualifies as a removal candidate. In
 * order, it never qualifies when: the record is not state "active" and
 * active; it is an account administrator (is_admin); its external_user_id
 * is the integration's own user; it is excluded; no rule or the rule is
 * inactive or creates no candidates; it already has an open candidate; it
 * was kept on approval less than a threshold ago; its assigned date is
 * unknown (a null or unparseable assigned_at never qualifies by itself);
 * the assigned date is less than threshold days ago; or less than grace
 * days ago. When last_activity_at is set (activity extension) the
 * threshold applies to it instead and the grace to the assigned date.
 *
 * reason (reasonlen bytes, at most 1000 used) always receives text a
 * person can read, e.g. "assigned 2026-07-02, 149 days ago, threshold 60"
 * when it qualifies, or "account administrator: never a candidate".
 *
 * Thread:    any; pure.
 * Returns:   1 when it qualifies, 0 when not, SAM_EINVAL for a NULL
 *            argument or a subscription that is not an object.
 */
int dsg_cand_evaluate(const dsg_eval_in *in, char *reason, size_t reasonlen);

/* States (the schema's names, SAM-MODEL.md 10). DSG_CAND_NONE is "(new)". */
typedef enum dsg_cand_state {
  DSG_CAND_NONE = 0,
  DSG_CAND_ATTENTION_REQUIRED,
  DSG_CAND_READY,
  DSG_CAND_AWAITING_USER,
  DSG_CAND_AWAITING_APPROVAL,
  DSG_CAND_AWAITING_REVOCATION,
  DSG_CAND_CLOSED_COMPLETE,
  DSG_CAND_CLOSED_SKIPPED,
  DSG_CAND_CLOSED_CANCELED
} dsg_cand_state;

/* What moves a candidate (SAM-MODEL.md 10's trigger column). */
typedef enum dsg_cand_trigger {
  DSG_TRIG_RULE_MATCH = 1,    /* (new) -> Ready / Attention Required */
  DSG_TRIG_RESOLVED,          /* Attention -> Ready: user resolved, fixed */
  DSG_TRIG_RECLAIM,           /* Ready -> Awaiting User / Revocation */
  DSG_TRIG_USER_REMOVE,       /* Awaiting User -> Awaiting Revocation */
  DSG_TRIG_USER_NO_ANSWER,    /* Awaiting User -> Awaiting Revocation */
  DSG_TRIG_USER_KEEP,         /* Awaiting User -> Awaiting Approval */
  DSG_TRIG_APPROVER_KEEP,     /* Awaiting Approval -> Closed Skipped */
  DSG_TRIG_APPROVER_REJECT,   /* Awaiting Approval -> Awaiting Revocation */
  DSG_TRIG_RECLAIM_SUCCESS,   /* Awaiting Revocation -> Closed Complete */
  DSG_TRIG_RECLAIM_FAILURE,   /* Awaiting Revocation -> Attention Required */
  DSG_TRIG_CAP_REACHED,       /* Ready / Awaiting Revocation -> Attention */
  DSG_TRIG_SUBSCRIPTION_GONE, /* any open -> Closed Skipped (disappeared,
                                 became excluded, admin or protected) */
  DSG_TRIG_MANUAL_SKIP,       /* any open -> Closed Skipped (by hand) */
  DSG_TRIG_PROFILE_DELETED,   /* any open -> Closed Skipped */
  DSG_TRIG_ACTIVITY           /* any open -> Closed Canceled (extension) */
} dsg_cand_trigger;

/*
 * The state's schema name ("awaiting_revocation"), or NULL for
 * DSG_CAND_NONE or an unknown value. Static text.
 */
const char *dsg_cand_state_name(dsg_cand_state s);

/*
 * Parses a schema state name. Returns DSG_CAND_NONE for NULL or unknown.
 */
dsg_cand_state dsg_cand_state_parse(const char *name);

/*
 * Static name of a trigger ("reclaim_success"), for history reasons.
 */
const char *dsg_cand_trigger_name(dsg_cand_trigger t);

/*
 * Whether the state is open (not one of the Closed states).
 */
int dsg_cand_is_open(dsg_cand_state s);

/*
 * Whether `trigger` may move a candidate from `from` to `to`
 * (SAM-MODEL.md 10's table; issue 7 adds the cap to Attention Required).
 * Returns 1 when allowed, 0 when refused.
 */
int dsg_cand_allowed(dsg_cand_state from,
                     dsg_cand_state to,
                     dsg_cand_trigger trigger);

/*
 * The state a Reclaim moves a Ready candidate to: Awaiting User when the
 * rule notifies users and gives them days > 0, else Awaiting Revocation.
 */
dsg_cand_state dsg_cand_reclaim_target(int notify_user, uint32_t days);

/*
 * The state a new candidate opens in: Attention Required when the rule
 * notifies users and no host user is resolved, else Ready.
 */
dsg_cand_state dsg_cand_initial_state(int notify_user, int user_resolved);

/*
 * Builds one history entry {"at","from","to","actor","reason"} (from is
 * null for a new candidate). actor and reason are cut to the schema's
 * 100 and 1000 characters (at a UTF-8 boundary).
 *
 * Thread:    any; pure.
 * Ownership: strings borrowed; *out is a new object the caller puts.
 * Returns:   0, SAM_EINVAL (to is NONE, at unknown), or SAM_ENOMEM.
 */
int dsg_cand_history_entry(dsg_cand_state from,
                           dsg_cand_state to,
                           int64_t at,
                           const char *actor,
                           const char *reason,
                           json_object **out);

/* Potential savings of one reclaim, when the admin's entitlement for the
 * model has a unit cost (SAM-MODEL.md 11); NULL or amount < 0 = unknown. */
typedef struct dsg_cand_savings {
  double amount;        /* unit cost of one seat, >= 0 */
  const char *currency; /* ISO 4217, at most 3 characters; may be NULL */
} dsg_cand_savings;

/*
 * Creates a candidate record (schemas/sam-candidate) for a subscription
 * that qualified: candidate_id as given, external_user_id, UPN, identifier
 * and model from the subscription, rule_id, state from
 * dsg_cand_initial_state, open, justification "Low Usage", reason,
 * notify_user, opened_at = now, and a first history entry. Savings are
 * added with dsg_cand_set_savings.
 *
 * Thread:    any; pure.
 * Ownership: all borrowed; *out is a new object the caller puts.
 * Returns:   0, SAM_EINVAL (a missing argument or field; err says which),
 *            or SAM_ENOMEM.
 */
int dsg_cand_new(const char *candidate_id,
                 json_object *subscription,
                 const dsg_rule_view *rule,
                 int user_resolved,
                 int64_t now,
                 const char *actor,
                 const char *reason,
                 json_object **out,
                 char *err,
                 size_t errlen);

/*
 * Sets potential_savings and currency on a candidate record: the amount
 * and currency when savings is non-NULL with amount >= 0, else both null.
 *
 * Thread:    any; pure.
 * Ownership: candidate modified in place; savings borrowed.
 * Returns:   0, SAM_EINVAL (candidate not an object), or SAM_ENOMEM.
 */
int dsg_cand_set_savings(json_object *candidate,
                         const dsg_cand_savings *savings);

/*
 * Moves a candidate record to `to` when dsg_cand_allowed says so: sets
 * state and open, closed_at (= at) for a Closed state, error_message for
 * DSG_TRIG_RECLAIM_FAILURE (= reason; cleared by DSG_TRIG_RESOLVED), and
 * appends a history entry.
 *
 * Thread:    any; pure.
 * Ownership: candidate is modified in place (borrowed).
 * Returns:   0; SAM_ECONFLICT when the transition is refused (err names
 *            from, to and trigger; the record is unchanged); SAM_EINVAL
 *            for a record without a known state or history array;
 *            SAM_ENOMEM.
 */
int dsg_cand_apply(json_object *candidate,
                   dsg_cand_state to,
                   dsg_cand_trigger trigger,
                   int64_t at,
                   const char *actor,
                   const char *reason,
                   char *err,
                   size_t errlen);

/*
 * The most users one reclaim run may close: max(min_closes,
 * floor(active_seats * pct / 100)), with the defaults pct 5 and
 * min_closes 1 (issue 7 item 3). pct is capped at 100.
 */
uint64_t
dsg_cand_close_cap(uint64_t active_seats, uint32_t pct, uint64_t min_closes);

#endif /* DSG_CANDIDATES_H */
