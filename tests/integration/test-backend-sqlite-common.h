/*
 * test-backend-sqlite-common.h: a harness for the SQLite backend tests.
 *
 * The backend finishes each request with sam__req_done() on its worker
 * thread; the host core normally turns that into a loop callback. These
 * tests link the backend objects without the core, so the harness provides
 * a small double of sam__req_begin()/sam__req_done(): done() queues the
 * request under a mutex and wakes the loop with a uv_async_t, and the loop
 * marks it done, counting deliveries (a second delivery aborts the test).
 * begin() can hold the worker at a gate, which makes queue-bound tests
 * deterministic, and reports cancellation for requests marked cancelled.
 */
#ifndef TEST_BACKEND_SQLITE_COMMON_H
#define TEST_BACKEND_SQLITE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "sam_backend.h"
#include "sam_backend_sqlite.h"

typedef struct t_req {
  sam__req req;
  int done;   /* deliveries of sam__req_done, seen on the loop */
  int began;  /* sam__req_begin calls */
  int cancel; /* sam__req_begin returns 0 */
  size_t cap; /* capacity of req.recs */
  struct t_req *next;
} t_req;

/* Starts the harness on `loop` (one uv_async_t). */
void t_init(uv_loop_t *loop);
/* Closes the harness' handle (run the loop afterwards). */
void t_fini(void);

/* A request of `kind`; strings are copied; NULL allowed. */
t_req *t_new(int kind, const char *profile, const char *type, const char *key);
/* Adds a record to a PUT_BATCH: index is "pointer=value" pairs, NULL-ended
 * (value after '='; "pointer" alone means the record lacks it). */
void t_add(t_req *t,
           const char *key,
           const char *json,
           uint64_t if_version,
           const char *const *index);
/* Adds a filter term to a QUERY. */
void t_term(t_req *t, const char *pointer, const char *value);
/* Frees the request with its inputs and outputs, as the core does. */
void t_free(t_req *t);

/* Submits and runs the loop until done; returns req.status. Aborts when
 * submit fails. */
int t_run(sam__backend *b, t_req *t);
/* Runs the loop until t is done. */
void t_wait(t_req *t);

/* The gate: while closed, sam__req_begin blocks the worker. Closing it
 * resets the count of entries. */
void t_gate_close(void);
void t_gate_open(void);
/* Waits until the worker has been blocked at the gate `n` times since it
 * was closed. */
void t_gate_wait_entered(int n);

/* Opens a backend; aborts on failure. */
void t_open(uv_loop_t *loop,
            const char *path,
            uint32_t queue_max,
            sam__backend *out);
/* Closes a backend and runs the loop until its done callback ran. */
void t_close(uv_loop_t *loop, sam__backend *b);

/* A fresh temporary directory (removed by t_rmdir with its files). */
void t_tmpdir(char *buf, size_t len, const char *name);
void t_rmdir(const char *dir);

#endif
