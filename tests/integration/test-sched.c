/*
 * test-sched.c: the scheduler (sam_sched.h) on the test host with the
 * fixture plugin tests/fixtures/plugins/sched_fixture. Time is injected:
 * most tests move a manual clock and poke the scheduler; one runs "days"
 * in milliseconds on the real timer with a scaled clock. Nothing here
 * depends on how long anything takes: every wait is for an event.
 *
 * argv[1]: the fixture's manifest in the build tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_core.h"
#include "sam_sched.h"
#include "sam_test.h"
#include "sam_test_host.h"

static const char *g_manifest;
static uint32_t
    g_queue_max; /* the in-memory store's queue bound; 0 = default */

#define H (3600LL * 1000)
#define DAY SAM__DAY_MS

typedef struct env {
  uv_loop_t loop;
  sam_test_host *th;
  sam_runtime *rt;
  sam_sched *s;
  int64_t clock;
  double scale; /* > 0: clock = base + uv_now * scale */
  uint64_t uv0;
  int start_status;
  int started;
  int closed;
  int n_done;
  int last_status;
  char last_id[SAM_JOB_ID_LEN];
} env;

/* ---- helpers ---- */

static int64_t day0(void) {
  int64_t t = 0;

  EXPECT_EQ_INT(0, sam__sched_parse_time("2026-11-28T00:00:00Z", &t));
  return t;
}

