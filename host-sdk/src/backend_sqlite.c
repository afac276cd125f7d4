/*
 * backend_sqlite.c: the SQLite backend's loop side and its worker thread.
 *
 * One worker thread opens and owns the only connection. The loop thread
 * queues work under a mutex and signals a condition variable; the worker
 * executes it in submission order, so SQLite writes are serialized without
 * SQLite's own locking and the loop never waits on the disk. Result chunks
 * come back (sq_release) for the worker to free in its own malloc arena.
 *
 * - Core requests (sam__req) sit in a bounded ring: a full ring makes
 *   submit return SAM_EAGAIN. The worker calls sam__req_begin() (0 means
 *   cancelled: skip the work) and always sam__req_done(), which the core
 *   turns into a callback on the loop. Consecutive put_batch requests found
 *   in the ring together are committed together (each batch in its own
 *   savepoint, so each stays all or nothing): group commit.
 * - Host-table operations (sam_backend_sqlite.h) sit in an unbounded list
 *   (they are few: admin and housekeeping), and come back to the loop
 *   through one uv_async_t, which also tells the loop that the worker has
 *   exited during close.
 * - close() marks the backend closing; the worker drains everything
 *   queued, finalizes the statements, closes the database and exits; the
 *   async callback joins it, closes the async handle, frees the backend and
 *   calls done(ud).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "backend_sqlite_int.h"
#include "sam/sam_plugin.h"
#include "sam_backend_sqlite.h"

typedef struct sq_backend {
  uv_loop_t *loop;
  uv_async_t async;
  uv_thread_t thread;
  uv_mutex_t mu;
  uv_cond_t cond;
  /* ---- under mu ---- */
  sam__req **ring;
  size_t cap;
  size_t head;
  size_t count;
  sam__sq_op *ops_head; /* queued host-table operations */
  sam__sq_op *ops_tail;
  sam__sq_op *done_head; /* finished, waiting for the loop */
  sam__sq_op *done_tail;
  int closing;
  int worker_exited;
  int async_live; /* b->async initialized: the worker may send */
  void *trash;    /* chunks given back (sq_release), linked through their
                     first word: the worker frees them */
  size_t n_trash;
  /* ---- loop thread only ---- */
  int async_closing;
  void (*close_done)(void *ud);
  void *close_ud;
  /* ---- the open, done by the worker while the opener waits ---- */
  uv_sem_t opened;
  const char *open_path; /* the opener's, valid until opened */
  const sam__sqlite_opts *open_opts;
  int open_rc;
  char open_err[512];
  /* ---- worker thread only (after open) ---- */
  sam__sq_conn conn;
} sq_backend;

/* Chunks given back before the worker is woken only to free them. */
#define SQ_TRASH_WAKE 64

static int sq_submit(void *self, sam__req *req);
static void sq_close(void *self, void (*done)(void *ud), void *ud);

static void sq_release(void *self, void *chunk);

static const sam__backend_vt sqlite_vt = {"sqlite", sq_submit, sq_close,
                                          sq_release};

/* ---- worker thread ---- */

static void push_done(sq_backend *b, sam__sq_op *op) {
  op->next = NULL;
  if (b->done_tail != NULL)
    b->done_tail->next = op;
  else
    b->done_head = op;
  b->done_tail = op;
}

/* Runs popped requests: sam__req_begin() for each (0: cancelled, skip it),
 * the work, then sam__req_done() for each; the requests are the core's
 * again after that. */
static void run_group(sq_backend *b, sam__req **group, size_t n) {
  sam__req *run[SAM__SQ_GROUP_MAX];
  size_t nrun = 0;
  size_t i;

  for (i = 0; i < n; i++) {
    if (sam__req_begin(group[i])) {
      run[nrun++] = group[i];
    } else {
      group[i]->status = SAM_ECANCELED;
      sam__req_done(group[i]);
    }
  }
  if (nrun == 1 || (nrun > 0 && run[0]->kind != SAM__REQ_PUT_BATCH))
    sam__sq_exec_req(&b->conn, run[0]);
  else if (nrun > 1)
    sam__sq_exec_put_group(&b->conn, run, nrun);
  for (i = 0; i < nrun; i++) {
    sam__sq_out_pack(run[i]);
    sam__req_done(run[i]);
  }
}

