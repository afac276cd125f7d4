/*
 * dsg_reclaim_int.h: the state of one Reclaim run, shared by the flow
 * (dsg_reclaim.c) and its store and DocuSign steps (dsg_reclaim_ops.c).
 * Everything runs on the loop thread; one store operation or one DocuSign
 * call is in flight at a time.
 */
#ifndef DSG_RECLAIM_INT_H
#define DSG_RECLAIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <uv.h>

#include "dsg_action.h"
#include "dsg_api.h"
#include "dsg_candidates.h"
#include "dsg_exclusions.h"
#include "dsg_reclaim_util.h"

/* DOCUSIGN.md A10: at most 50 users per DELETE. */
#define DSG_RECLAIM_BATCH 50
#define DSG_RECLAIM_ACTOR "reclaim"
#define DSG_RT_INTENT "docusign_reclaim_intent"

typedef struct rc_run rc_run;
typedef void (*rc_next_fn)(rc_run *r);

/* One open candidate the run looks at. */
typedef struct rc_item {
  char *key; /* candidate_id */
  char *uid; /* external_user_id */
  char *upn;
  char *rule_id;
  char *why; /* the candidate's reason ("assigned ..., N days ago") */
  dsg_cand_state state;
  json_object *sub; /* the subscription, while in a batch */
  int verdict;      /* dsg_recheck, or -1 before the re-check */
  char reason[700];
} rc_item;

struct rc_run {
  dsg_action *a;
  dsg_ctx *ctx;
  dsg_rs rs;
  dsg_api_call *call;
  dsg_whoami_req who;
  int in_who;
  int who_rc;
  char *job_id;
  int dry;
  int stop;     /* cancel asked: stop before the next DocuSign write */
  int aborting; /* shutdown: complete as soon as the step in flight ends */
  int step;
  char *cursor;
  char *sub_id; /* the integration's own user (userinfo sub) */
  char *rest;   /* {base_uri}/restapi/v2.1/accounts/{id} */
  json_object *rules;
  json_object *id_rules;
  json_object *user_rules;
  dsg_exclusions *excl;
  json_object *intents; /* pending or sent intents found at start */
  size_t intent_i;
  size_t intent_u;
  json_object *outcomes; /* of the intent being reconciled or sent */
  /* the candidates */
  rc_item *items;
  size_t n_items;
  size_t items_cap;
  size_t next; /* the next item to look at */
  /* the batch */
  size_t batch[DSG_RECLAIM_BATCH];
  size_t n_batch;
  size_t bi;
  char batch_id[64];
  json_object *send;      /* userIds sent in the DELETE */
  json_object *batch_ids; /* userIds of the batch (the intent's user_ids) */
  json_object *reply;
  /* the cap */
  uint64_t active_seats;
  uint64_t cap;
  uint32_t cap_pct;
  int64_t cap_abs; /* -1: none */
  /* counts and report */
  long considered;
  long closed;
  long skipped;
  long failed;
  long attention;
  long sent; /* users sent or counted against the cap */
  json_object *closed_ids;
  json_object *report;
  char fatal[600];
  int fatal_rc;
  /* continuation of a move */
  rc_item *mv_item;
  dsg_cand_state mv_to;
  dsg_cand_trigger mv_trig;
  char mv_reason[1000];
  rc_next_fn mv_then;
  rc_next_fn sc_then;  /* after a success's subscription update */
  int sc_tries;        /* reads of that subscription (a conflict re-reads) */
  rc_next_fn rec_then; /* after the reconciliation */
  rc_next_fn in_then;  /* after an intent write */
  rc_item scratch;     /* the user of an intent being reconciled */
  /* paged loading */
  char *ld_scope;
  char *ld_type;
  char *ld_filter;
  void (*ld_sink)(rc_run *r, json_object *rec, const sam_record *raw);
  rc_next_fn ld_then;
  unsigned batch_no;
  int capped;
  char whole_err[700];
  char pending_code[120];
  char pending_msg[500];
  /* pacing (dsg_reclaim_pace.c): one governor per run, issue 7 */
  struct dsg_gov *gov;
  uv_timer_t *pc_timer; /* closed and freed by dsg_rc_pace_free */
  char *pc_method;      /* the request waiting or in flight */
  char *pc_url;
  char *pc_body;
  dsg_api_cb pc_cb;
  unsigned pc_limits; /* limit errors of this request in a row */
  int pc_warm;       /* a long wait ended: one GET first (dsg_reclaim_pace.c) */
  uint64_t deadline; /* loop time of the host's deadline, 0: none */
  int64_t retry_after_s; /* > 0: ended partial before a reset */
  long limit_errors;     /* limit errors met (the wait was made) */
  long limit_waits;      /* waits announced */
  json_object *assigned; /* userId -> assigned_at (ms), for the order */
  /* continuation of a user GET */
  void (*ug_then)(rc_run *r, int status, json_object *user, const char *msg);
  rc_item *ug_item;
};

