/*
 * backend_sqlite_tables.c: the host-owned tables with SQL of their own
 * (audit_log, usage_events) and the whole-database maintenance operations
 * (profile purge, re-sealing every secret after a key rotation). Executed
 * by the SQLite backend's worker thread; see sam_backend_sqlite.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "backend_sqlite_int.h"
#include "sam/sam_plugin.h"

static void op_msg(sam__sq_op *op, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(op->errmsg, sizeof(op->errmsg), fmt, ap);
  va_end(ap);
}

static int op_fail(sam__sq_conn *c, sam__sq_op *op, int rc, const char *what) {
  op_msg(op, "sqlite: %s failed [%s] [code=%d]", what, sqlite3_errmsg(c->db),
         rc);
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return SAM_EAGAIN;
  case SQLITE_NOMEM:
    return SAM_ENOMEM;
  default:
    return SAM_EIO;
  }
}

static int bind_opt(sqlite3_stmt *st, int i, const char *s) {
  return s == NULL ? sqlite3_bind_null(st, i)
                   : sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Steps a cached statement once and resets it. */
static int run(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);

  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int exec_plain(sam__sq_conn *c, const char *sql) {
  return sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

static void rollback(sam__sq_conn *c) {
  if (!sqlite3_get_autocommit(c->db))
    (void)exec_plain(c, "ROLLBACK"); /* the failure is already reported */
}

/* Inserts one audit or usage row with st: the time (op->num, or now) in
 * column time_col, op->s[0..3] in the other columns 1-5 in order. Sets
 * op->count to the new rowid, or op->status on failure. */
static void append_row(sam__sq_conn *c,
                       sam__sq_op *op,
                       sqlite3_stmt *st,
                       int time_col,
                       const char *what) {
  int col, k = 0;
  int rc = SQLITE_OK;

  for (col = 1; col <= 5 && rc == SQLITE_OK; col++) {
    if (col == time_col)
      rc = sqlite3_bind_int64(st, col,
                              op->num != 0 ? op->num : sam__sq_now_ms());
    else
      rc = bind_opt(st, col, op->s[k++]);
  }
  if (rc == SQLITE_OK)
    rc = run(st);
  if (rc != SQLITE_OK) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    op->status = op_fail(c, op, rc, what);
    return;
  }
  op->count = sqlite3_last_insert_rowid(c->db);
}

static void audit_append(sam__sq_conn *c, sam__sq_op *op) {
  append_row(c, op, c->st[SAM__SQ_AUDIT_INS], 1, "audit append");
}

static void usage_append(sam__sq_conn *c, sam__sq_op *op) {
  append_row(c, op, c->st[SAM__SQ_USAGE_INS], 4, "usage append");
}

/* op->num is the cut-off time (computed by the loop side). */
static void usage_purge(sam__sq_conn *c, sam__sq_op *op) {
  sqlite3_stmt *st = c->st[SAM__SQ_USAGE_PURGE];
  int rc;

  rc = sqlite3_bind_int64(st, 1, op->num);
  if (rc == SQLITE_OK)
    rc = run(st);
  if (rc != SQLITE_OK) {
    sqlite3_reset(st);
    op->status = op_fail(c, op, rc, "usage purge");
    return;
  }
  op->count = sqlite3_changes(c->db);
}

