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
  sam_runtime *rt;      /* borrowed */
  sam_sched_now_fn now; /* NULL = the real clock */
  void *now_ud;
  double time_scale;            /* 0 or 1 = real time; 86400 = a day per s */
  const char *daily_at;         /* "HH:MM" UTC; NULL = "02:00" */
  uint32_t spread_window_s;     /* per-profile spread; 0 = 3600 */
  uint64_t default_deadline_ms; /* 0 = 6 hours */
  int catch_up;                 /* run a missed daily run once at start */
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
int sam_sched_new(const sam_sched_config *cfg,
                  sam_sched **out,
                  char *err,
                  size_t err_len);
/* Reads the scheduled jobs from the store, runs catch-ups, arms the timer.
 * done(status, ud) runs once on a later turn. */
void sam_sched_start(sam_sched *s,
                     void (*done)(int status, void *ud),
                     void *ud);
/* Cancels running jobs (each still completes and writes its result), stops
 * the timer; done runs once when all is closed. */
void sam_sched_close(sam_sched *s, void (*done)(void *ud), void *ud);
/* Frees the scheduler; call it after sam_sched_close's done (or after a
 * failed sam_sched_new, which frees itself: *out is NULL then). */
void sam_sched_free(sam_sched *s);

/*
 * Creates or updates the daily job of (profile, process) - idempotent - with
 * the profile's display name in the job name. profile_json is the non-secret
 * profile the job's runs receive. cb(status, ud) runs once, later.
 */
int sam_sched_ensure_job(sam_sched *s,
                         const char *profile_id,
                         const char *display_name,
                         const char *process_id,
                         const char *profile_json,
                         void (*cb)(int status, void *ud),
                         void *ud);
/* Deletes every job of a profile (a running one is cancelled first). */
int sam_sched_remove_jobs(sam_sched *s,
                          const char *profile_id,
                          void (*cb)(int status, void *ud),
                          void *ud);
/*
 * Runs a job now unless it is already running (then SAM_EBUSY with the
 * running job id in job_id_out). flags: SAM_JOB_DRY_RUN. trigger is
 * "run_now", "api", "chained" or "catch_up". job_id_out (may be NULL)
 * receives the new job's id (SAM_JOB_ID_LEN bytes). done (may be NULL)
 * runs once when the run has finished and its result is stored.
 */
int sam_sched_run_now(sam_sched *s,
                      const char *job_key,
                      uint32_t flags,
                      const char *trigger,
                      char *job_id_out,
                      sam_sched_done_fn done,
                      void *ud);
/* Cancels a running job by id. SAM_ENOENT when not running. */
int sam_sched_cancel(sam_sched *s, const char *job_id);

/* Live progress of running jobs as JSON text, malloc'd (caller frees):
 * {"<job_id>": {"job_key", "trigger", "started_at", "done", "total",
 * "message", "cancel_requested"}}; "{}" when nothing runs, NULL on ENOMEM.
 * The plugin reports no API call count through the ABI, so there is none. */
char *sam_sched_progress_json(sam_sched *s);

/* ---- additions (sched) ---- */

/*
 * Store scope. Scheduled jobs (sam_scheduled_job, key /job_key) and job
 * results (sam_job_result, key /job_id) are host-level records. The core's
 * store calls refuse an empty profile_id, so host-level records live under
 * the fixed scope "_host" (SAM_SCHED_SCOPE); one query lists every job or
 * result, filter on /profile_id for one profile. The service layer should
 * keep sam_profile records there too (the scheduler reads a profile's
 * "form" and "plugin" from SAM_SCHED_SCOPE/sam_profile/<profile_id> for a
 * job loaded at start that no sam_sched_ensure_job gave a profile JSON),
 * and refuse "_host" as a profile id. The scheduler writes through
 * sam_runtime_host_handle(rt). Both record types must be registered
 * (sam_runtime_register_record_type) before sam_sched_start.
 */
