/*
 * sched_int.h: what the scheduler's files share (sched.c: the job table,
 * the timer, start and close; sched_results.c: record writers, runs, their
 * job results and progress). Nothing here is used outside the scheduler.
 *
 * Thread: the runtime's loop thread for everything.
 */
#ifndef SAM_SCHED_INT_H
#define SAM_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "sam_core.h"
#include "sam_sched.h"

#define SAM__SCHED_NONE INT64_MIN   /* no instant (JSON null) */
#define SAM__SCHED_PROGRESS_MS 1000 /* result record progress: <= 1 per s */
#define SAM__SCHED_RETRY_MS 10      /* after SAM_EAGAIN from the store */

typedef struct sam__sched_job sam__sched_job;
typedef struct sam__sched_run sam__sched_run;
typedef struct sam__sched_writer sam__sched_writer;
typedef struct sam__sched_waiter sam__sched_waiter;

/* A callback waiting for a record to be settled (written or deleted). */
struct sam__sched_waiter {
  sam__sched_waiter *next;
  void (*cb)(int status, void *ud);
  void *ud;
};

/*
 * Writes one record, one operation at a time (the store gives no order
 * between operations, C6): a write asked for while one is in flight is
 * coalesced into one more write of the latest state after it. A delete
 * waits for the write in flight and drops the pending one. When nothing is
 * in flight or pending, `settled(owner, status)` runs (status of the last
 * operation).
 */
struct sam__sched_writer {
  sam_sched *s;
  const char *type;             /* record type, static */
  const char *key;              /* borrowed from the owner */
  char *(*render)(void *owner); /* malloc'd JSON, NULL on ENOMEM */
  void (*settled)(void *owner, int status);
  void *owner;
  int inflight;
  int dirty;
  int want_delete;
  int retry;    /* the store said SAM_EAGAIN: the timer retries */
  int deleting; /* the operation in flight is the delete */
  int fail_rc;  /* a call failed at once: the timer settles with it */
  int status;   /* of the last operation */
};

struct sam__sched_job {
  sam__sched_job *next;
  sam_sched *s;
  char *key; /* "<profile_id>:<process_id>" */
  char *profile_id;
  char *process_id;
  char *plugin; /* NULL = the first plugin with process_id */
  char *display_name;
  char *name;
  char *profile_json; /* NULL until ensured or read from sam_profile */
  char *params_json;
  uint32_t spread_s;
  uint32_t deadline_s;
  int active;
  int removed;    /* deleted; freed once its run and writer are done */
  int from_store; /* loaded at start */
  int64_t next_run_at;
  int64_t last_run_at;
  int64_t stored_next_run_at; /* as read at start, for catch-up */
  char last_job_id[SAM_JOB_ID_LEN];
  sam__sched_run *run;
  sam__sched_writer w;
  sam__sched_waiter *waiters;
};

struct sam__sched_run {
  sam__sched_run *next;
  sam_sched *s;
  sam__sched_job *job;
  char id[SAM_JOB_ID_LEN];
  char trigger[16];
  uint32_t flags;
  int64_t started_at;
  int64_t ended_at;
  int finished; /* the runtime's done arrived */
  int status;
  char *message;
  char *result_json;
  int has_progress;
  uint64_t p_done;
  uint64_t p_total;
  char *p_msg;
  int64_t p_at;
  int progress_dirty;
  uint64_t progress_next_uv; /* earliest loop time for the next write */
  uint64_t deadline_uv;
  uint64_t deadline_ms;
  int deadline_hit;
  int cancel_requested; /* by a user, removal, the deadline or close */
  sam_sched_done_fn done;
  void *done_ud;
  sam__sched_writer w;
};

typedef struct sam__sched_chain {
  char *from;
  char *to;
  char *field;
} sam__sched_chain;

