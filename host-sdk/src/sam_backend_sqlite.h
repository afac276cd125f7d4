/*
 * sam_backend_sqlite.h: the SQLite storage backend of the reference host
 * (sam__backend_vt "sqlite"), plus the host-owned tables that need SQL of
 * their own: the append-only audit log and the usage events (kept one year).
 *
 * The host-owned SAM record types (sam_profile, sam_subscription, ...) are
 * plain record types stored in the same records/record_index tables as the
 * plugins' records; they need nothing here.
 *
 * Threads: one worker thread opens the only connection (the opener blocks
 * until the open and migrations are done) and executes every request in
 * submission order, so writes are serialized and the loop never touches
 * the disk. Core requests finish with sam__req_done() on the worker, their
 * outputs packed in one chunk that the core gives back (release) for the
 * worker to free: what the worker allocates, the worker frees. The
 * functions below call their callbacks on the loop.
 *
 * Request semantics (sam_backend.h), as this backend implements them:
 * - PUT_BATCH: one transaction; every if_version check first (against the
 *   state before the batch); SAM_ECONFLICT when an expected version is
 *   wrong or the record is missing, else SAM_EEXIST for SAM_IF_NEW on an
 *   existing record; out_recs then lists every failing key with its
 *   current version (0 = absent), and nothing is written. On success
 *   out_recs holds every key with its new version (created at 1, +1 per
 *   write). Batches queued together share one commit, each in its own
 *   savepoint, so each is still all or nothing.
 * - QUERY: keyset paging in key order; the cursor is opaque, bound to the
 *   query (profile, type, filter terms as a set) and valid indefinitely; a
 *   foreign or mangled cursor gives SAM_EINVAL.
 * - DELETE: SAM_ENOENT when absent; SAM_ECONFLICT (out_recs: the current
 *   version) when if_version is neither SAM_IF_ANY nor the current one.
 * - BLOB_*: the secret name is req->record_type; BLOB_GET and BLOB_DELETE
 *   give SAM_ENOENT when there is no such secret.
 * - SAM_EAGAIN: the queue is full (submit), or another process held the
 *   write lock past busy_timeout (the request). SAM_EIO: anything else
 *   SQLite refused, with the SQLite message in req->errmsg.
 */
#ifndef SAM_BACKEND_SQLITE_H
#define SAM_BACKEND_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include "sam_backend.h"
#include "sam_seal.h"

struct uv_loop_s;

/* Options; zero-initialise, then set what you need. */
typedef struct sam__sqlite_opts {
  uint32_t queue_max;       /* core requests queued at once; 0 = 1024 */
  uint32_t busy_timeout_ms; /* wait for another process' lock; 0 = 5000 */
  int synchronous_full;     /* 1: synchronous=FULL (survives power loss
                               with the last commits); default NORMAL */
  uint32_t cache_mib;       /* SQLite's page cache, MiB; 0 = the default
                               (SAM__SQLITE_CACHE_MIB_DEFAULT) */
} sam__sqlite_opts;

/* The page cache when opts.cache_mib is 0. The cache is part of the host's
 * resident memory and stops growing at this size, whatever the account. */
#define SAM__SQLITE_CACHE_MIB_DEFAULT 16u
/* Bounds of opts.cache_mib (and of samhost serve --sqlite-cache-mib). */
#define SAM__SQLITE_CACHE_MIB_MAX 65536u

/*
 * Opens (creating it with mode 0600 when missing) the database at `path`,
 * applies the pragmas and every pending migration, prepares the statements
 * and starts the worker thread. ":memory:" gives a private in-memory
 * database (tests).
 *
 * Thread: the loop thread, at start-up: it blocks on the disk for the open
 * and the migrations. `loop` is borrowed until close() has called done.
 * Ownership: out->self belongs to the backend; close it with
 * out->vt->close(out->self, done, ud), which frees it.
 * Returns: 0; SAM_EIO (cannot open, corrupt, or migrations failed),
 * SAM_EVERSION (the database is newer than this build), SAM_ENOMEM, with a
 * message in err.
 */
int sam__backend_sqlite_open(struct uv_loop_s *loop,
                             const char *path,
                             const sam__sqlite_opts *opts,
                             sam__backend *out,
                             char *err,
                             size_t err_len);

/* The schema version a database at this build's migrations ends at. */
int sam__backend_sqlite_schema_version(void);

