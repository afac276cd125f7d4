/*
 * dsg_reclaim_batch.c: one batch of the Reclaim process (dsg_reclaim.c
 * selects it): the GET re-check of each user, the DELETE users request
 * (A10, A11), each user's outcome from the reply or a follow-up GET (A9,
 * A10), and the intent's last write. See dsg_reclaim_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_governor.h"
#include "dsg_log.h"
#include "dsg_reclaim_check.h"
#include "dsg_reclaim_int.h"

static void recheck_next(rc_run *r);
static void outcome_next(rc_run *r);
static void batch_done(rc_run *r);

/* ---- the re-check ---- */

static void recheck_step(rc_run *r) {
  r->bi++;
  recheck_next(r);
}

static void
on_recheck(rc_run *r, int status, json_object *user, const char *msg) {
  rc_item *it = &r->items[r->batch[r->bi]];
  dsg_rule_view v;
  char reason[700];

  if (status == SAM_ENOENT) {
    snprintf(reason, sizeof(reason),
             "re-check: the user no longer exists in DocuSign (%.300s)", msg);
    dsg_rc_skip(r, it, DSG_CAND_CLOSED_SKIPPED, reason, recheck_step);
    return;
  }
  if (status == SAM_EAGAIN) {
    /* A rate limit whose reset comes after the deadline: the user was not
     * re-checked, nothing is sent; the candidate stays for the next run. */
    r->fatal_rc = status;
    snprintf(r->fatal, sizeof(r->fatal), "%.590s", msg);
    recheck_step(r);
    return;
  }
  if (status != SAM_OK) {
    /* Not safe to close without a re-check: the candidate stays. */
    snprintf(reason, sizeof(reason), "re-check failed, not closed: %.500s",
             msg);
    r->failed++;
    dsg_rc_report(r, it, "failed", reason);
    if (status == SAM_EAUTH) {
      /* every next call would fail the same way: end after this batch */
      r->fatal_rc = status;
      snprintf(r->fatal, sizeof(r->fatal), "%.590s", reason);
    }
    recheck_step(r);
    return;
  }
  it->verdict = (int)dsg_reclaim_recheck(
      user, it->sub, dsg_rc_rule_of(r, it->rule_id, &v), r->sub_id, r->excl,
      dsg_ru_now(), reason, sizeof(reason));
  switch (it->verdict) {
  case DSG_RECHECK_CLOSE:
    r->sent++;
    json_object_array_add(r->send, json_object_new_string(it->uid));
    if (r->dry) {
      char m[900];

      snprintf(m, sizeof(m), "%.300s; %.300s; rule [%s]",
               it->why != NULL ? it->why : "candidate", reason,
               it->rule_id != NULL ? it->rule_id : "");
      dsg_rc_report(r, it, "would close", m);
    }
    recheck_step(r);
    return;
  case DSG_RECHECK_ALREADY_CLOSED:
    dsg_rc_outcome(r, it->uid, "closed", NULL, reason);
    dsg_rc_success(r, it, reason, recheck_step);
    return;
  case DSG_RECHECK_CANCEL:
    dsg_rc_skip(r, it, DSG_CAND_CLOSED_CANCELED, reason, recheck_step);
    return;
  default:
    dsg_rc_skip(r, it, DSG_CAND_CLOSED_SKIPPED, reason, recheck_step);
  }
}

static void on_delete(int status,
                      const dsg_http_resp *resp,
                      const char *msg,
                      int64_t retry_after_s,
                      void *ud);

static void after_sent(rc_run *r) {
  r->bi = 0;
  outcome_next(r);
}

