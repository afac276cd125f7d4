/*
 * test-backend-sqlite-tables.c: the SQLite backend's host-owned tables
 * (append-only audit log, usage events kept one year), profile purge, the
 * re-sealing of every secret after a key rotation, and a scan of the
 * database files for the clear text of a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_seal.h"
#include "sam_test.h"
#include "test-backend-sqlite-common.h"

#define DAY_MS ((int64_t)24 * 60 * 60 * 1000)

static uv_loop_t loop;
static char dir[512];
static char db_path[600];

typedef struct op_result {
  int calls;
  int status;
  int64_t count;
  char errmsg[256];
} op_result;

static void on_op(int status, int64_t count, const char *errmsg, void *ud) {
  op_result *r = ud;

  r->calls++;
  r->status = status;
  r->count = count;
  snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg);
}

/* Runs the loop until the operation's callback ran (exactly once). */
static void wait_op(op_result *r) {
  while (r->calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, r->calls);
}

static int64_t scalar(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t v;

  EXPECT_EQ_INT(SQLITE_OK, sqlite3_prepare_v2(db, sql, -1, &st, NULL));
  EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
  v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void test_audit_log(void) {
  sam__backend b;
  op_result r1 = {0};
  op_result r2 = {0};
  sqlite3 *db;

  t_open(&loop, db_path, 0, &b);
  EXPECT_EQ_INT(0,
                sam__sqlite_audit_append(&b, 1000, "admin", "profile.create",
                                         "p1", "{\"name\":\"x\"}", on_op, &r1));
  EXPECT_EQ_INT(0, sam__sqlite_audit_append(&b, 0, "scheduler", "job.run", NULL,
                                            NULL, on_op, &r2));
  EXPECT_EQ_INT(0, r1.calls); /* never inside the call */
  EXPECT_EQ_INT(0, r2.calls);
  wait_op(&r1);
  wait_op(&r2);
  EXPECT_EQ_INT(0, r1.status);
  EXPECT_EQ_INT(0, r2.status);
  EXPECT_EQ_INT(1, r1.count);
  EXPECT_EQ_INT(2, r2.count);
  EXPECT_EQ_INT(SAM_EINVAL, sam__sqlite_audit_append(&b, 0, NULL, "x", NULL,
                                                     NULL, on_op, &r1));
  t_close(&loop, &b);

  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(db_path, &db));
  EXPECT_EQ_INT(2, scalar(db, "SELECT COUNT(*) FROM audit_log"));
  EXPECT_EQ_INT(1000, scalar(db, "SELECT at FROM audit_log WHERE id = 1"));
  EXPECT_TRUE(scalar(db, "SELECT at FROM audit_log WHERE id = 2") > 1000);
  /* append-only: UPDATE and DELETE are refused */
  EXPECT_TRUE(sqlite3_exec(db, "UPDATE audit_log SET actor = 'x'", NULL, NULL,
                           NULL) != SQLITE_OK);
  EXPECT_CONTAINS(sqlite3_errmsg(db), "append-only");
  EXPECT_TRUE(sqlite3_exec(db, "DELETE FROM audit_log", NULL, NULL, NULL) !=
              SQLITE_OK);
  EXPECT_EQ_INT(2, scalar(db, "SELECT COUNT(*) FROM audit_log"));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
}

typedef struct rows_result {
  int calls;
  int status;
  char json[2048];
} rows_result;

static void on_rows(
    int status, const char *json, size_t len, const char *errmsg, void *ud) {
  rows_result *r = ud;

  (void)errmsg;
  r->calls++;
  EXPECT_EQ_INT(1, r->calls);
  r->status = status;
  if (json != NULL) {
    EXPECT_EQ_INT(strlen(json), (long long)len);
    snprintf(r->json, sizeof(r->json), "%s", json);
  }
}