/* ---- dsg_reclaim.c ---- */

/* Ends the run: job_complete with the counts and report. */
void dsg_rc_finish(rc_run *r, int status, const char *msg);
/* 1 when the run must end now (shutdown): completes it. */
int dsg_rc_aborted(rc_run *r);
/* Adds one report line {user_id, upn, candidate_id, action, reason}. */
void dsg_rc_report(rc_run *r,
                   const rc_item *it,
                   const char *action,
                   const char *reason);

/* Ends the run with the summary message (or the fatal error, or the
 * cancel). */
void dsg_rc_finish_done(rc_run *r);
/* Selects the next batch (or ends the run). */
void dsg_rc_select_next(rc_run *r);
/* The rule of a candidate as a view borrowed from r->rules, or NULL. */
const dsg_rule_view *
dsg_rc_rule_of(rc_run *r, const char *rule_id, dsg_rule_view *v);
/* Counts, reports and moves a candidate to Closed Skipped or Canceled. */
void dsg_rc_skip(rc_run *r,
                 rc_item *it,
                 dsg_cand_state to,
                 const char *reason,
                 rc_next_fn then);

/* ---- dsg_reclaim_batch.c ---- */

/* Re-checks the batch's users, sends the DELETE, reads the outcomes, writes
 * the intent "reconciled", then selects the next batch. */
void dsg_rc_recheck_batch(rc_run *r);

/* ---- dsg_reclaim_ops.c ---- */

/*
 * Moves item's candidate to `to` by `trig` (a Ready candidate first passes
 * Awaiting Revocation for a reclaim outcome), reading it and writing it
 * back with its version, then runs then(r). A refused or conflicting move
 * is logged and the run goes on. Nothing is written in a dry run.
 */
void dsg_rc_move(rc_run *r,
                 rc_item *it,
                 dsg_cand_state to,
                 dsg_cand_trigger trig,
                 const char *reason,
                 rc_next_fn then);
/*
 * A closed user: candidate Closed Complete, subscription reclaimed with
 * reclaimed_at, an audit line, the id in closed_user_ids; then then(r).
 */
void dsg_rc_success(rc_run *r, rc_item *it, const char *how, rc_next_fn then);
/*
 * GETs users/{uid} (A13: on a failure other than 401 or a rate limit,
 * lists users by e-mail and takes the entry with the same userId). then
 * gets SAM_OK and the user (borrowed), SAM_ENOENT when DocuSign does not
 * know the user, or the failure.
 */
void dsg_rc_get_user(
    rc_run *r,
    rc_item *it,
    void (*then)(rc_run *r, int status, json_object *user, const char *msg));
/* Writes the batch's intent in `state` with r->outcomes (may be NULL). */
void dsg_rc_intent_put(rc_run *r,
                       const char *batch_id,
                       json_object *user_ids,
                       const char *state,
                       rc_next_fn then);
/* Reconciles every pending or sent intent of r->intents, then then(r). */
void dsg_rc_reconcile(rc_run *r, rc_next_fn then);
/* Records one user's outcome in r->outcomes. */
void dsg_rc_outcome(rc_run *r,
                    const char *uid,
                    const char *outcome,
                    const char *code,
                    const char *msg);

/* ---- dsg_reclaim_pace.c ---- */

/*
 * Creates the run's governor and timer. Returns 0 or SAM_ENOMEM.
 * Thread: loop thread.
 */
int dsg_rc_pace_init(rc_run *r);
/*
 * Stops the timer and frees the governor; the timer's memory is freed
 * once libuv closed it. NULL fields are accepted. Thread: loop thread.
 */
void dsg_rc_pace_free(rc_run *r);
/*
 * Sends one DocuSign REST call (method NULL: GET; body may be NULL) paced
 * by the run's governor: it waits for the governor before starting, feeds
 * it the reply's headers, and on a limit error (decided on the errorCode,
 * A20) waits until the reset (Retry-After, X-RateLimit-Reset or 30 s) with
 * a progress line, then sends the same request again. cb(status, resp,
 * msg, retry_after_s, r) runs exactly once, with anything but a limit
 * error; when the wait would pass the job's deadline it gets SAM_EAGAIN,
 * resp NULL and retry_after_s > 0 (also kept in r->retry_after_s): the
 * request was not sent. cb may run inside this call only when no token
 * can be had (as dsg_api_send). The call in flight is r->call.
 * Ownership: method, url and body are copied.
 * Returns: 0, or SAM_ENOMEM (cb will not run).
 */
int dsg_rc_api(rc_run *r,
               const char *method,
               const char *url,
               const char *body,
               dsg_api_cb cb);
/* Reports progress: done = the candidates dealt with, total = all. */
void dsg_rc_progress(rc_run *r, const char *msg);

#endif /* DSG_RECLAIM_INT_H */