static void free_trash(void *t) {
  while (t != NULL) {
    void *next = *(void **)t;

    free(t);
    t = next;
  }
}

/* The worker's nice value, added to the process's (at most 19). */
#define SQ_WORKER_NICE 10

static void worker(void *arg) {
  sq_backend *b = arg;
  int nice_now;

  /* The worker opens the database and prepares the statements itself:
   * then every SQLite allocation (statement memory that binds grow,
   * the page cache) comes from this thread's malloc arena. Opened on the
   * loop thread, they lived in the loop's arena, and each realloc here
   * took that arena's lock: when this (niced) thread was preempted
   * holding it, the loop waited in free() (bench-download
   * --stall-stacks). */
  b->open_rc = sam__sqlite_db_open(b->open_path, b->open_opts, &b->conn.db,
                                   b->open_err, sizeof(b->open_err));
  if (b->open_rc == 0)
    b->open_rc =
        sam__sq_conn_prepare(&b->conn, b->open_err, sizeof(b->open_err));
  if (b->open_rc != 0) {
    sam__sq_conn_close(&b->conn);
    uv_sem_post(&b->opened);
    return;
  }
  uv_sem_post(&b->opened);

  /* Below the loop's priority: the loop answers HTTP and drives every
   * job, the worker only has to keep up on average. On Linux the nice
   * value is per thread (setpriority(2) on the calling thread with 0). On
   * a busy 2-core machine bench-download measured the loop's longest
   * stall down from 6-13 ms to 5-7 ms with no loss of throughput. Best
   * effort: an error leaves the default priority. */
  errno = 0;
  nice_now = getpriority(PRIO_PROCESS, 0);
  if (errno == 0)
    (void)setpriority(
        PRIO_PROCESS, 0,
        nice_now + SQ_WORKER_NICE > 19 ? 19 : nice_now + SQ_WORKER_NICE);
  uv_mutex_lock(&b->mu);
  for (;;) {
    if (b->trash != NULL) {
      void *t = b->trash;

      b->trash = NULL;
      b->n_trash = 0;
      uv_mutex_unlock(&b->mu);
      free_trash(t);
      uv_mutex_lock(&b->mu);
    }
    if (b->ops_head != NULL) {
      sam__sq_op *op = b->ops_head;
      b->ops_head = op->next;
      if (b->ops_head == NULL)
        b->ops_tail = NULL;
      uv_mutex_unlock(&b->mu);
      sam__sq_exec_op(&b->conn, op);
      uv_mutex_lock(&b->mu);
      push_done(b, op);
      /* uv_async_send is thread-safe; coalesced wake-ups are fine: the
       * loop side drains the whole done list each time */
      (void)uv_async_send(&b->async);
      continue;
    }
    if (b->count > 0) {
      sam__req *group[SAM__SQ_GROUP_MAX];
      size_t ng = 0;
      size_t nrecs = 0;
      /* consecutive put_batch requests share one commit (see
       * sam__sq_exec_put_group); anything else runs alone, in order */
      do {
        sam__req *req = b->ring[b->head];
        if (ng > 0 && (req->kind != SAM__REQ_PUT_BATCH ||
                       nrecs + req->n > SAM__SQ_GROUP_RECORDS))
          break;
        group[ng++] = req;
        nrecs += req->n;
        b->head = (b->head + 1) % b->cap;
        b->count--;
      } while (group[0]->kind == SAM__REQ_PUT_BATCH && b->count > 0 &&
               ng < SAM__SQ_GROUP_MAX);
      uv_mutex_unlock(&b->mu);
      run_group(b, group, ng);
      uv_mutex_lock(&b->mu);
      continue;
    }
    if (b->closing && b->trash == NULL)
      break;
    if (b->trash == NULL)
      uv_cond_wait(&b->cond, &b->mu);
  }
  uv_mutex_unlock(&b->mu);

  sam__sq_conn_close(&b->conn);

  uv_mutex_lock(&b->mu);
  b->worker_exited = 1;
  if (b->async_live)
    (void)uv_async_send(&b->async);
  uv_mutex_unlock(&b->mu);
}

/* ---- loop side ---- */

