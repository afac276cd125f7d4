/*
 * sam_runtime.h: the host side of the ABI, for programs that embed
 * libsamhost (the reference host `samhost`, the test host, the probe).
 *
 * A runtime owns: the loop it was given (borrowed), the registry of loaded
 * plugins and their registrations, the jobs, the post() queue, log redaction,
 * and a storage backend. Everything runs on the loop thread.
 */
#ifndef SAM_RUNTIME_H
#define SAM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_plugin.h"
#include "sam/sam_loader.h"

#ifdef __cplusplus
extern "C" {
#endif

struct uv_loop_s;

/* A log line after redaction. `plugin` and `job_id` may be NULL. */
typedef void (*sam_runtime_log_fn)(void *ud,
                                   int32_t level,
                                   const char *plugin,
                                   const char *job_id,
                                   const char *line);

/* Outcome of a job started by the host. Strings borrowed during the call. */
typedef struct sam_job_outcome {
  int32_t status;
  int32_t completions; /* job_complete calls seen so far (0: host completed) */
  const char *job_id;
  const char *message;     /* redacted; may be "" */
  const char *result_json; /* redacted; may be NULL */
  size_t result_len;
} sam_job_outcome;

typedef void (*sam_job_done_fn)(const sam_job_outcome *o, void *ud);
typedef void (*sam_job_progress_fn)(const char *job_id,
                                    uint64_t done,
                                    uint64_t total,
                                    const char *msg,
                                    void *ud);


/* Length of a job id buffer: 32 lowercase hex digits and the NUL. */
#define SAM_JOB_ID_LEN 33

/*
 * What the host asks the runtime to run: one process or action of a
 * loaded plugin's profile type, for one profile. Every string is borrowed
 * for the call only (the runtime copies it). Zero-initialise, then fill.
 */
typedef struct sam_job_request {
  int32_t kind;       /* SAM_JOB_PROCESS or SAM_JOB_ACTION */
  uint32_t flags;     /* SAM_JOB_DRY_RUN (needs SAM_PROC_DRY_RUN) */
  const char *plugin; /* plugin name; NULL = the first plugin that has `id` */
  const char *id;     /* process_id or action_id */
  const char *profile_id;
  const char *profile_json; /* non-secret profile fields; may be NULL */
  size_t profile_len;
  const char *params_json; /* may be NULL */
  size_t params_len;
  const char *redirect_uri; /* OAuth actions only; may be NULL */
  const char *oauth_state;  /* OAuth actions only; may be NULL */
  const char *oauth_code;   /* OAuth callback only (a secret); may be NULL */
  uint64_t timeout_ms;      /* 0 = the descriptor's, else the host default */
  sam_job_done_fn done;     /* required; exactly once, on a later turn */
  sam_job_progress_fn progress; /* may be NULL; coalesced (<= 4 per second) */
  void *ud;
} sam_job_request;

/*
 * Starts a job. The plugin's start runs on a later loop turn (never inside
 * this call). When it returns 0, `done` runs exactly once on the loop
 * thread with the outcome (also when start rejects the job, when it is
 * cancelled before it started, or when the plugin never completes it: then
 * with SAM_ETIMEDOUT after the deadline plus the grace period). `progress`
 * runs zero or more times before `done`, never after.
 *
 * Thread:    loop thread.
 * Ownership: `req` and its strings are borrowed for the call. job_id_out
 *            (may be NULL) receives the job's id (SAM_JOB_ID_LEN bytes).
 * Returns:   0; SAM_ENOENT when no running plugin has that process/action;
 *            SAM_EINVAL for a bad request (kind, missing done or profile,
 *            DRY_RUN on a process without SAM_PROC_DRY_RUN); SAM_EBUSY once
 *            the runtime is stopping; SAM_ENOMEM. `done` never runs then.
 */
int sam_runtime_job_start(sam_runtime *rt,
                          const sam_job_request *req,
                          char *job_id_out);

/*
 * Asks a job to stop (a user action). The plugin's cancel runs at most
 * once, on a later loop turn, and never after the job completed; the job
 * still completes through `done`. A job not yet started completes with
 * SAM_ECANCELED without its start being called.
 *
 * Thread:    loop thread.
 * Returns:   0 (also when the cancel was already requested); SAM_ENOENT
 *            for an unknown or finished job; SAM_ENOTSUP for a process
 *            without SAM_PROC_CANCELLABLE (it runs until its deadline).
 */
int sam_runtime_job_cancel(sam_runtime *rt, const char *job_id);

/*
 * Cancels every unfinished job of `profile_id` (the profile is being
 * deleted), with the same rules as sam_runtime_job_cancel; processes
 * without SAM_PROC_CANCELLABLE are left to run to their deadline.
 * Thread: loop thread. Returns how many jobs were asked to stop (>= 0), or
 * SAM_EINVAL.
 */
int sam_runtime_job_cancel_profile(sam_runtime *rt, const char *profile_id);

/*
 * The jobs not yet finished, as JSON text: [{"job_id", "plugin", "id",
 * "kind", "profile_id", "state", "cancel_requested", "progress": {"done",
 * "total", "msg"}}]. Thread: loop thread. Ownership: malloc'd, the caller
 * frees it. Returns NULL when out of memory.
 */
char *sam_runtime_jobs_json(sam_runtime *rt);

/*
 * The registry as JSON text (malloc'd; caller frees; NULL on ENOMEM): for
 * each running plugin its name, version, degraded flag, profile type (id,
 * display name, form schema, secret fields), record types, processes,
 * actions, models and rule templates; plus the host-owned record types.
 * Thread: loop thread.
 */
char *sam_runtime_registry_json(sam_runtime *rt);

/*
 * Registers a host-owned record type (its name must start with "sam_"),
 * which every plugin may read and write through the store. The descriptor
 * is deep-copied and validated like a plugin's (schema compiled, key and
 * index pointers checked); its flags may ask for SAM_RECORD_VALIDATE_WRITES.
 *
 * Thread:    loop thread, before or after plugins are loaded.
 * Returns:   0, SAM_EINVAL (bad descriptor or schema, name without the
 *            "sam_" prefix), SAM_EEXIST (name taken), SAM_EBUSY (stopping),
 *            SAM_ENOMEM. err (may be NULL) receives the reason.
 */
int sam_runtime_register_record_type(sam_runtime *rt,
                                     const sam_record_type_desc *d,
                                     char *err,
                                     size_t err_len);

/* Completion of a host-side secret write. */
typedef void (*sam_runtime_secret_cb)(int status, void *ud);

/*
 * Seals `value` as the x-sam-secret form field `name` of profile
 * `profile_id` (the HTTP form handler and the test host call this; the
 * plugin may only read such fields). A NULL value with len 0 deletes it.
 * The value is copied and sealed before this returns; the plaintext joins
 * the redaction set.
 *
 * Thread:    loop thread.
 * Callbacks: cb (may be NULL) runs exactly once on a later loop turn.
 * Returns:   0 (queued), SAM_EINVAL (bad name), SAM_EAGAIN (store queue
 *            full), SAM_EBUSY (stopping), SAM_ENOMEM, SAM_EIO (seal).
 */
int sam_runtime_set_form_secret(sam_runtime *rt,
                                const char *profile_id,
                                const char *name,
                                const char *value,
                                size_t len,
                                sam_runtime_secret_cb cb,
                                void *ud);

/*
 * Redacts free text as the runtime does for every plugin string (ABI.md
 * 9.8): known secret values, Authorization/Bearer/Basic values, secret JSON
 * keys and URL parameters become "[redacted]". Thread: loop thread.
 * Ownership: returns malloc'd text (caller frees), NULL on ENOMEM.
 */
char *sam_runtime_redact(sam_runtime *rt, const char *text, size_t len);

/*
 * The host's own pseudo-plugin handle, for host code (scheduler, service
 * layer) that reads and writes records through the same async store API
 * as plugins: sam__host_api()->store_get/put_batch/query/delete with this
 * handle. It is created on first use in phase RUNNING, is named "host" in
 * logs, never appears in the registry JSON, owns no registrations and is
 * freed by sam_runtime_free. Every call returns the same handle.
 *
 * Thread:    loop thread.
 * Ownership: the runtime owns the handle.
 * Returns:   the handle, or NULL when out of memory or once the runtime is
 *            stopping (and no handle was made before).
 */
sam_host *sam_runtime_host_handle(sam_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif /* SAM_RUNTIME_H */
