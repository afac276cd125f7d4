/*
 * test-backend-sqlite-crash.c: kill -9 during put_batch leaves each batch
 * whole or absent.
 *
 * A child process opens the store and writes big batches back to back
 * (four in flight, so the backend also commits them in groups), each
 * record tagged with its round, its batch number and the batch's size. It
 * reports every committed batch on a pipe. The parent
 * waits for a random number of commits, waits a little more (so the kill
 * lands at a random point, usually inside a transaction), sends SIGKILL,
 * reopens the database and checks: integrity_check is ok, every batch
 * present has all its records and all their index rows, and every batch
 * the child reported committed is there. This repeats for several rounds
 * on the same file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-backend-sqlite-common.h"

#define ROUNDS 6
#define MAX_BATCH 500
#define INFLIGHT 4

static char dir[512];
static char db_path[600];

/* ---- the child: writes until killed ---- */

typedef struct writer {
  sam__backend b;
  int round;
  int next_batch;
  int fd; /* pipe to the parent */
  unsigned seed;
} writer;

static t_req *make_batch(writer *w) {
  static const char pad[] =
      "................................................................"
      "................................................................"
      "................................................................"
      "........................................................";
  int batch = w->next_batch++;
  int count = 100 + (int)(rand_r(&w->seed) % (MAX_BATCH - 100 + 1));
  t_req *t = t_new(SAM__REQ_PUT_BATCH, "crash", "rec", NULL);
  int i;

  for (i = 0; i < count; i++) {
    char key[64];
    char json[512];
    char i1[64];
    char i2[64];
    char i3[64];
    const char *index[] = {i1, i2, i3, NULL};
    snprintf(key, sizeof(key), "r%d-b%06d-%04d", w->round, batch, i);
    snprintf(json, sizeof(json),
             "{\"round\":%d,\"batch\":%d,\"count\":%d,\"i\":%d,\"pad\":\"%s\"}",
             w->round, batch, count, i, pad);
    snprintf(i1, sizeof(i1), "/round=%d", w->round);
    snprintf(i2, sizeof(i2), "/batch=%d-%d", w->round, batch);
    snprintf(i3, sizeof(i3), "/i=%d", i);
    t_add(t, key, json, SAM_IF_NEW, index);
  }
  t->req.core_private = t;
  return t;
}

static void child_run(int round, int fd) {
  uv_loop_t loop;
  writer w;
  t_req *inflight[INFLIGHT];
  int k;

  memset(&w, 0, sizeof(w));
  w.round = round;
  w.fd = fd;
  w.seed = (unsigned)getpid();
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  t_init(&loop);
  t_open(&loop, db_path, 0, &w.b);
  for (k = 0; k < INFLIGHT; k++) {
    inflight[k] = make_batch(&w);
    EXPECT_EQ_INT(0, w.b.vt->submit(w.b.self, &inflight[k]->req));
  }
  for (k = 0;; k = (k + 1) % INFLIGHT) {
    int batch;
    t_wait(inflight[k]);
    EXPECT_EQ_INT(0, inflight[k]->req.status);
    /* the batch number is in the first key: r<round>-b<batch>-0000 */
    batch = atoi(strchr(inflight[k]->req.recs[0].key, 'b') + 1);
    if (write(fd, &batch, sizeof(batch)) != (ssize_t)sizeof(batch))
      _exit(3);
    t_free(inflight[k]);
    inflight[k] = make_batch(&w);
    EXPECT_EQ_INT(0, w.b.vt->submit(w.b.self, &inflight[k]->req));
  }
}

/* ---- the parent: kill and check ---- */

static int read_commits(int fd, int want, int *max_batch) {
  int got = 0;

  while (got < want) {
    int batch;
    ssize_t r = read(fd, &batch, sizeof(batch));
    if (r < 0 && errno == EINTR)
      continue;
    if (r != (ssize_t)sizeof(batch))
      break; /* the child died */
    if (batch > *max_batch)
      *max_batch = batch;
    got++;
  }
  return got;
}

