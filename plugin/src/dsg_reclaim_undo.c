/*
 * dsg_reclaim_undo.c: the restore_subscription action (Undo, issue 7 item
 * 6, SAM-MODEL.md 13 item 6): reopens a reclaimed DocuSign user with
 * exactly the body of A12 and makes the subscription active again.
 *
 * Store calls go through a dsg_rs whose op is mirrored into the action's
 * op slot, so dsg_action_cancel (host cancel or shutdown) cancels it and
 * the job completes from the store callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsg_action.h"
#include "dsg_dates.h"
#include "dsg_log.h"
#include "dsg_reclaim.h"
#include "dsg_reclaim_check.h"
#include "dsg_reclaim_util.h"

typedef struct undo {
  dsg_action *a;
  dsg_rs rs;
  char *uid;
  json_object *sub;
  uint64_t ver;
  dsg_whoami_req who;
  int in_who;
  int who_rc;
  char who_msg[600];
} undo;

static void undo_free(void *ext) {
  undo *u = ext;

  free(u->uid);
  json_object_put(u->sub);
  free(u);
}

/* 1 when the action was cancelled meanwhile (then it is completed). */
static int store_back(undo *u) {
  u->a->op_busy = 0;
  u->a->op.op = NULL;
  if (u->a->cancelled) {
    dsg_action_complete(u->a, SAM_ECANCELED, "cancelled", NULL);
    return 1;
  }
  return 0;
}

static void mirror(undo *u) {
  u->a->op_busy = 1;
  u->a->op.op = u->rs.op.op;
}

static void on_put(void *owner, int status, const sam_store_result *res) {
  undo *u = owner;
  json_object *o;
  char m[600];

  (void)res;
  if (store_back(u))
    return;
  if (status != SAM_OK) {
    snprintf(m, sizeof(m),
             "the user was reopened in DocuSign, but marking the subscription "
             "active failed [user=%s] [%s]: the next download records it",
             u->uid, sam_err_name(status));
    dsg_action_complete(u->a, status, m, NULL);
    return;
  }
  dsg_logf(u->a->ctx, u->a->job, SAM_LOG_INFO,
           "audit: restored DocuSign user [profile=%s] [user=%s] [upn=%s]: "
           "reopened with an activation e-mail (A12)",
           u->a->profile_id, u->uid,
           dsg_ru_str(u->sub, "user_principal_name") != NULL
               ? dsg_ru_str(u->sub, "user_principal_name")
               : "");
  o = json_object_new_object();
  json_object_object_add(o, "external_user_id", json_object_new_string(u->uid));
  json_object_object_add(o, "userStatus",
                         json_object_new_string("ActivationSent"));
  json_object_object_add(o, "subscription_state",
                         json_object_new_string("active"));
  snprintf(m, sizeof(m),
           "restored [user=%s]: reopened in DocuSign (activation e-mail sent) "
           "and the subscription is active again",
           u->uid);
  dsg_action_complete(u->a, SAM_OK, m, o != NULL ? dsg_ru_text(o) : NULL);
  json_object_put(o);
}

static void on_reopen(int status,
                      const dsg_http_resp *resp,
                      const char *msg,
                      int64_t retry_after_s,
                      void *ud) {
  undo *u = ud;
  json_object *reply = NULL;
  sam_record rec;
  char code[120], em[500], m[900];
  int rc;

  u->a->call = NULL;
  if (status == SAM_EAGAIN && retry_after_s > 0) {
    /* A20: a limit error is a refusal: nothing was reopened. Undo is one
     * request a person asked for: say when to ask again. */
    json_object *o = json_object_new_object();

    snprintf(m, sizeof(m),
             "DocuSign refused to reopen the user for its rate limit; "
             "nothing was changed [user=%s]; try again in %lld s: %s",
             u->uid, (long long)retry_after_s, msg);
    json_object_object_add(o, "retry_after_s",
                           json_object_new_int64(retry_after_s));
    dsg_action_complete(u->a, status, m, o != NULL ? dsg_ru_text(o) : NULL);
    json_object_put(o);
    return;
  }
  if (status != SAM_OK) {
    snprintf(m, sizeof(m), "reopening the user failed [user=%s]: %s", u->uid,
             msg);
    dsg_action_complete(u->a, status, m, NULL);
    return;
  }
  reply = dsg_json_parse(resp->body, resp->body_len);
  if (dsg_reclaim_close_outcome(reply, u->uid, code, sizeof(code), em,
                                sizeof(em)) == 0) {
    snprintf(m, sizeof(m),
             "DocuSign did not reopen the user [user=%s] [errorCode=%s] "
             "[message=%s]",
             u->uid, code, em);
    json_object_put(reply);
    dsg_action_complete(u->a, SAM_EREMOTE, m, NULL);
    return;
  }
  json_object_put(reply);
  json_object_object_add(u->sub, "state", json_object_new_string("active"));
  json_object_object_add(u->sub, "active", json_object_new_boolean(1));
  json_object_object_add(u->sub, "remote_status",
                         json_object_new_string("ActivationSent"));
  json_object_object_add(u->sub, "reclaimed_at", NULL);
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = u->ver;
  rec.key = u->uid;
  rec.json = dsg_ru_text(u->sub);
  rec.json_len = strlen(rec.json);
  rc = dsg_rs_put(&u->rs, u->a->profile_id, "sam_subscription", &rec, 1, on_put,
                  u);
  if (rc != 0) {
    dsg_action_complete(u->a, rc,
                        "the user was reopened, but the subscription write "
                        "was rejected",
                        NULL);
    return;
  }
  mirror(u);
}

