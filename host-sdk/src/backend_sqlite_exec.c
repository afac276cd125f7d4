/*
 * backend_sqlite_exec.c: the SQL of each request of the SQLite backend,
 * executed by its worker thread on the one connection (statements are
 * prepared once per connection and reset after each use).
 *
 * Versions: a record is created with version 1 and every write adds 1.
 * Queries and cursors are in backend_sqlite_query.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "backend_sqlite_int.h"
#include "sam/sam_plugin.h"

static const char *const stmt_sql[SAM__SQ_COUNT] = {
    [SAM__SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SAM__SQ_COMMIT] = "COMMIT",
    [SAM__SQ_ROLLBACK] = "ROLLBACK",
    [SAM__SQ_SAVEPOINT] = "SAVEPOINT batch",
    [SAM__SQ_RELEASE] = "RELEASE batch",
    [SAM__SQ_ROLLBACK_TO] = "ROLLBACK TO batch",
    [SAM__SQ_GET] = "SELECT version, json FROM records WHERE profile_id = ?1"
                    " AND record_type = ?2 AND key = ?3",
    [SAM__SQ_PEEK] = "SELECT version, idx FROM records WHERE profile_id = ?1"
                     " AND record_type = ?2 AND key = ?3",
    [SAM__SQ_INS] =
        "INSERT INTO records (profile_id, record_type, key, version,"
        " schema_version, json, updated_at, idx)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [SAM__SQ_UPD] = "UPDATE records SET version = ?4, schema_version = ?5,"
                    " json = ?6, updated_at = ?7, idx = ?8"
                    " WHERE profile_id = ?1 AND record_type = ?2 AND key = ?3",
    [SAM__SQ_IDX_DEL] = "DELETE FROM record_index WHERE profile_id = ?1 AND"
                        " record_type = ?2 AND key = ?3 AND pointer = ?4 AND"
                        " value = ?5",
    [SAM__SQ_IDX_INS] = "INSERT OR IGNORE INTO record_index (profile_id,"
                        " record_type, key, pointer, value)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SAM__SQ_DEL] = "DELETE FROM records WHERE profile_id = ?1 AND"
                    " record_type = ?2 AND key = ?3",
    [SAM__SQ_BLOB_PUT] =
        "INSERT INTO blobs (profile_id, name, blob, updated_at)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (profile_id, name) DO UPDATE"
        " SET blob = excluded.blob, updated_at = excluded.updated_at",
    [SAM__SQ_BLOB_GET] = "SELECT blob FROM blobs WHERE profile_id = ?1 AND"
                         " name = ?2",
    [SAM__SQ_BLOB_DEL] = "DELETE FROM blobs WHERE profile_id = ?1 AND"
                         " name = ?2",
    [SAM__SQ_AUDIT_INS] = "INSERT INTO audit_log (at, actor, action,"
                          " profile_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    [SAM__SQ_USAGE_INS] = "INSERT INTO usage_events (profile_id, subject,"
                          " event, created_at, detail)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SAM__SQ_USAGE_PURGE] = "DELETE FROM usage_events WHERE created_at < ?1",
};

/* ---- helpers ---- */

/*
 * Unix time in milliseconds (wall clock: stored as updated_at).
 *
 * Thread: any.
 */