static void recheck_next(rc_run *r) {
  json_object *body, *users;
  char url[1200];
  size_t i;
  int rc;

  if (r->bi < r->n_batch && !r->stop && r->fatal_rc == 0) {
    dsg_rc_get_user(r, &r->items[r->batch[r->bi]], on_recheck);
    return;
  }
  if (r->dry || r->stop || r->fatal_rc != 0 ||
      json_object_array_length(r->send) == 0) {
    /* nothing sent: the intent is settled as it is */
    if (r->stop && !r->dry)
      dsg_logf(r->ctx, r->a->job, SAM_LOG_INFO,
               "reclaim cancelled before sending batch [batch=%s]",
               r->batch_id);
    batch_done(r);
    return;
  }
  body = json_object_new_object();
  users = json_object_new_array();
  for (i = 0; i < json_object_array_length(r->send); i++) {
    json_object *u = json_object_new_object();

    json_object_object_add(
        u, "userId", json_object_get(json_object_array_get_idx(r->send, i)));
    json_object_array_add(users, u);
  }
  json_object_object_add(body, "users", users);
  /* A11: no delete= query, so a reopen keeps groups and profile. */
  snprintf(url, sizeof(url), "%s/users", r->rest);
  rc = dsg_rc_api(r, "DELETE", url, dsg_ru_text(body), on_delete);
  json_object_put(body);
  if (rc != 0) {
    r->fatal_rc = rc;
    snprintf(r->fatal, sizeof(r->fatal),
             "the close request could not start [%s]", sam_err_name(rc));
    batch_done(r);
  }
}

/* ---- the outcome ---- */

/* 1 when DocuSign refused the request for a rate limit (A20: the code
 * decides, not the status). */
static int is_limit(const dsg_http_resp *resp) {
  json_object *o = dsg_json_parse(resp->body, resp->body_len);
  dsg_gov_class c =
      dsg_gov_classify(resp->status == SAM_OK ? (int)resp->http_status : 0,
                       dsg_ru_str(o, "errorCode"));

  json_object_put(o);
  return c == DSG_GOV_LIMIT_HOURLY || c == DSG_GOV_LIMIT_BURST;
}

static void on_delete(int status,
                      const dsg_http_resp *resp,
                      const char *msg,
                      int64_t retry_after_s,
                      void *ud) {
  rc_run *r = ud;

  (void)retry_after_s;
  r->call = NULL;
  if (dsg_rc_aborted(r))
    return;
  if (status == SAM_EAGAIN && (resp == NULL || is_limit(resp))) {
    /* A20: a limit error is a refusal, the outcome is known: nothing was
     * closed. The pacing waited and resent while the deadline allowed; now
     * the run ends partial and the intent stays "pending": the next run
     * re-reads these users and selects them again. */
    r->fatal_rc = SAM_EAGAIN;
    snprintf(r->fatal, sizeof(r->fatal),
             "the close request was not sent (%.400s); nobody in batch [%s] "
             "was closed, the next reclaim run takes them up again",
             msg, r->batch_id);
    dsg_rc_finish_done(r);
    return;
  }
  if (status == SAM_OK) {
    r->reply = dsg_json_parse(resp->body, resp->body_len);
    r->whole_err[0] = '\0';
    dsg_rc_intent_put(r, r->batch_id, r->batch_ids, "sent", after_sent);
    return;
  }
  if (resp != NULL && resp->status == SAM_OK && resp->http_status >= 400 &&
      resp->http_status < 500 && resp->http_status != 408 &&
      resp->http_status != 429) {
    /* A10: a request refused as a whole closed nobody. */
    snprintf(r->whole_err, sizeof(r->whole_err), "%s", msg);
    if (status == SAM_EAUTH || status == SAM_EAGAIN) {
      r->fatal_rc = status;
      snprintf(r->fatal, sizeof(r->fatal), "%.590s", msg);
    }
    after_sent(r);
    return;
  }
  /* No answer, a 5xx or a timeout: DocuSign may have closed them. The
   * intent stays "sent" and the next run re-reads these users first. */
  r->fatal_rc = status != SAM_OK ? status : SAM_EREMOTE;
  snprintf(r->fatal, sizeof(r->fatal),
           "the close request's outcome is unknown (%.300s): the next reclaim "
           "run re-reads these users from DocuSign before anything else",
           msg);
  dsg_rc_intent_put(r, r->batch_id, r->batch_ids, "sent", dsg_rc_finish_done);
}

static rc_item *batch_item(rc_run *r, const char *uid) {
  size_t i;

  for (i = 0; i < r->n_batch; i++)
    if (strcmp(r->items[r->batch[i]].uid, uid) == 0)
      return &r->items[r->batch[i]];
  return NULL;
}