static int64_t test_now(void *ud) {
  env *e = ud;

  if (e->scale > 0)
    return e->clock + (int64_t)((double)(uv_now(&e->loop) - e->uv0) * e->scale);
  return e->clock;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;

  if (f == NULL)
    SAM_T_FAIL("cannot open [%s]", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = calloc(1, (size_t)n + 1);
  EXPECT_TRUE(buf != NULL);
  EXPECT_EQ_INT(n, (long)fread(buf, 1, (size_t)n, f));
  fclose(f);
  return buf;
}

static void register_type(sam_runtime *rt,
                          const char *name,
                          const char *file,
                          const char *key) {
  char path[512];
  char err[256] = "";
  sam_record_type_desc d;
  char *schema;

  snprintf(path, sizeof(path), "%s/schemas/%s", SAM_SOURCE_DIR, file);
  schema = read_file(path);
  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.schema_version = 1;
  d.record_type = name;
  d.schema_json = schema;
  d.schema_len = strlen(schema);
  d.key_pointer = key;
  d.indexes_json = "[\"/profile_id\"]";
  d.flags = SAM_RECORD_VALIDATE_WRITES;
  if (sam_runtime_register_record_type(rt, &d, err, sizeof(err)) != 0)
    SAM_T_FAIL("register [%s]: %s", name, err);
  free(schema);
}

static void env_runtime(env *e) {
  sam_test_host_opts o;
  sam_load_result res;

  memset(e, 0, sizeof(*e));
  EXPECT_EQ_INT(0, uv_loop_init(&e->loop));
  memset(&o, 0, sizeof(o));
  o.job_grace_ms = 100;
  o.store_queue_max = g_queue_max;
  EXPECT_EQ_INT(0, sam_test_host_new(&e->loop, &o, &e->th));
  e->rt = sam_test_host_runtime(e->th);
  register_type(e->rt, SAM_SCHED_JOB_TYPE, "sam-scheduled-job.schema.json",
                "/job_key");
  register_type(e->rt, SAM_SCHED_RESULT_TYPE, "sam-job-result.schema.json",
                "/job_id");
  if (sam_test_host_load(e->th, g_manifest, NULL, &res) != 0)
    SAM_T_FAIL("load: %s", res.message);
  e->clock = day0() + 1 * H; /* 01:00, before the 02:00 run */
}

static void sched_open(env *e, uint64_t deadline_ms, int catch_up) {
  sam_sched_config cfg;
  char err[256] = "";

  memset(&cfg, 0, sizeof(cfg));
  cfg.rt = e->rt;
  cfg.now = test_now;
  cfg.now_ud = e;
  cfg.time_scale = e->scale;
  cfg.daily_at = "02:00";
  cfg.spread_window_s = 3600;
  cfg.default_deadline_ms = deadline_ms;
  cfg.catch_up = catch_up;
  e->started = 0;
  e->closed = 0;
  if (sam_sched_new(&cfg, &e->s, err, sizeof(err)) != 0)
    SAM_T_FAIL("sam_sched_new: %s", err);
}

static void on_started(int status, void *ud) {
  env *e = ud;

  e->start_status = status;
  e->started = 1;
}

static void sched_start(env *e) {
  sam_sched_start(e->s, on_started, e);
  EXPECT_EQ_INT(0, e->started); /* never inside the call */
  while (!e->started)
    uv_run(&e->loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, e->start_status);
}

static void on_closed(void *ud) {
  ((env *)ud)->closed = 1;
}

static void sched_close(env *e) {
  sam_sched_close(e->s, on_closed, e);
  while (!e->closed)
    uv_run(&e->loop, UV_RUN_ONCE);
  sam_sched_free(e->s);
  e->s = NULL;
}

static void env_close(env *e, int expect_no_violation) {
  if (e->s != NULL)
    sched_close(e);
  EXPECT_EQ_INT(0, sam_test_host_shutdown(e->th));
  if (expect_no_violation)
    EXPECT_EQ_STR("", sam_test_host_violations(e->th));
  sam_test_host_free(e->th);
  EXPECT_EQ_INT(0, uv_run(&e->loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&e->loop));
}

static int count_str(const char *hay, const char *needle) {
  int n = 0;

  while ((hay = strstr(hay, needle)) != NULL) {
    n++;
    hay += strlen(needle);
  }
  return n;
}

static int finished_runs(env *e) {
  return count_str(sam_test_host_log(e->th), "job finished [job_key=");
}

/* Runs the loop until n runs have finished in all (results stored). */
static void wait_finished(env *e, int n) {
  while (finished_runs(e) < n)
    uv_run(&e->loop, UV_RUN_ONCE);
}

/* No run in progress. */
static void expect_no_runs(env *e) {
  char *prog = sam_sched_progress_json(e->s);

  EXPECT_EQ_STR("{}", prog);
  free(prog);
}

static void on_status(int status, void *ud) {
  int *p = ud;

  *p = status;
}

static void ensure(env *e,
                   const char *profile,
                   const char *display,
                   const char *process,
                   const char *profile_json,
                   const char *params) {
  sam_sched_job_spec spec;
  int st = 1;

  memset(&spec, 0, sizeof(spec));
  spec.profile_id = profile;
  spec.display_name = display;
  spec.process_id = process;
  spec.profile_json = profile_json;
  spec.params_json = params;
  /* Before start the record is written when the load has finished: no
   * callback to wait for here (st lives on this stack frame). */
  EXPECT_EQ_INT(0, sam_sched_ensure_job_ex(e->s, &spec,
                                           e->started ? on_status : NULL, &st));
  if (e->started) {
    while (st == 1)
      uv_run(&e->loop, UV_RUN_ONCE);
    EXPECT_EQ_INT(0, st);
  }
}

static void on_run_done(const sam_sched_run *run, void *ud) {
  env *e = ud;

  e->n_done++;
  e->last_status = run->status;
  snprintf(e->last_id, sizeof(e->last_id), "%s", run->job_id);
}

typedef struct query_ctx {
  int done;
  json_object *arr;
} query_ctx;

static void on_query(int status, const sam_store_result *res, void *ud) {
  query_ctx *q = ud;
  size_t i;

  EXPECT_EQ_INT(0, status);
  EXPECT_TRUE(res->next_cursor == NULL);
  for (i = 0; i < res->n; i++)
    json_object_array_add(q->arr, json_tokener_parse(res->recs[i].json));
  q->done = 1;
}

/* Every record of a host-level type whose /profile_id is `profile`. */
static json_object *records(env *e, const char *type, const char *profile) {
  char filter[200];
  query_ctx q;

  memset(&q, 0, sizeof(q));
  q.arr = json_object_new_array();
  snprintf(filter, sizeof(filter), "{\"/profile_id\":\"%s\"}", profile);
  for (;;) {
    int rc = sam__host_api()->store_query(sam_runtime_host_handle(e->rt),
                                          SAM_SCHED_SCOPE, type, filter, NULL,
                                          1000, on_query, &q, NULL);

    if (rc != SAM_EAGAIN) {
      EXPECT_EQ_INT(0, rc);
      break;
    }
    uv_run(&e->loop, UV_RUN_ONCE); /* the store's queue is full: wait */
  }
  while (!q.done)
    uv_run(&e->loop, UV_RUN_ONCE);
  return q.arr;
}

static json_object *
find_rec(json_object *arr, const char *key, const char *val) {
  size_t i;

  for (i = 0; i < json_object_array_length(arr); i++) {
    json_object *r = json_object_array_get_idx(arr, i), *v;

    if (json_object_object_get_ex(r, key, &v) &&
        strcmp(json_object_get_string(v), val) == 0)
      return r;
  }
  SAM_T_FAIL("no record with [%s=%s] in [%.600s]", key, val,
             json_object_to_json_string(arr));
  return NULL;
}

static const char *str_of(json_object *o, const char *key) {
  json_object *v;

  if (!json_object_object_get_ex(o, key, &v))
    SAM_T_FAIL("missing [%s] in [%.600s]", key, json_object_to_json_string(o));
  return json_object_get_string(v);
}

static int64_t time_of(json_object *o, const char *key) {
  int64_t t = 0;

  EXPECT_EQ_INT(0, sam__sched_parse_time(str_of(o, key), &t));
  return t;
}

static int64_t int_at(json_object *o, const char *obj, const char *key) {
  json_object *v, *w;

  if (!json_object_object_get_ex(o, obj, &v) ||
      !json_object_object_get_ex(v, key, &w))
    SAM_T_FAIL("missing [%s/%s] in [%.600s]", obj, key,
               json_object_to_json_string(o));
  return json_object_get_int64(w);
}

static int64_t due(const char *profile, int64_t t) {
  return sam__sched_next_due(t, 7200, sam__sched_spread_s(profile, 3600));
}

/* ---- tests ---- */

/* Names, next_run_at, a scheduled run at its due instant, and the result
 * record with counts and progress. */
static void test_daily_run(void) {
  env e;
  json_object *jobs, *results, *j, *r;
  int64_t next;

  env_runtime(&e);
  sched_open(&e, 0, 0);
  ensure(&e, "p1", "Acme", "download", "{\"label\":\"x\"}",
         "{\"counts\":{\"users_read\":3,\"subscriptions_created\":2}}");
  ensure(&e, "p1", "Acme", "work", NULL, NULL);
  sched_start(&e);
  jobs = records(&e, SAM_SCHED_JOB_TYPE, "p1");
  EXPECT_EQ_INT(2, json_object_array_length(jobs));
  j = find_rec(jobs, "job_key", "p1:download");
  EXPECT_EQ_STR("SAM - Refresh Acme Subscriptions", str_of(j, "name"));
  next = due("p1", e.clock);
  EXPECT_EQ_INT(next, time_of(j, "next_run_at"));
  EXPECT_EQ_STR("02:00", str_of(j, "daily_at"));
  j = find_rec(jobs, "job_key", "p1:work");
  EXPECT_EQ_STR("SAM - Work Acme", str_of(j, "name"));
  json_object_put(jobs);

  /* Just before: nothing. At the due instant: both jobs run. */
  e.clock = next - 1;
  sam_sched_poke(e.s);
  expect_no_runs(&e);
  EXPECT_EQ_INT(0, finished_runs(&e));
  e.clock = next;
  sam_sched_poke(e.s);
  wait_finished(&e, 2);

  results = records(&e, SAM_SCHED_RESULT_TYPE, "p1");
  EXPECT_EQ_INT(2, json_object_array_length(results));
  r = find_rec(results, "job_key", "p1:download");
  EXPECT_EQ_STR("schedule", str_of(r, "trigger"));
  EXPECT_EQ_STR("success", str_of(r, "outcome"));
  EXPECT_EQ_STR("SAM_OK", str_of(r, "status"));
  EXPECT_EQ_STR("work done", str_of(r, "message"));
  EXPECT_EQ_INT(3, int_at(r, "counts", "users_read"));
  EXPECT_EQ_INT(2, int_at(r, "counts", "subscriptions_created"));
  EXPECT_EQ_INT(2, int_at(r, "progress", "done"));
  EXPECT_EQ_INT(2, int_at(r, "progress", "total"));
  EXPECT_EQ_INT(next, time_of(r, "started_at"));
  EXPECT_EQ_INT(next, time_of(r, "ended_at"));
  jobs = records(&e, SAM_SCHED_JOB_TYPE, "p1");
  j = find_rec(jobs, "job_key", "p1:download");
  EXPECT_EQ_STR(str_of(r, "job_id"), str_of(j, "last_job_id"));
  EXPECT_EQ_INT(next, time_of(j, "last_run_at"));
  EXPECT_EQ_INT(next + DAY, time_of(j, "next_run_at"));
  EXPECT_TRUE(json_object_get_type(json_object_object_get(
                  j, "running_job_id")) == json_type_null);
  json_object_put(jobs);
  json_object_put(results);

  /* The next day's run, once. */
  e.clock = next + DAY + 5;
  sam_sched_poke(e.s);
  wait_finished(&e, 4);
  sam_sched_poke(e.s);
  results = records(&e, SAM_SCHED_RESULT_TYPE, "p1");
  EXPECT_EQ_INT(4, json_object_array_length(results));
  json_object_put(results);
  env_close(&e, 1);
}

/* The real timer with a scaled clock: a day every 50 ms of loop time. */
static void test_scaled_timer(void) {
  env e;
  json_object *results;
  int64_t a, b;

  env_runtime(&e);
  e.scale = (double)DAY / 50.0;
  e.uv0 = uv_now(&e.loop);
  sched_open(&e, 0, 0);
  ensure(&e, "p2", "Beta", "work", NULL, NULL);
  sched_start(&e);
  wait_finished(&e, 2);
  sched_close(&e);
  results = records(&e, SAM_SCHED_RESULT_TYPE, "p2");
  EXPECT_EQ_INT(2, json_object_array_length(results));
  a = time_of(json_object_array_get_idx(results, 0), "started_at");
  b = time_of(json_object_array_get_idx(results, 1), "started_at");
  if (a > b) {
    int64_t t = a;

    a = b;
    b = t;
  }
  /* Each run started at or after its own day's due instant (how long
   * after depends on the machine's load, so that is not asserted). */
  EXPECT_TRUE(a >= due("p2", day0() + H));
  EXPECT_TRUE(b >= due("p2", day0() + H) + DAY);
  EXPECT_EQ_STR("schedule",
                str_of(json_object_array_get_idx(results, 0), "trigger"));
  json_object_put(results);
  env_close(&e, 1);
}

/* Three days missed while "down": one catch-up run at start, not three,
 * and none on the next start. */
static void test_catch_up(void) {
  env e;
  json_object *results, *jobs, *j;
  int64_t later;

  env_runtime(&e);
  sched_open(&e, 0, 1);
  ensure(&e, "p3", "Gamma", "work", NULL, NULL);
  sched_start(&e);
  sched_close(&e); /* the host goes down at 01:00 on day 0 */

  later = day0() + 3 * DAY + 12 * H;
  e.clock = later;
  sched_open(&e, 0, 1);
  sched_start(&e);
  wait_finished(&e, 1);
  sam_sched_poke(e.s);
  results = records(&e, SAM_SCHED_RESULT_TYPE, "p3");
  EXPECT_EQ_INT(1, json_object_array_length(results));
  EXPECT_EQ_STR("catch_up",
                str_of(json_object_array_get_idx(results, 0), "trigger"));
  json_object_put(results);
  jobs = records(&e, SAM_SCHED_JOB_TYPE, "p3");
  j = find_rec(jobs, "job_key", "p3:work");
  EXPECT_EQ_INT(due("p3", later), time_of(j, "next_run_at"));
  EXPECT_EQ_INT(later, time_of(j, "last_run_at"));
  EXPECT_EQ_STR("SAM - Work Gamma", str_of(j, "name"));
  json_object_put(jobs);
  sched_close(&e);

  /* Restart later the same day: the catch-up already covered it. */
  e.clock = later + H;
  sched_open(&e, 0, 1);
  sched_start(&e);
  sam_sched_poke(e.s);
  uv_run(&e.loop, UV_RUN_NOWAIT);
  EXPECT_EQ_INT(1, finished_runs(&e));
  expect_no_runs(&e);
  env_close(&e, 1);
}

/* No overlap: run-now while running is EBUSY with the running id, a due
 * tick is skipped and logged; cancel by id. */
static void test_no_overlap(void) {
  env e;
  char id[SAM_JOB_ID_LEN] = "", id2[SAM_JOB_ID_LEN] = "";
  json_object *results, *r;
  char *prog;

  env_runtime(&e);
  sched_open(&e, 0, 0);
  ensure(&e, "p4", "Delta", "work", NULL, "{\"delay_ms\":600000}");
  sched_start(&e);
  EXPECT_EQ_INT(
      0, sam_sched_run_now(e.s, "p4:work", 0, NULL, id, on_run_done, &e));
  EXPECT_EQ_INT(32, strlen(id));
  EXPECT_EQ_INT(SAM_EBUSY,
                sam_sched_run_now(e.s, "p4:work", 0, "api", id2, NULL, NULL));
  EXPECT_EQ_STR(id, id2);
  EXPECT_EQ_INT(SAM_ENOENT,
                sam_sched_run_now(e.s, "p4:nope", 0, NULL, NULL, NULL, NULL));
  EXPECT_EQ_INT(SAM_EINVAL, sam_sched_run_now(e.s, "p4:work", 0, "bogus", NULL,
                                              NULL, NULL));
  /* Let the job start and report progress. */
  while (strstr(sam_test_host_log(e.th), "job started") == NULL)
    uv_run(&e.loop, UV_RUN_ONCE);
  for (int i = 0; i < 5; i++)
    uv_run(&e.loop, UV_RUN_NOWAIT);
  prog = sam_sched_progress_json(e.s);
  EXPECT_CONTAINS(prog, id);
  EXPECT_CONTAINS(prog, "\"job_key\":\"p4:work\"");
  free(prog);
  /* The result record shows the run and, soon, its progress. */
  for (;;) {
    json_object *p;

    results = records(&e, SAM_SCHED_RESULT_TYPE, "p4");
    r = find_rec(results, "job_id", id);
    EXPECT_EQ_STR("running", str_of(r, "outcome"));
    p = json_object_object_get(r, "progress");
    if (p != NULL) {
      EXPECT_EQ_INT(1, int_at(r, "progress", "done"));
      EXPECT_EQ_STR("working", json_object_get_string(
                                   json_object_object_get(p, "message")));
      json_object_put(results);
      break;
    }
    json_object_put(results);
    uv_run(&e.loop, UV_RUN_ONCE);
  }
  e.clock = due("p4", e.clock);
  sam_sched_poke(e.s);
  EXPECT_CONTAINS(sam_test_host_log(e.th), "scheduled run skipped");
  EXPECT_EQ_INT(SAM_ENOENT, sam_sched_cancel(e.s, "0123"));
  EXPECT_EQ_INT(0, sam_sched_cancel(e.s, id));
  prog = sam_sched_progress_json(e.s);
  EXPECT_CONTAINS(prog, "\"cancel_requested\":true");
  free(prog);
  wait_finished(&e, 1);
  EXPECT_EQ_INT(1, e.n_done);
  EXPECT_EQ_INT(SAM_ECANCELED, e.last_status);
  EXPECT_EQ_STR(id, e.last_id);
  results = records(&e, SAM_SCHED_RESULT_TYPE, "p4");
  EXPECT_EQ_INT(1, json_object_array_length(results));
  r = find_rec(results, "job_id", id);
  EXPECT_EQ_STR("canceled", str_of(r, "outcome"));
  EXPECT_EQ_STR("run_now", str_of(r, "trigger"));
  EXPECT_EQ_INT(1, int_at(r, "progress", "done"));
  json_object_put(results);
  /* Free again: run-now works. */
  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "p4:work", 0, NULL, id2, NULL, NULL));
  EXPECT_TRUE(strcmp(id, id2) != 0);
  env_close(&e, 1); /* close cancels it; it still completes */
}

