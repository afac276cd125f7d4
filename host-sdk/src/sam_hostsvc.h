/*
 * sam_hostsvc.h: the reference host's service layer. It gives the REST API
 * its meaning, independent of transport: the HTTP surface (http_*.c) and
 * the CLI both speak to it through sam_hostsvc_call(), so there is one
 * implementation of every rule (form validation, write-only secrets, states,
 * OAuth state, related lists). Nothing here knows about DocuSign.
 *
 * Thread: the runtime's loop thread for everything.
 */
#ifndef SAM_HOSTSVC_H
#define SAM_HOSTSVC_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_runtime.h"
#include "sam_sched.h"

typedef struct sam_hostsvc sam_hostsvc;
struct sam__backend;

typedef struct sam_hostsvc_config {
  sam_runtime *rt;  /* borrowed; plugins already loaded */
  sam_sched *sched; /* borrowed; the scheduler (sam_sched.h) */
  const char
      *public_url;             /* e.g. "http://127.0.0.1:8080"; redirect_url of
                                  every profile = public_url + "/oauth_redirect.do" */
  int test_mode;               /* passed to plugins in profile JSON as
                                  "_host": {"test_mode": true}: lets a plugin accept
                                  loopback http instance URLs */
  uint64_t oauth_state_ttl_ms; /* 0 = 600000 (10 minutes) */
  /* ---- additions ---- */
  struct sam__backend *audit; /* the SQLite store (sam_backend_sqlite.h),
                                 copied; every call that changes something
                                 is appended to its audit log (actor,
                                 "<METHOD> <path>", profile, outcome; never
                                 a query string or a body). NULL: none */
} sam_hostsvc_config;

/*
 * Creates the service: registers the host-owned record types (schemas/sam-*
 * with their key pointers and indexes) with the runtime. Ownership: *out is
 * freed with sam_hostsvc_free after sam_hostsvc_close's callback.
 * Returns 0, or SAM_EINVAL/SAM_ENOMEM with a message in err.
 */
int sam_hostsvc_new(const sam_hostsvc_config *cfg,
                    sam_hostsvc **out,
                    char *err,
                    size_t err_len);
/*
 * (addition) Renews the scheduled jobs of every published profile with its
 * current profile JSON (sam_sched_ensure_job_ex), so the runs of jobs
 * loaded from the store receive the same JSON as the API's. Call it after
 * the plugins are loaded and before sam_sched_start, but do not wait for its
 * callback before starting the scheduler: the jobs it renews are written
 * only once the scheduler has started, so waiting would hang. A profile
 * whose plugin is not loaded keeps its stored jobs.
 * Callbacks: done(status, ud) runs exactly once, on a later turn; status is
 * 0, or the first failure (the other profiles are still renewed).
 * Returns: 0, or SAM_ENOMEM (done never runs).
 */
int sam_hostsvc_start(sam_hostsvc *svc,
                      void (*done)(int status, void *ud),
                      void *ud);

/* Stops accepting calls (later calls answer 503) and completes once every
 * call in flight has answered (a waiting action is cancelled first). done
 * runs once, on a later turn. */
void sam_hostsvc_close(sam_hostsvc *svc, void (*done)(void *ud), void *ud);
void sam_hostsvc_free(sam_hostsvc *svc);

/* The answer to one call. Borrowed during the callback. */
typedef struct sam_hostsvc_reply {
  int status;      /* SAM_OK or SAM_E* */
  int http_status; /* 200, 201, 400, 403, 404, 409, 502, 503, 504, ... */
  const char *content_type; /* "application/json" or "text/html" */
  const char *body;         /* JSON: the resource, or an error object
                               {"status":"SAM_E...","message":"...",
                                "errors":[{"pointer":"/client_id",
                                           "message":"..."}]} */
  size_t body_len;
  const char *location;   /* redirect target for 302 replies, else NULL */
  uint32_t retry_after_s; /* for 503 from SAM_EAGAIN, else 0 */
  uint32_t reserved0;
} sam_hostsvc_reply;

typedef void (*sam_hostsvc_cb)(const sam_hostsvc_reply *r, void *ud);

