/*
 * test-pool-priority.c: libuv's thread pool starts below the caller's
 * priority (host-sdk/src/pool_priority.c): every pool thread runs 10 nice
 * levels below, the caller's own priority is unchanged, and a second call
 * starts nothing new.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "pool_priority.h"
#include "sam_test.h"

#define POOL 4

typedef struct probe {
  uv_barrier_t *all; /* holds each work until all run: one per thread */
  uv_thread_t self;
  int nice;
} probe;

static int nice_of_caller(void) {
  int n;

  errno = 0;
  n = getpriority(PRIO_PROCESS, 0);
  EXPECT_EQ_INT(0, errno);
  return n;
}

static void probe_work(uv_work_t *w) {
  probe *p = w->data;

  p->nice = nice_of_caller();
  p->self = uv_thread_self();
  uv_barrier_wait(p->all);
}

static void probe_after(uv_work_t *w, int status) {
  (void)w;
  EXPECT_EQ_INT(0, status);
}

static void test_pool_below_caller(void) {
  int before = nice_of_caller(), want = before + 10 > 19 ? 19 : before + 10;
  int pool = -100, again = -100;
  uv_barrier_t all;
  uv_work_t w[POOL];
  probe p[POOL];
  uv_loop_t loop;
  int i, j;

  EXPECT_EQ_INT(0, sam__pool_start_below_loop(&pool));
  EXPECT_EQ_INT(want, pool);
  EXPECT_EQ_INT(before, nice_of_caller());
  /* every thread of the pool, not only the one that ran the first work */
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  EXPECT_EQ_INT(0, uv_barrier_init(&all, POOL));
  for (i = 0; i < POOL; i++) {
    memset(&p[i], 0, sizeof(p[i]));
    p[i].all = &all;
    p[i].nice = -100;
    w[i].data = &p[i];
    EXPECT_EQ_INT(0, uv_queue_work(&loop, &w[i], probe_work, probe_after));
  }
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  for (i = 0; i < POOL; i++) {
    EXPECT_EQ_INT(want, p[i].nice);
    for (j = 0; j < i; j++)
      EXPECT_TRUE(!uv_thread_equal(&p[i].self, &p[j].self));
  }
  uv_barrier_destroy(&all);
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  /* the pool started once: the same answer, the caller still unchanged */
  EXPECT_EQ_INT(0, sam__pool_start_below_loop(&again));
  EXPECT_EQ_INT(want, again);
  EXPECT_EQ_INT(before, nice_of_caller());
}

int main(void) {
  /* the pool's size, so that the probes cover every thread */
  setenv("UV_THREADPOOL_SIZE", "4", 1);
  SAM_T_RUN(test_pool_below_caller);
  return 0;
}