static void outcome_step(rc_run *r) {
  r->bi++;
  outcome_next(r);
}

static void failed_item(rc_run *r, rc_item *it, const char *m) {
  r->failed++;
  r->attention++;
  dsg_rc_report(r, it, "attention_required", m);
  dsg_rc_move(r, it, DSG_CAND_ATTENTION_REQUIRED, DSG_TRIG_RECLAIM_FAILURE, m,
              outcome_step);
}

static void
on_followup(rc_run *r, int status, json_object *user, const char *msg) {
  rc_item *it = r->ug_item;
  const char *st = dsg_ru_str(user, "userStatus");
  char m[1200];

  if (status == SAM_OK && st != NULL && strcmp(st, "Closed") == 0) {
    /* A9/A10: a follow-up GET showing Closed is a success */
    dsg_rc_outcome(r, it->uid, "closed", NULL, NULL);
    dsg_rc_success(r, it, "closed (confirmed by a follow-up GET)",
                   outcome_step);
    return;
  }
  if (r->pending_code[0] != '\0' || r->pending_msg[0] != '\0')
    snprintf(m, sizeof(m),
             "DocuSign did not close the user [errorCode=%s] [message=%s]",
             r->pending_code, r->pending_msg);
  else if (status == SAM_OK)
    snprintf(m, sizeof(m),
             "the user is missing from DocuSign's reply and still open "
             "[userStatus=%s]; not retried",
             st != NULL ? st : "");
  else
    snprintf(m, sizeof(m),
             "the user is missing from DocuSign's reply and the follow-up "
             "GET failed: %.500s",
             msg);
  dsg_rc_outcome(r, it->uid, status == SAM_OK ? "failed" : "unknown",
                 r->pending_code, m);
  failed_item(r, it, m);
}

static void outcome_next(rc_run *r) {
  const char *uid;
  rc_item *it;
  int o;

  if (r->bi >= json_object_array_length(r->send)) {
    batch_done(r);
    return;
  }
  uid = json_object_get_string(json_object_array_get_idx(r->send, r->bi));
  it = batch_item(r, uid);
  if (it == NULL) {
    outcome_step(r);
    return;
  }
  if (r->whole_err[0] != '\0') {
    dsg_rc_outcome(r, uid, "failed", NULL, r->whole_err);
    failed_item(r, it, r->whole_err);
    return;
  }
  o = dsg_reclaim_close_outcome(r->reply, uid, r->pending_code,
                                sizeof(r->pending_code), r->pending_msg,
                                sizeof(r->pending_msg));
  if (o == 1) {
    char how[200];

    dsg_rc_outcome(r, uid, "closed", NULL, NULL);
    snprintf(how, sizeof(how), "closed in DocuSign by DELETE users [batch=%s]",
             r->batch_id);
    dsg_rc_success(r, it, how, outcome_step);
    return;
  }
  /* errorDetails, or missing from the reply: a GET decides (A10). */
  dsg_rc_get_user(r, it, on_followup);
}

static void after_batch_intent(rc_run *r) {
  char m[200];
  size_t i;

  snprintf(m, sizeof(m), "batch %u done: %ld closed, %ld skipped, %ld failed",
           r->batch_no, r->closed, r->skipped, r->failed);
  (void)r->ctx->api->job_progress(r->a->job, r->next, r->n_items, m);

  for (i = 0; i < r->n_batch; i++) {
    json_object_put(r->items[r->batch[i]].sub);
    r->items[r->batch[i]].sub = NULL;
  }
  r->n_batch = 0;
  json_object_put(r->reply);
  r->reply = NULL;
  json_object_put(r->outcomes);
  r->outcomes = NULL;
  r->whole_err[0] = '\0';
  dsg_rc_select_next(r);
}

static void batch_done(rc_run *r) {
  dsg_rc_intent_put(r, r->batch_id, r->batch_ids, "reconciled",
                    after_batch_intent);
}

void dsg_rc_recheck_batch(rc_run *r) {
  r->bi = 0;
  recheck_next(r);
}