/* Deadlines: a cancellable job is cancelled; one that ignores cancel ends
 * with the runtime's C2 timeout. Both write their results. */
static void test_deadline(void) {
  env e;
  json_object *results, *r;
  char id[SAM_JOB_ID_LEN], id2[SAM_JOB_ID_LEN];

  env_runtime(&e);
  sched_open(&e, 20, 0);
  ensure(&e, "p5", "Eps", "work", NULL, "{\"delay_ms\":600000}");
  ensure(&e, "p5", "Eps", "slow", NULL, "{\"never\":true}");
  sched_start(&e);
  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "p5:work", 0, NULL, id, NULL, NULL));
  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "p5:slow", 0, NULL, id2, NULL, NULL));
  wait_finished(&e, 2);
  results = records(&e, SAM_SCHED_RESULT_TYPE, "p5");
  r = find_rec(results, "job_id", id);
  EXPECT_EQ_STR("canceled", str_of(r, "outcome"));
  EXPECT_CONTAINS(str_of(r, "message"), "deadline exceeded [deadline_ms=20]");
  r = find_rec(results, "job_id", id2);
  EXPECT_EQ_STR("failure", str_of(r, "outcome"));
  EXPECT_EQ_STR("SAM_ETIMEDOUT", str_of(r, "status"));
  EXPECT_CONTAINS(str_of(r, "message"), "deadline exceeded");
  json_object_put(results);
  EXPECT_CONTAINS(sam_test_host_log(e.th), "job deadline exceeded");
  env_close(&e, 0); /* the never-completing job is a recorded violation */
}