static void wait_rows(rows_result *r) {
  while (r->calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
}

static void test_audit_list(void) {
  sam__backend b;
  rows_result r;
  int i;

  t_open(&loop, db_path, 0, &b); /* holds the 2 entries of test_audit_log */
  for (i = 0; i < 3; i++) {
    op_result a = {0};
    EXPECT_EQ_INT(0, sam__sqlite_audit_append(&b, 5000 + i, "cli", "key.rotate",
                                              "p9", "say \"hi\"", on_op, &a));
    wait_op(&a);
  }
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_audit_list(&b, NULL, 0, 2, on_rows, &r));
  EXPECT_EQ_INT(0, r.calls);
  wait_rows(&r);
  EXPECT_EQ_INT(0, r.status);
  EXPECT_EQ_STR("[{\"id\":5,\"at\":5002,\"actor\":\"cli\",\"action\":"
                "\"key.rotate\",\"profile_id\":\"p9\",\"detail\":"
                "\"say \\\"hi\\\"\"},{\"id\":4,\"at\":5001,\"actor\":"
                "\"cli\",\"action\":\"key.rotate\",\"profile_id\":\"p9\","
                "\"detail\":\"say \\\"hi\\\"\"}]",
                r.json);
  /* page on before id 4; filter by profile */
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_audit_list(&b, NULL, 4, 0, on_rows, &r));
  wait_rows(&r);
  EXPECT_CONTAINS(r.json, "\"id\":3");
  EXPECT_CONTAINS(r.json, "\"id\":1");
  EXPECT_NOT_CONTAINS(r.json, "\"id\":4");
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_audit_list(&b, "p1", 0, 0, on_rows, &r));
  wait_rows(&r);
  EXPECT_CONTAINS(r.json, "\"action\":\"profile.create\"");
  EXPECT_NOT_CONTAINS(r.json, "key.rotate");
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_audit_list(&b, "nobody", 0, 0, on_rows, &r));
  wait_rows(&r);
  EXPECT_EQ_STR("[]", r.json);
  t_close(&loop, &b);
}

static void test_usage_events(void) {
  const int64_t now = (int64_t)1800000000 * 1000;
  const int64_t ages[] = {400, 366, 364, 0};
  char buf[512];
  sam__backend b;
  op_result r = {0};
  size_t i;

  t_open(&loop, db_path, 0, &b);
  for (i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
    op_result a = {0};
    EXPECT_EQ_INT(0, sam__sqlite_usage_append(
                         &b, "p1", "user@example.com", "envelope.sent",
                         now - ages[i] * DAY_MS, NULL, on_op, &a));
    wait_op(&a);
    EXPECT_EQ_INT(0, a.status);
  }
  /* kept one year: the 400- and 366-day-old events go */
  EXPECT_EQ_INT(0, sam__sqlite_usage_purge(&b, now, 0, on_op, &r));
  wait_op(&r);
  EXPECT_EQ_INT(0, r.status);
  EXPECT_EQ_INT(2, r.count);
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_usage_purge(&b, now, 0, on_op, &r));
  wait_op(&r);
  EXPECT_EQ_INT(0, r.count);
  {
    rows_result rr;
    op_result a = {0};
    EXPECT_EQ_INT(0, sam__sqlite_usage_append(&b, "p1", "other@example.com",
                                              "login", now - 10 * DAY_MS, NULL,
                                              on_op, &a));
    wait_op(&a);
    memset(&rr, 0, sizeof(rr));
    EXPECT_EQ_INT(0, sam__sqlite_usage_summary(&b, "p1", now - 365 * DAY_MS,
                                               on_rows, &rr));
    wait_rows(&rr);
    EXPECT_EQ_INT(0, rr.status);
    snprintf(buf, sizeof(buf),
             "[{\"subject\":\"other@example.com\",\"last_at\":%lld,"
             "\"events\":1},{\"subject\":\"user@example.com\",\"last_at\":"
             "%lld,\"events\":2}]",
             (long long)(now - 10 * DAY_MS), (long long)now);
    EXPECT_EQ_STR(buf, rr.json);
  }
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_usage_purge(&b, now, 30, on_op, &r));
  wait_op(&r);
  EXPECT_EQ_INT(1, r.count);
  t_close(&loop, &b);
}

static void put_blob(sam__backend *b,
                     const char *p,
                     const char *name,
                     const unsigned char *blob,
                     size_t len) {
  t_req *t = t_new(SAM__REQ_BLOB_PUT, p, name, NULL);

  t->req.blob = malloc(len);
  memcpy(t->req.blob, blob, len);
  t->req.blob_len = len;
  EXPECT_EQ_INT(0, t_run(b, t));
  t_free(t);
}

static void seal_put(sam__backend *b,
                     const sam__keyring *kr,
                     const char *p,
                     const char *name,
                     const char *value) {
  unsigned char *blob = NULL;
  size_t len = 0;

  EXPECT_EQ_INT(0, sam__seal(kr, p, name, value, strlen(value), &blob, &len));
  put_blob(b, p, name, blob, len);
  free(blob);
}

