/*
 * test-cancel.c: C3. cancel is delivered at most once, only between an
 * accepted start and job_complete, never after the completion, also when
 * the completion and the cancel are queued on the same loop turn; deadline
 * and shutdown cancel; a job cancelled before it started never starts.
 */
#include <string.h>

#include "test-core-common.h"

static sam_job *kept;
static int starts;
static int cancels;
static int complete_on_cancel;
static int outcome_seen;
static int last_status;

static int start_keep(sam_job *job, const sam_job_input *in, void *ud) {
  (void)in;
  (void)ud;
  starts++;
  kept = job;
  return SAM_OK;
}

static void on_cancel(sam_job *job, void *ud) {
  (void)ud;
  EXPECT_TRUE(job == kept);
  cancels++;
  if (complete_on_cancel)
    EXPECT_EQ_INT(0,
                  tp.api->job_complete(job, SAM_ECANCELED, "stopped", NULL, 0));
}

static const tp_proc procs[] = {
    {"cancellable", SAM_JOB_PROCESS, SAM_PROC_CANCELLABLE, 0, start_keep,
     on_cancel, NULL, NULL},
    {"short_deadline", SAM_JOB_PROCESS, SAM_PROC_CANCELLABLE, 10, start_keep,
     on_cancel, NULL, NULL},
    {"plain", SAM_JOB_PROCESS, 0, 0, start_keep, on_cancel, NULL, NULL},
    {"act", SAM_JOB_ACTION, SAM_ACTION_UI, 10, start_keep, on_cancel, NULL,
     NULL},
};

static void on_done(const sam_job_outcome *o, void *ud) {
  (void)ud;
  outcome_seen++;
  last_status = o->status;
}

static void reset(void) {
  kept = NULL;
  starts = cancels = outcome_seen = 0;
  complete_on_cancel = 1;
  last_status = 1;
}

static void load(uv_loop_t *loop, sam_test_host **th) {
  sam_test_host_opts opts;
  char err[256];

  memset(&opts, 0, sizeof(opts));
  opts.job_grace_ms = 50;
  tp_setup(loop, th, &opts);
  EXPECT_EQ_INT(0, tp_load(*th, procs, sizeof(procs) / sizeof(procs[0]), err,
                           sizeof(err)));
  reset();
}

static void start(sam_test_host *th, const char *id, int kind, char *job_id) {
  sam_job_request req;

  memset(&req, 0, sizeof(req));
  req.kind = kind;
  req.id = id;
  req.profile_id = "p1";
  req.done = on_done;
  EXPECT_EQ_INT(0,
                sam_runtime_job_start(sam_test_host_runtime(th), &req, job_id));
}

static void at_most_once(void) {
  uv_loop_t loop;
  sam_test_host *th;
  char id[SAM_JOB_ID_LEN];
  sam_runtime *rt;

  load(&loop, &th);
  rt = sam_test_host_runtime(th);
  complete_on_cancel = 0;
  start(th, "cancellable", SAM_JOB_PROCESS, id);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, starts);
  EXPECT_EQ_INT(0, sam_runtime_job_cancel(rt, id));
  EXPECT_EQ_INT(0, cancels); /* on a later turn */
  EXPECT_EQ_INT(0, sam_runtime_job_cancel(rt, id));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, sam_runtime_job_cancel(rt, id));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, cancels);
  EXPECT_EQ_INT(0, tp.api->job_complete(kept, SAM_ECANCELED, "x", NULL, 0));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, outcome_seen);
  EXPECT_EQ_INT(SAM_ECANCELED, last_status);
  EXPECT_EQ_INT(SAM_ENOENT, sam_runtime_job_cancel(rt, id));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, cancels);
  tp_teardown(&loop, th);
}

/* Completion and cancel in the same turn, both orders. */
static void never_after_completion_same_turn(void) {
  uv_loop_t loop;
  sam_test_host *th;
  char id[SAM_JOB_ID_LEN];
  sam_runtime *rt;

  load(&loop, &th);
  rt = sam_test_host_runtime(th);
  /* cancel queued first, then the completion, in one turn */
  start(th, "cancellable", SAM_JOB_PROCESS, id);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, sam_runtime_job_cancel(rt, id));
  EXPECT_EQ_INT(0, tp.api->job_complete(kept, SAM_OK, "done", NULL, 0));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, cancels);
  EXPECT_EQ_INT(1, outcome_seen);
  EXPECT_EQ_INT(SAM_OK, last_status);
  /* completion first, then a cancel in the same turn */
  reset();
  start(th, "cancellable", SAM_JOB_PROCESS, id);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, tp.api->job_complete(kept, SAM_OK, "done", NULL, 0));
  EXPECT_EQ_INT(SAM_ENOENT, sam_runtime_job_cancel(rt, id));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, cancels);
  EXPECT_EQ_INT(1, outcome_seen);
  tp_teardown(&loop, th);
}

