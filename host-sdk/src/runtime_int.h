/*
 * runtime_int.h: what the files of the host core share (runtime.c,
 * registry.c, jobs.c, post.c, redact.c, ops.c, ops_secret.c). Nothing here
 * is used outside the core; other parts include sam_core.h.
 *
 * Thread: the runtime's loop thread, except where a function says
 * otherwise (post queue, op completion queue).
 */
#ifndef SAM_RUNTIME_INT_H
#define SAM_RUNTIME_INT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "sam_backend.h"
#include "sam_core.h"
#include "sam_schema.h"

#define SAM__MAGIC_RT 0x53524e54u   /* "SRNT" */
#define SAM__MAGIC_HOST 0x53484f53u /* "SHOS" */
#define SAM__MAGIC_PT 0x53505459u
#define SAM__MAGIC_DONE 0x53444f4eu
#define SAM__MAGIC_JOB 0x534a4f42u
#define SAM__MAGIC_OP 0x534f5021u
#define SAM__MAGIC_DEAD 0xdeadbeefu

#define SAM__ID_MAX 64
#define SAM__PROCESS_TIMEOUT_DEFAULT_MS (6ull * 3600 * 1000)
#define SAM__PROGRESS_INTERVAL_MS 250
#define SAM__POST_BATCH 256
#define SAM__QUERY_LIMIT_DEFAULT 100
#define SAM__QUERY_LIMIT_MAX 1000

/* ---- deferred tasks: "on a later loop turn" (C4) ---- */

typedef struct sam__task sam__task;
typedef void (*sam__task_fn)(sam__task *t);
struct sam__task {
  sam__task *next;
  sam__task_fn fn;
  void *owner;
  int queued;
};

/* Queues t (once; queuing a queued task does nothing). t->fn(t) runs on a
 * later loop iteration, never inside this call. */
void sam__defer(sam_runtime *rt, sam__task *t);

/* ---- registry ---- */

enum {
  SAM__REG_PROFILE_TYPE = 1,
  SAM__REG_RECORD_TYPE,
  SAM__REG_PROCESS,
  SAM__REG_ACTION,
  SAM__REG_MODEL,
  SAM__REG_TEMPLATE,
  SAM__REG_FAILED /* only holds the ud of a failed registration */
};

/* One registration, deep-copied. Which fields are used depends on kind. */
typedef struct sam__reg {
  int kind;
  sam_host *host; /* NULL for host-owned record types */
  char *id;
  char *display_name;
  char *json; /* form schema, record schema, input schema, model, rule */
  size_t json_len;
  uint32_t flags;
  uint32_t version; /* form_schema_version, schema_version, template_ver */
  uint64_t timeout_ms;
  char *key_pointer;
  char **indexes;
  uint32_t n_indexes;
  sam__schema *schema;
  char **secret_fields; /* profile type: x-sam-secret field names */
  size_t n_secret_fields;
  sam_start_fn start;
  sam_cancel_fn cancel;
  void *ud;
  sam_free_fn ud_free;
} sam__reg;

struct sam_profile_type {
  uint32_t magic;
  sam_host *host;
};

struct sam_done {
  uint32_t magic;
  sam_host *host;
  int used;
};

typedef struct sam__reg_list {
  sam__reg **v;
  size_t n;
  size_t cap;
} sam__reg_list;

struct sam_host {
  uint32_t magic;
  sam_runtime *rt;
  sam_host *next;
  char *name;
  char *version;
  char *manifest_path;
  int phase;
  int in_init;   /* inside sam_plugin_init_v1 */
  int published; /* registrations visible */
  int degraded;
  int faulty;
  int n_failed_regs;
  char reg_err[256]; /* the first failed registration */
  int has_ops;
  sam_plugin_ops ops;
  sam_profile_type pt;
  int n_profile_types;
  sam__reg_list regs; /* in registration order, failed ones included */
  sam__reg_list late; /* uds of registrations refused after init */
  int uds_pending;    /* regs to free once shutdown_done arrived */
  int uds_freed;
  sam_done done;
  int shutdown_called;
  int shutdown_finished;
  sam__task after_shutdown;
};

