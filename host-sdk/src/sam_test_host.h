/*
 * sam_test_host.h: the test host (ABI.md 14.1). A runtime on a real libuv
 * loop with the in-memory backend and an ephemeral master key, which
 * validates every record written and records every contract violation
 * (C1-C7) so tests can assert on them. Plugin tests link it instead of the
 * reference host.
 *
 * Thread: the loop thread; the helpers below run the loop themselves until
 * what they wait for has happened.
 */
#ifndef SAM_TEST_HOST_H
#define SAM_TEST_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_loader.h"
#include "sam/sam_runtime.h"

struct uv_loop_s;

typedef struct sam_test_host sam_test_host;

/* Options; zero-initialise, then set what you need. */
typedef struct sam_test_host_opts {
  uint64_t job_grace_ms;         /* C2 grace after deadline/cancel; 0 = 30000 */
  uint64_t shutdown_deadline_ms; /* 0 = 10000 */
  uint32_t store_queue_max;      /* in-memory backend queue bound; 0 = 1024 */
} sam_test_host_opts;

/* Creates a test host on `loop` (borrowed). opts may be NULL. */
int sam_test_host_new(struct uv_loop_s *loop,
                      const sam_test_host_opts *opts,
                      sam_test_host **out);
sam_runtime *sam_test_host_runtime(sam_test_host *th);

/* Loads a plugin (sam_loader_load on the test host's runtime). */
int sam_test_host_load(sam_test_host *th,
                       const char *manifest_path,
                       const char *config_json,
                       sam_load_result *res);

/* The result of sam_test_host_run. Strings are owned by the test host until
 * the next run or sam_test_host_free. */
typedef struct sam_test_run {
  int status;      /* what the job completed with */
  int completions; /* how many job_complete calls the job received */
  const char *job_id;
  const char *message;     /* redacted */
  const char *result_json; /* redacted; may be NULL */
} sam_test_run;

/*
 * Starts a process (kind SAM_JOB_PROCESS) or action (SAM_JOB_ACTION) `id` of
 * the plugin's profile type for profile `profile_id` with the given
 * non-secret profile JSON and params (may be NULL), and runs the loop until
 * it completes or the deadline plus grace passes. timeout_ms 0 = the
 * descriptor's. cancel_after_ms > 0 cancels the job that long after its
 * start ran (a job cancelled before it started would complete with
 * SAM_ECANCELED without start being called).
 */
int sam_test_host_run(sam_test_host *th,
                      int kind,
                      const char *id,
                      const char *profile_id,
                      const char *profile_json,
                      const char *params_json,
                      uint32_t job_flags,
                      uint64_t timeout_ms,
                      uint64_t cancel_after_ms,
                      sam_test_run *out);

/* Seals a secret as the host does for a submitted x-sam-secret form field. */
int sam_test_host_set_secret(sam_test_host *th,
                             const char *profile_id,
                             const char *name,
                             const char *value);

/* Runs the loop until nothing is ready (but never blocks on live handles). */
void sam_test_host_drain(sam_test_host *th);

/* Every log line so far (redacted), one per line, NUL-terminated. */
const char *sam_test_host_log(sam_test_host *th);
/* Every contract violation so far, one per line ("" when none). */
const char *sam_test_host_violations(sam_test_host *th);
/* The registry as JSON text (profile types, record types, processes,
 * actions, models, rule templates per plugin). Owned by the test host. */
const char *sam_test_host_registry_json(sam_test_host *th);

/*
 * Stops the runtime: cancels running jobs, runs every plugin's async
 * shutdown, closes the backend, and runs the loop until all is done.
 * Returns 0, or SAM_ETIMEDOUT when a plugin missed the shutdown deadline
 * (that plugin is logged as faulty).
 */
int sam_test_host_shutdown(sam_test_host *th);
/* Frees; call after sam_test_host_shutdown. The caller then runs its loop
 * to completion and asserts uv_loop_close(loop) == 0. */
void sam_test_host_free(sam_test_host *th);

/* ---- additions (core) ---- */

struct sam__backend;
/* The test host's in-memory backend (borrowed), for tests that tamper with
 * stored data (sam_backend_memory.h). Valid until shutdown. */
struct sam__backend *sam_test_host_backend(sam_test_host *th);

#endif /* SAM_TEST_HOST_H */