/* Opens the stored secret; returns the unseal status and its key id. */
static int get_open(sam__backend *b,
                    const sam__keyring *kr,
                    const char *p,
                    const char *name,
                    const char *expect,
                    uint32_t *key_id) {
  t_req *t = t_new(SAM__REQ_BLOB_GET, p, name, NULL);
  unsigned char *pt = NULL;
  size_t pt_len = 0;
  int rc;

  EXPECT_EQ_INT(0, t_run(b, t));
  EXPECT_EQ_INT(
      0, sam__seal_blob_key_id(t->req.out_blob, t->req.out_blob_len, key_id));
  rc = sam__unseal(kr, p, name, t->req.out_blob, t->req.out_blob_len, &pt,
                   &pt_len);
  if (rc == 0)
    EXPECT_EQ_STR(expect, (const char *)pt);
  free(pt);
  t_free(t);
  return rc;
}

static void test_profile_purge(void) {
  sam__backend b;
  op_result r = {0};
  op_result a = {0};
  sqlite3 *db;
  int p;

  t_open(&loop, db_path, 0, &b);
  for (p = 1; p <= 2; p++) {
    const char *const idx[] = {"/status=active", NULL};
    char pid[24];
    t_req *t;
    snprintf(pid, sizeof(pid), "pp%d", p);
    t = t_new(SAM__REQ_PUT_BATCH, pid, "sam_subscription", NULL);
    t_add(t, "u1", "{}", SAM_IF_ANY, idx);
    t_add(t, "u2", "{}", SAM_IF_ANY, idx);
    EXPECT_EQ_INT(0, t_run(&b, t));
    t_free(t);
    put_blob(&b, pid, "client_secret", (const unsigned char *)"blob", 4);
  }
  EXPECT_EQ_INT(0, sam__sqlite_audit_append(&b, 0, "admin", "profile.delete",
                                            "pp1", NULL, on_op, &a));
  EXPECT_EQ_INT(0, sam__sqlite_profile_purge(&b, "pp1", on_op, &r));
  wait_op(&a);
  wait_op(&r);
  EXPECT_EQ_INT(0, r.status);
  EXPECT_EQ_INT(2, r.count);
  t_close(&loop, &b);

  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(db_path, &db));
  EXPECT_EQ_INT(0, scalar(db, "SELECT COUNT(*) FROM records WHERE "
                              "profile_id = 'pp1'"));
  EXPECT_EQ_INT(0, scalar(db, "SELECT COUNT(*) FROM record_index WHERE "
                              "profile_id = 'pp1'"));
  EXPECT_EQ_INT(0, scalar(db, "SELECT COUNT(*) FROM blobs WHERE "
                              "profile_id = 'pp1'"));
  EXPECT_EQ_INT(2, scalar(db, "SELECT COUNT(*) FROM records WHERE "
                              "profile_id = 'pp2'"));
  EXPECT_EQ_INT(2, scalar(db, "SELECT COUNT(*) FROM record_index WHERE "
                              "profile_id = 'pp2'"));
  EXPECT_EQ_INT(1, scalar(db, "SELECT COUNT(*) FROM blobs WHERE "
                              "profile_id = 'pp2'"));
  /* the audit log keeps the deletion */
  EXPECT_EQ_INT(1, scalar(db, "SELECT COUNT(*) FROM audit_log WHERE "
                              "profile_id = 'pp1'"));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
}

static void test_reseal_after_rotation(void) {
  const char *names[] = {"client_secret", "access_token", "refresh_token"};
  sam__backend b;
  sam__keyring *kr = NULL;
  op_result r = {0};
  char key_file[700];
  char err[512];
  uint32_t old_id;
  uint32_t new_id = 0;
  uint32_t id = 0;
  size_t i;

  char path[700];

  snprintf(key_file, sizeof(key_file), "%s/master.key", dir);
  snprintf(path, sizeof(path), "%s/reseal.sqlite", dir);
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, key_file, 1, &kr, err, sizeof(err)));
  old_id = sam__keyring_current_id(kr);
  t_open(&loop, path, 0, &b);
  for (i = 0; i < 3; i++)
    seal_put(&b, kr, "rs1", names[i], names[i]);
  /* a blob no key opens: left alone and reported */
  put_blob(&b, "rs1", "broken", (const unsigned char *)"SAM1\0\0\0\x01junk",
           12);
  EXPECT_EQ_INT(0, sam__keyring_rotate(kr, &new_id));
  EXPECT_EQ_INT(0, sam__keyring_save(kr, key_file, err, sizeof(err)));

  EXPECT_EQ_INT(0, sam__sqlite_reseal_all(&b, kr, on_op, &r));
  wait_op(&r);
  EXPECT_EQ_INT(SAM_EAUTH, r.status);
  EXPECT_EQ_INT(3, r.count);
  EXPECT_CONTAINS(r.errmsg, "[name=broken]");
  for (i = 0; i < 3; i++) {
    EXPECT_EQ_INT(0, get_open(&b, kr, "rs1", names[i], names[i], &id));
    EXPECT_EQ_U64(new_id, id);
  }
  /* old key retired: everything still opens */
  EXPECT_EQ_INT(0, sam__keyring_retire(kr, old_id));
  for (i = 0; i < 3; i++)
    EXPECT_EQ_INT(0, get_open(&b, kr, "rs1", names[i], names[i], &id));
  /* a second pass has nothing left to do */
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, sam__sqlite_reseal_all(&b, kr, on_op, &r));
  wait_op(&r);
  EXPECT_EQ_INT(0, r.count);
  t_close(&loop, &b);
  sam__keyring_free(kr);
}

