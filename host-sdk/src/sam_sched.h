/*
 * sam_sched.h: the reference host's scheduler. Daily jobs per profile and
 * process ("SAM - Refresh <profile display name> Subscriptions" for the
 * download), run-now, no overlapping runs of one job, one catch-up run for a
 * run missed while the host was down, deadlines (the job is cancelled when
 * it exceeds its deadline), and a sam_job_result record for every run, with
 * progress while it runs and the counts the plugin reports.
 *
 * Time is injectable so tests can run "days" in milliseconds.
 * Thread: the runtime's loop thread for everything.
 */
#ifndef SAM_SCHED_H
#define SAM_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_runtime.h"

typedef struct sam_sched sam_sched;

/* Wall clock in milliseconds since the epoch. */
typedef int64_t (*sam_sched_now_fn)(void *ud);

typedef struct sam_sched_config {
  sam_runtime *rt;             /* borrowed */
  sam_sched_now_fn now;        /* NULL = the real clock */
  void *now_ud;
  double time_scale;           /* 0 or 1 = real time; 86400 = a day per s */
  const char *daily_at;        /* "HH:MM" UTC; NULL = "02:00" */
  uint32_t spread_window_s;    /* per-profile spread; 0 = 3600 */
  uint64_t default_deadline_ms; /* 0 = 6 hours */
  int catch_up;                /* run a missed daily run once at start */
} sam_sched_config;

/* A finished run, for whoever asked for it (run-now callers, tests). */
typedef struct sam_sched_run {
  const char *job_id;
  const char *job_key; /* "<profile_id>:<process_id>"; NULL for actions */
  int status;
  const char *message;
  const char *result_json; /* may be NULL */
} sam_sched_run;
typedef void (*sam_sched_done_fn)(const sam_sched_run *run, void *ud);

/* Creates the scheduler (nothing runs until sam_sched_start). */
int sam_sched_new(const sam_sched_config *cfg, sam_sched **out, char *err,
                  size_t err_len);
/* Reads the scheduled jobs from the store, runs catch-ups, arms the timer.
 * done(status, ud) runs once on a later turn. */
void sam_sched_start(sam_sched *s, void (*done)(int status, void *ud),
                     void *ud);
/* Cancels running jobs (each still completes and writes its result), stops
 * the timer; done runs once when all is closed. */
void sam_sched_close(sam_sched *s, void (*done)(void *ud), void *ud);
void sam_sched_free(sam_sched *s);

/*
 * Creates or updates the daily job of (profile, process) - idempotent - with
 * the profile's display name in the job name. profile_json is the non-secret
 * profile the job's runs receive. cb(status, ud) runs once, later.
 */
int sam_sched_ensure_job(sam_sched *s, const char *profile_id,
                         const char *display_name, const char *process_id,
                         const char *profile_json,
                         void (*cb)(int status, void *ud), void *ud);
/* Deletes every job of a profile (a running one is cancelled first). */
int sam_sched_remove_jobs(sam_sched *s, const char *profile_id,
                          void (*cb)(int status, void *ud), void *ud);
/*
 * Runs a job now unless it is already running (then SAM_EBUSY with the
 * running job id in job_id_out). flags: SAM_JOB_DRY_RUN. trigger is
 * "run_now", "api", "chained" or "catch_up". job_id_out (may be NULL)
 * receives the new job's id (SAM_JOB_ID_LEN bytes). done (may be NULL)
 * runs once when the run has finished and its result is stored.
 */
int sam_sched_run_now(sam_sched *s, const char *job_key, uint32_t flags,
                      const char *trigger, char *job_id_out,
                      sam_sched_done_fn done, void *ud);
/* Cancels a running job by id. SAM_ENOENT when not running. */
int sam_sched_cancel(sam_sched *s, const char *job_id);

/* Live progress of running jobs as JSON text, malloc'd (caller frees):
 * {"<job_id>": {"done", "total", "message", "api_calls"...}}. */
char *sam_sched_progress_json(sam_sched *s);

#endif /* SAM_SCHED_H */