static void free_op(sam__sq_op *op) {
  size_t i;

  for (i = 0; i < sizeof(op->s) / sizeof(op->s[0]); i++)
    free(op->s[i]);
  free(op->json);
  free(op);
}

static void free_backend(sq_backend *b) {
  free_trash(b->trash); /* given back after the worker's last pass */
  uv_sem_destroy(&b->opened);
  uv_cond_destroy(&b->cond);
  uv_mutex_destroy(&b->mu);
  free(b->ring);
  free(b);
}

static void on_async_closed(uv_handle_t *h) {
  sq_backend *b = h->data;
  void (*done)(void *) = b->close_done;
  void *ud = b->close_ud;

  free_backend(b);
  if (done != NULL)
    done(ud);
}

static void on_async(uv_async_t *h) {
  sq_backend *b = h->data;
  sam__sq_op *list;
  int exited;

  uv_mutex_lock(&b->mu);
  list = b->done_head;
  b->done_head = b->done_tail = NULL;
  exited = b->worker_exited;
  uv_mutex_unlock(&b->mu);

  while (list != NULL) {
    sam__sq_op *op = list;
    list = op->next;
    if (op->rows_cb != NULL)
      op->rows_cb(op->status, op->status == 0 ? op->json : NULL,
                  op->status == 0 ? op->json_len : 0, op->errmsg, op->ud);
    else if (op->cb != NULL)
      op->cb(op->status, op->count, op->errmsg, op->ud);
    free_op(op);
  }
  if (exited && !b->async_closing) {
    b->async_closing = 1;
    /* the worker has left its loop: the join returns at once */
    (void)uv_thread_join(&b->thread);
    uv_close((uv_handle_t *)&b->async, on_async_closed);
  }
}

/* Loop thread. Queues a core request; SAM_EAGAIN when the ring is full. */
static int sq_submit(void *self, sam__req *req) {
  sq_backend *b = self;
  int rc = 0;

  if (req == NULL)
    return SAM_EINVAL;
  uv_mutex_lock(&b->mu);
  if (b->closing) {
    rc = SAM_EBUSY;
  } else if (b->count == b->cap) {
    rc = SAM_EAGAIN;
  } else {
    b->ring[(b->head + b->count) % b->cap] = req;
    b->count++;
    uv_cond_signal(&b->cond);
  }
  uv_mutex_unlock(&b->mu);
  return rc;
}

/* Loop thread. A result chunk back for the worker to free (see
 * sam__backend_vt.release). The worker frees what it was given at its
 * next request; a long list wakes it. */
static void sq_release(void *self, void *chunk) {
  sq_backend *b = self;

  uv_mutex_lock(&b->mu);
  if (b->worker_exited) {
    uv_mutex_unlock(&b->mu);
    free(chunk);
    return;
  }
  *(void **)chunk = b->trash;
  b->trash = chunk;
  if (++b->n_trash == SQ_TRASH_WAKE)
    uv_cond_signal(&b->cond);
  uv_mutex_unlock(&b->mu);
}

/* Loop thread. Starts closing; done(ud) runs on the loop once the worker
 * has finished every queued request and closed the database. */
static void sq_close(void *self, void (*done)(void *ud), void *ud) {
  sq_backend *b = self;

  b->close_done = done;
  b->close_ud = ud;
  uv_mutex_lock(&b->mu);
  b->closing = 1;
  uv_cond_signal(&b->cond);
  uv_mutex_unlock(&b->mu);
}

/*
 * The schema version of this build's migrations.
 *
 * Thread: any.
 */
int sam__backend_sqlite_schema_version(void) {
  return sam__sqlite_latest_version();
}

/*
 * Opens the SQLite backend (see sam_backend_sqlite.h).
 *
 * Thread: loop thread, at start-up (blocks for the open and migrations).
 */
