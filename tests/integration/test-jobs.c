/*
 * test-jobs.c: the job contract of ABI.md section 11 against the core:
 * deferred start (C4), complete inside start (C1), double completion and
 * missing completion (C2), rejected start, job data, progress.
 */
#include <string.h>

#include "test-core-common.h"

static int in_call;
static int starts;
static int start_inside_call;
static sam_job *kept;
static int progress_after;
static int data_frees;

/* ---- start functions ---- */

static int
start_complete_in_start(sam_job *job, const sam_job_input *in, void *ud) {
  (void)ud;
  starts++;
  start_inside_call |= in_call;
  EXPECT_TRUE(in->job_id != NULL && strlen(in->job_id) == 32);
  EXPECT_TRUE(in->kind == SAM_JOB_PROCESS || in->kind == SAM_JOB_ACTION);
  EXPECT_EQ_INT(0, tp.api->job_complete(job, SAM_OK, "done", "{\"n\":1}", 7));
  /* The job is not freed before start returns (ASan would see it). */
  progress_after = tp.api->job_progress(job, 1, 1, "late");
  return SAM_OK;
}

static int start_double(sam_job *job, const sam_job_input *in, void *ud) {
  (void)in;
  (void)ud;
  EXPECT_EQ_INT(0, tp.api->job_complete(job, SAM_OK, "first", NULL, 0));
  EXPECT_EQ_INT(SAM_EINVAL,
                tp.api->job_complete(job, SAM_EREMOTE, "second", NULL, 0));
  return SAM_OK;
}

static int start_reject(sam_job *job, const sam_job_input *in, void *ud) {
  (void)job;
  (void)in;
  (void)ud;
  return SAM_EAUTH;
}

static int start_keep(sam_job *job, const sam_job_input *in, void *ud) {
  (void)in;
  (void)ud;
  kept = job;
  return SAM_OK;
}

static void free_data(void *p) {
  EXPECT_TRUE(p == &data_frees);
  data_frees++;
}

static int start_with_data(sam_job *job, const sam_job_input *in, void *ud) {
  (void)in;
  (void)ud;
  EXPECT_EQ_INT(0, tp.api->job_set_data(job, &data_frees, free_data));
  EXPECT_EQ_INT(0, tp.api->job_complete(job, SAM_OK, "ok", NULL, 0));
  EXPECT_EQ_INT(0, data_frees); /* not inside the call */
  return SAM_OK;
}

static const tp_proc procs[] = {
    {"complete_in_start", SAM_JOB_PROCESS, 0, 0, start_complete_in_start, NULL,
     NULL, NULL},
    {"double_complete", SAM_JOB_PROCESS, 0, 0, start_double, NULL, NULL, NULL},
    {"reject", SAM_JOB_PROCESS, 0, 0, start_reject, NULL, NULL, NULL},
    {"never_complete", SAM_JOB_PROCESS, 0, 20, start_keep, NULL, NULL, NULL},
    {"with_data", SAM_JOB_PROCESS, 0, 0, start_with_data, NULL, NULL, NULL},
    {"keep", SAM_JOB_PROCESS, 0, 0, start_keep, NULL, NULL, NULL},
    {"an_action", SAM_JOB_ACTION, SAM_ACTION_UI, 0, start_complete_in_start,
     NULL, NULL, NULL},
};
#define N_PROCS (sizeof(procs) / sizeof(procs[0]))

static void load(uv_loop_t *loop, sam_test_host **th, uint64_t grace) {
  sam_test_host_opts opts;
  char err[256];

  memset(&opts, 0, sizeof(opts));
  opts.job_grace_ms = grace;
  tp_setup(loop, th, &opts);
  EXPECT_EQ_INT(0, tp_load(*th, procs, N_PROCS, err, sizeof(err)));
}

/* ---- tests ---- */

static int outcome_seen;
static sam_job_outcome last;
static char last_msg[256];

static void on_done(const sam_job_outcome *o, void *ud) {
  (void)ud;
  outcome_seen++;
  last = *o;
  snprintf(last_msg, sizeof(last_msg), "%s", o->message);
  last.message = last_msg;
  last.result_json = NULL;
}

static void complete_in_start(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_job_request req;
  char id[SAM_JOB_ID_LEN];

  load(&loop, &th, 0);
  starts = 0;
  start_inside_call = 0;
  outcome_seen = 0;
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "complete_in_start";
  req.profile_id = "p1";
  req.done = on_done;
  in_call = 1;
  EXPECT_EQ_INT(0, sam_runtime_job_start(sam_test_host_runtime(th), &req, id));
  in_call = 0;
  EXPECT_EQ_INT(0, starts); /* C4: start runs on a later turn */
  EXPECT_EQ_INT(32, strlen(id));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, starts);
  EXPECT_EQ_INT(0, start_inside_call);
  EXPECT_EQ_INT(1, outcome_seen);
  EXPECT_EQ_INT(SAM_OK, last.status);
  EXPECT_EQ_INT(1, last.completions);
  EXPECT_EQ_STR("done", last.message);
  EXPECT_EQ_INT(SAM_EINVAL, progress_after);
  EXPECT_EQ_STR("", sam_test_host_violations(th));
  tp_teardown(&loop, th);
}

