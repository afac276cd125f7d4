/*
 * pool_priority.c: starting libuv's thread pool below the loop's priority.
 *
 * The loop thread answers HTTP and drives every job; the pool runs the
 * plugins' CPU work (page parsing and mapping) and only has to keep up on
 * average, like the SQLite worker (backend_sqlite.c). On a busy 2-core
 * machine bench-download's stall split showed the loop's stalls over 5 ms
 * to be almost all time spent runnable, waiting for a CPU that pool
 * threads at the loop's own priority held.
 *
 * libuv has no hook for its pool threads and only the thread that first
 * submits work creates them, and a thread's nice value is inherited at
 * creation (Linux: nice is per thread). So a short-lived thread lowers its
 * own priority and submits the process's first work on a private loop:
 * the pool's threads are born below the loop, and no thread ever raises
 * a priority (which needs CAP_SYS_NICE). When the pool already runs,
 * nothing changes; the caller learns the pool's nice either way.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "pool_priority.h"

/* As the SQLite worker's SQ_WORKER_NICE. */
#define POOL_NICE_DELTA 10

typedef struct starter {
  int pool_nice; /* as a pool thread read it */
  int ok;
} starter;

static int own_nice(int *out) {
  int n;

  errno = 0;
  n = getpriority(PRIO_PROCESS, 0);
  if (errno != 0)
    return -1;
  *out = n;
  return 0;
}

static void probe_work(uv_work_t *w) {
  starter *s = w->data;

  s->ok = own_nice(&s->pool_nice) == 0;
}

static void probe_after(uv_work_t *w, int status) {
  (void)w;
  (void)status;
}

static void start_pool(void *arg) {
  starter *s = arg;
  uv_loop_t loop;
  uv_work_t w;
  int now;

  /* on Linux, who = 0 is the calling thread only */
  if (own_nice(&now) == 0)
    (void)setpriority(PRIO_PROCESS, 0,
                      now + POOL_NICE_DELTA > 19 ? 19 : now + POOL_NICE_DELTA);
  if (uv_loop_init(&loop) != 0)
    return;
  memset(&w, 0, sizeof(w));
  w.data = s;
  if (uv_queue_work(&loop, &w, probe_work, probe_after) == 0)
    (void)uv_run(&loop, UV_RUN_DEFAULT);
  (void)uv_loop_close(&loop);
}

static uv_once_t once = UV_ONCE_INIT;
static starter result;

static void start_once(void) {
  uv_thread_t t;

  if (uv_thread_create(&t, start_pool, &result) == 0)
    (void)uv_thread_join(&t);
}

int sam__pool_start_below_loop(int *pool_nice) {
  uv_once(&once, start_once);
  if (!result.ok)
    return -1;
  *pool_nice = result.pool_nice;
  return 0;
}
