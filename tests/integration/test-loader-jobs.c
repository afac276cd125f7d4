/*
 * test-loader-jobs.c: the fixtures of ABI.md 14.1 that load fine and then
 * break a rule at run time: a registration after init, a double
 * completion, a job never completed, a completion inside start, and a
 * shutdown that never ends. They run on the test host, which records each
 * contract violation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sam/sam_loader.h"
#include "sam_core.h"
#include "sam_test.h"
#include "sam_test_host.h"

#ifndef SAM_FIXTURE_DIR
#error "SAM_FIXTURE_DIR must name the built fixtures (loader.cmake)"
#endif

static uv_loop_t loop;

static const char *fixture_manifest(const char *fx) {
  static char path[1024];

  snprintf(path, sizeof(path), "%s/%s/plugin.manifest.json", SAM_FIXTURE_DIR,
           fx);
  return path;
}

/* A test host with the fixture loaded (asserted). */
static sam_test_host *host_with(const char *fx,
                                const sam_test_host_opts *opts) {
  sam_test_host *th = NULL;
  sam_load_result res;

  EXPECT_EQ_INT(0, sam_test_host_new(&loop, opts, &th));
  EXPECT_EQ_INT(0, sam_test_host_load(th, fixture_manifest(fx), NULL, &res));
  printf("fixture %s: step [%s] message [%s]\n", fx,
         sam_load_step_name(res.step), res.message);
  EXPECT_EQ_INT(0, res.status);
  return th;
}

/* Shuts down (expecting `status`), frees, and runs the loop empty. */
static void host_end(sam_test_host *th, int status) {
  EXPECT_EQ_INT(status, sam_test_host_shutdown(th));
  sam_test_host_free(th);
  uv_run(&loop, UV_RUN_DEFAULT);
}

static void run_process(sam_test_host *th,
                        uint64_t timeout_ms,
                        uint64_t cancel_after_ms,
                        sam_test_run *run) {
  memset(run, 0, sizeof(*run));
  EXPECT_EQ_INT(0,
                sam_test_host_run(th, SAM_JOB_PROCESS, "run", "p1", "{}", NULL,
                                  0, timeout_ms, cancel_after_ms, run));
}

/* register_process from a posted callback after init: SAM_EBUSY, and
 * nothing is registered. */
static void test_late_register(void) {
  sam_test_host *th = host_with("late_register", NULL);
  char *json;

  sam_test_host_drain(th);
  EXPECT_CONTAINS(sam_test_host_log(th), "late register [SAM_EBUSY]");
  json = sam_runtime_registry_json(sam_test_host_runtime(th));
  EXPECT_TRUE(json != NULL);
  EXPECT_CONTAINS(json, "fx_late_register");
  EXPECT_NOT_CONTAINS(json, "\"late\"");
  free(json);
  host_end(th, 0);
}

/* A second job_complete returns SAM_EINVAL and is recorded. */
static void test_double_complete(void) {
  sam_test_host *th = host_with("double_complete", NULL);
  sam_test_run run;

  run_process(th, 0, 0, &run);
  EXPECT_EQ_INT(SAM_OK, run.status);
  EXPECT_CONTAINS(sam_test_host_log(th), "second complete [SAM_EINVAL]");
  EXPECT_CONTAINS(sam_test_host_violations(th), "[job=");
  EXPECT_CONTAINS(sam_test_host_violations(th), run.job_id);
  host_end(th, 0);
}

/* Completed inside start: exactly one completion, and the job is still
 * alive until start returns (the fixture uses it once more; ASan would
 * catch a use after free). */
static void test_complete_in_start(void) {
  sam_test_host *th = host_with("complete_in_start", NULL);
  sam_test_run run;

  run_process(th, 0, 0, &run);
  EXPECT_EQ_INT(SAM_OK, run.status);
  EXPECT_EQ_INT(1, run.completions);
  EXPECT_CONTAINS(sam_test_host_log(th),
                  "progress after complete [SAM_EINVAL]");
  host_end(th, 0);
}

/* A job never completed: SAM_ETIMEDOUT after the deadline (50 ms, from
 * the descriptor) plus the grace, logged with the job's id, and the plugin
 * marked degraded; after a cancel plus the grace too. */
static void test_never_complete(void) {
  sam_test_host_opts opts;
  sam_test_host *th;
  sam_test_run run;
  char *json;

  memset(&opts, 0, sizeof(opts));
  opts.job_grace_ms = 50;
  th = host_with("never_complete", &opts);

  run_process(th, 0, 0, &run);
  EXPECT_EQ_INT(SAM_ETIMEDOUT, run.status);
  EXPECT_CONTAINS(sam_test_host_log(th), "no completion within the grace");
  EXPECT_CONTAINS(sam_test_host_log(th), run.job_id);

  /* Cancel is delivered, ignored, and the grace still ends the job. */
  run_process(th, 60000, 1, &run);
  EXPECT_EQ_INT(SAM_ETIMEDOUT, run.status);
  EXPECT_CONTAINS(sam_test_host_log(th), "cancel ignored");

  json = sam_runtime_registry_json(sam_test_host_runtime(th));
  EXPECT_TRUE(json != NULL);
  EXPECT_TRUE(strstr(json, "\"degraded\":true") != NULL ||
              strstr(json, "\"degraded\": true") != NULL);
  free(json);
  host_end(th, 0);
}

/* A shutdown that never calls shutdown_done: the host logs the plugin as
 * faulty after the deadline and still ends cleanly. */
static void test_leaky_shutdown(void) {
  sam_test_host_opts opts;
  sam_test_host *th;
  sam_test_run run;

  memset(&opts, 0, sizeof(opts));
  opts.shutdown_deadline_ms = 50;
  th = host_with("leaky_shutdown", &opts);
  run_process(th, 0, 0, &run);
  EXPECT_EQ_INT(SAM_OK, run.status);
  EXPECT_EQ_INT(SAM_ETIMEDOUT, sam_test_host_shutdown(th));
  EXPECT_CONTAINS(sam_test_host_log(th), "leaky shutdown");
  EXPECT_CONTAINS(sam_test_host_log(th), "faulty");
  sam_test_host_free(th);
  uv_run(&loop, UV_RUN_DEFAULT);
}

int main(void) {
  EXPECT_EQ_INT(0, uv_loop_init(&loop));

  SAM_T_RUN(test_late_register);
  SAM_T_RUN(test_double_complete);
  SAM_T_RUN(test_complete_in_start);
  SAM_T_RUN(test_never_complete);
  SAM_T_RUN(test_leaky_shutdown);

  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  return 0;
}
