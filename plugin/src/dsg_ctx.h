/*
 * dsg_ctx.h: the plugin's context, one per loaded plugin, and the tracking
 * of open jobs and host operations that asynchronous shutdown needs
 * (ABI.md 13.3).
 */
#ifndef DSG_CTX_H
#define DSG_CTX_H

#include <stddef.h>

#include <uv.h>

#include "sam/sam_plugin.h"

#include "dsg_config.h"
#include "dsg_http.h"

typedef struct dsg_ctx dsg_ctx;
typedef struct dsg_job_ref dsg_job_ref;
typedef struct dsg_op_ref dsg_op_ref;
typedef struct dsg_profile dsg_profile; /* per-profile tokens (dsg_token.c) */

/* An accepted job that has not completed yet. Embedded in the job's state. */
struct dsg_job_ref {
  dsg_job_ref *next;
  dsg_job_ref *prev;
  sam_job *job;
  /* Called once at shutdown: stop the job's work and make it complete with
   * SAM_ECANCELED (now or later), untracking it when it does. */
  void (*abort)(dsg_job_ref *ref);
};

/* A queued store or secret operation whose callback has not run yet. */
struct dsg_op_ref {
  dsg_op_ref *next;
  dsg_op_ref *prev;
  sam_op *op; /* from the call's op_out; valid until the callback returns */
};

struct dsg_ctx {
  const sam_host_api *api;
  sam_host *host;
  uv_loop_t *loop;
  sam_plugin_ops ops; /* *ops_out points here */
  sam_profile_type *pt;
  dsg_config cfg;
  dsg_http *http;
  dsg_job_ref *jobs;
  dsg_op_ref *host_ops;
  size_t pending_ops;
  dsg_profile *profiles; /* token cache per profile; freed at ctx_free */
  int curl_inited;       /* our curl_global_init succeeded */
  int stopping;          /* shutdown began: start no new work */
  int finish_armed;      /* shutdown may complete once nothing is open */
  int http_closing;
  sam_done *done;
};

/*
 * Tracks an accepted job until it completes, so shutdown can abort it.
 * Thread: loop thread. Ownership: ref stays the caller's; it must stay alive
 * until dsg_job_untrack.
 */
void dsg_job_track(dsg_ctx *ctx, dsg_job_ref *ref);

/*
 * Untracks a job right after its job_complete. While the plugin is
 * stopping, this may continue the shutdown (and free ctx): touch nothing of
 * ctx after it. Thread: loop thread.
 */
void dsg_job_untrack(dsg_ctx *ctx, dsg_job_ref *ref);

/*
 * Tracks a store or secret operation the host accepted (its call returned
 * 0); shutdown cancels it and waits for its callback. Thread: loop thread.
 */
void dsg_op_track(dsg_ctx *ctx, dsg_op_ref *ref);

/*
 * Untracks an operation as the last step of its callback. While the
 * plugin is stopping, this may continue the shutdown (and free ctx): touch
 * nothing of ctx after it. Thread: loop thread.
 */
void dsg_op_untrack(dsg_ctx *ctx, dsg_op_ref *ref);

#endif /* DSG_CTX_H */
