/*
 * sam_backend.h: the contract between the host core (which implements the
 * ABI's store and secret calls) and a storage backend (in-memory for the test
 * host, SQLite for the reference host, PostgreSQL later).
 *
 * The core owns the ABI semantics: it copies inputs, validates records,
 * seals and opens secrets, delivers every callback exactly once on a later
 * loop turn, and implements op_cancel. A backend only executes requests.
 */
#ifndef SAM_BACKEND_H
#define SAM_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sam/sam_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SAM__REQ_GET = 1,
  SAM__REQ_PUT_BATCH,
  SAM__REQ_QUERY,
  SAM__REQ_DELETE,
  SAM__REQ_BLOB_PUT, /* sealed secret: store blob under (profile, name) */
  SAM__REQ_BLOB_GET,
  SAM__REQ_BLOB_DELETE
};

/* One indexed value of a record, extracted by the core from the record's
 * JSON with the record type's index pointers. Strings only: numbers and
 * booleans are indexed by their JSON text. */
typedef struct sam__index_value {
  const char *pointer; /* e.g. "/status" */
  const char *value;   /* NULL when the record lacks it */
} sam__index_value;

/* A record as the core hands it to a backend (owned by the request). */
typedef struct sam__req_record {
  char *key;
  char *json;
  size_t json_len;
  uint64_t if_version; /* SAM_IF_ANY, SAM_IF_NEW or expected version */
  uint32_t schema_version;
  uint32_t n_index;
  sam__index_value *index; /* n_index entries */
} sam__req_record;

/* A filter term: equality of an indexed pointer. */
typedef struct sam__filter_term {
  char *pointer;
  char *value;
} sam__filter_term;

/*
 * One request. Inputs are filled and owned by the core. Outputs are filled
 * by the backend with malloc'd memory, which the core frees after the
 * callback: out_recs[i].key and .json, out_recs itself, next_cursor,
 * out_blob; when out_one_chunk, the strings are inside out_recs. The backend
 * never touches the request after sam__req_done().
 */
typedef struct sam__req {
  int kind;
  char *profile_id;
  char *record_type;   /* for BLOB_*: the secret name */
  char *key;           /* GET, DELETE, BLOB_* */
  uint64_t if_version; /* DELETE */
  /* PUT_BATCH */
  sam__req_record *recs;
  size_t n;
  /* QUERY */
  sam__filter_term *terms;
  size_t n_terms;
  char *cursor;   /* NULL for the first page */
  uint32_t limit; /* already clamped by the core to 1..1000 */
  /* BLOB_PUT */
  unsigned char *blob;
  size_t blob_len;

  /* ---- outputs ---- */
  int status; /* SAM_OK, SAM_ENOENT, SAM_ECONFLICT, SAM_EEXIST, SAM_EIO ... */
  sam_record *out_recs; /* GET: 1; QUERY: page; ECONFLICT: the conflicts */
  size_t out_n;
  /* out_recs and every key and json it points to are one allocation
   * (out_recs); next_cursor stays apart (it may move into a next request). A
   * backend on another thread packs its outputs so: the loop, which frees them,
   * then takes that thread's malloc arena lock once per request instead of
   * twice per record, and the loop waited on that lock whenever the thread was
   * preempted holding it (bench-download --stall-stacks). */
  int out_one_chunk;
  char *next_cursor;       /* QUERY: NULL on the last page */
  unsigned char *out_blob; /* BLOB_GET */
  size_t out_blob_len;
  char errmsg[256]; /* optional detail for logs, no secret */

  /* ---- core-private ---- */
  void *core_private;
} sam__req;

/*
 * Called by the backend, from any thread, exactly once per submitted request
 * when it has finished (successfully or not). Before doing the work the
 * backend calls sam__req_begin(); when that returns 0 the request was
 * cancelled: the backend skips the work and still calls sam__req_done().
 */
int sam__req_begin(sam__req *req);

/*
 * Frees a request's outputs (out_recs and their strings, next_cursor,
 * out_blob) and leaves them empty. Inline: the backends' own tests build
 * them without the core.
 *
 * Thread: any (the request's owner at that time).
 */
static inline void sam__req_out_free(sam__req *r) {
  size_t i;

  for (i = 0; i < r->out_n && r->out_recs != NULL && !r->out_one_chunk; i++) {
    free((void *)r->out_recs[i].key);
    free((void *)r->out_recs[i].json);
  }
  free(r->next_cursor);
  r->next_cursor = NULL;
  free(r->out_recs);
  r->out_recs = NULL;
  r->out_n = 0;
  r->out_one_chunk = 0;
  free(r->out_blob);
  r->out_blob = NULL;
  r->out_blob_len = 0;
}
void sam__req_done(sam__req *req);

typedef struct sam__backend_vt {
  const char *name; /* "memory", "sqlite" */
  /* Loop thread. Queues req. 0, or SAM_EAGAIN when the queue is full (the
   * core reports it to the plugin), or another negative code. On a negative
   * return sam__req_done is never called. */
  int (*submit)(void *self, sam__req *req);
  /* Loop thread. Starts closing; calls done(ud) on the loop once every
   * submitted request has been finished and resources are released. */
  void (*close)(void *self, void (*done)(void *ud), void *ud);
  /* Loop thread; optional (NULL: the core frees). Takes back a finished
   * request's out_recs chunk (out_one_chunk) to free it on the thread
   * that made it: glibc frees a chunk under its arena's lock, and the
   * loop, freeing in a busy worker's arena, waited whenever the worker
   * was preempted holding that lock. Only while the backend is open. */
  void (*release)(void *self, void *chunk);
} sam__backend_vt;

typedef struct sam__backend {
  const sam__backend_vt *vt;
  void *self;
} sam__backend;

#ifdef __cplusplus
}
#endif

#endif /* SAM_BACKEND_H */