int64_t sam__sq_now_ms(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return 0;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* See backend_sqlite_int.h. Thread: the worker. */
void sam__sq_msg(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* The SAM_E* code for an SQLite failure: a lock held by another process
 * past busy_timeout is worth a retry; anything else is a storage failure. */
static int sq_status(int rc) {
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

/* Records an SQLite failure in errmsg and returns its SAM_E* code. See
 * backend_sqlite_int.h. Thread: the worker. */
int sam__sq_fail(
    sam__sq_conn *c, int rc, char *errmsg, size_t len, const char *what) {
  sam__sq_msg(errmsg, len, "sqlite: %s failed [%s] [code=%d]", what,
              sqlite3_errmsg(c->db), rc);
  return sq_status(rc);
}

static sqlite3_stmt *stmt(sam__sq_conn *c, int which) {
  sqlite3_stmt *st = c->st[which];

  sqlite3_reset(st); /* returns the previous step's error; already seen */
  sqlite3_clear_bindings(st);
  return st;
}

/* See backend_sqlite_int.h. Thread: the worker. */
int sam__sq_bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s == NULL)
    return sqlite3_bind_null(st, i);
  return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Binds ?1 profile, ?2 record type, ?3 key. See backend_sqlite_int.h.
 * Thread: the worker. */
int sam__sq_bind_prk(sqlite3_stmt *st,
                     const char *p,
                     const char *rt,
                     const char *key) {
  int rc = sam__sq_bind_text(st, 1, p);

  if (rc == SQLITE_OK)
    rc = sam__sq_bind_text(st, 2, rt);
  if (rc == SQLITE_OK && key != NULL)
    rc = sam__sq_bind_text(st, 3, key);
  return rc;
}

static char *dup_n(const void *p, size_t n) {
  char *s = malloc(n + 1);

  if (s == NULL)
    return NULL;
  if (n > 0)
    memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static int step_done(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);

  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Runs BEGIN IMMEDIATE, COMMIT or ROLLBACK. */
static int tx(sam__sq_conn *c, int which) {
  int rc = sqlite3_step(stmt(c, which));

  sqlite3_reset(c->st[which]);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void rollback(sam__sq_conn *c) {
  if (!sqlite3_get_autocommit(c->db))
    (void)tx(c, SAM__SQ_ROLLBACK); /* the failure is already reported */
}

/* Reads a record's version and, when `idx` is non-NULL, a malloc'd copy of
 * its serialized index values (NULL when none). *found = 0 when absent. */
static int peek(sam__sq_conn *c,
                const char *p,
                const char *rt,
                const char *key,
                uint64_t *version,
                int *found,
                char **idx) {
  sqlite3_stmt *st = stmt(c, SAM__SQ_PEEK);
  int rc = sam__sq_bind_prk(st, p, rt, key);

  *version = 0;
  *found = 0;
  if (idx != NULL)
    *idx = NULL;
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *version = (uint64_t)sqlite3_column_int64(st, 0);
    *found = 1;
    rc = SQLITE_OK;
    if (idx != NULL && sqlite3_column_type(st, 1) != SQLITE_NULL) {
      *idx = dup_n(sqlite3_column_text(st, 1),
                   (size_t)sqlite3_column_bytes(st, 1));
      if (*idx == NULL)
        rc = SQLITE_NOMEM;
    }
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  sqlite3_reset(st);
  return rc;
}

/* ---- index values ---- */

/*
 * Serializes a record's index values as "<len>:<pointer><len>:<value>"
 * pairs (length-prefixed: values are arbitrary text). Values the record
 * lacks are skipped. *out is malloc'd, or NULL when there is none.
 */
static int idx_serialize(const sam__req_record *r, char **out) {
  size_t cap = 1;
  size_t o = 0;
  uint32_t k;
  char *s;

  *out = NULL;
  for (k = 0; k < r->n_index; k++)
    if (r->index[k].pointer != NULL && r->index[k].value != NULL)
      cap += strlen(r->index[k].pointer) + strlen(r->index[k].value) + 42;
  if (cap == 1)
    return 0;
  s = malloc(cap);
  if (s == NULL)
    return SQLITE_NOMEM;
  for (k = 0; k < r->n_index; k++) {
    const char *ptr = r->index[k].pointer;
    const char *val = r->index[k].value;
    if (ptr == NULL || val == NULL)
      continue; /* the record lacks this pointer */
    o += (size_t)snprintf(s + o, cap - o, "%zu:%s%zu:%s", strlen(ptr), ptr,
                          strlen(val), val);
  }
  *out = s;
  return 0;
}

/* Reads the next length-prefixed field of a serialized index list. */
static int idx_next(const char **pos, const char **field, size_t *len) {
  const char *p = *pos;
  char *end;
  unsigned long n;

  if (*p == '\0')
    return 0;
  n = strtoul(p, &end, 10);
  if (end == p || *end != ':' || strlen(end + 1) < n)
    return -1; /* corrupt: treated as a storage failure */
  *field = end + 1;
  *len = (size_t)n;
  *pos = end + 1 + n;
  return 1;
}

/* Runs IDX_DEL or IDX_INS for every pair of a serialized list. */
static int idx_apply(sam__sq_conn *c,
                     int which,
                     const sam__req *req,
                     const char *key,
                     const char *list) {
  const char *pos = list;

  while (pos != NULL) {
    const char *ptr;
    const char *val;
    size_t plen;
    size_t vlen;
    sqlite3_stmt *st;
    int more = idx_next(&pos, &ptr, &plen);
    int rc;

    if (more == 0)
      break;
    if (more < 0 || idx_next(&pos, &val, &vlen) != 1)
      return SQLITE_CORRUPT;
    st = stmt(c, which);
    rc = sam__sq_bind_prk(st, req->profile_id, req->record_type, key);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_text(st, 4, ptr, (int)plen, SQLITE_STATIC);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_text(st, 5, val, (int)vlen, SQLITE_STATIC);
    if (rc == SQLITE_OK)
      rc = step_done(st);
    sqlite3_reset(st);
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

static int same_text(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

/* Appends (key, version[, json]) to req->out_recs (capacity `cap`). See
 * backend_sqlite_int.h. Thread: the worker. */
int sam__sq_out_push(sam__req *req,
                     size_t cap,
                     const char *key,
                     uint64_t version,
                     const void *json,
                     size_t json_len,
                     int with_json) {
  sam_record *r;

  if (req->out_recs == NULL) {
    req->out_recs = calloc(cap > 0 ? cap : 1, sizeof(sam_record));
    if (req->out_recs == NULL)
      return SAM_ENOMEM;
  }
  r = &req->out_recs[req->out_n];
  r->struct_size = (uint32_t)sizeof(sam_record);
  r->version = version;
  r->key = dup_n(key, strlen(key));
  if (r->key == NULL)
    return SAM_ENOMEM;
  if (with_json) {
    r->json = dup_n(json, json_len);
    if (r->json == NULL) {
      free((char *)r->key);
      r->key = NULL;
      return SAM_ENOMEM;
    }
    r->json_len = json_len;
  }
  req->out_n++;
  return 0;
}

/* Packs the outputs into one chunk (out_one_chunk, sam_backend.h). See
 * backend_sqlite_int.h. Thread: the worker. */
void sam__sq_out_pack(sam__req *req) {
  size_t size = req->out_n * sizeof(sam_record);
  size_t i;
  sam_record *recs;
  char *p;

  if (req->out_recs == NULL || req->out_n == 0 || req->out_one_chunk)
    return;
  for (i = 0; i < req->out_n; i++) {
    size += strlen(req->out_recs[i].key) + 1;
    if (req->out_recs[i].json != NULL)
      size += req->out_recs[i].json_len + 1;
  }
  recs = malloc(size > 0 ? size : 1);
  if (recs == NULL)
    return; /* unpacked outputs are as valid */
  p = (char *)(recs + req->out_n);
  for (i = 0; i < req->out_n; i++) {
    size_t kl = strlen(req->out_recs[i].key) + 1;

    recs[i] = req->out_recs[i];
    memcpy(p, req->out_recs[i].key, kl);
    recs[i].key = p;
    p += kl;
    if (req->out_recs[i].json != NULL) {
      memcpy(p, req->out_recs[i].json, req->out_recs[i].json_len);
      p[req->out_recs[i].json_len] = '\0';
      recs[i].json = p;
      p += req->out_recs[i].json_len + 1;
    }
  }
  for (i = 0; i < req->out_n; i++) {
    free((char *)req->out_recs[i].key);
    free((char *)req->out_recs[i].json);
  }
  free(req->out_recs);
  req->out_recs = recs;
  req->out_one_chunk = 1;
}

/* Frees the outputs of a failed request so the core sees none. See
 * backend_sqlite_int.h. Thread: the worker. */
void sam__sq_out_clear(sam__req *req) {
  sam__req_out_free(req);
}

/* ---- get ---- */

static int do_get(sam__sq_conn *c, sam__req *req) {
  sqlite3_stmt *st = stmt(c, SAM__SQ_GET);
  int rc = sam__sq_bind_prk(st, req->profile_id, req->record_type, req->key);
  int status;

  if (rc != SQLITE_OK)
    return sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "get bind");
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    status = SAM_ENOENT;
  } else if (rc == SQLITE_ROW) {
    status = sam__sq_out_push(
        req, 1, req->key, (uint64_t)sqlite3_column_int64(st, 0),
        sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1), 1);
  } else {
    status = sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "get");
  }
  sqlite3_reset(st);
  return status;
}

/* ---- put batch ---- */

/* Phase 1: every if_version check against the state before the batch.
 * Collects every failing record into out_recs. */
static int check_batch(sam__sq_conn *c, sam__req *req) {
  int conflict = 0;
  int exists = 0;
  size_t i;

  for (i = 0; i < req->n; i++) {
    const sam__req_record *r = &req->recs[i];
    uint64_t version = 0;
    int found = 0;
    int rc;

    if (r->if_version == SAM_IF_ANY)
      continue;
    rc = peek(c, req->profile_id, req->record_type, r->key, &version, &found,
              NULL);
    if (rc != SQLITE_OK)
      return sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "put check");
    if (r->if_version == SAM_IF_NEW ? !found
                                    : (found && version == r->if_version))
      continue;
    if (r->if_version == SAM_IF_NEW)
      exists++;
    else
      conflict++;
    rc = sam__sq_out_push(req, req->n, r->key, version, NULL, 0, 0);
    if (rc != 0)
      return rc;
  }
  if (conflict > 0 || exists > 0) {
    sam__sq_msg(
        req->errmsg, sizeof(req->errmsg),
        "put_batch refused [conflicts=%d] [already_exist=%d] [first=%s]",
        conflict, exists, req->out_recs[0].key);
    /* an expected version that fails is the stronger signal: re-read */
    return conflict > 0 ? SAM_ECONFLICT : SAM_EEXIST;
  }
  return 0;
}

/* Phase 2: writes one record and its index values; *version is the new
 * one. The index rows are rewritten only when the values changed (a daily
 * re-download mostly rewrites records whose indexed fields are the same). */
static int write_record(sam__sq_conn *c,
                        sam__req *req,
                        const sam__req_record *r,
                        int64_t now,
                        uint64_t *version) {
  sqlite3_stmt *st;
  char *old_idx = NULL;
  char *new_idx = NULL;
  uint64_t old_version = 0;
  int found = 0;
  int rc;

  rc = peek(c, req->profile_id, req->record_type, r->key, &old_version, &found,
            &old_idx);
  if (rc == SQLITE_OK)
    rc = idx_serialize(r, &new_idx);
  if (rc != SQLITE_OK)
    goto done;
  *version = found ? old_version + 1 : 1;
  st = stmt(c, found ? SAM__SQ_UPD : SAM__SQ_INS);
  rc = sam__sq_bind_prk(st, req->profile_id, req->record_type, r->key);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(st, 4, (int64_t)*version);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(st, 5, (int64_t)r->schema_version);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_text(st, 6, r->json, (int)r->json_len, SQLITE_STATIC);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(st, 7, now);
  if (rc == SQLITE_OK)
    rc = sam__sq_bind_text(st, 8, new_idx);
  if (rc == SQLITE_OK)
    rc = step_done(st);
  sqlite3_reset(st);
  if (rc != SQLITE_OK || (found && same_text(old_idx, new_idx)))
    goto done;
  if (old_idx != NULL)
    rc = idx_apply(c, SAM__SQ_IDX_DEL, req, r->key, old_idx);
  if (rc == SQLITE_OK && new_idx != NULL)
    rc = idx_apply(c, SAM__SQ_IDX_INS, req, r->key, new_idx);

done:
  free(old_idx);
  free(new_idx);
  return rc;
}

/* One batch inside the current transaction: every if_version check first,
 * then the writes. On failure the caller rolls back to its savepoint;
 * conflicts keep their out_recs, other failures have none. */
static int put_body(sam__sq_conn *c, sam__req *req, int64_t now) {
  size_t i;
  int status;
  int rc;

  for (i = 0; i < req->n; i++) {
    /* SQLite binds lengths as int; the core bounds records far below */
    if (req->recs[i].key == NULL || req->recs[i].json == NULL ||
        req->recs[i].json_len > INT32_MAX) {
      sam__sq_msg(
          req->errmsg, sizeof(req->errmsg),
          "put_batch: record without key or json, or too large [index=%zu]", i);
      return SAM_EINVAL;
    }
  }
  status = check_batch(c, req);
  if (status != 0)
    goto fail;
  for (i = 0; i < req->n; i++) {
    uint64_t version = 0;
    rc = write_record(c, req, &req->recs[i], now, &version);
    if (rc != SQLITE_OK) {
      status =
          sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "put write");
      goto fail;
    }
    status =
        sam__sq_out_push(req, req->n, req->recs[i].key, version, NULL, 0, 0);
    if (status != 0)
      goto fail;
  }
  return 0;

fail:
  if (status != SAM_ECONFLICT && status != SAM_EEXIST)
    sam__sq_out_clear(req);
  return status;
}

/* Fails every request of a group that has not failed yet (the shared
 * transaction is lost): their writes are gone, so are their outputs. */
static void fail_group(
    sam__sq_conn *c, sam__req **reqs, size_t n, int rc, const char *what) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (reqs[i]->status != 0)
      continue;
    sam__sq_out_clear(reqs[i]);
    reqs[i]->status =
        sam__sq_fail(c, rc, reqs[i]->errmsg, sizeof(reqs[i]->errmsg), what);
  }
}

