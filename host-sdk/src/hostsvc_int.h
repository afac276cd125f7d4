/*
 * hostsvc_int.h: what the files of the service layer share (hostsvc.c,
 * hostsvc_json.c, hostsvc_types.c, hostsvc_forms.c, hostsvc_profiles.c,
 * hostsvc_oauth.c, hostsvc_actions.c, hostsvc_lists.c, hostsvc_jobs.c).
 * Nothing here is used outside the service layer.
 *
 * Thread: the runtime's loop thread for everything.
 */
#ifndef SAM_HOSTSVC_INT_H
#define SAM_HOSTSVC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam_backend.h"
#include "sam_hostsvc.h"
#include "sam_schema.h"

/* The store scope of host-level records (profiles, exclusion rules). */
#define SAM__HS_HOST_SCOPE SAM_SCHED_SCOPE /* "_host": the store refuses "" */
#define SAM__HS_PAGE_MAX 500
#define SAM__HS_PAGE_DEFAULT 50
#define SAM__HS_MAX_ERRS 64
#define SAM__HS_OAUTH_TTL_MS 600000u
#define SAM__HS_CALLBACK_TIMEOUT_MS 60000u

/* ---- host-owned record types (hostsvc_types.c) ---- */

typedef struct sam__hs_type {
  const char *name;    /* "sam_profile" */
  const char *file;    /* "sam-profile.schema.json" */
  const char *key;     /* "/profile_id" */
  const char *indexes; /* JSON array text */
  json_object *schema; /* parsed schema (owned) */
} sam__hs_type;

/* Reads the schema files and registers every host-owned type with the
 * runtime. Fills svc->types. Returns 0 or SAM_E* with err written. */
int sam__hs_types_register(sam_hostsvc *svc, char *err, size_t err_len);
/* Frees what sam__hs_types_register kept. */
void sam__hs_types_free(sam_hostsvc *svc);
/* The type called `name`, or NULL. */
const sam__hs_type *sam__hs_type_find(sam_hostsvc *svc, const char *name);
/* 1 when `pointer` is one of the type's index pointers. */
int sam__hs_type_indexed(const sam__hs_type *t, const char *pointer);
/* The JSON type ("string", "boolean", "integer", ...) of a top-level
 * property of the type's schema: the first non-null one; NULL if unknown. */
const char *sam__hs_type_prop_type(const sam__hs_type *t, const char *prop);

/* ---- one call ---- */

typedef struct sam__hs_call sam__hs_call;
typedef void (*sam__hs_store_fn)(sam__hs_call *c,
                                 int status,
                                 const sam_store_result *res);
typedef void (*sam__hs_step_fn)(sam__hs_call *c, int status);

/* Path and query of a call, split. */
#define SAM__HS_MAX_SEGS 8

struct sam__hs_call {
  sam_hostsvc *svc;
  sam__hs_call *next; /* in-flight list */
  char *method;
  char *path;
  char *query;
  char *body;
  size_t body_len;
  char *actor;
  sam_hostsvc_cb cb;
  void *ud;
  char *segs[SAM__HS_MAX_SEGS]; /* decoded path segments (owned) */
  int n_segs;
  json_object *qs;  /* query parameters: name -> string (owned) */
  json_object *req; /* parsed body or NULL (owned) */
  int replied;

  /* the reply, kept until it is delivered on a later turn */
  int r_status;
  int r_http;
  const char *r_ctype;
  char *r_body;
  char *r_location;
  uint32_t r_retry_after;

  /* working state shared by the routes */
  json_object *profile; /* the sam_profile record (owned) */
  uint64_t profile_version;
  json_object *plugin;   /* registry entry of the profile's plugin (owned) */
  json_object *registry; /* whole registry (owned) */
  json_object *work;     /* route scratch (owned) */
  json_object *work2;    /* route scratch (owned) */
  char *cursor;
  int pending;
  int first_err;
  int step;
  int flag;
  uint64_t u64;
  char buf[128];
  char job_id[SAM_JOB_ID_LEN];
  sam__hs_step_fn then;
  sam_host *as;    /* store calls go through this handle when set */
  int job_running; /* job_id is a running action: cancelled on close */
  char *claim;     /* "<type>|<account key>" held in svc->claims */
};