int sam__backend_sqlite_open(struct uv_loop_s *loop,
                             const char *path,
                             const sam__sqlite_opts *opts,
                             sam__backend *out,
                             char *err,
                             size_t err_len) {
  sam__sqlite_opts o;
  sq_backend *b = NULL;
  int have_sync = 0;
  int have_sem = 0;
  int rc = SAM_ENOMEM;

  if (err != NULL && err_len > 0)
    err[0] = '\0';
  if (loop == NULL || path == NULL || out == NULL)
    return SAM_EINVAL;
  memset(&o, 0, sizeof(o));
  if (opts != NULL)
    o = *opts;
  b = calloc(1, sizeof(*b));
  if (b == NULL)
    goto fail;
  b->loop = loop;
  b->cap = o.queue_max > 0 ? o.queue_max : 1024;
  b->ring = calloc(b->cap, sizeof(*b->ring));
  if (b->ring == NULL)
    goto fail;
  rc = SAM_EIO;
  if (uv_mutex_init(&b->mu) != 0)
    goto fail;
  if (uv_cond_init(&b->cond) != 0) {
    uv_mutex_destroy(&b->mu);
    goto fail;
  }
  have_sync = 1;
  if (uv_sem_init(&b->opened, 0) != 0)
    goto fail;
  have_sem = 1;
  b->open_path = path;
  b->open_opts = &o;
  rc = uv_thread_create(&b->thread, worker, b);
  if (rc != 0) {
    if (err != NULL)
      snprintf(err, err_len, "cannot start the store thread [%s]",
               uv_strerror(rc));
    rc = SAM_EIO;
    goto fail;
  }
  /* the open and the migrations, on the worker; the caller blocks as
   * before (start-up) */
  uv_sem_wait(&b->opened);
  b->open_path = NULL;
  b->open_opts = NULL;
  if (b->open_rc != 0) {
    (void)uv_thread_join(&b->thread); /* it returned after the post */
    if (err != NULL && err_len > 0)
      snprintf(err, err_len, "%s", b->open_err);
    rc = b->open_rc;
    goto fail;
  }
  /* Only now: a failed open leaves no handle on the loop. Nothing can
   * make the worker send before this returns but its exit. */
  rc = uv_async_init(loop, &b->async, on_async);
  if (rc != 0) {
    if (err != NULL)
      snprintf(err, err_len, "uv_async_init failed [%s]", uv_strerror(rc));
    uv_mutex_lock(&b->mu);
    b->closing = 1; /* the worker closes the database and exits */
    uv_cond_signal(&b->cond);
    uv_mutex_unlock(&b->mu);
    (void)uv_thread_join(&b->thread);
    rc = SAM_EIO;
    goto fail;
  }
  b->async.data = b;
  uv_mutex_lock(&b->mu);
  b->async_live = 1;
  uv_mutex_unlock(&b->mu);
  out->vt = &sqlite_vt;
  out->self = b;
  return 0;

fail:
  if (b != NULL) {
    if (have_sem)
      uv_sem_destroy(&b->opened);
    if (have_sync) {
      uv_cond_destroy(&b->cond);
      uv_mutex_destroy(&b->mu);
    }
    free(b->ring);
    free(b);
  }
  return rc;
}

/* ---- host-table operations ---- */

static sq_backend *as_sqlite(sam__backend *be) {
  if (be == NULL || be->vt != &sqlite_vt)
    return NULL;
  return be->self;
}

static int dup_arg(sam__sq_op *op, int i, const char *s) {
  if (s == NULL)
    return 0;
  op->s[i] = strdup(s);
  return op->s[i] == NULL ? SAM_ENOMEM : 0;
}

static int queue_op(sam__backend *be, sam__sq_op *op) {
  sq_backend *b = as_sqlite(be);
  int rc = 0;

  uv_mutex_lock(&b->mu);
  if (b->closing) {
    rc = SAM_EBUSY;
  } else {
    op->next = NULL;
    if (b->ops_tail != NULL)
      b->ops_tail->next = op;
    else
      b->ops_head = op;
    b->ops_tail = op;
    uv_cond_signal(&b->cond);
  }
  uv_mutex_unlock(&b->mu);
  if (rc != 0)
    free_op(op);
  return rc;
}