/*
 * Executes consecutive PUT_BATCH requests in one transaction, each inside
 * its own savepoint: a batch that fails (if_version, or an error) is rolled
 * back to its savepoint alone, and the others still commit. One commit for
 * several batches writes each hot index page to the log once instead of
 * once per batch (group commit). Each batch stays all or nothing across a
 * crash, since nothing is visible before the one COMMIT.
 *
 * Thread: the worker. Fills each request's status and outputs.
 */
void sam__sq_exec_put_group(sam__sq_conn *c, sam__req **reqs, size_t n) {
  int64_t now = sam__sq_now_ms();
  size_t i;
  int rc;

  for (i = 0; i < n; i++)
    reqs[i]->status = 0;
  rc = tx(c, SAM__SQ_BEGIN);
  if (rc != SQLITE_OK) {
    fail_group(c, reqs, n, rc, "put begin");
    return;
  }
  for (i = 0; i < n; i++) {
    sam__req *req = reqs[i];
    rc = tx(c, SAM__SQ_SAVEPOINT);
    if (rc != SQLITE_OK) {
      fail_group(c, reqs, n, rc, "put savepoint");
      break;
    }
    req->status = put_body(c, req, now);
    if (req->status != 0)
      rc = tx(c, SAM__SQ_ROLLBACK_TO);
    if (rc == SQLITE_OK)
      rc = tx(c, SAM__SQ_RELEASE);
    /* an I/O error can make SQLite abandon the whole transaction: then the
     * batches before this one are gone too, and nothing may run outside a
     * transaction */
    if (rc != SQLITE_OK || sqlite3_get_autocommit(c->db)) {
      fail_group(c, reqs, n, rc != SQLITE_OK ? rc : SQLITE_ABORT,
                 "put transaction");
      break;
    }
  }
  if (!sqlite3_get_autocommit(c->db)) {
    rc = tx(c, SAM__SQ_COMMIT);
    if (rc != SQLITE_OK)
      fail_group(c, reqs, n, rc, "put commit");
  }
  rollback(c); /* no-op after COMMIT */
}

