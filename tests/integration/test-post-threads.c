/*
 * test-post-threads.c: post() from 8 threads x 1000 posts (ABI.md 9.1):
 * every fn runs exactly once, on the loop thread; after shutdown began
 * post() returns SAM_EBUSY and fn never runs. Also built with TSan (label
 * "tsan").
 */
#include <stdatomic.h>
#include <string.h>

#include "test-core-common.h"

#define N_THREADS 8
#define N_POSTS 1000

static unsigned char ran[N_THREADS * N_POSTS];
static atomic_int total;
static atomic_int refused;
static uv_thread_t loop_thread;
static int off_loop;

static void on_post(void *ud) {
  unsigned char *slot = ud;
  uv_thread_t self = uv_thread_self();

  if (!uv_thread_equal(&self, &loop_thread))
    off_loop++;
  (*slot)++;
  atomic_fetch_add(&total, 1);
}

static void poster(void *arg) {
  size_t t = (size_t)(uintptr_t)arg;
  int i;

  for (i = 0; i < N_POSTS; i++) {
    int rc = tp.api->post(tp.host, on_post, &ran[t * N_POSTS + (size_t)i]);

    if (rc != 0)
      SAM_T_FAIL("post failed [%s]", sam_err_name(rc));
  }
}

static void late_poster(void *arg) {
  (void)arg;
  if (tp.api->post(tp.host, on_post, &ran[0]) == SAM_EBUSY)
    atomic_fetch_add(&refused, 1);
}

static void eight_threads(void) {
  uv_loop_t loop;
  sam_test_host *th;
  uv_thread_t threads[N_THREADS];
  char err[256];
  size_t i;
  int done = 0;

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, tp_load(th, NULL, 0, err, sizeof(err)));
  loop_thread = uv_thread_self();
  memset(ran, 0, sizeof(ran));
  for (i = 0; i < N_THREADS; i++)
    EXPECT_EQ_INT(0,
                  uv_thread_create(&threads[i], poster, (void *)(uintptr_t)i));
  while (atomic_load(&total) < N_THREADS * N_POSTS)
    uv_run(&loop, UV_RUN_ONCE);
  for (i = 0; i < N_THREADS; i++)
    EXPECT_EQ_INT(0, uv_thread_join(&threads[i]));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(N_THREADS * N_POSTS, atomic_load(&total));
  for (i = 0; i < N_THREADS * N_POSTS; i++)
    EXPECT_EQ_INT(1, ran[i]);
  EXPECT_EQ_INT(0, off_loop);
  /* shutdown: a post from inside the plugin's shutdown is refused, and so
   * is one from another thread afterwards */
  EXPECT_EQ_INT(0, sam_test_host_shutdown(th));
  EXPECT_EQ_INT(SAM_EBUSY, tp.post_in_shutdown);
  EXPECT_EQ_INT(0, uv_thread_create(&threads[0], late_poster, NULL));
  EXPECT_EQ_INT(0, uv_thread_join(&threads[0]));
  EXPECT_EQ_INT(1, atomic_load(&refused));
  EXPECT_EQ_INT(N_THREADS * N_POSTS, atomic_load(&total)); /* never ran */
  (void)done;
  tp_teardown(&loop, th);
}

static int batch_ran;

static void count_post(void *ud) {
  (void)ud;
  batch_ran++;
}

/* At most 256 posts run per wake-up; the rest on the next one. */
static void batches_of_256(void) {
  uv_loop_t loop;
  sam_test_host *th;
  char err[256];
  int i;

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, tp_load(th, NULL, 0, err, sizeof(err)));
  batch_ran = 0;
  for (i = 0; i < 600; i++)
    EXPECT_EQ_INT(0, tp.api->post(tp.host, count_post, NULL));
  EXPECT_EQ_INT(0, batch_ran); /* never inside the call */
  uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ_INT(256, batch_ran);
  uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ_INT(512, batch_ran);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(600, batch_ran);
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->post(tp.host, NULL, NULL));
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(eight_threads);
  SAM_T_RUN(batches_of_256);
  return 0;
}