/* The registration of kind/id of a published plugin (h may be NULL: any
 * plugin), or NULL. */
sam__reg *
sam__registry_find(sam_runtime *rt, sam_host *h, int kind, const char *id);
/* The record type `name` as seen by plugin h: its own (staged or
 * published) or a host-owned sam_ type; NULL when unknown. */
sam__reg *
sam__registry_record_type(sam_runtime *rt, sam_host *h, const char *name);
/* Is `name` an x-sam-secret field of h's profile type? */
int sam__registry_is_form_secret(sam_host *h, const char *name);
/* Calls the owned ud_frees of h (reverse order), once. */
void sam__registry_free_uds(sam_host *h);
/* Frees every registration of h and the host-owned types (runtime free). */
void sam__registry_free_all(sam_runtime *rt);
void sam__reg_free(sam__reg *r);
int sam__id_valid(const char *id, size_t max);

/* ---- jobs ---- */

enum {
  SAM__JOB_QUEUED = 1,
  SAM__JOB_STARTING,
  SAM__JOB_RUNNING,
  SAM__JOB_COMPLETED,
  SAM__JOB_TIMEDOUT
};

struct sam_job {
  uint32_t magic;
  sam_runtime *rt;
  sam_host *h;
  sam__reg *reg;
  sam_job *next;
  char id[SAM_JOB_ID_LEN];
  int32_t kind;
  int state;
  uint32_t flags;
  uint64_t timeout_ms;
  uint64_t deadline_ms;
  char *profile_id;
  char *profile_json;
  size_t profile_len;
  char *params_json;
  size_t params_len;
  char *redirect_uri;
  char *oauth_state;
  char *oauth_code;
  sam_job_done_fn done_fn;
  sam_job_progress_fn progress_fn;
  void *ud;
  int in_start;
  int completions;
  int cancel_requested;
  int cancel_sent;
  int status;
  char *message;
  char *result;
  size_t result_len;
  void *data;
  sam_free_fn data_free;
  int progress_pending;
  uint64_t p_done;
  uint64_t p_total;
  char *p_msg;
  uint64_t p_last;
  uv_timer_t timer;
  int timer_open;
  int timer_grace; /* the timer runs the grace period */
  int finished;    /* done_fn called */
  sam__task start_task;
  sam__task cancel_task;
  sam__task finish_task;
};

/* Cancels every job (shutdown). */
void sam__jobs_cancel_all(sam_runtime *rt);
/* Number of jobs not yet finished. */
size_t sam__jobs_open(sam_runtime *rt);
/* Records every open job as SAM_ETIMEDOUT (drain deadline passed). */
void sam__jobs_expire_all(sam_runtime *rt);
/* Calls the job data free_fns still pending (after shutdown). */
void sam__jobs_free_data(sam_runtime *rt);
/* Closes the job timers still open. */
void sam__jobs_close_handles(sam_runtime *rt);
/* Frees every job and tombstone (runtime free). */
void sam__jobs_free_all(sam_runtime *rt);
/* Flushes coalesced progress (progress timer). */
void sam__jobs_flush_progress(sam_runtime *rt);
/* The job if `job` is a live or tombstoned job of rt, else NULL. */
sam_job *sam__job_check(sam_job *job);

/* ---- ops ---- */


enum { SAM__OP_PENDING = 0, SAM__OP_RUNNING, SAM__OP_CANCELLED };

struct sam_op {
  uint32_t magic;
  sam_runtime *rt;
  sam_host *h; /* NULL for host-side ops */
  sam_op *next;
  int is_secret;
  int secret_kind; /* SAM__REQ_BLOB_* */
  sam_store_cb store_cb;
  sam_secret_cb secret_cb;
  sam_runtime_secret_cb host_cb;
  void *ud;
  atomic_int state;
  int delivering;
  sam__req req;
};

/* Delivers a finished secret op to its callback (opens BLOB_GET). */
void sam__secret_deliver(sam_op *op, int status);
/* How long one loop turn spends calling back finished store and secret
 * ops before it leaves the rest to the next turn (at least one op a turn). */