/* Fails when the file contains `needle`. A missing file is fine. */
static void scan_file(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  size_t n = strlen(needle);
  char *buf;
  long len;
  long i;

  if (f == NULL)
    return;
  EXPECT_EQ_INT(0, fseek(f, 0, SEEK_END));
  len = ftell(f);
  EXPECT_EQ_INT(0, fseek(f, 0, SEEK_SET));
  buf = malloc((size_t)len + 1);
  EXPECT_TRUE(buf != NULL);
  EXPECT_EQ_INT(len, (long long)fread(buf, 1, (size_t)len, f));
  fclose(f);
  for (i = 0; i + (long)n <= len; i++)
    if (memcmp(buf + i, needle, n) == 0)
      SAM_T_FAIL("clear text of a secret found in [%s] at [%ld]", path, i);
  free(buf);
}

static void test_no_clear_text_on_disk(void) {
  const char *secret = "CLEAR-TEXT-SECRET-0123456789";
  sam__backend b;
  sam__keyring *kr = NULL;
  char path[700];
  uint32_t id = 0;
  t_req *t;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  t_open(&loop, db_path, 0, &b);
  seal_put(&b, kr, "scan", "refresh_token", secret);
  EXPECT_EQ_INT(0, get_open(&b, kr, "scan", "refresh_token", secret, &id));
  /* overwritten and deleted values must not linger either */
  seal_put(&b, kr, "scan", "refresh_token", secret);
  t = t_new(SAM__REQ_BLOB_DELETE, "scan", "refresh_token", NULL);
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  seal_put(&b, kr, "scan", "refresh_token", secret);
  /* scan while open (the WAL holds the latest pages) and after close */
  snprintf(path, sizeof(path), "%s-wal", db_path);
  scan_file(path, secret);
  scan_file(db_path, secret);
  t_close(&loop, &b);
  scan_file(path, secret);
  scan_file(db_path, secret);
  sam__keyring_free(kr);
}

static void test_misuse(void) {
  static const sam__backend_vt other_vt = {"memory", NULL, NULL, NULL};
  sam__backend other = {&other_vt, NULL};
  sam__backend b;
  op_result r = {0};
  int closed = 0;

  EXPECT_EQ_INT(SAM_EINVAL, sam__sqlite_audit_append(&other, 0, "a", "b", NULL,
                                                     NULL, on_op, &r));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sqlite_usage_purge(&other, 0, 0, on_op, &r));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sqlite_audit_append(NULL, 0, "a", "b", NULL,
                                                     NULL, on_op, &r));
  /* an operation queued before close runs; one after close is refused */
  t_open(&loop, ":memory:", 0, &b);
  EXPECT_EQ_INT(0, sam__sqlite_usage_purge(&b, 0, 0, on_op, &r));
  b.vt->close(b.self, NULL, NULL);
  EXPECT_EQ_INT(SAM_EBUSY, sam__sqlite_audit_append(&b, 0, "a", "b", NULL, NULL,
                                                    on_op, &closed));
  {
    t_req *t = t_new(SAM__REQ_GET, "p", "t", "k");
    EXPECT_EQ_INT(SAM_EBUSY, b.vt->submit(b.self, &t->req));
    t_free(t);
  }
  wait_op(&r);
  EXPECT_EQ_INT(0, r.status);
  EXPECT_EQ_INT(0, closed);
}

int main(void) {
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  t_init(&loop);
  t_tmpdir(dir, sizeof(dir), "test-backend-sqlite-tables");
  snprintf(db_path, sizeof(db_path), "%s/store.sqlite", dir);

  SAM_T_RUN(test_audit_log);
  SAM_T_RUN(test_audit_list);
  SAM_T_RUN(test_usage_events);
  SAM_T_RUN(test_profile_purge);
  SAM_T_RUN(test_reseal_after_rotation);
  SAM_T_RUN(test_no_clear_text_on_disk);
  SAM_T_RUN(test_misuse);

  t_fini();
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  t_rmdir(dir);
  return 0;
}