/*
 * Completion of the host-table operations below: runs exactly once, on the
 * loop thread, never inside the call that queued it. `count` is what the
 * operation says (rows appended: the new row id; rows purged; secrets
 * resealed). `errmsg` is borrowed for the call ("" when none).
 */
typedef void (*sam__sqlite_cb)(int status,
                               int64_t count,
                               const char *errmsg,
                               void *ud);

/*
 * Appends one audit entry (the audit_log table is append-only: triggers
 * refuse UPDATE and DELETE). `at_ms` is Unix time in ms (0 = now);
 * `profile_id` and `detail` may be NULL. Strings are copied.
 *
 * Thread: loop. Callback: count = the entry's id.
 * Returns: 0 (queued); SAM_EINVAL (not an sqlite backend, NULL actor or
 * action), SAM_EBUSY (closing), SAM_ENOMEM; cb never runs on error.
 */
int sam__sqlite_audit_append(sam__backend *b,
                             int64_t at_ms,
                             const char *actor,
                             const char *action,
                             const char *profile_id,
                             const char *detail,
                             sam__sqlite_cb cb,
                             void *ud);

/*
 * Appends one usage event of `subject` (a user) for a profile. `at_ms` 0 =
 * now; `detail_json` may be NULL. Same thread, callback and return rules
 * as sam__sqlite_audit_append.
 */
int sam__sqlite_usage_append(sam__backend *b,
                             const char *profile_id,
                             const char *subject,
                             const char *event,
                             int64_t at_ms,
                             const char *detail_json,
                             sam__sqlite_cb cb,
                             void *ud);

/*
 * Deletes the usage events created before now_ms - max_age_days (0 = 365
 * days; now_ms 0 = now). Callback: count = rows deleted. Same rules.
 */
int sam__sqlite_usage_purge(sam__backend *b,
                            int64_t now_ms,
                            uint32_t max_age_days,
                            sam__sqlite_cb cb,
                            void *ud);

/*
 * Deletes every record, index entry, sealed secret and usage event of a
 * profile in one transaction (profile deletion). The audit log is kept.
 * Callback: count = records deleted. Same rules.
 */
int sam__sqlite_profile_purge(sam__backend *b,
                              const char *profile_id,
                              sam__sqlite_cb cb,
                              void *ud);

/*
 * Key rotation: re-seals every secret not sealed with kr's current key, in
 * one transaction, on the worker thread. `kr` is borrowed until cb runs and
 * must hold the old keys too (sam__keyring_rotate keeps them). A secret
 * that opens with no key is left as it is and reported: status SAM_EAUTH,
 * errmsg names it; the others are still re-sealed.
 * Callback: count = secrets re-sealed. Same rules.
 */
int sam__sqlite_reseal_all(sam__backend *b,
                           const sam__keyring *kr,
                           sam__sqlite_cb cb,
                           void *ud);

/*
 * Completion of the list operations below: runs exactly once, on the loop
 * thread, never inside the call. `json` (NUL-terminated, `len` bytes) is a
 * JSON array, borrowed for the call; NULL on error.
 */
typedef void (*sam__sqlite_rows_cb)(
    int status, const char *json, size_t len, const char *errmsg, void *ud);

/*
 * Lists audit entries newest first: those of `profile_id` (NULL = all),
 * with id < before_id (0 = from the newest), at most `limit` (0 = 100,
 * clamped to 1000). JSON: [{"id":n,"at":ms,"actor":s,"action":s,
 * "profile_id":s|null,"detail":s|null}, ...]; page on with the last id.
 * Same thread and return rules as sam__sqlite_audit_append.
 */
int sam__sqlite_audit_list(sam__backend *b,
                           const char *profile_id,
                           int64_t before_id,
                           uint32_t limit,
                           sam__sqlite_rows_cb cb,
                           void *ud);

/*
 * Summarises the usage events of a profile since `since_ms`, per subject:
 * [{"subject":s,"last_at":ms,"events":n}, ...] ordered by subject (for
 * "last activity" and "inactive days"). Same rules.
 */
int sam__sqlite_usage_summary(sam__backend *b,
                              const char *profile_id,
                              int64_t since_ms,
                              sam__sqlite_rows_cb cb,
                              void *ud);

#endif /* SAM_BACKEND_SQLITE_H */