#define SAM__OPS_TURN_BUDGET_NS 1000000u

/*
 * Loop thread: delivers the finished ops queued by sam__req_done, in
 * order. With all = 0 a turn stops after SAM__OPS_TURN_BUDGET_NS and
 * re-arms done_async for the rest; all = 1 (close) delivers everything.
 */
void sam__ops_deliver(sam_runtime *rt, int all);
/* Drops every finished op without calling back (final close). */
void sam__ops_drop_all(sam_runtime *rt);
void sam__op_free(sam_op *op);
/* Submits op->req to the backend; counts it as pending. */
int sam__op_submit(sam_op *op);
/* A new op (zeroed, magic set) or NULL. */
sam_op *sam__op_new(sam_runtime *rt, sam_host *h, int kind);

/* ---- post ---- */

typedef struct sam__post_item sam__post_item;
struct sam__post_item {
  sam__post_item *next;
  sam_post_fn fn;
  void *ud;
};

/* Runs up to SAM__POST_BATCH queued posts (async callback). */
void sam__post_run(sam_runtime *rt, int all);
/* Refuses further posts (shutdown began). Any thread. */
void sam__post_close(sam_runtime *rt);

/* ---- redaction ---- */

typedef struct sam__strset {
  char **v;
  size_t *len;
  size_t n;
  size_t cap;
} sam__strset;

/* Adds a plaintext (>= 8 bytes) to the known-values set. */
void sam__redact_add_value(sam_runtime *rt, const char *v, size_t len);
/* Adds a key name (x-sam-secret field) to the redacted keys. */
void sam__redact_add_key(sam_runtime *rt, const char *name);
/* Redacts len bytes of text; malloc'd result or NULL (ENOMEM). */
char *sam__redact(sam_runtime *rt, const char *text, size_t len);
/* Wipes and frees a set. */
void sam__strset_free(sam__strset *s);

/* ---- the runtime ---- */

struct sam_runtime {
  uint32_t magic;
  uv_loop_t *loop;
  uv_thread_t loop_thread;
  sam__backend backend;
  int backend_open;
  sam__keyring *keyring;
  sam_runtime_log_fn log_fn;
  void *log_ud;
  int test_mode;
  uint64_t job_grace_ms;
  uint64_t shutdown_deadline_ms;
  uint64_t action_timeout_ms;

  sam_host *plugins;
  sam_host **plugins_tail;
  sam__reg_list host_types;
  sam_job *jobs;

  uv_idle_t idle;
  sam__task *tq_head;
  sam__task *tq_tail;

  uv_mutex_t post_mu;
  uv_async_t post_async;
  sam__post_item *post_head;
  sam__post_item *post_tail;
  int post_closed;

  uv_mutex_t done_mu;
  /* Finished ops wake the loop through an eventfd polled by the loop,
   * not a uv_async_t: libuv 1.44's loop spins (sched_yield) on an async
   * whose sender is between its two steps, and the store worker (nice
   * +10), preempted there, kept the loop spinning for milliseconds
   * (bench-download --stall-stacks). A write to an eventfd is one step.
   * Written outside done_mu, so the loop never waits on that lock for a
   * preempted writer either. */
  uv_poll_t done_poll;
  int done_fd;
  sam_op *done_head;
  sam_op *done_tail;
  size_t ops_pending; /* submitted, callback not yet delivered */

  uv_timer_t progress_timer;
  int progress_armed;

  sam__strset secrets;     /* known secret values */
  sam__strset secret_keys; /* x-sam-secret field names */

  char *violations;
  size_t vlen;
  size_t vcap;

  int stopping;
  int close_stage;
  int closing_timer_expired;
  uv_timer_t shutdown_timer;
  sam__task close_task;
  void (*close_done)(void *ud);
  void *close_ud;
  int faulty_count;
  int open_handles;
  int closed;
};

/* Logs a line (already redacted or host-made) to the runtime's log_fn. */
void sam__log(sam_runtime *rt,
              int32_t level,
              const char *plugin,
              const char *job_id,
              const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));
