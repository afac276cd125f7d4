/*
 * dsg_reclaim_ops.c: the store and DocuSign steps of a Reclaim run
 * (dsg_reclaim_int.h): candidate moves, the reclaimed subscription, the
 * audit line, the re-read of a user (with the A13 fallback), intent
 * records and the reconciliation of intents left by a crash.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsg_dates.h"
#include "dsg_governor.h"
#include "dsg_log.h"
#include "dsg_reclaim_int.h"

/* ---- report ---- */

void dsg_rc_report(rc_run *r,
                   const rc_item *it,
                   const char *action,
                   const char *reason) {
  json_object *o = json_object_new_object();

  if (o == NULL)
    return;
  json_object_object_add(o, "user_id", json_object_new_string(it->uid));
  json_object_object_add(o, "user_principal_name",
                         it->upn != NULL ? json_object_new_string(it->upn)
                                         : NULL);
  json_object_object_add(o, "candidate_id",
                         it->key != NULL ? json_object_new_string(it->key)
                                         : NULL);
  json_object_object_add(o, "action", json_object_new_string(action));
  json_object_object_add(o, "reason", json_object_new_string(reason));
  json_object_array_add(r->report, o);
}

void dsg_rc_outcome(rc_run *r,
                    const char *uid,
                    const char *outcome,
                    const char *code,
                    const char *msg) {
  json_object *o;

  if (r->outcomes == NULL)
    r->outcomes = json_object_new_array();
  o = json_object_new_object();
  if (r->outcomes == NULL || o == NULL) {
    json_object_put(o);
    return;
  }
  json_object_object_add(o, "user_id", json_object_new_string(uid));
  json_object_object_add(o, "outcome", json_object_new_string(outcome));
  if (code != NULL && code[0] != '\0')
    json_object_object_add(o, "error_code", json_object_new_string(code));
  if (msg != NULL && msg[0] != '\0') {
    char m[500];

    snprintf(m, sizeof(m), "%.490s", msg);
    json_object_object_add(o, "message", json_object_new_string(m));
  }
  json_object_array_add(r->outcomes, o);
}

/* ---- candidate moves ---- */

static void mv_put(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;

  (void)res;
  if (dsg_rc_aborted(r))
    return;
  if (status != SAM_OK)
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "candidate not moved [candidate=%s] [to=%s] [%s]", r->mv_item->key,
             dsg_cand_state_name(r->mv_to), sam_err_name(status));
  r->mv_then(r);
}

static void mv_got(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;
  rc_item *it = r->mv_item;
  json_object *c = NULL;
  sam_record rec;
  dsg_cand_state from;
  char err[256];
  int64_t now = dsg_ru_now();
  int rc;

  if (dsg_rc_aborted(r))
    return;
  if (status != SAM_OK || res->n != 1 ||
      (c = dsg_json_parse(res->recs[0].json, res->recs[0].json_len)) == NULL) {
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "candidate not found for a move [candidate=%s] [%s]", it->key,
             sam_err_name(status));
    r->mv_then(r);
    return;
  }
  from = dsg_cand_state_parse(dsg_ru_str(c, "state"));
  rc = 0;
  if (from == DSG_CAND_READY && (r->mv_trig == DSG_TRIG_RECLAIM_SUCCESS ||
                                 r->mv_trig == DSG_TRIG_RECLAIM_FAILURE))
    rc = dsg_cand_apply(c, DSG_CAND_AWAITING_REVOCATION, DSG_TRIG_RECLAIM, now,
                        DSG_RECLAIM_ACTOR,
                        "reclaim: the rule does not notify users", err,
                        sizeof(err));
  if (rc == 0)
    rc = dsg_cand_apply(c, r->mv_to, r->mv_trig, now, DSG_RECLAIM_ACTOR,
                        r->mv_reason, err, sizeof(err));
  if (rc != 0) {
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "candidate move refused [candidate=%s] %s", it->key, err);
    json_object_put(c);
    r->mv_then(r);
    return;
  }
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = res->recs[0].version;
  rec.key = it->key;
  rec.json = dsg_ru_text(c);
  rec.json_len = strlen(rec.json);
  rc =
      dsg_rs_put(&r->rs, r->a->profile_id, "sam_candidate", &rec, 1, mv_put, r);
  json_object_put(c);
  if (rc != 0) {
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "candidate write rejected [candidate=%s] [%s]", it->key,
             sam_err_name(rc));
    r->mv_then(r);
  }
}