static void deadline_cancels_once(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;

  load(&loop, &th);
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_PROCESS, "short_deadline",
                                     "p1", NULL, NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_ECANCELED, run.status);
  EXPECT_EQ_INT(1, cancels);
  EXPECT_EQ_INT(1, run.completions);
  /* An action's deadline cancels too (ABI.md 9.4). */
  reset();
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_ACTION, "act", "p1", NULL,
                                     NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_ECANCELED, run.status);
  EXPECT_EQ_INT(1, cancels);
  tp_teardown(&loop, th);
}

/* Deadline and completion crossing: the plugin completes from the cancel
 * turn's neighbour; cancel never runs after. */
static void cancel_after_via_test_host(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;

  load(&loop, &th);
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_PROCESS, "cancellable", "p1",
                                     NULL, NULL, 0, 0, 5, &run));
  EXPECT_EQ_INT(SAM_ECANCELED, run.status);
  EXPECT_EQ_INT(1, cancels);
  tp_teardown(&loop, th);
}

static void cancel_before_start(void) {
  uv_loop_t loop;
  sam_test_host *th;
  char id[SAM_JOB_ID_LEN];

  load(&loop, &th);
  start(th, "cancellable", SAM_JOB_PROCESS, id);
  EXPECT_EQ_INT(0, sam_runtime_job_cancel(sam_test_host_runtime(th), id));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, starts);
  EXPECT_EQ_INT(0, cancels);
  EXPECT_EQ_INT(1, outcome_seen);
  EXPECT_EQ_INT(SAM_ECANCELED, last_status);
  tp_teardown(&loop, th);
}

static void not_cancellable(void) {
  uv_loop_t loop;
  sam_test_host *th;
  char id[SAM_JOB_ID_LEN];

  load(&loop, &th);
  start(th, "plain", SAM_JOB_PROCESS, id);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(SAM_ENOTSUP,
                sam_runtime_job_cancel(sam_test_host_runtime(th), id));
  EXPECT_EQ_INT(0, tp.api->job_complete(kept, SAM_OK, "ok", NULL, 0));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, cancels);
  tp_teardown(&loop, th);
}

static void shutdown_cancels_running_jobs(void) {
  uv_loop_t loop;
  sam_test_host *th;

  load(&loop, &th);
  start(th, "cancellable", SAM_JOB_PROCESS, NULL);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, starts);
  EXPECT_EQ_INT(0, sam_test_host_shutdown(th));
  EXPECT_EQ_INT(1, cancels);
  EXPECT_EQ_INT(1, outcome_seen);
  EXPECT_EQ_INT(SAM_ECANCELED, last_status);
  EXPECT_EQ_INT(1, tp.shutdown_calls);
  EXPECT_EQ_INT(SAM_EBUSY, tp.post_in_shutdown);
  tp_teardown(&loop, th);
}

static void cancel_profile_jobs(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_runtime *rt;

  load(&loop, &th);
  rt = sam_test_host_runtime(th);
  start(th, "cancellable", SAM_JOB_PROCESS, NULL);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, sam_runtime_job_cancel_profile(rt, "other"));
  EXPECT_EQ_INT(1, sam_runtime_job_cancel_profile(rt, "p1"));
  EXPECT_EQ_INT(0, sam_runtime_job_cancel_profile(rt, "p1")); /* once */
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, cancels);
  EXPECT_EQ_INT(1, outcome_seen);
  EXPECT_EQ_INT(SAM_ECANCELED, last_status);
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(at_most_once);
  SAM_T_RUN(never_after_completion_same_turn);
  SAM_T_RUN(deadline_cancels_once);
  SAM_T_RUN(cancel_after_via_test_host);
  SAM_T_RUN(cancel_before_start);
  SAM_T_RUN(not_cancellable);
  SAM_T_RUN(shutdown_cancels_running_jobs);
  SAM_T_RUN(cancel_profile_jobs);
  return 0;
}