/*
 * Runs one REST call: method ("GET", "POST", "PUT", "PATCH", "DELETE"), path
 * (e.g. "/api/v1/profiles/<id>"), query string without '?' (may be NULL),
 * and a JSON body (may be NULL). Authentication, body size limits and the
 * content type are the transport's job; the service checks everything else
 * (unknown fields refused, per-field errors with JSON Pointers, secrets
 * write-only: a profile read shows {"set": true|false} for a secret field).
 * The OAuth redirect is a call too: GET /oauth_redirect.do?code=&state=
 * answers an HTML page (never containing the code or a token).
 *
 * Routes (all JSON unless said):
 *   GET    /api/v1/plugins                      loaded plugins, versions, ABI
 *   GET    /api/v1/profile-types                with their form schemas
 *   GET    /api/v1/profiles                     ?type=&cursor=&limit=
 *   POST   /api/v1/profiles                     create (Draft)
 *   GET    /api/v1/profiles/{id}
 *   PATCH  /api/v1/profiles/{id}                update (may return to Draft)
 *   DELETE /api/v1/profiles/{id}
 *   POST   /api/v1/profiles/{id}/actions/{action}   run a UI action and wait
 *   POST   /api/v1/profiles/{id}/publish
 *   GET    /api/v1/profiles/{id}/lists/{list}   related lists: models,
 *          unrecognized, jobs, job-results, subscriptions,
 *          identifier-exclusions, user-exclusions, rules, candidates
 *          ?cursor=&limit=&filter.<field>=<value>&sort=<field>[,-]
 *   POST/PATCH/DELETE on list items where the list is editable
 *          (exclusions, rules, unrecognized -> map to a model, candidates ->
 *           state transitions)
 *   GET    /api/v1/jobs                         scheduled jobs ?profile=
 *   POST   /api/v1/jobs/{job_key}/run           run now ({"dry_run": bool})
 *   GET    /api/v1/job-results/{job_id}         with live progress
 *   POST   /api/v1/job-results/{job_id}/cancel
 *   GET    /oauth_redirect.do                   (no admin token needed)
 *   (addition) GET /api/v1/job-results ?profile=&cursor=&limit=
 *   (addition, issue 7) POST /api/v1/profiles/{id}/lists/subscriptions/
 *          {key}/restore  runs the plugin's restore_subscription action
 *          with {"external_user_id": key} (Undo of a reclaim)
 *
 * Bodies (additions; every unknown field is refused with its pointer):
 *   POST  /api/v1/profiles        {"type_id", "display_name"?, "form": {}}
 *   PATCH /api/v1/profiles/{id}   {"display_name"?, "form": {changed}};
 *         null clears an optional field; a secret left out keeps its value
 *   POST  .../actions/{action}    optional JSON object, passed as params
 *   POST  .../lists/identifier-exclusions {"subscription_identifier",
 *         "domain"?, "active"?}; user-exclusions {"user_principal_name" |
 *         "domain", "active"?, "profile_type"?} (stored lower-cased)
 *   PATCH .../lists/{list}/{key}  exclusions: their fields; rules: name,
 *         last_activity_threshold_days, notify_user,
 *         days_before_auto_reclamation, grace_days, create_candidate,
 *         assignment_group, active, suggested_update (null dismisses);
 *         unrecognized: {"software_model": "<model identifier>"|null};
 *         candidates: {"state", "reason"?} (SAM-MODEL.md 10's transitions)
 *   DELETE .../lists/{identifier,user}-exclusions/{rule_id}
 *   POST  /api/v1/jobs/{job_key}/run {"dry_run"?, "confirm"?}: a process
 *         flagged SAM_PROC_MUTATES_REMOTE needs confirm unless dry_run
 * Lists page with cursor + limit (1..500, default 50); filter.<field> is
 * equality on an indexed field; sort accepts only the list's key field
 * (the store pages in key order). Replies: {"items": [...], "next_cursor"}.
 *
 * Ownership: every argument is borrowed for the call (copied as needed).
 * Callbacks: cb runs exactly once, on a later loop turn, never inside.
 * Returns:   0 (cb will run), or SAM_ENOMEM, or SAM_EBUSY once the close
 *            has completed (cb never runs then). While closing, calls are
 *            answered 503.
 */
int sam_hostsvc_call(sam_hostsvc *svc,
                     const char *method,
                     const char *path,
                     const char *query,
                     const char *body,
                     size_t body_len,
                     const char *actor,
                     sam_hostsvc_cb cb,
                     void *ud);

#endif /* SAM_HOSTSVC_H */