void dsg_rc_move(rc_run *r,
                 rc_item *it,
                 dsg_cand_state to,
                 dsg_cand_trigger trig,
                 const char *reason,
                 rc_next_fn then) {
  int rc;

  if (r->dry || it->key == NULL) {
    then(r);
    return;
  }
  r->mv_item = it;
  r->mv_to = to;
  r->mv_trig = trig;
  r->mv_then = then;
  snprintf(r->mv_reason, sizeof(r->mv_reason), "%s", reason);
  rc =
      dsg_rs_get(&r->rs, r->a->profile_id, "sam_candidate", it->key, mv_got, r);
  if (rc != 0) {
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "candidate read rejected [candidate=%s] [%s]", it->key,
             sam_err_name(rc));
    then(r);
  }
}

/* ---- success: candidate, subscription, audit ---- */

static void sc_got(void *owner, int status, const sam_store_result *res);

/* Conflicts re-read the subscription this many times in all. */
#define SC_TRIES 3

static void sc_put(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;

  (void)res;
  if (dsg_rc_aborted(r))
    return;
  /* A download running beside this reclaim may have written the record
   * since it was read (its sweep marks a user it finds Closed "removed"):
   * read it again and mark it reclaimed, so that Undo still applies. */
  if (status == SAM_ECONFLICT && r->sc_tries < SC_TRIES) {
    r->sc_tries++;
    if (dsg_rs_get(&r->rs, r->a->profile_id, "sam_subscription",
                   r->mv_item->uid, sc_got, r) == 0)
      return;
  }
  if (status != SAM_OK)
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "subscription not marked reclaimed [user=%s] [%s]",
             r->mv_item->uid, sam_err_name(status));
  r->mv_then(r);
}

static void sc_got(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;
  json_object *s = NULL;
  sam_record rec;
  char now[DSG_DATE_BUF];
  int rc;

  if (dsg_rc_aborted(r))
    return;
  if (status != SAM_OK || res->n != 1 ||
      (s = dsg_json_parse(res->recs[0].json, res->recs[0].json_len)) == NULL) {
    r->mv_then(r);
    return;
  }
  dsg_date_format(dsg_ru_now(), now, sizeof(now));
  json_object_object_add(s, "state", json_object_new_string("reclaimed"));
  json_object_object_add(s, "active", json_object_new_boolean(0));
  json_object_object_add(s, "remote_status", json_object_new_string("Closed"));
  json_object_object_add(s, "reclaimed_at", json_object_new_string(now));
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = res->recs[0].version;
  rec.key = res->recs[0].key;
  rec.json = dsg_ru_text(s);
  rec.json_len = strlen(rec.json);
  rc = dsg_rs_put(&r->rs, r->a->profile_id, "sam_subscription", &rec, 1, sc_put,
                  r);
  json_object_put(s);
  if (rc != 0)
    r->mv_then(r);
}

static void sc_after_move(rc_run *r) {
  int rc;

  r->mv_then = r->sc_then;
  r->sc_tries = 1;
  rc = dsg_rs_get(&r->rs, r->a->profile_id, "sam_subscription", r->mv_item->uid,
                  sc_got, r);
  if (rc != 0)
    r->mv_then(r);
}

void dsg_rc_success(rc_run *r, rc_item *it, const char *how, rc_next_fn then) {
  if (r->dry) {
    dsg_rc_report(r, it, "would mark closed", how);
    then(r);
    return;
  }
  r->closed++;
  json_object_array_add(r->closed_ids, json_object_new_string(it->uid));
  dsg_rc_report(r, it, "closed", how);
  /* The audit line the host keeps (one per closed user). */
  dsg_logf(r->ctx, r->a->job, SAM_LOG_INFO,
           "audit: reclaimed DocuSign user [profile=%s] [user=%s] [upn=%s] "
           "[candidate=%s] [batch=%s] %s",
           r->a->profile_id, it->uid, it->upn != NULL ? it->upn : "",
           it->key != NULL ? it->key : "", r->batch_id, how);
  r->sc_then = then;
  r->mv_item = it;
  if (it->key == NULL) {
    sc_after_move(r);
    return;
  }
  dsg_rc_move(r, it, DSG_CAND_CLOSED_COMPLETE, DSG_TRIG_RECLAIM_SUCCESS, how,
              sc_after_move);
}