/* Outcomes: partial from the result's "partial", failure with the status
 * name; dry runs flagged. */
static void test_outcomes(void) {
  env e;
  json_object *results, *r;
  char id[SAM_JOB_ID_LEN], id2[SAM_JOB_ID_LEN];

  env_runtime(&e);
  sched_open(&e, 0, 0);
  ensure(&e, "p6", "Zeta", "work", NULL,
         "{\"partial\":true,\"counts\":{\"users_read\":7},"
         "\"message\":\"only half\"}");
  ensure(&e, "p6", "Zeta", "reclaim", NULL,
         "{\"status\":\"SAM_EIO\",\"message\":\"remote failed\"}");
  sched_start(&e);
  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "p6:work", 0, NULL, id, NULL, NULL));
  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "p6:reclaim", SAM_JOB_DRY_RUN, "api",
                                     id2, NULL, NULL));
  wait_finished(&e, 2);
  results = records(&e, SAM_SCHED_RESULT_TYPE, "p6");
  r = find_rec(results, "job_id", id);
  EXPECT_EQ_STR("partial", str_of(r, "outcome"));
  EXPECT_EQ_STR("only half", str_of(r, "message"));
  EXPECT_EQ_INT(7, int_at(r, "counts", "users_read"));
  EXPECT_TRUE(json_object_get_boolean(
      json_object_object_get(json_object_object_get(r, "result"), "partial")));
  r = find_rec(results, "job_id", id2);
  EXPECT_EQ_STR("failure", str_of(r, "outcome"));
  EXPECT_EQ_STR("SAM_EIO", str_of(r, "status"));
  EXPECT_EQ_STR("api", str_of(r, "trigger"));
  EXPECT_TRUE(json_object_get_boolean(json_object_object_get(r, "dry_run")));
  json_object_put(results);
  env_close(&e, 1);
}