static void check_db(int round, int committed_max, int *total_batches) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int batches = 0;
  int seen_max = -1;

  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(db_path, &db));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
                                              &st, NULL));
  EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
  EXPECT_EQ_STR("ok", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);

  /* every batch of this round: all of its records, and a /batch index row
   * for each of them */
  EXPECT_EQ_INT(
      SQLITE_OK,
      sqlite3_prepare_v2(
          db,
          "SELECT b, cmin, cmax, n, (SELECT COUNT(*) FROM record_index i"
          "  WHERE i.profile_id = 'crash' AND i.record_type = 'rec' AND"
          "  i.pointer = '/batch' AND i.value = ?1 || '-' || b)"
          " FROM (SELECT json_extract(json, '$.batch') AS b,"
          "  MIN(json_extract(json, '$.count')) AS cmin,"
          "  MAX(json_extract(json, '$.count')) AS cmax, COUNT(*) AS n"
          "  FROM records WHERE json_extract(json, '$.round') = ?1"
          "  GROUP BY b) ORDER BY b",
          -1, &st, NULL));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_bind_int(st, 1, round));
  while (sqlite3_step(st) == SQLITE_ROW) {
    int b = sqlite3_column_int(st, 0);
    int cmin = sqlite3_column_int(st, 1);
    int cmax = sqlite3_column_int(st, 2);
    int n = sqlite3_column_int(st, 3);
    int idx = sqlite3_column_int(st, 4);
    if (cmin != cmax || n != cmin || idx != n)
      SAM_T_FAIL("partial batch [round=%d] [batch=%d] [count=%d] "
                 "[records=%d] [index_rows=%d]",
                 round, b, cmax, n, idx);
    EXPECT_EQ_INT(batches, b); /* batches commit in order, none missing */
    seen_max = b;
    batches++;
  }
  sqlite3_finalize(st);
  /* every batch the child saw committed survived the kill */
  EXPECT_TRUE(seen_max >= committed_max);
  /* three index rows per record, none without its record */
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_prepare_v2(db,
                                   "SELECT (SELECT COUNT(*) FROM record_index)"
                                   " - 3 * (SELECT COUNT(*) FROM records)",
                                   -1, &st, NULL));
  EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
  EXPECT_EQ_INT(0, sqlite3_column_int(st, 0));
  sqlite3_finalize(st);
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_prepare_v2(db,
                                   "SELECT COUNT(*) FROM record_index i WHERE"
                                   " NOT EXISTS (SELECT 1 FROM records r"
                                   " WHERE r.profile_id = i.profile_id AND"
                                   " r.record_type = i.record_type AND"
                                   " r.key = i.key)",
                                   -1, &st, NULL));
  EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
  EXPECT_EQ_INT(0, sqlite3_column_int(st, 0));
  sqlite3_finalize(st);
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
  printf("round %d: %d whole batches, last reported commit %d\n", round,
         batches, committed_max);
  *total_batches += batches;
}

int main(void) {
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  int total = 0;
  int round;

  printf("seed %u\n", seed);
  t_tmpdir(dir, sizeof(dir), "test-backend-sqlite-crash");
  snprintf(db_path, sizeof(db_path), "%s/crash.sqlite", dir);

  for (round = 0; round < ROUNDS; round++) {
    int fds[2];
    int status = 0;
    int max_batch = -1;
    int want = 1 + (int)(rand_r(&seed) % 4);
    pid_t pid;

    EXPECT_EQ_INT(0, pipe(fds));
    fflush(stdout);
    pid = fork();
    EXPECT_TRUE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      child_run(round, fds[1]);
      _exit(2); /* not reached */
    }
    close(fds[1]);
    EXPECT_EQ_INT(want, read_commits(fds[0], want, &max_batch));
    /* a random extra delay, 0-40 ms, so the kill lands anywhere in the
     * next batches; no assertion depends on it */
    {
      struct timespec ts = {0, (long)(rand_r(&seed) % 40) * 1000000L};
      nanosleep(&ts, NULL);
    }
    EXPECT_EQ_INT(0, kill(pid, SIGKILL));
    /* commits reported before the kill landed count too */
    read_commits(fds[0], 1 << 30, &max_batch);
    close(fds[0]);
    EXPECT_EQ_INT(pid, waitpid(pid, &status, 0));
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    check_db(round, max_batch, &total);
  }
  EXPECT_TRUE(total >= ROUNDS); /* each round waited for a commit */
  t_rmdir(dir);
  return 0;
}