static void on_whoami(
    int status, const char *sub, const char *rest, const char *msg, void *ud) {
  undo *u = ud;
  json_object *body, *users, *e;
  char url[1200];
  int rc;

  (void)sub;
  u->a->call = NULL;
  if (status != SAM_OK && u->in_who) {
    /* inside dsg_whoami (no token): finished by the caller */
    u->who_rc = status;
    snprintf(u->who_msg, sizeof(u->who_msg), "%s", msg);
    return;
  }
  if (status != SAM_OK) {
    dsg_action_complete(u->a, status, msg, NULL);
    return;
  }
  body = json_object_new_object();
  users = json_object_new_array();
  e = json_object_new_object();
  json_object_object_add(e, "userId", json_object_new_string(u->uid));
  json_object_object_add(e, "sendActivationEmail",
                         json_object_new_string("send"));
  json_object_array_add(users, e);
  json_object_object_add(body, "users", users);
  snprintf(url, sizeof(url), "%s/users", rest);
  rc = dsg_api_send(
      u->a->ctx,
      &(dsg_token_args){u->a->profile_id, u->a->client_id, u->a->instance},
      "PUT", url, dsg_ru_text(body), on_reopen, u, &u->a->call);
  json_object_put(body);
  if (rc != 0)
    dsg_action_complete(u->a, rc, "the reopen request could not start", NULL);
}

static void on_sub(void *owner, int status, const sam_store_result *res) {
  undo *u = owner;
  const char *state;
  int64_t at;
  int64_t days;
  char m[600];
  int rc;

  if (store_back(u))
    return;
  if (status != SAM_OK && status != SAM_ENOENT) {
    dsg_action_complete(u->a, status, "reading the subscription failed", NULL);
    return;
  }
  if (status == SAM_ENOENT || res->n != 1 ||
      (u->sub = dsg_json_parse(res->recs[0].json, res->recs[0].json_len)) ==
          NULL) {
    snprintf(m, sizeof(m), "no such subscription [external_user_id=%s]",
             u->uid);
    dsg_action_complete(u->a, SAM_ENOENT, m, NULL);
    return;
  }
  u->ver = res->recs[0].version;
  state = dsg_ru_str(u->sub, "state");
  if (state == NULL || strcmp(state, "reclaimed") != 0 ||
      dsg_date_parse(dsg_ru_str(u->sub, "reclaimed_at"), &at) != 0) {
    snprintf(m, sizeof(m),
             "undo refused: the subscription was not reclaimed [user=%s] "
             "[state=%s]",
             u->uid, state != NULL ? state : "");
    dsg_action_complete(u->a, SAM_EBUSY, m, NULL);
    return;
  }
  days = dsg_days_between(at, dsg_ru_now());
  if (days > DSG_UNDO_WINDOW_DAYS) {
    char day[16];

    dsg_date_format_day(at, day, sizeof(day));
    snprintf(m, sizeof(m),
             "undo refused: reclaimed %s, %lld days ago; undo is possible for "
             "%d days [user=%s]: reopen the user in DocuSign by hand",
             day, (long long)days, DSG_UNDO_WINDOW_DAYS, u->uid);
    dsg_action_complete(u->a, SAM_EBUSY, m, NULL);
    return;
  }
  u->in_who = 1;
  rc = dsg_whoami(
      u->a->ctx,
      &(dsg_token_args){u->a->profile_id, u->a->client_id, u->a->instance},
      u->a->account_id, &u->who, on_whoami, u);
  u->in_who = 0;
  if (rc != 0)
    dsg_action_complete(u->a, rc, "userinfo could not start", NULL);
  else if (u->who_rc != 0)
    dsg_action_complete(u->a, u->who_rc, u->who_msg, NULL);
  else
    u->a->call = u->who.call;
}

int dsg_restore_start(sam_job *job, const sam_job_input *in, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_action *a = NULL;
  json_object *params = NULL;
  const char *uid;
  undo *u;
  char err[512];
  int rc;

  if (ctx->stopping)
    return SAM_EBUSY;
  rc = dsg_action_new(ctx, job, in, &a, err, sizeof(err));
  if (rc != 0)
    return dsg_action_fail_start(ctx, job, rc, err);
  u = calloc(1, sizeof(*u));
  if (u == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return SAM_OK;
  }
  a->ext = u;
  a->free_ext = undo_free;
  u->a = a;
  u->rs.ctx = ctx;
  if (in->params_json != NULL && in->params_len > 0)
    params = dsg_json_parse(in->params_json, in->params_len);
  uid = dsg_ru_str(params, "external_user_id");
  if (uid == NULL || uid[0] == '\0' || strlen(uid) > 200) {
    json_object_put(params);
    dsg_action_complete(a, SAM_EINVAL,
                        "restore_subscription needs {\"external_user_id\": "
                        "\"<DocuSign userId>\"}",
                        NULL);
    return SAM_OK;
  }
  u->uid = strdup(uid);
  json_object_put(params);
  if (u->uid == NULL) {
    dsg_action_complete(a, SAM_ENOMEM, "out of memory", NULL);
    return SAM_OK;
  }
  rc = dsg_rs_get(&u->rs, a->profile_id, "sam_subscription", u->uid, on_sub, u);
  if (rc != 0) {
    dsg_action_complete(a, rc, "reading the subscription was rejected", NULL);
    return SAM_OK;
  }
  mirror(u);
  return SAM_OK;
}