static void profile_purge(sam__sq_conn *c, sam__sq_op *op) {
  static const char *const sql[] = {
      "DELETE FROM records WHERE profile_id = ?1",
      "DELETE FROM record_index WHERE profile_id = ?1",
      "DELETE FROM blobs WHERE profile_id = ?1",
      "DELETE FROM usage_events WHERE profile_id = ?1"};
  sqlite3_stmt *st = NULL;
  size_t i;
  int rc;

  rc = exec_plain(c, "BEGIN IMMEDIATE");
  for (i = 0; rc == SQLITE_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
    rc = sqlite3_prepare_v2(c->db, sql[i], -1, &st, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_text(st, 1, op->s[0], -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(c->db);
    if (rc == SQLITE_OK && i == 0)
      op->count = sqlite3_changes(c->db);
    sqlite3_finalize(st);
    st = NULL;
  }
  if (rc == SQLITE_OK)
    rc = exec_plain(c, "COMMIT");
  if (rc != SQLITE_OK) {
    op->status = op_fail(c, op, rc, "profile purge");
    op->count = 0;
    rollback(c);
  }
}

/* Re-seals one blob with the current key; SAM_EAUTH when no key opens it. */
static int reseal_one(const sam__keyring *kr,
                      const char *profile_id,
                      const char *name,
                      const unsigned char *blob,
                      size_t blob_len,
                      unsigned char **out,
                      size_t *out_len) {
  unsigned char *pt = NULL;
  size_t pt_len = 0;
  int rc;

  rc = sam__unseal(kr, profile_id, name, blob, blob_len, &pt, &pt_len);
  if (rc != 0)
    return rc;
  rc = sam__seal(kr, profile_id, name, pt, pt_len, out, out_len);
  OPENSSL_cleanse(pt, pt_len);
  free(pt);
  return rc;
}

static void reseal_all(sam__sq_conn *c, sam__sq_op *op) {
  uint32_t current = sam__keyring_current_id(op->kr);
  sqlite3_stmt *sel = NULL;
  sqlite3_stmt *upd = NULL;
  int64_t failed = 0;
  int rc;

  rc = exec_plain(c, "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(c->db,
                            "SELECT profile_id, name, blob FROM blobs"
                            " ORDER BY profile_id, name",
                            -1, &sel, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(c->db,
                            "UPDATE blobs SET blob = ?3, updated_at = ?4"
                            " WHERE profile_id = ?1 AND name = ?2",
                            -1, &upd, NULL);
  /* updating rows of the table being scanned is fine in SQLite: the
   * primary key is not changed, so the scan order is unaffected */
  while (rc == SQLITE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
    const char *p = (const char *)sqlite3_column_text(sel, 0);
    const char *n = (const char *)sqlite3_column_text(sel, 1);
    const unsigned char *b = sqlite3_column_blob(sel, 2);
    size_t b_len = (size_t)sqlite3_column_bytes(sel, 2);
    unsigned char *nb = NULL;
    size_t nb_len = 0;
    uint32_t id = 0;
    int src;

    rc = SQLITE_OK;
    if (sam__seal_blob_key_id(b, b_len, &id) == 0 && id == current)
      continue;
    src = reseal_one(op->kr, p, n, b, b_len, &nb, &nb_len);
    if (src != 0) {
      if (failed++ == 0)
        op_msg(op,
               "secret does not open with any key [profile=%s] "
               "[name=%s] [status=%s]; it was left as it is",
               p, n, sam_err_name(src));
      continue;
    }
    rc = sqlite3_bind_text(upd, 1, p, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_text(upd, 2, n, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_blob(upd, 3, nb, (int)nb_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_int64(upd, 4, sam__sq_now_ms());
    if (rc == SQLITE_OK)
      rc = run(upd);
    free(nb);
    if (rc == SQLITE_OK)
      op->count++;
  }
  if (rc == SQLITE_DONE)
    rc = SQLITE_OK;
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  if (rc == SQLITE_OK)
    rc = exec_plain(c, "COMMIT");
  if (rc != SQLITE_OK) {
    op->status = op_fail(c, op, rc, "re-seal");
    op->count = 0;
    rollback(c);
    return;
  }
  if (failed > 0)
    op->status = SAM_EAUTH;
}

/* Runs a query whose single row is a JSON array (json_group_array) and
 * keeps a copy of it in op->json. */
static void
json_rows(sam__sq_conn *c, sam__sq_op *op, const char *sql, const char *what) {
  sqlite3_stmt *st = NULL;
  int rc;

  /* parameters: ?1 = s[0], ?2 = num, ?3 = num2 (when the query has them) */
  rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = bind_opt(st, 1, op->s[0]);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(st, 2, op->num);
  if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 3)
    rc = sqlite3_bind_int64(st, 3, op->num2);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const char *text = (const char *)sqlite3_column_text(st, 0);
      size_t len = (size_t)sqlite3_column_bytes(st, 0);
      op->json = malloc(len + 1);
      if (op->json == NULL) {
        rc = SQLITE_NOMEM;
      } else {
        memcpy(op->json, text != NULL ? text : "", len);
        op->json[len] = '\0';
        op->json_len = len;
        rc = SQLITE_OK;
      }
    }
  }
  if (rc != SQLITE_OK)
    op->status = op_fail(c, op, rc, what);
  sqlite3_finalize(st);
}

static void audit_list(sam__sq_conn *c, sam__sq_op *op) {
  json_rows(c, op,
            "SELECT json_group_array(json_object('id', id, 'at', at, 'actor',"
            " actor, 'action', action, 'profile_id', profile_id, 'detail',"
            " detail)) FROM (SELECT * FROM audit_log WHERE"
            " (?1 IS NULL OR profile_id = ?1) AND (?2 = 0 OR id < ?2)"
            " ORDER BY id DESC LIMIT ?3)",
            "audit list");
}

static void usage_summary(sam__sq_conn *c, sam__sq_op *op) {
  json_rows(c, op,
            "SELECT json_group_array(json_object('subject', subject,"
            " 'last_at', last_at, 'events', events)) FROM (SELECT subject,"
            " MAX(created_at) AS last_at, COUNT(*) AS events FROM"
            " usage_events WHERE profile_id = ?1 AND created_at >= ?2"
            " GROUP BY subject ORDER BY subject)",
            "usage summary");
}

/*
 * Executes one host-table operation on the worker thread, filling status,
 * count and errmsg (and json for the list operations).
 */
void sam__sq_exec_op(sam__sq_conn *conn, sam__sq_op *op) {
  op->status = 0;
  op->count = 0;
  op->errmsg[0] = '\0';
  switch (op->kind) {
  case SAM__SQ_OP_AUDIT:
    audit_append(conn, op);
    break;
  case SAM__SQ_OP_USAGE_ADD:
    usage_append(conn, op);
    break;
  case SAM__SQ_OP_USAGE_PURGE:
    usage_purge(conn, op);
    break;
  case SAM__SQ_OP_PROFILE_PURGE:
    profile_purge(conn, op);
    break;
  case SAM__SQ_OP_RESEAL:
    reseal_all(conn, op);
    break;
  case SAM__SQ_OP_AUDIT_LIST:
    audit_list(conn, op);
    break;
  case SAM__SQ_OP_USAGE_SUMMARY:
    usage_summary(conn, op);
    break;
  default:
    op->status = SAM_ENOTSUP;
    break;
  }
}