/* Allocates an op with up to 4 copied strings. */
static int new_op(int kind,
                  const char *a,
                  const char *b_,
                  const char *c,
                  const char *d,
                  sam__sqlite_cb cb,
                  void *ud,
                  sam__sq_op **out) {
  sam__sq_op *op = calloc(1, sizeof(*op));

  *out = NULL;
  if (op == NULL)
    return SAM_ENOMEM;
  op->kind = kind;
  op->cb = cb;
  op->ud = ud;
  if (dup_arg(op, 0, a) != 0 || dup_arg(op, 1, b_) != 0 ||
      dup_arg(op, 2, c) != 0 || dup_arg(op, 3, d) != 0) {
    free_op(op);
    return SAM_ENOMEM;
  }
  *out = op;
  return 0;
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_audit_append(sam__backend *b,
                             int64_t at_ms,
                             const char *actor,
                             const char *action,
                             const char *profile_id,
                             const char *detail,
                             sam__sqlite_cb cb,
                             void *ud) {
  sam__sq_op *op = NULL;
  int rc;

  if (as_sqlite(b) == NULL || actor == NULL || action == NULL)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_AUDIT, actor, action, profile_id, detail, cb, ud, &op);
  if (rc != 0)
    return rc;
  op->num = at_ms;
  return queue_op(b, op);
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_usage_append(sam__backend *b,
                             const char *profile_id,
                             const char *subject,
                             const char *event,
                             int64_t at_ms,
                             const char *detail_json,
                             sam__sqlite_cb cb,
                             void *ud) {
  sam__sq_op *op = NULL;
  int rc;

  if (as_sqlite(b) == NULL || profile_id == NULL || subject == NULL ||
      event == NULL)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_USAGE_ADD, profile_id, subject, event, detail_json, cb,
              ud, &op);
  if (rc != 0)
    return rc;
  op->num = at_ms;
  return queue_op(b, op);
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_usage_purge(sam__backend *b,
                            int64_t now_ms,
                            uint32_t max_age_days,
                            sam__sqlite_cb cb,
                            void *ud) {
  sam__sq_op *op = NULL;
  int64_t days = max_age_days > 0 ? max_age_days : 365;
  int rc;

  if (as_sqlite(b) == NULL)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_USAGE_PURGE, NULL, NULL, NULL, NULL, cb, ud, &op);
  if (rc != 0)
    return rc;
  op->num =
      (now_ms != 0 ? now_ms : sam__sq_now_ms()) - days * 24 * 60 * 60 * 1000;
  return queue_op(b, op);
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_profile_purge(sam__backend *b,
                              const char *profile_id,
                              sam__sqlite_cb cb,
                              void *ud) {
  sam__sq_op *op = NULL;
  int rc;

  if (as_sqlite(b) == NULL || profile_id == NULL)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_PROFILE_PURGE, profile_id, NULL, NULL, NULL, cb, ud,
              &op);
  if (rc != 0)
    return rc;
  return queue_op(b, op);
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_reseal_all(sam__backend *b,
                           const sam__keyring *kr,
                           sam__sqlite_cb cb,
                           void *ud) {
  sam__sq_op *op = NULL;
  int rc;

  if (as_sqlite(b) == NULL || kr == NULL)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_RESEAL, NULL, NULL, NULL, NULL, cb, ud, &op);
  if (rc != 0)
    return rc;
  op->kr = kr;
  return queue_op(b, op);
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_audit_list(sam__backend *b,
                           const char *profile_id,
                           int64_t before_id,
                           uint32_t limit,
                           sam__sqlite_rows_cb cb,
                           void *ud) {
  sam__sq_op *op = NULL;
  int rc;

  if (as_sqlite(b) == NULL || cb == NULL || before_id < 0)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_AUDIT_LIST, profile_id, NULL, NULL, NULL, NULL, NULL,
              &op);
  if (rc != 0)
    return rc;
  op->rows_cb = cb;
  op->ud = ud;
  op->num = before_id;
  op->num2 = limit == 0 ? 100 : limit > 1000 ? 1000 : limit;
  return queue_op(b, op);
}

/* Loop thread; see sam_backend_sqlite.h. */
int sam__sqlite_usage_summary(sam__backend *b,
                              const char *profile_id,
                              int64_t since_ms,
                              sam__sqlite_rows_cb cb,
                              void *ud) {
  sam__sq_op *op = NULL;
  int rc;

  if (as_sqlite(b) == NULL || profile_id == NULL || cb == NULL)
    return SAM_EINVAL;
  rc = new_op(SAM__SQ_OP_USAGE_SUMMARY, profile_id, NULL, NULL, NULL, NULL,
              NULL, &op);
  if (rc != 0)
    return rc;
  op->rows_cb = cb;
  op->ud = ud;
  op->num = since_ms;
  return queue_op(b, op);
}
