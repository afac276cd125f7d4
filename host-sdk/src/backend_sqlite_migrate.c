/*
 * backend_sqlite_migrate.c: opening the SQLite database, its pragmas, and
 * the ordered schema migrations.
 *
 * Migrations are append-only: a released step is never edited; a change
 * is a new step. Each step runs in its own IMMEDIATE transaction together
 * with the row that records it in schema_version, so a crash mid-migration
 * leaves the previous version intact and the next start retries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backend_sqlite_int.h"
#include "sam/sam_plugin.h"

typedef struct migration {
  int version;
  const char *description;
  const char *sql;
} migration;

/* clang-format off */
static const migration migrations[] = {
  {1, "records, record index, sealed secrets",
   /* WITHOUT ROWID: the records live in their primary key's b-tree, so a
    * query page is a sequential walk in key order instead of one random
    * table lookup per row (4x faster paging in tools/bench/bench-store;
    * writes pay about 20% for the wider b-tree) */
   "CREATE TABLE records ("
   " profile_id TEXT NOT NULL,"
   " record_type TEXT NOT NULL,"
   " key TEXT NOT NULL,"
   " version INTEGER NOT NULL,"
   " schema_version INTEGER NOT NULL,"
   " json TEXT NOT NULL,"
   " updated_at INTEGER NOT NULL,"
   /* the record's index values as last written (length-prefixed pointer,
    * value pairs; NULL when none): a rewrite compares them and touches
    * record_index only when they changed, and a delete removes exactly
    * these rows, so record_index needs no second b-tree by key */
   " idx TEXT,"
   " PRIMARY KEY (profile_id, record_type, key)) WITHOUT ROWID;"
   /* one row per indexed value, clustered for equality filters walked in
    * key order (keyset paging). WITHOUT ROWID: the primary key is the only
    * b-tree, and random keys make every b-tree cost page writes */
   "CREATE TABLE record_index ("
   " profile_id TEXT NOT NULL,"
   " record_type TEXT NOT NULL,"
   " key TEXT NOT NULL,"
   " pointer TEXT NOT NULL,"
   " value TEXT NOT NULL,"
   " PRIMARY KEY (profile_id, record_type, pointer, value, key)"
   ") WITHOUT ROWID;"
   "CREATE TABLE blobs ("
   " profile_id TEXT NOT NULL,"
   " name TEXT NOT NULL,"
   " blob BLOB NOT NULL,"
   " updated_at INTEGER NOT NULL,"
   " PRIMARY KEY (profile_id, name)"
   ") WITHOUT ROWID;"},
  {2, "audit log (append-only), usage events",
   "CREATE TABLE audit_log ("
   " id INTEGER PRIMARY KEY AUTOINCREMENT,"
   " at INTEGER NOT NULL,"
   " actor TEXT NOT NULL,"
   " action TEXT NOT NULL,"
   " profile_id TEXT,"
   " detail TEXT);"
   "CREATE INDEX audit_log_at ON audit_log (at);"
   "CREATE INDEX audit_log_profile ON audit_log (profile_id, at);"
   "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
   " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
   "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
   " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
   "CREATE TABLE usage_events ("
   " id INTEGER PRIMARY KEY,"
   " profile_id TEXT NOT NULL,"
   " subject TEXT NOT NULL,"
   " event TEXT NOT NULL,"
   " created_at INTEGER NOT NULL,"
   " detail TEXT);"
   "CREATE INDEX usage_events_created ON usage_events (created_at);"
   "CREATE INDEX usage_events_subject ON usage_events"
   " (profile_id, subject, created_at);"},
};
/* clang-format on */

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static void set_err(char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;

  if (err == NULL || err_len == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/*
 * The schema version the migrations of this build end at.
 *
 * Thread: any.
 */
int sam__sqlite_latest_version(void) {
  return migrations[N_MIGRATIONS - 1].version;
}

/* Runs sql (several statements); SAM_EIO with the SQLite message. */
static int exec_sql(
    sqlite3 *db, const char *sql, const char *what, char *err, size_t err_len) {
  char *msg = NULL;

  if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
    return 0;
  set_err(err, err_len, "sqlite: %s failed [%s]", what,
          msg != NULL ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  return SAM_EIO;
}

/* The current schema version (0 for a new database). */
static int read_version(sqlite3 *db, int *version, char *err, size_t err_len) {
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2(db,
                         "SELECT COALESCE(MAX(version), 0) FROM "
                         "schema_version",
                         -1, &st, NULL) != SQLITE_OK) {
    set_err(err, err_len, "sqlite: reading the schema version failed [%s]",
            sqlite3_errmsg(db));
    return SAM_EIO;
  }
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    set_err(err, err_len, "sqlite: reading the schema version failed [%s]",
            sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return SAM_EIO;
  }
  *version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return 0;
}

/* Applies one step inside a transaction; re-checks the version under the
 * write lock, since another process may have migrated meanwhile. */
static int apply(sqlite3 *db, const migration *m, char *err, size_t err_len) {
  sqlite3_stmt *st = NULL;
  int version = 0;
  int rc;

  rc = exec_sql(db, "BEGIN IMMEDIATE", "begin migration", err, err_len);
  if (rc != 0)
    return rc;
  rc = read_version(db, &version, err, err_len);
  if (rc != 0)
    goto fail;
  if (version >= m->version)
    return exec_sql(db, "COMMIT", "commit migration", err, err_len);
  rc = exec_sql(db, m->sql, m->description, err, err_len);
  if (rc != 0)
    goto fail;
  rc = SAM_EIO;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO schema_version (version, "
                         "applied_at, description) VALUES (?1, ?2, ?3)",
                         -1, &st, NULL) != SQLITE_OK ||
      sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
      sqlite3_bind_int64(st, 2, sam__sq_now_ms()) != SQLITE_OK ||
      sqlite3_bind_text(st, 3, m->description, -1, SQLITE_STATIC) !=
          SQLITE_OK ||
      sqlite3_step(st) != SQLITE_DONE) {
    set_err(err, err_len, "sqlite: recording migration [%d] failed [%s]",
            m->version, sqlite3_errmsg(db));
    goto fail;
  }
  sqlite3_finalize(st);
  st = NULL;
  rc = exec_sql(db, "COMMIT", "commit migration", err, err_len);
  if (rc != 0)
    goto fail;
  return 0;

fail:
  sqlite3_finalize(st);
  /* the error is already in err; a failed rollback changes nothing more */
  (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static int migrate(sqlite3 *db, const char *path, char *err, size_t err_len) {
  int version = 0;
  size_t i;
  int rc;

  rc = exec_sql(db,
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY,"
                " applied_at INTEGER NOT NULL,"
                " description TEXT NOT NULL)",
                "creating schema_version", err, err_len);
  if (rc != 0)
    return rc;
  rc = read_version(db, &version, err, err_len);
  if (rc != 0)
    return rc;
  if (version > sam__sqlite_latest_version()) {
    set_err(err, err_len,
            "database [%s] has schema version [%d], newer than this samhost "
            "knows [%d]; run a newer samhost or restore a backup",
            path, version, sam__sqlite_latest_version());
    return SAM_EVERSION;
  }
  for (i = 0; i < N_MIGRATIONS; i++) {
    if (migrations[i].version <= version)
      continue;
    rc = apply(db, &migrations[i], err, err_len);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Creates the file with mode 0600 first: SQLite would use 0644 & ~umask,
 * and it gives the -wal and -shm files the mode of the database. */
static int precreate(const char *path, char *err, size_t err_len) {
  int fd;

  if (strcmp(path, ":memory:") == 0 || path[0] == '\0')
    return 0;
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_err(err, err_len, "cannot open database [%s] [errno=%s]", path,
            strerror(errno));
    return SAM_EIO;
  }
  close(fd);
  return 0;
}

/*
 * Opens the database and brings it to the latest schema (see
 * backend_sqlite_int.h).
 *
 * Pragmas, and why:
 * - journal_mode=WAL: readers never block the writer, and a commit is one
 *   append to the log instead of rewriting pages twice.
 * - synchronous=NORMAL: in WAL mode a commit then does not fsync; the log
 *   is synced at each checkpoint. The database stays consistent after any
 *   crash, and a killed process (kill -9) loses nothing, because committed
 *   data is already in the OS page cache. Only a power loss or kernel crash
 *   can roll back the last commits, never half of one. FULL costs one
 *   fsync per batch; opts.synchronous_full turns it on.
 * - busy_timeout: the admin CLI may open the same file while samhost
 *   serves; wait for its lock instead of failing at once.
 * - cache_size=opts.cache_mib (default 16 MiB): random keys (DocuSign user
 *   ids) spread every batch over the whole b-trees; SQLite's 2 MiB default
 *   re-reads them each time. It is bounded because it is resident memory
 *   of the host: bench-download measured 100,000 users at about 20 % less
 *   throughput with 16 MiB than with 64 MiB, and a 64 MiB cache alone
 *   would put the host's peak RSS for a 1,000,000-user account at over
 *   twice that for 10,000 users (issue 6 asks at most 1.5 times).
 * - wal_autocheckpoint=16384 pages (64 MiB): the same hot index pages are
 *   rewritten by many batches; checkpointing less often copies each of
 *   them back to the database once instead of once per batch.
 *   journal_size_limit truncates the log back to 64 MiB afterwards.
 * - foreign_keys off (no foreign keys), temp_store=MEMORY.
 *
 * Thread: the caller's (loop thread at start-up); blocks.
 */
int sam__sqlite_db_open(const char *path,
                        const sam__sqlite_opts *opts,
                        sqlite3 **out,
                        char *err,
                        size_t err_len) {
  uint32_t busy_timeout_ms = opts->busy_timeout_ms;
  uint32_t cache_mib =
      opts->cache_mib > 0 ? opts->cache_mib : SAM__SQLITE_CACHE_MIB_DEFAULT;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char pragmas[256];
  int in_memory = strcmp(path, ":memory:") == 0;
  int rc;

  *out = NULL;
  if (sqlite3_threadsafe() == 0) {
    set_err(err, err_len,
            "sqlite: the library is built without thread "
            "support [SQLITE_THREADSAFE=0]; the backend needs it");
    return SAM_EIO;
  }
  rc = precreate(path, err, err_len);
  if (rc != 0)
    return rc;
  /* NOMUTEX: only the worker thread uses the connection after open */
  rc = sqlite3_open_v2(
      path, &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    set_err(err, err_len, "cannot open database [%s] [%s]", path,
            db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    rc = rc == SQLITE_NOMEM ? SAM_ENOMEM : SAM_EIO;
    goto fail;
  }
  if (sqlite3_extended_result_codes(db, 1) != SQLITE_OK ||
      sqlite3_busy_timeout(db, busy_timeout_ms > 0 ? (int)busy_timeout_ms
                                                   : 5000) != SQLITE_OK) {
    set_err(err, err_len, "sqlite: configuring [%s] failed [%s]", path,
            sqlite3_errmsg(db));
    rc = SAM_EIO;
    goto fail;
  }
  /* journal_mode answers with the mode it got: insist on WAL for files */
  rc = SAM_EIO;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) !=
          SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW) {
    set_err(err, err_len,
            "database [%s] is not usable [%s]; is it an "
            "SQLite file?",
            path, sqlite3_errmsg(db));
    goto fail;
  }
  if (!in_memory &&
      strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
    set_err(err, err_len, "database [%s] refused WAL mode [journal_mode=%s]",
            path, (const char *)sqlite3_column_text(st, 0));
    goto fail;
  }
  sqlite3_finalize(st);
  st = NULL;
  snprintf(pragmas, sizeof(pragmas),
           "PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF;"
           " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;"
           " PRAGMA cache_size=-%lu; PRAGMA wal_autocheckpoint=16384;",
           opts->synchronous_full ? "FULL" : "NORMAL",
           (unsigned long)(cache_mib > SAM__SQLITE_CACHE_MIB_MAX
                               ? SAM__SQLITE_CACHE_MIB_MAX
                               : cache_mib) *
               1024ul);
  rc = exec_sql(db, pragmas, "setting pragmas", err, err_len);
  if (rc != 0)
    goto fail;
  rc = migrate(db, path, err, err_len);
  if (rc != 0)
    goto fail;
  *out = db;
  return 0;

fail:
  sqlite3_finalize(st);
  sqlite3_close(db); /* NULL-safe */
  return rc;
}
