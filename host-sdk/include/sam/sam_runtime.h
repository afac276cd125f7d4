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
typedef void (*sam_runtime_log_fn)(void *ud, int32_t level, const char *plugin,
                                   const char *job_id, const char *line);

/* Outcome of a job started by the host. Strings borrowed during the call. */
typedef struct sam_job_outcome {
  int32_t status;
  int32_t reserved0;
  const char *job_id;
  const char *message;     /* redacted; may be "" */
  const char *result_json; /* redacted; may be NULL */
  size_t result_len;
} sam_job_outcome;

typedef void (*sam_job_done_fn)(const sam_job_outcome *o, void *ud);
typedef void (*sam_job_progress_fn)(const char *job_id, uint64_t done,
                                    uint64_t total, const char *msg, void *ud);

#ifdef __cplusplus
}
#endif

#endif /* SAM_RUNTIME_H */