/* Removing a profile's jobs cancels the running one and deletes them. */
static void test_remove(void) {
  env e;
  json_object *arr, *r;
  char id[SAM_JOB_ID_LEN];
  int st = 1;

  env_runtime(&e);
  sched_open(&e, 0, 0);
  ensure(&e, "p7", "Eta", "work", NULL, "{\"delay_ms\":600000}");
  ensure(&e, "p7", "Eta", "download", NULL, NULL);
  ensure(&e, "p8", "Theta", "work", NULL, NULL);
  sched_start(&e);
  EXPECT_EQ_INT(
      0, sam_sched_run_now(e.s, "p7:work", 0, NULL, id, on_run_done, &e));
  EXPECT_EQ_INT(0, sam_sched_remove_jobs(e.s, "p7", on_status, &st));
  EXPECT_EQ_INT(1, st);
  while (st == 1 || e.n_done == 0)
    uv_run(&e.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, st);
  EXPECT_EQ_INT(SAM_ECANCELED, e.last_status);
  wait_finished(&e, 1);
  arr = records(&e, SAM_SCHED_JOB_TYPE, "p7");
  EXPECT_EQ_INT(0, json_object_array_length(arr));
  json_object_put(arr);
  arr = records(&e, SAM_SCHED_JOB_TYPE, "p8");
  EXPECT_EQ_INT(1, json_object_array_length(arr));
  json_object_put(arr);
  arr = records(&e, SAM_SCHED_RESULT_TYPE, "p7");
  r = find_rec(arr, "job_id", id);
  EXPECT_EQ_STR("canceled", str_of(r, "outcome"));
  json_object_put(arr);
  EXPECT_EQ_INT(SAM_ENOENT,
                sam_sched_run_now(e.s, "p7:work", 0, NULL, NULL, NULL, NULL));
  /* Nothing left to remove: the callback still runs later. */
  st = 1;
  EXPECT_EQ_INT(0, sam_sched_remove_jobs(e.s, "p7", on_status, &st));
  EXPECT_EQ_INT(1, st);
  while (st == 1)
    uv_run(&e.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, st);
  /* And the job can come back. */
  ensure(&e, "p7", "Eta", "work", NULL, NULL);
  arr = records(&e, SAM_SCHED_JOB_TYPE, "p7");
  EXPECT_EQ_INT(1, json_object_array_length(arr));
  json_object_put(arr);
  env_close(&e, 1);
}