/* ---- delete ---- */

static int do_delete(sam__sq_conn *c, sam__req *req) {
  sqlite3_stmt *st;
  char *old_idx = NULL;
  uint64_t version = 0;
  int found = 0;
  int status = 0;
  int rc;

  if (req->if_version == SAM_IF_NEW) {
    sam__sq_msg(req->errmsg, sizeof(req->errmsg), "delete with SAM_IF_NEW");
    return SAM_EINVAL;
  }
  rc = tx(c, SAM__SQ_BEGIN);
  if (rc != SQLITE_OK)
    return sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg),
                        "delete begin");
  rc = peek(c, req->profile_id, req->record_type, req->key, &version, &found,
            &old_idx);
  if (rc != SQLITE_OK) {
    status =
        sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "delete read");
    goto done;
  }
  if (!found) {
    status = SAM_ENOENT;
    goto done;
  }
  if (req->if_version != SAM_IF_ANY && version != req->if_version) {
    status = sam__sq_out_push(req, 1, req->key, version, NULL, 0, 0);
    if (status == 0)
      status = SAM_ECONFLICT;
    goto done;
  }
  st = stmt(c, SAM__SQ_DEL);
  rc = sam__sq_bind_prk(st, req->profile_id, req->record_type, req->key);
  if (rc == SQLITE_OK)
    rc = step_done(st);
  sqlite3_reset(st);
  if (rc == SQLITE_OK && old_idx != NULL)
    rc = idx_apply(c, SAM__SQ_IDX_DEL, req, req->key, old_idx);
  if (rc == SQLITE_OK)
    rc = tx(c, SAM__SQ_COMMIT);
  if (rc != SQLITE_OK)
    status = sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "delete");

