/*
 * backend_sqlite_int.h: what the files of the SQLite backend share
 * (backend_sqlite.c: queue, worker, loop side; backend_sqlite_exec.c: the
 * SQL of get, put_batch, delete and secrets; backend_sqlite_query.c:
 * queries and cursors; backend_sqlite_tables.c: audit log, usage events,
 * purge, re-seal; backend_sqlite_migrate.c: open, pragmas, migrations).
 * Not for use outside backend_sqlite*.c.
 *
 * Thread: everything here runs on the worker thread (the worker also
 * opens the database: sam__sqlite_db_open, sam__sq_conn_prepare).
 */
#ifndef SAM_BACKEND_SQLITE_INT_H
#define SAM_BACKEND_SQLITE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sam_backend.h"
#include "sam_backend_sqlite.h"
#include "sam_seal.h"

/* Query statements are cached per number of filter terms up to this. */
#define SAM__SQ_QUERY_CACHE 8

enum {
  SAM__SQ_BEGIN = 0,
  SAM__SQ_COMMIT,
  SAM__SQ_ROLLBACK,
  SAM__SQ_SAVEPOINT,
  SAM__SQ_RELEASE,
  SAM__SQ_ROLLBACK_TO,
  SAM__SQ_GET,
  SAM__SQ_PEEK,
  SAM__SQ_INS,
  SAM__SQ_UPD,
  SAM__SQ_IDX_DEL,
  SAM__SQ_IDX_INS,
  SAM__SQ_DEL,
  SAM__SQ_BLOB_PUT,
  SAM__SQ_BLOB_GET,
  SAM__SQ_BLOB_DEL,
  SAM__SQ_AUDIT_INS,
  SAM__SQ_USAGE_INS,
  SAM__SQ_USAGE_PURGE,
  SAM__SQ_COUNT
};

/* The worker's connection and its prepared statements. */
typedef struct sam__sq_conn {
  sqlite3 *db;
  sqlite3_stmt *st[SAM__SQ_COUNT];
  sqlite3_stmt *query[SAM__SQ_QUERY_CACHE + 1]; /* by term count; lazy */
} sam__sq_conn;

/* Host-table operations (sam_backend_sqlite.h), executed by the worker. */
enum {
  SAM__SQ_OP_AUDIT = 1,
  SAM__SQ_OP_USAGE_ADD,
  SAM__SQ_OP_USAGE_PURGE,
  SAM__SQ_OP_PROFILE_PURGE,
  SAM__SQ_OP_RESEAL,
  SAM__SQ_OP_AUDIT_LIST,
  SAM__SQ_OP_USAGE_SUMMARY
};

typedef struct sam__sq_op {
  int kind;
  char *s[5];   /* string arguments, by kind; owned */
  int64_t num;  /* time or age argument */
  int64_t num2; /* limit */
  const sam__keyring *kr;
  /* outputs */
  int status;
  int64_t count;
  char *json; /* list operations: a malloc'd JSON array */
  size_t json_len;
  char errmsg[256];
  /* completion on the loop: cb, or rows_cb for list operations */
  void (*cb)(int status, int64_t count, const char *errmsg, void *ud);
  void (*rows_cb)(
      int status, const char *json, size_t len, const char *errmsg, void *ud);
  void *ud;
  struct sam__sq_op *next;
} sam__sq_op;

/*
 * Opens or creates the database file (mode 0600), sets the pragmas, runs
 * the pending migrations. Blocks. 0, SAM_EIO, SAM_EVERSION or SAM_ENOMEM
 * with a message in err; *out is NULL on error.
 */
int sam__sqlite_db_open(const char *path,
                        const sam__sqlite_opts *opts,
                        sqlite3 **out,
                        char *err,
                        size_t err_len);
/* The version the migrations end at. */
int sam__sqlite_latest_version(void);

/* Prepares the fixed statements on conn->db. 0 or SAM_EIO with err. */
int sam__sq_conn_prepare(sam__sq_conn *conn, char *err, size_t err_len);
/* Finalizes every statement and closes the database. NULL-safe fields. */
void sam__sq_conn_close(sam__sq_conn *conn);
/* Executes one core request, filling its outputs (not sam__req_done). */
void sam__sq_exec_req(sam__sq_conn *conn, sam__req *req);
/* Executes consecutive PUT_BATCH requests with one commit (each batch in
 * its own savepoint, all or nothing on its own). */
void sam__sq_exec_put_group(sam__sq_conn *conn, sam__req **reqs, size_t n);
/* Group commit bounds: batches and records per transaction. */
#define SAM__SQ_GROUP_MAX 8
#define SAM__SQ_GROUP_RECORDS 4000
/* Executes one host-table operation, filling status, count, errmsg. */
void sam__sq_exec_op(sam__sq_conn *conn, sam__sq_op *op);
/* Unix time in milliseconds. */
int64_t sam__sq_now_ms(void);

/* ---- helpers shared by backend_sqlite_exec.c and _query.c ---- */

/* Executes a QUERY request (backend_sqlite_query.c); returns the status. */
int sam__sq_query(sam__sq_conn *c, sam__req *req);
/* snprintf into an error buffer. */
void sam__sq_msg(char *buf, size_t len, const char *fmt, ...);
/* Records an SQLite failure (what, message, code) in errmsg and returns its
 * SAM_E* code: SAM_EAGAIN for a lock held too long, SAM_ENOMEM, SAM_EIO. */
int sam__sq_fail(
    sam__sq_conn *c, int rc, char *errmsg, size_t len, const char *what);
/* Binds text (NULL as NULL) without copying. */
int sam__sq_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Binds ?1 profile, ?2 record type and, when key is non-NULL, ?3 key. */
int sam__sq_bind_prk(sqlite3_stmt *st,
                     const char *p,
                     const char *rt,
                     const char *key);
/* Appends (key, version[, json copy]) to req->out_recs, allocated for
 * `cap` entries on first use. 0 or SAM_ENOMEM. */
int sam__sq_out_push(sam__req *req,
                     size_t cap,
                     const char *key,
                     uint64_t version,
                     const void *json,
                     size_t json_len,
                     int with_json);
/* Frees a request's outputs (after a failure the core sees none). */
void sam__sq_out_clear(sam__req *req);
/* Moves a finished request's outputs into one allocation (out_one_chunk,
 * sam_backend.h), freeing the pieces here, in the worker's own malloc
 * arena; on ENOMEM they stay as they are, as valid. */
void sam__sq_out_pack(sam__req *req);

#endif /* SAM_BACKEND_SQLITE_INT_H */