/* download -> reclaim only when the profile has reclaim_enabled and the
 * download succeeded. */
static void test_chain(void) {
  env e;
  json_object *arr, *r;
  char *prog;

  env_runtime(&e);
  sched_open(&e, 0, 0);
  ensure(&e, "on", "On", "download", "{\"reclaim_enabled\":true}", NULL);
  ensure(&e, "on", "On", "reclaim", "{\"reclaim_enabled\":true}", NULL);
  ensure(&e, "off", "Off", "download", "{\"reclaim_enabled\":false}", NULL);
  ensure(&e, "off", "Off", "reclaim", "{\"reclaim_enabled\":false}", NULL);
  ensure(&e, "bad", "Bad", "download", "{\"form\":{\"reclaim_enabled\":true}}",
         "{\"status\":\"SAM_EIO\"}");
  ensure(&e, "bad", "Bad", "reclaim", "{\"form\":{\"reclaim_enabled\":true}}",
         NULL);
  sched_start(&e);

  EXPECT_EQ_INT(
      0, sam_sched_run_now(e.s, "on:download", 0, NULL, NULL, on_run_done, &e));
  while (e.n_done < 1)
    uv_run(&e.loop, UV_RUN_ONCE);
  prog = sam_sched_progress_json(e.s);
  EXPECT_CONTAINS(prog, "\"job_key\":\"on:reclaim\"");
  free(prog);
  wait_finished(&e, 2);
  arr = records(&e, SAM_SCHED_RESULT_TYPE, "on");
  EXPECT_EQ_INT(2, json_object_array_length(arr));
  r = find_rec(arr, "job_key", "on:reclaim");
  EXPECT_EQ_STR("chained", str_of(r, "trigger"));
  EXPECT_EQ_STR("success", str_of(r, "outcome"));
  json_object_put(arr);

  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "off:download", 0, NULL, NULL,
                                     on_run_done, &e));
  while (e.n_done < 2)
    uv_run(&e.loop, UV_RUN_ONCE);
  expect_no_runs(&e);
  EXPECT_EQ_INT(0, sam_sched_run_now(e.s, "bad:download", 0, NULL, NULL,
                                     on_run_done, &e));
  while (e.n_done < 3)
    uv_run(&e.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(SAM_EIO, e.last_status);
  expect_no_runs(&e);
  arr = records(&e, SAM_SCHED_RESULT_TYPE, "off");
  EXPECT_EQ_INT(1, json_object_array_length(arr));
  json_object_put(arr);
  arr = records(&e, SAM_SCHED_RESULT_TYPE, "bad");
  EXPECT_EQ_INT(1, json_object_array_length(arr));
  json_object_put(arr);
  env_close(&e, 1);
}