struct sam_sched {
  sam_runtime *rt;
  sam_host *host; /* sam_runtime_host_handle */
  uv_loop_t *loop;
  sam_sched_now_fn now;
  void *now_ud;
  double scale;
  int64_t t0_real; /* scaled clock origin */
  int64_t t0_virtual;
  char daily_at[6];
  uint32_t at_s;
  uint32_t spread_window_s;
  uint64_t default_deadline_ms;
  int catch_up;

  sam__sched_job *jobs;
  sam__sched_run *runs;
  sam__sched_chain *chains;
  size_t n_chains;

  uv_timer_t timer;
  int timer_open;
  size_t ops_inflight;
  int in_tick;

  int starting; /* loading from the store */
  int started;
  size_t start_pending;
  int start_status;
  int start_retry; /* the store said SAM_EAGAIN to the load's query */
  char *start_cursor;
  void (*start_done)(int status, void *ud);
  void *start_ud;

  int closing;
  int closed;
  void (*close_done)(void *ud);
  void *close_ud;
};

/* ---- sched.c ---- */

/* The scheduler's clock (ms since the epoch, virtual when scaled). */
int64_t sam__sched_clock(sam_sched *s);
/* Re-arms the one timer for the earliest thing due (run, deadline,
 * progress write, retry), or stops it; checks whether close can finish. */
void sam__sched_rearm(sam_sched *s);
/* Logs a line through the host handle (redacted by the runtime). */
void sam__sched_log(sam_sched *s, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frees the job when it is removed, has no run and its writer settled. */
void sam__sched_job_maybe_free(sam__sched_job *j);
/* The live (removed == 0) or removed job with that key, or NULL. */
sam__sched_job *sam__sched_find_job(sam_sched *s, const char *key, int removed);
/* A new job in the table (next_run_at from the clock), or NULL. */
sam__sched_job *sam__sched_job_new(sam_sched *s,
                                   const char *profile_id,
                                   const char *process_id);
/* Replaces *dst with a copy of src (NULL keeps NULL). 0 or SAM_ENOMEM. */
int sam__sched_set_str(char **dst, const char *src);
/* Sets the job's name from its process and display name. */
int sam__sched_job_set_name(sam_sched *s, sam__sched_job *j);
/* Runs chained jobs after a successful run of `job`. */
void sam__sched_chain_after(sam_sched *s, sam__sched_job *job);

/* ---- sched_start.c ---- */

/* The jobs are loaded (or the load failed): catch up, set next_run_at,
 * write every job, call the start callback. */
void sam__sched_start_decide(sam_sched *s);
/* Timer work of the start: retries the query, finishes a failed load. */
void sam__sched_start_timer(sam_sched *s);

/* ---- sched_results.c ---- */

/* Starts a store write (or coalesces into the one in flight). */
void sam__sched_writer_kick(sam__sched_writer *w);
/* Deletes the record after the write in flight. */
void sam__sched_writer_delete(sam__sched_writer *w);
/* 1 when nothing is in flight, pending or waiting for the timer. */
int sam__sched_writer_idle(const sam__sched_writer *w);
/* Timer work: retries after EAGAIN, settles failed calls. */
void sam__sched_writer_timer(sam__sched_writer *w);
/*
 * Starts a run of `job` now: the runtime job, the result record (outcome
 * running) and the job record. Returns 0 with the id in id_out, or the
 * runtime's error (nothing started, done never runs).
 */
int sam__sched_run_start(sam__sched_job *job,
                         const char *trigger,
                         uint32_t flags,
                         sam_sched_done_fn done,
                         void *ud,
                         char *id_out);
/* Timer work for a run: deadline and coalesced progress. Returns the loop
 * time of the next thing the run waits for, or UINT64_MAX. */
uint64_t sam__sched_run_timer(sam__sched_run *r, uint64_t now_uv);
/* The job record's JSON (render of a job's writer). */
char *sam__sched_job_json(void *owner);

#endif /* SAM_SCHED_INT_H */