#define SAM_SCHED_SCOPE "_host"
#define SAM_SCHED_JOB_TYPE "sam_scheduled_job"
#define SAM_SCHED_RESULT_TYPE "sam_job_result"

/*
 * What sam_sched_ensure_job_ex creates or updates. Strings borrowed for
 * the call. plugin NULL = the first loaded plugin that has process_id.
 * deadline_s 0 = the scheduler's default deadline.
 */
typedef struct sam_sched_job_spec {
  const char *profile_id;
  const char *display_name;
  const char *process_id;
  const char *plugin;
  const char *profile_json;
  const char *params_json; /* given to every run; may be NULL */
  uint32_t deadline_s;
  int inactive; /* 1 = kept, never run by the timer (run-now still works) */
} sam_sched_job_spec;

/*
 * sam_sched_ensure_job with the plugin, run params, a per-job deadline and
 * the active flag. May be called before sam_sched_start (the service layer
 * should, for every published profile, so runs receive the same profile
 * JSON as the API's); a job loaded at start without a profile JSON gets the
 * "form" object of its sam_profile record or "{}". Deadlines are real time
 * (not scaled by time_scale): the work of a job does not speed up.
 * Thread: loop. Callbacks: cb (may be NULL) once, later, after the record
 * was written. Returns 0, SAM_EINVAL (bad ids), SAM_EBUSY (closing),
 * SAM_ENOMEM; cb never runs on error.
 */
int sam_sched_ensure_job_ex(sam_sched *s,
                            const sam_sched_job_spec *spec,
                            void (*cb)(int status, void *ud),
                            void *ud);

/*
 * Chaining: when a run of process `from` of a profile succeeds and the
 * profile JSON has the boolean `field` set to true (top level, or inside
 * "form"), the profile's job of process `to` runs with trigger "chained".
 * The default table has one rule: download -> reclaim on "reclaim_enabled".
 * Strings are copied. Thread: loop. Returns 0 or SAM_ENOMEM/SAM_EINVAL.
 */
int sam_sched_add_chain(sam_sched *s,
                        const char *from,
                        const char *to,
                        const char *field);

/*
 * The scheduler's clock (virtual when time is scaled or injected), in ms
 * since the epoch. Thread: loop.
 */
int64_t sam_sched_now(sam_sched *s);

/*
 * Re-reads the clock and runs what is due now, as the timer would; tests
 * call it after moving an injected clock. Thread: loop.
 */
void sam_sched_poke(sam_sched *s);

/* ---- time arithmetic (sched_time.c; pure functions) ---- */

#define SAM__DAY_MS 86400000LL

/* "HH:MM" -> seconds after midnight UTC. 0 or SAM_EINVAL. */
int sam__sched_parse_daily(const char *hhmm, uint32_t *sec_out);
/* The per-profile spread in [0, window_s) from a stable hash of the
 * profile id (FNV-1a); window_s is capped at 86400; 0 -> 0. */
uint32_t sam__sched_spread_s(const char *profile_id, uint32_t window_s);
/* The first due instant strictly after t_ms, for a daily run at at_s
 * seconds after midnight UTC plus spread_s (wrapping past midnight). */
int64_t sam__sched_next_due(int64_t t_ms, uint32_t at_s, uint32_t spread_s);
/* The most recent due instant <= t_ms (catch-up). */
int64_t sam__sched_prev_due(int64_t t_ms, uint32_t at_s, uint32_t spread_s);
/* RFC 3339 UTC with milliseconds ("2026-11-28T02:13:07.123Z") into out
 * (at least 32 bytes). */
void sam__sched_fmt_time(int64_t ms, char *out, size_t out_len);
/* Parses RFC 3339 date-time (fraction and offset allowed) into ms since
 * the epoch. 0 or SAM_EINVAL. */
int sam__sched_parse_time(const char *s, int64_t *ms_out);

#endif /* SAM_SCHED_H */