/* Bad input and calls after close. */
static void test_errors(void) {
  env e;
  sam_sched_config cfg;
  sam_sched *s = NULL;
  char err[200] = "";
  int st = 1;

  env_runtime(&e);
  memset(&cfg, 0, sizeof(cfg));
  cfg.rt = e.rt;
  cfg.daily_at = "25:00";
  EXPECT_EQ_INT(SAM_EINVAL, sam_sched_new(&cfg, &s, err, sizeof(err)));
  EXPECT_CONTAINS(err, "[daily_at=25:00]");
  sched_open(&e, 0, 0);
  EXPECT_EQ_INT(SAM_EINVAL, sam_sched_ensure_job(e.s, "bad id", "X", "work",
                                                 NULL, NULL, NULL));
  EXPECT_EQ_INT(SAM_EINVAL,
                sam_sched_ensure_job(e.s, "p", "X", "Work!", NULL, NULL, NULL));
  EXPECT_EQ_INT(SAM_EINVAL, sam_sched_add_chain(e.s, "a", "b", ""));
  sched_start(&e);
  /* A job whose process no plugin has: run-now says so. */
  ensure(&e, "p9", "Iota", "nothing", NULL, NULL);
  EXPECT_EQ_INT(SAM_ENOENT, sam_sched_run_now(e.s, "p9:nothing", 0, NULL, NULL,
                                              NULL, NULL));
  sam_sched_close(e.s, on_closed, &e);
  EXPECT_EQ_INT(SAM_EBUSY, sam_sched_ensure_job(e.s, "p9", "Iota", "work", NULL,
                                                on_status, &st));
  EXPECT_EQ_INT(SAM_EBUSY, sam_sched_run_now(e.s, "p9:nothing", 0, NULL, NULL,
                                             NULL, NULL));
  while (!e.closed)
    uv_run(&e.loop, UV_RUN_ONCE);
  sam_sched_free(e.s);
  e.s = NULL;
  env_close(&e, 1);
}

