/*
 * dsg_action.h: what the three profile actions (dsg_oauth.c, dsg_validate.c)
 * share: the job record with its shutdown hook, exactly-once completion,
 * cancellation, secret calls tracked for shutdown, and reading the profile
 * JSON the host passes in.
 */
#ifndef DSG_ACTION_H
#define DSG_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"

#include "dsg_api.h"
#include "dsg_ctx.h"
#include "dsg_http.h"

typedef struct dsg_action dsg_action;

/* Continues an action after a secret call: value is borrowed (C7). */
typedef void (*dsg_action_secret_fn)(dsg_action *a,
                                     int status,
                                     const char *value,
                                     size_t len);

/* Continues an action after its HTTP request: resp is borrowed. */
typedef void (*dsg_action_http_fn)(dsg_action *a, const dsg_http_resp *resp);

/* One running action. Created by dsg_action_new, freed by
 * dsg_action_complete. At most one secret call, one API call or one raw
 * HTTP request is in flight at a time. */
struct dsg_action {
  dsg_job_ref ref; /* first: dsg_job_ref * is cast back to dsg_action * */
  dsg_ctx *ctx;
  sam_job *job;
  int cancelled;
  /* the one secret call in flight */
  dsg_op_ref op;
  int op_busy;
  dsg_action_secret_fn op_then;
  /* the one API call or HTTP request in flight */
  dsg_api_call *call;
  dsg_http_req *req;
  dsg_action_http_fn http_then;
  /* the profile: parsed profile_json and the fields every action needs */
  json_object *profile;
  char *profile_id;
  const char *client_id;    /* borrowed from profile */
  const char *account_id;   /* borrowed from profile */
  const char *instance_url; /* borrowed from profile, trailing '/' cut */
  char *instance;           /* instance_url without a trailing slash */
  /* the action's own state, freed by free_ext */
  void *ext;
  void (*free_ext)(void *ext);
};

/*
 * Creates an action for an accepted job: copies the profile id, parses the
 * profile JSON and checks client_id, account_id and instance_url (the
 * https rule of dsg_check_instance_url), then tracks the job for shutdown.
 *
 * Thread:    loop thread, inside start.
 * Ownership: in is borrowed; *out is freed by dsg_action_complete.
 * Returns:   0; or a negative SAM_E* with a message in err (the caller
 *            completes the job with it inside start, C1).
 */
int dsg_action_new(dsg_ctx *ctx,
                   sam_job *job,
                   const sam_job_input *in,
                   dsg_action **out,
                   char *err,
                   size_t err_len);

/*
 * Completes the job exactly once (C2) with status, msg and result (may be
 * NULL), untracks it and frees the action. Nothing may be in flight.
 * Thread: loop thread. The action is dead afterwards.
 */
void dsg_action_complete(dsg_action *a,
                         int status,
                         const char *msg,
                         const char *result_json);

/*
 * Gives a its own state: a zeroed block of size bytes, set as a->ext with
 * free_ext. Returns it, or NULL after completing a with SAM_ENOMEM (a is
 * then dead). Thread: loop thread.
 */
void *dsg_action_ext(dsg_action *a, size_t size, void (*free_ext)(void *ext));

/*
 * Completes a job that could not become an action (dsg_action_new failed)
 * inside start: job_complete with status and msg. Returns SAM_OK for start
 * to return (C1).
 */
int dsg_action_fail_start(dsg_ctx *ctx,
                          sam_job *job,
                          int status,
                          const char *msg);

/*
 * The host's cancel, or shutdown: stops the API call in flight and
 * completes with SAM_ECANCELED now; with a secret call or an HTTP request
 * in flight it cancels that and completes from its callback.
 * Thread: loop thread.
 */
void dsg_action_cancel(dsg_action *a);

/* The cancel function every action registers (sam_cancel_fn; ud = ctx). */
void dsg_action_cancel_fn(sam_job *job, void *ud);

/*
 * Reads (value NULL) or writes a secret of the action's profile, then runs
 * then(a, status, value, len) from the host's callback; when the action was
 * cancelled meanwhile it completes with SAM_ECANCELED instead. put with
 * value NULL and len 0 deletes. Thread: loop thread.
 * Returns: 0, or the host's rejection (then never runs).
 */
int dsg_action_secret_get(dsg_action *a,
                          const char *name,
                          dsg_action_secret_fn then);
int dsg_action_secret_put(dsg_action *a,
                          const char *name,
                          const char *value,
                          size_t len,
                          dsg_action_secret_fn then);

/*
 * Sends one HTTP request (opts copied) and runs then(a, resp) from its
 * callback; when the action was cancelled meanwhile it completes with
 * SAM_ECANCELED instead. Thread: loop thread.
 * Returns: 0, or dsg_http_request's error (then never runs).
 */
int dsg_action_http(dsg_action *a,
                    const dsg_http_req_opts *opts,
                    dsg_action_http_fn then);

/*
 * The byte length of the longest prefix of s that holds at most max_chars
 * UTF-8 characters and ends on a character boundary (JSON Schema's
 * maxLength counts characters, not bytes). Pure.
 */
size_t dsg_utf8_prefix(const char *s, size_t max_chars);

/* The string member `key` of o, or NULL. Borrowed from o. */
const char *dsg_json_str(json_object *o, const char *key);

/*
 * Parses JSON text of len bytes (a whole document). Returns the object
 * (caller puts) or NULL when it is not valid JSON.
 */
json_object *dsg_json_parse(const char *text, size_t len);

/*
 * Puts o (NULL is fine) after wiping the text of its top-level string
 * members: for replies that held tokens or secrets. Any thread.
 */
void dsg_json_put_wiped(json_object *o);

#endif /* DSG_ACTION_H */