/* Records a contract violation: logged, kept for the test host, and in a
 * debug build outside test mode it aborts. */
void sam__violation(sam_runtime *rt, const char *plugin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks the caller is on the loop thread; records a violation if not.
 * Returns 0 on the loop thread, else SAM_EBUSY. */
int sam__on_loop(sam_runtime *rt, const char *fn);
/* Validates a sam_host pointer from a plugin; NULL when it is not one. */
sam_host *sam__host_check(sam_host *h);
/* A handle counted in rt->open_handles finished closing. */
void sam__runtime_handle_closed(sam_runtime *rt);
/* Called when something the close sequence waits for has happened. */
void sam__runtime_kick_close(sam_runtime *rt);
/* malloc'd copies, NULL-safe on input (NULL in, NULL out). */
char *sam__strdup(const char *s);
char *sam__strndup(const char *s, size_t n);
/* 32 random lowercase hex digits + NUL. */
int sam__random_id(char out[SAM_JOB_ID_LEN]);

/*
 * The host API table's functions (sam_plugin.h documents each one; the
 * table is built in runtime.c). All run on the loop thread except
 * sam__api_post. Plugin strings are copied (and redacted where ABI.md 9.8
 * says so) before they return; callbacks never run inside them.
 */
int sam__api_post(sam_host *host, sam_post_fn fn, void *ud);
void sam__api_shutdown_done(sam_done *done);
int sam__api_register_profile_type(sam_host *host,
                                   const sam_profile_type_desc *d,
                                   sam_profile_type **out);
int sam__api_register_record_type(sam_host *host,
                                  sam_profile_type *pt,
                                  const sam_record_type_desc *d);
int sam__api_register_process(sam_host *host,
                              sam_profile_type *pt,
                              const sam_process_desc *d);
int sam__api_register_model(sam_host *host,
                            sam_profile_type *pt,
                            const sam_model_desc *d);
int sam__api_register_rule_template(sam_host *host,
                                    sam_profile_type *pt,
                                    const sam_rule_template_desc *d);
int sam__api_register_action(sam_host *host,
                             sam_profile_type *pt,
                             const sam_action_desc *d);
int sam__api_job_set_data(sam_job *job, void *data, sam_free_fn free_fn);
int sam__api_job_progress(sam_job *job,
                          uint64_t done,
                          uint64_t total,
                          const char *msg);
int sam__api_job_complete(sam_job *job,
                          int status,
                          const char *msg,
                          const char *result_json,
                          size_t result_len);
int sam__api_store_get(sam_host *host,
                       const char *profile_id,
                       const char *record_type,
                       const char *key,
                       sam_store_cb cb,
                       void *ud,
                       sam_op **op_out);
int sam__api_store_put_batch(sam_host *host,
                             const char *profile_id,
                             const char *record_type,
                             const sam_record *recs,
                             size_t n,
                             sam_store_cb cb,
                             void *ud,
                             sam_op **op_out);
int sam__api_store_query(sam_host *host,
                         const char *profile_id,
                         const char *record_type,
                         const char *filter_json,
                         const char *cursor,
                         uint32_t limit,
                         sam_store_cb cb,
                         void *ud,
                         sam_op **op_out);
int sam__api_store_delete(sam_host *host,
                          const char *profile_id,
                          const char *record_type,
                          const char *key,
                          uint64_t if_version,
                          sam_store_cb cb,
                          void *ud,
                          sam_op **op_out);
int sam__api_op_cancel(sam_op *op);
int sam__api_secret_put(sam_host *host,
                        const char *profile_id,
                        const char *name,
                        const char *value,
                        size_t len,
                        sam_secret_cb cb,
                        void *ud,
                        sam_op **op_out);
int sam__api_secret_get(sam_host *host,
                        const char *profile_id,
                        const char *name,
                        sam_secret_cb cb,
                        void *ud,
                        sam_op **op_out);
void sam__api_log_write(
    sam_host *host, sam_job *job, int32_t level, const char *msg, size_t len);

#endif /* SAM_RUNTIME_INT_H */