done:
  free(old_idx);
  rollback(c); /* no-op after COMMIT */
  return status;
}

/* ---- sealed secrets ---- */

static int do_blob(sam__sq_conn *c, sam__req *req) {
  const char *name = req->record_type; /* for BLOB_*: the secret name */
  sqlite3_stmt *st;
  int status = 0;
  int rc;

  if (req->kind == SAM__REQ_BLOB_PUT &&
      (req->blob == NULL || req->blob_len > INT32_MAX)) {
    sam__sq_msg(req->errmsg, sizeof(req->errmsg),
                "secret: no blob, or too large");
    return SAM_EINVAL;
  }
  switch (req->kind) {
  case SAM__REQ_BLOB_PUT:
    st = stmt(c, SAM__SQ_BLOB_PUT);
    rc = sam__sq_bind_prk(st, req->profile_id, name, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_blob(st, 3, req->blob, (int)req->blob_len,
                             SQLITE_STATIC);
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_int64(st, 4, sam__sq_now_ms());
    if (rc == SQLITE_OK)
      rc = step_done(st);
    break;
  case SAM__REQ_BLOB_GET:
    st = stmt(c, SAM__SQ_BLOB_GET);
    rc = sam__sq_bind_prk(st, req->profile_id, name, NULL);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        req->out_blob = (unsigned char *)dup_n(sqlite3_column_blob(st, 0), n);
        req->out_blob_len = n;
        status = req->out_blob == NULL ? SAM_ENOMEM : 0;
        rc = SQLITE_OK;
      } else if (rc == SQLITE_DONE) {
        status = SAM_ENOENT;
        rc = SQLITE_OK;
      }
    }
    break;
  default: /* SAM__REQ_BLOB_DELETE */
    st = stmt(c, SAM__SQ_BLOB_DEL);
    rc = sam__sq_bind_prk(st, req->profile_id, name, NULL);
    if (rc == SQLITE_OK)
      rc = step_done(st);
    if (rc == SQLITE_OK && sqlite3_changes(c->db) == 0)
      status = SAM_ENOENT;
    break;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_OK)
    return sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "secret");
  return status;
}