/* ---- reading a user (A13) ---- */

static void url_encode(const char *s, char *out, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;

  for (; s != NULL && *s != '\0' && o + 4 < len; s++) {
    unsigned char ch = (unsigned char)*s;

    if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out[o++] = (char)ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  out[o] = '\0';
}

static void ug_done(rc_run *r, int status, json_object *user, const char *m) {
  void (*then)(rc_run *, int, json_object *, const char *) = r->ug_then;

  r->ug_then = NULL;
  then(r, status, user, m);
}

static void on_user_list(int status,
                         const dsg_http_resp *resp,
                         const char *msg,
                         int64_t retry_after_s,
                         void *ud) {
  rc_run *r = ud;
  json_object *o = NULL;
  json_object *users = NULL;
  size_t i;

  (void)retry_after_s;
  r->call = NULL;
  if (dsg_rc_aborted(r))
    return;
  if (status != SAM_OK) {
    ug_done(r, status, NULL, msg);
    return;
  }
  o = dsg_json_parse(resp->body, resp->body_len);
  if (json_object_object_get_ex(o, "users", &users) &&
      json_object_is_type(users, json_type_array)) {
    for (i = 0; i < json_object_array_length(users); i++) {
      json_object *u = json_object_array_get_idx(users, i);
      const char *id = dsg_ru_str(u, "userId");

      if (id != NULL && strcasecmp(id, r->ug_item->uid) == 0) {
        ug_done(r, SAM_OK, u, "");
        json_object_put(o);
        return;
      }
    }
  }
  json_object_put(o);
  ug_done(r, SAM_ENOENT, NULL,
          "DocuSign does not know the user (not by id, not by e-mail)");
}

static void on_user(int status,
                    const dsg_http_resp *resp,
                    const char *msg,
                    int64_t retry_after_s,
                    void *ud) {
  rc_run *r = ud;
  json_object *o;
  char url[1400];
  char email[900];
  int rc;

  (void)retry_after_s;
  r->call = NULL;
  if (dsg_rc_aborted(r))
    return;
  if (status == SAM_OK) {
    o = dsg_json_parse(resp->body, resp->body_len);
    if (o == NULL) {
      ug_done(r, SAM_EPROTO, NULL, "GET user: the reply is not JSON");
      return;
    }
    ug_done(r, SAM_OK, o, "");
    json_object_put(o);
    return;
  }
  /* A13: fall back to the list by e-mail, except for an authorization
   * failure or a rate limit (the list would fail the same way) and a
   * network failure (no answer at all). */
  if (status == SAM_EAUTH || status == SAM_EAGAIN || resp == NULL ||
      resp->status != SAM_OK || r->ug_item->upn == NULL ||
      r->ug_item->upn[0] == '\0') {
    if (status != SAM_EAUTH && status != SAM_EAGAIN && resp != NULL &&
        resp->status == SAM_OK)
      ug_done(r, SAM_ENOENT, NULL, msg);
    else
      ug_done(r, status, NULL, msg);
    return;
  }
  url_encode(r->ug_item->upn, email, sizeof(email));
  snprintf(url, sizeof(url),
           "%s/users?email=%s&additional_info=true&include_license=true&"
           "count=100&start_position=0",
           r->rest, email);
  rc = dsg_rc_api(r, NULL, url, NULL, on_user_list);
  if (rc != 0)
    ug_done(r, rc, NULL, "cannot start the look-up by e-mail");
}

void dsg_rc_get_user(
    rc_run *r,
    rc_item *it,
    void (*then)(rc_run *r, int status, json_object *user, const char *msg)) {
  char url[1200];
  int rc;

  r->ug_then = then;
  r->ug_item = it;
  snprintf(url, sizeof(url), "%s/users/%s?include_license=true", r->rest,
           it->uid);
  rc = dsg_rc_api(r, NULL, url, NULL, on_user);
  if (rc != 0)
    ug_done(r, rc, NULL, "cannot start GET user");
}

/* ---- intents ---- */

static rc_next_fn in_then_fn(rc_run *r, rc_next_fn set) {
  rc_next_fn t = r->in_then;

  if (set != NULL)
    r->in_then = set;
  return t;
}

static void in_put(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;

  (void)res;
  if (dsg_rc_aborted(r))
    return;
  if (status != SAM_OK) {
    /* Without its intent record no batch may be sent. */
    snprintf(r->fatal, sizeof(r->fatal),
             "writing the reclaim intent failed [batch=%s] [%s]", r->batch_id,
             sam_err_name(status));
    r->fatal_rc = status;
  }
  in_then_fn(r, NULL)(r);
}

static int put_intent_json(rc_run *r, json_object *o, rc_next_fn then) {
  sam_record rec;

  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = SAM_IF_ANY;
  rec.key = dsg_ru_str(o, "batch_id");
  rec.json = dsg_ru_text(o);
  rec.json_len = strlen(rec.json);
  in_then_fn(r, then);
  return dsg_rs_put(&r->rs, r->a->profile_id, DSG_RT_INTENT, &rec, 1, in_put,
                    r);
}

void dsg_rc_intent_put(rc_run *r,
                       const char *batch_id,
                       json_object *user_ids,
                       const char *state,
                       rc_next_fn then) {
  json_object *o = json_object_new_object();
  char now[DSG_DATE_BUF];
  int rc;

  if (r->dry) {
    json_object_put(o);
    then(r);
    return;
  }
  dsg_date_format(dsg_ru_now(), now, sizeof(now));
  json_object_object_add(o, "batch_id", json_object_new_string(batch_id));
  json_object_object_add(o, "run_id", json_object_new_string(r->job_id));
  json_object_object_add(o, "job_id", json_object_new_string(r->job_id));
  json_object_object_add(o, "user_ids", json_object_get(user_ids));
  json_object_object_add(o, "state", json_object_new_string(state));
  json_object_object_add(o, "created_at", json_object_new_string(now));
  json_object_object_add(o, "updated_at", json_object_new_string(now));
  if (r->outcomes != NULL)
    json_object_object_add(o, "outcomes", json_object_get(r->outcomes));
  rc = put_intent_json(r, o, then);
  json_object_put(o);
  if (rc != 0) {
    snprintf(r->fatal, sizeof(r->fatal),
             "writing the reclaim intent was rejected [batch=%s] [%s]",
             batch_id, sam_err_name(rc));
    r->fatal_rc = rc;
    then(r);
  }
}

/* ---- reconciling intents left by a crash ---- */

static void rec_user(rc_run *r);
static rc_next_fn rec_done_then(rc_run *r);

static rc_item rec_item_of(rc_run *r) {
  rc_item it;

  (void)r;
  memset(&it, 0, sizeof(it));
  return it;
}

static void rec_next_user(rc_run *r) {
  r->intent_u++;
  rec_user(r);
}

static void rec_cand(void *owner, int status, const sam_store_result *res) {
  rc_run *r = owner;
  rc_item *it = &r->scratch; /* the scratch item */
  json_object *c = NULL;

  if (dsg_rc_aborted(r))
    return;
  if (status == SAM_OK && res->n > 0)
    c = dsg_json_parse(res->recs[0].json, res->recs[0].json_len);
  free(it->key);
  it->key = NULL;
  if (c != NULL) {
    it->key = strdup(res->recs[0].key);
    free(it->upn);
    it->upn = dsg_ru_str(c, "user_principal_name") != NULL
                  ? strdup(dsg_ru_str(c, "user_principal_name"))
                  : NULL;
  }
  json_object_put(c);
  dsg_rc_success(r, it,
                 "reconciled after an interrupted run: DocuSign shows the "
                 "user Closed",
                 rec_next_user);
}

static void
rec_got_user(rc_run *r, int status, json_object *user, const char *msg) {
  rc_item *it = &r->scratch;
  const char *st = dsg_ru_str(user, "userStatus");
  char filter[400];
  json_object *f;
  int rc;

  if (status == SAM_OK && st != NULL && strcmp(st, "Closed") == 0) {
    dsg_rc_outcome(r, it->uid, "closed", NULL, NULL);
    f = json_object_new_object();
    json_object_object_add(f, "/external_user_id",
                           json_object_new_string(it->uid));
    json_object_object_add(f, "/open", json_object_new_boolean(1));
    snprintf(filter, sizeof(filter), "%s", dsg_ru_text(f));
    json_object_put(f);
    rc = dsg_rs_query(&r->rs, r->a->profile_id, "sam_candidate", filter, NULL,
                      10, rec_cand, r);
    if (rc != 0)
      rec_next_user(r);
    return;
  }
  if (status == SAM_OK || status == SAM_ENOENT) {
    /* Still open in DocuSign (or gone): the candidate keeps the state it
     * had before the batch; a later run re-checks it before any close. */
    dsg_rc_outcome(r, it->uid, status == SAM_OK ? "failed" : "unknown", NULL,
                   status == SAM_OK ? "not closed: the user is still open in "
                                      "DocuSign"
                                    : msg);
    rec_next_user(r);
    return;
  }
  snprintf(r->fatal, sizeof(r->fatal),
           "cannot reconcile the interrupted reclaim batch [batch=%s] "
           "[user=%s]: %s; nothing new is closed until it is",
           r->batch_id, it->uid, msg);
  r->fatal_rc = status;
  rec_done_then(r)(r);
}

static void rec_intent(rc_run *r);

static void rec_intent_written(rc_run *r) {
  if (r->fatal_rc != 0) {
    rec_done_then(r)(r);
    return;
  }
  r->intent_i++;
  rec_intent(r);
}

static void rec_user(rc_run *r) {
  json_object *in = json_object_array_get_idx(r->intents, r->intent_i);
  json_object *ids = NULL;
  rc_item *it = &r->scratch;
  char now[DSG_DATE_BUF];
  const char *uid;
  int rc;

  json_object_object_get_ex(in, "user_ids", &ids);
  if (r->intent_u >= json_object_array_length(ids)) {
    dsg_date_format(dsg_ru_now(), now, sizeof(now));
    json_object_object_add(in, "state", json_object_new_string("reconciled"));
    json_object_object_add(in, "updated_at", json_object_new_string(now));
    if (r->outcomes != NULL)
      json_object_object_add(in, "outcomes", json_object_get(r->outcomes));
    rc = put_intent_json(r, in, rec_intent_written);
    if (rc != 0) {
      r->fatal_rc = rc;
      snprintf(r->fatal, sizeof(r->fatal),
               "marking the intent reconciled was rejected [batch=%s]",
               r->batch_id);
      rec_done_then(r)(r);
    }
    return;
  }
  uid = json_object_get_string(json_object_array_get_idx(ids, r->intent_u));
  free(it->uid);
  free(it->key);
  free(it->upn);
  *it = rec_item_of(r);
  it->uid = strdup(uid != NULL ? uid : "");
  if (it->uid == NULL) {
    r->fatal_rc = SAM_ENOMEM;
    snprintf(r->fatal, sizeof(r->fatal), "out of memory");
    rec_done_then(r)(r);
    return;
  }
  dsg_rc_get_user(r, it, rec_got_user);
}

static rc_next_fn rec_done_then(rc_run *r) {
  return r->rec_then;
}

static void rec_intent(rc_run *r) {
  json_object *in;

  if (r->intent_i >= json_object_array_length(r->intents)) {
    rec_done_then(r)(r);
    return;
  }
  in = json_object_array_get_idx(r->intents, r->intent_i);
  snprintf(r->batch_id, sizeof(r->batch_id), "%s",
           dsg_ru_str(in, "batch_id") != NULL ? dsg_ru_str(in, "batch_id")
                                              : "");
  json_object_put(r->outcomes);
  r->outcomes = NULL;
  r->intent_u = 0;
  dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
           "reconciling an interrupted reclaim batch [batch=%s] [state=%s]",
           r->batch_id, dsg_ru_str(in, "state"));
  rec_user(r);
}

void dsg_rc_reconcile(rc_run *r, rc_next_fn then) {
  r->rec_then = then;
  r->intent_i = 0;
  rec_intent(r);
}