static void double_completion(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;

  load(&loop, &th, 0);
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_PROCESS, "double_complete",
                                     "p1", "{}", NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_OK, run.status);
  EXPECT_EQ_INT(2, run.completions);
  EXPECT_EQ_STR("first", run.message);
  EXPECT_CONTAINS(sam_test_host_violations(th), "[job=");
  EXPECT_CONTAINS(sam_test_host_violations(th), "[process=double_complete]");
  tp_teardown(&loop, th);
}

static void rejected_start(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;

  load(&loop, &th, 0);
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_PROCESS, "reject", "p1", NULL,
                                     NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_EAUTH, run.status);
  EXPECT_EQ_INT(0, run.completions);
  EXPECT_CONTAINS(run.message, "[SAM_EAUTH]");
  tp_teardown(&loop, th);
}

static void never_complete(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;
  sam_host *h;

  load(&loop, &th, 30);
  kept = NULL;
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_PROCESS, "never_complete",
                                     "p1", NULL, NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_ETIMEDOUT, run.status);
  EXPECT_EQ_INT(0, run.completions);
  h = tp.host;
  EXPECT_EQ_INT(1, sam__plugin_degraded(h));
  EXPECT_CONTAINS(sam_test_host_registry_json(th), "\"degraded\":true");
  EXPECT_CONTAINS(sam_test_host_log(th), "plugin marked degraded");
  /* A late completion hits the tombstone: diagnosed, not a use-after-free. */
  EXPECT_TRUE(kept != NULL);
  EXPECT_EQ_INT(SAM_EINVAL,
                tp.api->job_complete(kept, SAM_OK, "late", NULL, 0));
  EXPECT_CONTAINS(sam_test_host_violations(th), "late job_complete");
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->job_progress(kept, 1, 2, "x"));
  tp_teardown(&loop, th);
}

static void job_data_freed_once(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;

  load(&loop, &th, 0);
  data_frees = 0;
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_PROCESS, "with_data", "p1",
                                     NULL, NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_OK, run.status);
  EXPECT_EQ_INT(1, data_frees);
  tp_teardown(&loop, th);
  EXPECT_EQ_INT(1, data_frees);
}

static int progress_calls;
static uint64_t progress_done;
static char progress_msg[128];

static void on_progress(const char *job_id,
                        uint64_t done,
                        uint64_t total,
                        const char *msg,
                        void *ud) {
  (void)job_id;
  (void)total;
  (void)ud;
  EXPECT_EQ_INT(0, outcome_seen); /* never after done */
  progress_calls++;
  progress_done = done;
  snprintf(progress_msg, sizeof(progress_msg), "%s", msg);
}

static void progress_coalesced(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_job_request req;
  int i;

  load(&loop, &th, 0);
  kept = NULL;
  outcome_seen = 0;
  progress_calls = 0;
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "keep";
  req.profile_id = "p1";
  req.done = on_done;
  req.progress = on_progress;
  EXPECT_EQ_INT(0,
                sam_runtime_job_start(sam_test_host_runtime(th), &req, NULL));
  sam_test_host_drain(th);
  EXPECT_TRUE(kept != NULL);
  for (i = 1; i <= 100; i++)
    EXPECT_EQ_INT(0,
                  tp.api->job_progress(kept, (uint64_t)i, 100, "page\nnext"));
  EXPECT_EQ_INT(0, progress_calls); /* never inside the call */
  sam_test_host_drain(th);
  EXPECT_TRUE(progress_calls >= 1 && progress_calls < 100);
  EXPECT_EQ_U64(100, progress_done);
  EXPECT_EQ_STR("page next", progress_msg); /* one line */
  EXPECT_EQ_INT(0, tp.api->job_complete(kept, SAM_OK, "ok", NULL, 0));
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->job_progress(kept, 1, 1, "after"));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, outcome_seen);
  tp_teardown(&loop, th);
}

static void bad_requests(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_job_request req;
  sam_runtime *rt;

  load(&loop, &th, 0);
  rt = sam_test_host_runtime(th);
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "nope";
  req.profile_id = "p1";
  req.done = on_done;
  EXPECT_EQ_INT(SAM_ENOENT, sam_runtime_job_start(rt, &req, NULL));
  req.id = "an_action"; /* an action, not a process */
  EXPECT_EQ_INT(SAM_ENOENT, sam_runtime_job_start(rt, &req, NULL));
  req.id = "keep";
  req.flags = SAM_JOB_DRY_RUN; /* not a DRY_RUN process */
  EXPECT_EQ_INT(SAM_EINVAL, sam_runtime_job_start(rt, &req, NULL));
  req.flags = 0;
  req.done = NULL;
  EXPECT_EQ_INT(SAM_EINVAL, sam_runtime_job_start(rt, &req, NULL));
  EXPECT_EQ_INT(SAM_ENOENT, sam_runtime_job_cancel(rt, "0000"));
  tp_teardown(&loop, th);
}

static void action_runs(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_test_run run;

  load(&loop, &th, 0);
  EXPECT_EQ_INT(0, sam_test_host_run(th, SAM_JOB_ACTION, "an_action", "p1",
                                     NULL, NULL, 0, 0, 0, &run));
  EXPECT_EQ_INT(SAM_OK, run.status);
  EXPECT_EQ_STR("{\"n\":1}", run.result_json);
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(complete_in_start);
  SAM_T_RUN(double_completion);
  SAM_T_RUN(rejected_start);
  SAM_T_RUN(never_complete);
  SAM_T_RUN(job_data_freed_once);
  SAM_T_RUN(progress_coalesced);
  SAM_T_RUN(bad_requests);
  SAM_T_RUN(action_runs);
  return 0;
}
