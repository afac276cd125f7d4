/*
 * sam_core.h: what the loader, the test host, the probe and samhost need
 * from the runtime (the host core) beyond the public sam_runtime.h.
 *
 * Thread: the runtime's loop thread for everything here.
 */
#ifndef SAM_CORE_H
#define SAM_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "sam_backend.h"

struct uv_loop_s;
typedef struct sam__keyring sam__keyring;

/* Plugin phases (ABI.md 8.4). */
enum {
  SAM__PHASE_LOADING = 0,
  SAM__PHASE_INIT,
  SAM__PHASE_RUNNING,
  SAM__PHASE_STOPPING,
  SAM__PHASE_STOPPED
};

typedef struct sam__runtime_config {
  struct uv_loop_s *loop;    /* borrowed */
  sam__backend backend;      /* the runtime closes it in sam_runtime_close */
  sam__keyring *keyring;     /* borrowed; seals secrets */
  sam_runtime_log_fn log_fn; /* receives redacted lines; may be NULL */
  void *log_ud;
  int test_mode;                 /* validate every write, record violations */
  uint64_t job_grace_ms;         /* C2 grace; 0 = 30000 */
  uint64_t shutdown_deadline_ms; /* 0 = 10000 */
  uint64_t action_timeout_ms;    /* 0 = 30000 */
} sam__runtime_config;

/* Creates a runtime. Ownership: *out is freed by sam_runtime_free after
 * sam_runtime_close has called its done callback. */
int sam__runtime_new(const sam__runtime_config *cfg, sam_runtime **out);
/* Stops new work, cancels jobs, shuts every running plugin down (async, with
 * the deadline), closes the backend and the runtime's handles; then calls
 * done(ud) on the loop. Returns immediately. */
void sam_runtime_close(sam_runtime *rt, void (*done)(void *ud), void *ud);
void sam_runtime_free(sam_runtime *rt);
struct uv_loop_s *sam_runtime_loop(sam_runtime *rt);

/* The static host API table every plugin receives. */
const sam_host_api *sam__host_api(void);

/*
 * Creates a plugin instance in phase LOADING. name/version/manifest_path are
 * copied. The instance belongs to the runtime.
 */
int sam__plugin_create(sam_runtime *rt,
                       const char *name,
                       const char *version,
                       const char *manifest_path,
                       sam_host **out);
/*
 * Moves the instance to phase INIT and calls init(api, host, args, ops_out,
 * err, err_len) with args built from config_json (may be NULL). Registrations
 * made during the call are staged. Returns what init returned; the copied
 * ops (when init returned 0) are kept in the instance. The host's redaction
 * is applied to err before this returns.
 */
int sam__plugin_run_init(sam_host *h,
                         sam_plugin_init_fn init,
                         const char *config_json,
                         char *err,
                         size_t err_len);
/*
 * Load step 16: checks the ops (non-NULL, struct_size >= v1.0, shutdown
 * set), exactly one profile type registered, no registration call failed.
 * On success publishes the staged registrations and moves to RUNNING. On
 * failure writes the reason into err, runs the plugin's async shutdown if it
 * has ops, rolls back, and returns SAM_EINVAL.
 */
int sam__plugin_post_init(sam_host *h, char *err, size_t err_len);
/* Undoes every staged registration in reverse order, calling each owned
 * ud_free exactly once; the registry is left as before the load. The
 * instance is marked STOPPED (kept as a tombstone, never freed early). */
void sam__plugin_rollback(sam_host *h);
int sam__plugin_phase(const sam_host *h);
const char *sam__plugin_name(const sam_host *h);

/* The registry as JSON text (malloc'd; caller frees): for each running
 * plugin its name, version, profile type (id, display name, form schema),
 * record types, processes, actions, models and rule templates. */
char *sam_runtime_registry_json(sam_runtime *rt);

/* ---- additions (core) ---- */

/* The first failed registration's message of h ("" when none), e.g.
 * "register_process: descriptor too short [struct_size=4] [v1.0=72]". The
 * loader may append it to an init failure. Borrowed from h. */
const char *sam__plugin_last_error(const sam_host *h);
/* 1 when the plugin missed a completion (C2) or its shutdown deadline. */
int sam__plugin_degraded(const sam_host *h);
/* Every contract violation recorded so far, one per line ("" when none).
 * Borrowed; valid until the next violation or sam_runtime_free. */
const char *sam__runtime_violations(sam_runtime *rt);
/* How many plugins missed their shutdown deadline during close. */
int sam__runtime_faulty_count(sam_runtime *rt);

#endif /* SAM_CORE_H */