/*
 * Executes one core request on the worker thread: fills req->status and the
 * outputs (malloc'd, freed by the core). Never calls sam__req_done.
 */
void sam__sq_exec_req(sam__sq_conn *conn, sam__req *req) {
  int status;

  if (req->profile_id == NULL || req->record_type == NULL) {
    sam__sq_msg(req->errmsg, sizeof(req->errmsg),
                "request without profile or type");
    req->status = SAM_EINVAL;
    return;
  }
  switch (req->kind) {
  case SAM__REQ_GET:
  case SAM__REQ_DELETE:
    if (req->key == NULL) {
      status = SAM_EINVAL;
      break;
    }
    status =
        req->kind == SAM__REQ_GET ? do_get(conn, req) : do_delete(conn, req);
    break;
  case SAM__REQ_PUT_BATCH:
    sam__sq_exec_put_group(conn, &req, 1);
    status = req->status;
    break;
  case SAM__REQ_QUERY:
    status = sam__sq_query(conn, req);
    break;
  case SAM__REQ_BLOB_PUT:
  case SAM__REQ_BLOB_GET:
  case SAM__REQ_BLOB_DELETE:
    status = do_blob(conn, req);
    break;
  default:
    sam__sq_msg(req->errmsg, sizeof(req->errmsg), "unknown request kind [%d]",
                req->kind);
    status = SAM_ENOTSUP;
    break;
  }
  req->status = status;
}

/* ---- statements ---- */

/*
 * Prepares the fixed statements (persistent: they live as long as the
 * connection).
 *
 * Thread: the thread that owns the connection.
 */
int sam__sq_conn_prepare(sam__sq_conn *conn, char *err, size_t err_len) {
  int i;

  for (i = 0; i < SAM__SQ_COUNT; i++) {
    if (sqlite3_prepare_v3(conn->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                           &conn->st[i], NULL) != SQLITE_OK) {
      sam__sq_msg(err, err_len, "sqlite: preparing statement [%d] failed [%s]",
                  i, sqlite3_errmsg(conn->db));
      return SAM_EIO;
    }
  }
  return 0;
}

/*
 * Finalizes every statement and closes the connection (sqlite3_close
 * cannot fail once every statement is finalized).
 *
 * Thread: the thread that owns the connection.
 */
void sam__sq_conn_close(sam__sq_conn *conn) {
  int i;

  for (i = 0; i < SAM__SQ_COUNT; i++) {
    sqlite3_finalize(conn->st[i]);
    conn->st[i] = NULL;
  }
  for (i = 0; i <= SAM__SQ_QUERY_CACHE; i++) {
    sqlite3_finalize(conn->query[i]);
    conn->query[i] = NULL;
  }
  if (conn->db != NULL)
    (void)sqlite3_close(conn->db); /* SQLITE_OK: nothing is left open */
  conn->db = NULL;
}