/* ---- the service ---- */

typedef struct sam__hs_oauth_state {
  unsigned char hash[32]; /* SHA-256 of the state string */
  char *plugin;
  char *profile_id;
  uint64_t expires_ms; /* uv_now time */
} sam__hs_oauth_state;

struct sam_hostsvc {
  sam_runtime *rt;
  sam_sched *sched;
  uv_loop_t *loop;
  sam_host *host; /* pseudo-plugin handle for store and secret calls */
  const sam_host_api *api;
  char *public_url;
  char *redirect_uri;
  int test_mode;
  uint64_t oauth_ttl_ms;
  sam__hs_type *types;
  size_t n_types;
  sam__hs_call *calls; /* in flight */
  sam__hs_call *ready; /* replied, waiting for the next turn */
  sam__hs_call *ready_tail;
  uv_timer_t timer;
  int timer_open;
  int closing;
  void (*close_done)(void *ud);
  void *close_ud;
  json_object *claims; /* account keys of creates/updates in flight */
  sam__backend audit;  /* SQLite store for the audit log (vt NULL: none) */
  sam__hs_oauth_state *states;
  size_t n_states;
  size_t cap_states;
};

/* ---- replies (hostsvc.c) ---- */

/* A call made by the service itself (start-up work): in flight like any
 * other, answered through cb on a later turn. 0 or SAM_ENOMEM. */
int sam__hs_call_new(sam_hostsvc *svc,
                     const char *method,
                     const char *path,
                     sam_hostsvc_cb cb,
                     void *ud,
                     sam__hs_call **out);

/* Sets the reply of c (JSON object taken over, may be NULL = "{}") and
 * queues its delivery on a later turn. Idempotent: a second reply is
 * ignored. */
void sam__hs_reply_json(sam__hs_call *c, int http, json_object *body);
/* A 200 reply {"items": the records of res parsed (unreadable ones left
 * out), "next_cursor": res's or null}: one page of a store query. */
void sam__hs_reply_page(sam__hs_call *c, const sam_store_result *res);
/* When a store query of a page failed with SAM_EINVAL and the call gave
 * a cursor, replies that the cursor is not one of the list's (naming it)
 * and returns 1; else 0 and replies nothing. The store refuses a cursor
 * only with SAM_EINVAL; the list's other inputs are checked before. */
int sam__hs_reply_cursor_err(sam__hs_call *c, int status);
/* An error reply {"status","message","errors"?}; errors (taken over) may
 * be NULL. The message is printf-style. */
