/*
 * test-shutdown.c: the asynchronous shutdown of ABI.md 13.3: a plugin that
 * never calls shutdown_done is logged faulty after the deadline and the
 * host still finishes cleanly; a job still open at the drain deadline is
 * recorded SAM_ETIMEDOUT; host functions called off the loop thread are
 * recorded as violations in test mode.
 */
#include <string.h>

#include "test-core-common.h"

static sam_job *kept;
static int outcome_status = 1;
static int outcomes;

static int start_keep(sam_job *job, const sam_job_input *in, void *ud) {
  (void)in;
  (void)ud;
  kept = job;
  return SAM_OK;
}

static const tp_proc procs[] = {
    {"stuck", SAM_JOB_PROCESS, 0, 0, start_keep, NULL, NULL, NULL},
};

static void on_done(const sam_job_outcome *o, void *ud) {
  (void)ud;
  outcomes++;
  outcome_status = o->status;
}

static void setup(uv_loop_t *loop, sam_test_host **th) {
  sam_test_host_opts opts;
  char err[256];

  memset(&opts, 0, sizeof(opts));
  opts.shutdown_deadline_ms = 30;
  tp_setup(loop, th, &opts);
  EXPECT_EQ_INT(0, tp_load(*th, procs, 1, err, sizeof(err)));
}

static void leaky_plugin_is_faulty(void) {
  uv_loop_t loop;
  sam_test_host *th;

  setup(&loop, &th);
  tp.leaky = 1;
  EXPECT_EQ_INT(SAM_ETIMEDOUT, sam_test_host_shutdown(th));
  EXPECT_EQ_INT(1, tp.shutdown_calls);
  EXPECT_CONTAINS(sam_test_host_log(th), "plugin faulty");
  EXPECT_CONTAINS(sam_test_host_log(th), "[plugin=tp]");
  tp_teardown(&loop, th);
}

static void open_job_at_drain_deadline(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_job_request req;

  setup(&loop, &th);
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.id = "stuck";
  req.profile_id = "p1";
  req.done = on_done;
  outcomes = 0;
  EXPECT_EQ_INT(0,
                sam_runtime_job_start(sam_test_host_runtime(th), &req, NULL));
  sam_test_host_drain(th);
  EXPECT_TRUE(kept != NULL);
  EXPECT_EQ_INT(0, sam_test_host_shutdown(th));
  EXPECT_EQ_INT(1, outcomes);
  EXPECT_EQ_INT(SAM_ETIMEDOUT, outcome_status);
  EXPECT_CONTAINS(sam_test_host_log(th), "shutdown drain deadline");
  EXPECT_CONTAINS(sam_test_host_log(th), "[job=");
  EXPECT_EQ_INT(1, tp.shutdown_calls);
  tp_teardown(&loop, th);
}

static void *loop_from_thread;

static void off_thread(void *arg) {
  (void)arg;
  loop_from_thread = tp.api->get_loop(tp.host);
}

static void off_loop_thread_is_a_violation(void) {
  uv_loop_t loop;
  sam_test_host *th;
  uv_thread_t t;

  setup(&loop, &th);
  EXPECT_TRUE(tp.api->get_loop(tp.host) == &loop);
  loop_from_thread = &loop;
  EXPECT_EQ_INT(0, uv_thread_create(&t, off_thread, NULL));
  EXPECT_EQ_INT(0, uv_thread_join(&t));
  EXPECT_TRUE(loop_from_thread == NULL);
  EXPECT_CONTAINS(sam_test_host_violations(th), "off the loop thread");
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(leaky_plugin_is_faulty);
  SAM_T_RUN(open_job_at_drain_deadline);
  SAM_T_RUN(off_loop_thread_is_a_violation);
  return 0;
}
