/*
 * test-backend-sqlite-faults.c: storage failures in the middle of a batch.
 * A trigger injected into the database makes SQLite refuse one record
 * ("boom"); the batch holding it must fail with SAM_EIO and write nothing,
 * alone or inside a group commit, and the batches around it must still
 * commit. Another process holding the write lock past busy_timeout gives
 * SAM_EAGAIN, and the store works again once the lock is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-backend-sqlite-common.h"

#define P "p"
#define RT "t"

static uv_loop_t loop;
static char dir[512];
static char db_path[600];

static t_req *batch(const char *a, const char *b) {
  static const char *const idx[] = {"/status=active", NULL};
  t_req *t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);

  t_add(t, a, "{}", SAM_IF_ANY, idx);
  t_add(t, b, "{}", SAM_IF_ANY, idx);
  return t;
}

static int exists(sam__backend *b, const char *key) {
  t_req *t = t_new(SAM__REQ_GET, P, RT, key);
  int rc = t_run(b, t);

  t_free(t);
  EXPECT_TRUE(rc == 0 || rc == SAM_ENOENT);
  return rc == 0;
}

static size_t count_active(sam__backend *b) {
  t_req *t = t_new(SAM__REQ_QUERY, P, RT, NULL);
  size_t n;

  t_term(t, "/status", "active");
  EXPECT_EQ_INT(0, t_run(b, t));
  n = t->req.out_n;
  t_free(t);
  return n;
}

static void inject_trigger(void) {
  sqlite3 *db = NULL;

  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(db_path, &db));
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_exec(db,
                             "CREATE TRIGGER boom BEFORE INSERT ON records"
                             " WHEN NEW.key = 'boom' BEGIN"
                             " SELECT RAISE(ABORT, 'injected failure'); END",
                             NULL, NULL, NULL));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
}

static void test_failure_inside_batch(void) {
  sam__backend b;
  t_req *t;

  t_open(&loop, db_path, 0, &b); /* creates the schema */
  t_close(&loop, &b);
  inject_trigger();
  t_open(&loop, db_path, 0, &b);

  /* alone: nothing of the batch is written, the error says why */
  t = batch("alone-1", "boom");
  EXPECT_EQ_INT(SAM_EIO, t_run(&b, t));
  EXPECT_EQ_INT(0, (long long)t->req.out_n);
  EXPECT_CONTAINS(t->req.errmsg, "injected failure");
  t_free(t);
  EXPECT_EQ_INT(0, exists(&b, "alone-1"));
  EXPECT_EQ_INT(0, (long long)count_active(&b));

  /* inside a group: the neighbours commit */
  {
    t_req *held;
    t_req *g[3];
    int i;
    t_gate_close();
    held = t_new(SAM__REQ_GET, P, RT, "x");
    EXPECT_EQ_INT(0, b.vt->submit(b.self, &held->req));
    t_gate_wait_entered(1);
    g[0] = batch("g0-a", "g0-b");
    g[1] = batch("g1-a", "boom");
    g[2] = batch("g2-a", "g2-b");
    for (i = 0; i < 3; i++)
      EXPECT_EQ_INT(0, b.vt->submit(b.self, &g[i]->req));
    t_gate_open();
    t_wait(held);
    for (i = 0; i < 3; i++)
      t_wait(g[i]);
    EXPECT_EQ_INT(0, g[0]->req.status);
    EXPECT_EQ_INT(SAM_EIO, g[1]->req.status);
    EXPECT_EQ_INT(0, (long long)g[1]->req.out_n);
    EXPECT_EQ_INT(0, g[2]->req.status);
    EXPECT_EQ_INT(2, (long long)g[2]->req.out_n);
    for (i = 0; i < 3; i++)
      t_free(g[i]);
    t_free(held);
  }
  EXPECT_EQ_INT(1, exists(&b, "g0-b"));
  EXPECT_EQ_INT(0, exists(&b, "g1-a"));
  EXPECT_EQ_INT(1, exists(&b, "g2-a"));
  EXPECT_EQ_INT(4, (long long)count_active(&b));
  t_close(&loop, &b);
}

static void test_lock_held_elsewhere(void) {
  sam__backend b;
  sam__sqlite_opts opts;
  sqlite3 *other = NULL;
  char err[256];
  t_req *t;

  memset(&opts, 0, sizeof(opts));
  opts.busy_timeout_ms = 50;
  EXPECT_EQ_INT(
      0, sam__backend_sqlite_open(&loop, db_path, &opts, &b, err, sizeof(err)));
  /* another process (here: connection) holds the write lock */
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(db_path, &other));
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL));
  t = batch("locked-a", "locked-b");
  EXPECT_EQ_INT(SAM_EAGAIN, t_run(&b, t));
  t_free(t);
  /* readers are not blocked in WAL mode */
  EXPECT_EQ_INT(1, exists(&b, "g0-a"));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_exec(other, "COMMIT", NULL, NULL, NULL));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(other));
  t = batch("locked-a", "locked-b");
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  t_close(&loop, &b);
}

int main(void) {
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  t_init(&loop);
  t_tmpdir(dir, sizeof(dir), "test-backend-sqlite-faults");
  snprintf(db_path, sizeof(db_path), "%s/faults.sqlite", dir);

  SAM_T_RUN(test_failure_inside_batch);
  SAM_T_RUN(test_lock_held_elsewhere);

  t_fini();
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  t_rmdir(dir);
  return 0;
}