/* Closed without a start: an ensure's callback still runs, once. */
static void test_close_unstarted(void) {
  env e;
  int st = 1;

  env_runtime(&e);
  sched_open(&e, 0, 0);
  EXPECT_EQ_INT(
      0, sam_sched_ensure_job(e.s, "u1", "U", "work", NULL, on_status, &st));
  sam_sched_close(e.s, on_closed, &e);
  EXPECT_EQ_INT(1, st);
  while (!e.closed)
    uv_run(&e.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(SAM_ECANCELED, st);
  sam_sched_free(e.s);
  e.s = NULL;
  env_close(&e, 1);
}

/* A store whose queue holds one request: every write and the load meet
 * SAM_EAGAIN and are retried; nothing is lost. */
static void test_backpressure(void) {
  env e;
  json_object *arr;
  char key[32], pid[16];
  int i;

  g_queue_max = 1;
  env_runtime(&e);
  sched_open(&e, 0, 0);
  for (i = 0; i < 6; i++) {
    snprintf(pid, sizeof(pid), "bp%d", i);
    ensure(&e, pid, "Back", "work", NULL, "{\"counts\":{\"n\":1}}");
  }
  sched_start(&e);
  for (i = 0; i < 6; i++) {
    snprintf(key, sizeof(key), "bp%d:work", i);
    EXPECT_EQ_INT(0, sam_sched_run_now(e.s, key, 0, NULL, NULL, NULL, NULL));
  }
  wait_finished(&e, 6);
  for (i = 0; i < 6; i++) {
    snprintf(pid, sizeof(pid), "bp%d", i);
    arr = records(&e, SAM_SCHED_RESULT_TYPE, pid);
    EXPECT_EQ_INT(1, json_object_array_length(arr));
    EXPECT_EQ_STR("success",
                  str_of(json_object_array_get_idx(arr, 0), "outcome"));
    json_object_put(arr);
    arr = records(&e, SAM_SCHED_JOB_TYPE, pid);
    EXPECT_EQ_INT(1, json_object_array_length(arr));
    EXPECT_TRUE(json_object_get_type(json_object_object_get(
                    json_object_array_get_idx(arr, 0), "running_job_id")) ==
                json_type_null);
    json_object_put(arr);
  }
  env_close(&e, 1);
  g_queue_max = 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test-sched <fixture manifest>\n");
    return 2;
  }
  g_manifest = argv[1];
  SAM_T_RUN(test_daily_run);
  SAM_T_RUN(test_scaled_timer);
  SAM_T_RUN(test_catch_up);
  SAM_T_RUN(test_no_overlap);
  SAM_T_RUN(test_deadline);
  SAM_T_RUN(test_outcomes);
  SAM_T_RUN(test_remove);
  SAM_T_RUN(test_chain);
  SAM_T_RUN(test_errors);
  SAM_T_RUN(test_backpressure);
  SAM_T_RUN(test_close_unstarted);
  return 0;
}