void sam__hs_reply_err(sam__hs_call *c,
                       int status,
                       json_object *errors,
                       const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
/* An HTML reply (text copied). */
void sam__hs_reply_html(sam__hs_call *c, int http, const char *html);
/* The status an action's outcome stands for (a cancel the service did not
 * request was the deadline: SAM_ETIMEDOUT). */
int sam__hs_outcome_status(sam__hs_call *c, int status);
/* The HTTP status for a SAM status (ABI.md 9.4's table). */
int sam__hs_http_status(int status);

/* ---- helpers (hostsvc_json.c) ---- */

/* Store calls through the service's host handle. fn runs exactly once,
 * later, unless the call returns a negative status. */
int sam__hs_get(sam__hs_call *c,
                const char *scope,
                const char *type,
                const char *key,
                sam__hs_store_fn fn);
int sam__hs_put(sam__hs_call *c,
                const char *scope,
                const char *type,
                const char *key,
                json_object *rec,
                uint64_t if_version,
                sam__hs_store_fn fn);
int sam__hs_query(sam__hs_call *c,
                  const char *scope,
                  const char *type,
                  json_object *filter,
                  const char *cursor,
                  uint32_t limit,
                  sam__hs_store_fn fn);
int sam__hs_del(sam__hs_call *c,
                const char *scope,
                const char *type,
                const char *key,
                uint64_t if_version,
                sam__hs_store_fn fn);
/* Parses JSON text; NULL when not JSON. */
json_object *sam__hs_parse(const char *s, size_t len);
/* Plain JSON text of o (borrowed from o). */
const char *sam__hs_text(json_object *o);
/* The string member k of o, or NULL. */
const char *sam__hs_str(json_object *o, const char *k);
/* Current UTC time as RFC 3339 ("2026-11-28T16:43:17Z"). */
void sam__hs_now(char out[32]);
/* 32 random lowercase hex digits; 0 or SAM_EIO. */
int sam__hs_random_hex(char out[33]);
/* Deep copy (NULL on ENOMEM). */
json_object *sam__hs_copy(json_object *o);
/* HTML-escapes s into a malloc'd string. */
char *sam__hs_html_escape(const char *s);
/* Percent-decodes (and '+' to space when form) into a malloc'd string. */
char *sam__hs_url_decode(const char *s, size_t len, int form);
/* Parses a query string into an object of strings. NULL when refused (a
 * parameter given twice, or a %00 in one: err says which) or on ENOMEM
 * (err ""). */
json_object *sam__hs_parse_query(const char *q, char *err, size_t err_len);

/* ---- registry (hostsvc_json.c) ---- */

/* Refreshes c->registry from the runtime. 0 or SAM_ENOMEM. */
int sam__hs_registry(sam__hs_call *c);
/* The registry entry of the plugin whose profile type is type_id (borrowed
 * from c->registry), or NULL. */
json_object *sam__hs_plugin_by_type(sam__hs_call *c, const char *type_id);
/* The registry entry of plugin `name`, or NULL. */
json_object *sam__hs_plugin_by_name(sam__hs_call *c, const char *name);
/* The action entry of a plugin with `flag` set (SAM_ACTION_*), or with id
 * `id` when id is non-NULL. Borrowed. */
json_object *
sam__hs_plugin_action(json_object *plugin, const char *id, uint32_t flag);

/* ---- forms (hostsvc_forms.c) ---- */

/* What a form submission turned into. */
typedef struct sam__hs_form {
  json_object *form;    /* non-secret fields after defaults (owned) */
  json_object *secrets; /* x-sam-secret name -> string (owned) */
  json_object *errors;  /* [{"pointer","message"}] (owned) or NULL */
  char *account_key;    /* from x-sam-ui "unique"; NULL = no check */
  int reset;            /* PATCH: a reset_on_change field changed */
  int process_cleared;  /* PATCH: an optional process was cleared */
} sam__hs_form;

/*
 * Validates a submitted form against the profile type's form schema
 * (plugin registry entry). old_form/old_secrets_set are NULL on create;
 * on PATCH the submission is merged over old_form. Returns 0 (see
 * f->errors for validation failures) or SAM_ENOMEM / SAM_EINVAL (the form
 * schema is unusable).
 */
int sam__hs_form_check(sam__hs_call *c,
                       json_object *plugin,
                       json_object *sub,
                       json_object *old_form,
                       json_object *old_secrets_set,
                       sam__hs_form *f);
void sam__hs_form_clear(sam__hs_form *f);
/* The profile's form schema (borrowed from the plugin entry) or NULL. */
json_object *sam__hs_form_schema(json_object *plugin);
/* Validates a plugin's profile_patch (only readOnly non-secret fields of
 * the form); errors (owned, may stay NULL) get per-field messages. */
int sam__hs_patch_check(json_object *plugin,
                        json_object *patch,
                        json_object *form,
                        json_object **errors);

/* ---- profiles (hostsvc_profiles.c) ---- */

void sam__hs_route_profiles(sam__hs_call *c);
/* A profile as the API shows it (secrets as {"set": bool}); new object. */
json_object *sam__hs_profile_view(json_object *profile, json_object *plugin);
/* The non-secret JSON the plugin receives (malloc'd text). */
char *sam__hs_profile_plugin_json(sam_hostsvc *svc, json_object *profile);
/* Loads profile `id` into c->profile (+ c->plugin) then calls then(c, st):
 * SAM_ENOENT when missing. */
int sam__hs_load_profile(sam__hs_call *c, const char *id, sam__hs_step_fn then);
/* Writes c->profile (updated_at set) with if_version c->profile_version,
 * then calls then(c, status). */
int sam__hs_save_profile(sam__hs_call *c, sam__hs_step_fn then);
/* Materializes the plugin's catalog and rule templates for c->profile,
 * then calls then(c, status). */
int sam__hs_materialize(sam__hs_call *c, sam__hs_step_fn then);

/* ---- actions and OAuth (hostsvc_actions.c, hostsvc_oauth.c) ---- */

void sam__hs_route_action(sam__hs_call *c, const char *action);
/* The checks before an action runs on c->profile, read with status: the
 * profile exists, its plugin is loaded, the host is not closing. Replies
 * and returns nonzero when one fails; 0 when the action may run. */
int sam__hs_action_ready(sam__hs_call *c, int status);
void sam__hs_route_publish(sam__hs_call *c);
/* Creates or updates the scheduled job of every process of c->profile's
 * type with the current profile JSON, then calls then(c, status) once
 * (also at once when the host has no scheduler). */
int sam__hs_ensure_jobs(sam__hs_call *c, sam__hs_step_fn then);
void sam__hs_route_oauth_redirect(sam__hs_call *c);
/* Creates a state bound to (plugin, profile) into out (44 bytes + NUL). */
int sam__hs_oauth_state_new(sam_hostsvc *svc,
                            const char *plugin,
                            const char *profile_id,
                            char out[64]);
/* Consumes a state: 0 with plugin/profile (malloc'd) or SAM_ENOENT
 * (unknown, used) / SAM_ETIMEDOUT (expired). */
int sam__hs_oauth_state_take(sam_hostsvc *svc,
                             const char *state,
                             char **plugin,
                             char **profile_id);
void sam__hs_oauth_states_free(sam_hostsvc *svc);

/* ---- lists, jobs, purges (hostsvc_lists.c, hostsvc_jobs.c,
 * hostsvc_purge.c) ---- */

void sam__hs_route_list(sam__hs_call *c);
/* (addition, issue 7) POST .../lists/subscriptions/{key}/restore: runs
 * the plugin's restore_subscription action (hostsvc_undo.c). */
void sam__hs_route_restore(sam__hs_call *c);
void sam__hs_route_jobs(sam__hs_call *c);
/* Deletes every record of `type` in `scope`, page by page, then calls
 * then(c, status). */
int sam__hs_purge_type(sam__hs_call *c,
                       const char *scope,
                       const char *type,
                       sam__hs_step_fn then);
/* Moves candidate `cand` to state `to` (open/closed_at follow) and appends
 * the history entry {at, from, to, actor, reason}. Strings are copied. */
void sam__hs_candidate_move(json_object *cand,
                            const char *to,
                            const char *actor,
                            const char *reason);
/* Sets every open candidate of profile pid to closed_skipped with a
 * history entry (actor = the call's actor), then calls then(c, status). */
int sam__hs_close_candidates(sam__hs_call *c,
                             const char *pid,
                             const char *reason,
                             sam__hs_step_fn then);

/* ---- secrets and plugin handles (hostsvc_secrets.c) ---- */

/* The running plugin instance called `name` (borrowed), or NULL. */
sam_host *sam__hs_plugin_handle(sam_hostsvc *svc, const char *name);

/* Deletes the plugin's stored tokens of profile pid (the names the form
 * schema's x-sam-ui "token_secrets" lists, plus "oauth_pending"), and with
 * all != 0 also the x-sam-secret form fields; then(c, status) runs once.
 * Uses c->plugin. */
int sam__hs_drop_secrets(sam__hs_call *c,
                         const char *pid,
                         int all,
                         sam__hs_step_fn then);

#endif /* SAM_HOSTSVC_INT_H */
