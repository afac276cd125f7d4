/*
 * dsg_reclaim_util.h: what the candidate refresh (dsg_candidates_run.c),
 * the Reclaim process (dsg_reclaim.c) and Undo (dsg_reclaim_undo.c) share:
 * one store operation at a time, tracked for shutdown; the userinfo look-up
 * of the integration's own user (A24) and the account's REST base; the
 * deterministic candidate key; small JSON helpers.
 */
#ifndef DSG_RECLAIM_UTIL_H
#define DSG_RECLAIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"

#include "dsg_api.h"
#include "dsg_ctx.h"

/* Scope of the host-wide records (exclusion rules). */
#define DSG_HOST_SCOPE "_host"

/* Continues after a store call; res is borrowed for the call (C7). */
typedef void (*dsg_rs_fn)(void *owner, int status, const sam_store_result *res);

/* One store operation at a time, tracked with dsg_op_track. */
typedef struct dsg_rs {
  dsg_ctx *ctx;
  dsg_op_ref op;
  int busy;
  dsg_rs_fn then;
  void *owner;
} dsg_rs;

/*
 * store_query / store_get / store_put_batch through the sequencer: then
 * runs exactly once from the host's callback (never inside the call) when
 * 0 is returned; never when a negative SAM_E* is returned. At most one
 * operation may be in flight (SAM_EBUSY otherwise).
 * Thread: loop thread. Ownership: inputs are copied by the host.
 */
int dsg_rs_query(dsg_rs *s,
                 const char *scope,
                 const char *type,
                 const char *filter_json,
                 const char *cursor,
                 uint32_t limit,
                 dsg_rs_fn then,
                 void *owner);
int dsg_rs_get(dsg_rs *s,
               const char *scope,
               const char *type,
               const char *key,
               dsg_rs_fn then,
               void *owner);
int dsg_rs_put(dsg_rs *s,
               const char *scope,
               const char *type,
               const sam_record *recs,
               size_t n,
               dsg_rs_fn then,
               void *owner);
/* Asks the host to cancel the operation in flight (then still runs once,
 * with SAM_ECANCELED or its real status). NULL-safe. */
void dsg_rs_cancel(dsg_rs *s);

/*
 * The answer of dsg_whoami: status SAM_OK with the integration user's id
 * (userinfo sub, A24) and the account's REST base
 * "{base_uri}/restapi/v2.1/accounts/{account_id}", both borrowed for the
 * call; or a failure with a message.
 */
typedef void (*dsg_whoami_cb)(int status,
                              const char *sub,
                              const char *rest_base,
                              const char *msg,
                              void *ud);

/* A userinfo look-up, embedded in the caller's state (no allocation, so
 * cancelling it with dsg_api_cancel(req->call) leaks nothing). */
typedef struct dsg_whoami_req {
  dsg_whoami_cb cb;
  void *ud;
  char account_id[128];
  dsg_api_call *call; /* in flight; dsg_api_cancel stops it (cb never runs) */
} dsg_whoami_req;

/*
 * GETs {instance}/oauth/userinfo with the profile's token and finds the
 * account. Thread: loop thread. Ownership: ta and account_id are copied;
 * req is the caller's and must live until cb runs or the call is
 * cancelled. Callbacks: cb runs exactly once unless req->call is
 * cancelled; it may run inside this call when no token can be had.
 * Returns: 0, or dsg_api_get's error (cb never runs).
 */
int dsg_whoami(dsg_ctx *ctx,
               const dsg_token_args *ta,
               const char *account_id,
               dsg_whoami_req *req,
               dsg_whoami_cb cb,
               void *ud);

/*
 * The candidate key of a user's generation-th candidate: "c-" + 16 hex
 * digits of FNV-1a 64 over profile_id '\n' external_user_id, "-" + gen.
 * Deterministic, so a re-run that computes the same generation finds the
 * record there (SAM_IF_NEW) instead of adding a second one. Pure.
 */
void dsg_candidate_key(const char *profile_id,
                       const char *external_user_id,
                       uint32_t gen,
                       char *out,
                       size_t len);

/* Member helpers; NULL-safe, borrowed results. */
const char *dsg_ru_str(json_object *o, const char *key);
int dsg_ru_bool(json_object *o, const char *key, int dflt);

/* Serialises o plainly; the text is borrowed from o. */
const char *dsg_ru_text(json_object *o);

/* Current time in Unix seconds (wall clock). */
int64_t dsg_ru_now(void);

#endif /* DSG_RECLAIM_UTIL_H */
