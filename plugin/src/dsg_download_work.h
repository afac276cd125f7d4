/*
 * dsg_download_work.h: the download's CPU-heavy steps on libuv's thread
 * pool (ABI.md 9.1 and C5): uv_queue_work on the host's loop, for the
 * parse of a users page and the mapping of its users into records. A work's
 * run function touches only what the work owns (no host function, no uv
 * handle, nothing of the job); its results come back on the loop in the
 * after callback. The job tracks its queued works (dl->works, n_works)
 * like its store operations: it completes only once every after callback
 * has run, including those of works cancelled with UV_ECANCELED.
 */
#ifndef DSG_DOWNLOAD_WORK_H
#define DSG_DOWNLOAD_WORK_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "dsg_download_int.h"

/* Runs on a pool thread: reads and writes only the work itself. */
typedef void (*dl_work_run_fn)(dl_work *w);
/* Runs once on the loop thread after run, or instead of it when the work
 * was cancelled before it started (status UV_ECANCELED). Owns w: it frees
 * it. The job's pump runs right after it. */
typedef void (*dl_work_after_fn)(dl_work *w, int status);

/* One queued work of a job. Embedded first in a step's own struct. */
struct dl_work {
  uv_work_t req; /* req.data = this */
  dl_work *next;
  dl_work *prev;
  dl_work *held_next; /* the job's works waiting for a pool slot (FIFO) */
  int submitted;      /* handed to uv_queue_work */
  dsg_dl *dl;
  dl_work_run_fn run;
  dl_work_after_fn after;
  dl_garbage *garbage; /* the job's written batches, freed before run */
};

/* Works of one job on the pool at once; the others wait in the job, in
 * order. One is enough to keep the store's single writer busy, and it
 * keeps the loop responsive on a small machine: bench-download on 2 cores
 * measured the loop's longest stall at 6-12 ms with libuv's 4 pool
 * threads all busy, 3-7 ms with 2, 2-5.5 ms with 1, at the same users/s. */
#define DL_MAX_WORKS 1

/*
 * Queues w on the host's loop (ctx->loop), at most DL_MAX_WORKS of the job
 * at once (the rest wait their turn), and tracks it in dl->works.
 *
 * Thread:    loop thread.
 * Ownership: w is the caller's until this returns 0; then it belongs to
 *            the work until its after callback, which frees it.
 * Callbacks: run on a pool thread, then after on the loop, exactly once
 *            each (after alone when cancelled), never inside this call;
 *            dl_pump follows every after.
 * Returns:   0, or SAM_EBUSY when the job is finishing, or the libuv
 *            error as SAM_E* (w untouched, still the caller's).
 */
int dl_work_queue(dsg_dl *dl,
                  dl_work *w,
                  dl_work_run_fn run,
                  dl_work_after_fn after);

/*
 * uv_cancel on every queued work of the job: those not started yet get
 * their after callback with UV_ECANCELED; those running finish normally.
 *
 * Thread:    loop thread. Callbacks: none inside this call.
 */
void dl_works_cancel(dsg_dl *dl);

/*
 * Parses a users page (dsg_page_parse) on the thread pool: copies the
 * body, moves r to RQ_PARSING, and from the after callback calls
 * dl_page_parsed(dl, r, ...) on the loop. When the job is finishing by
 * then (or the work was cancelled), the parsed page is freed instead and
 * r stays RQ_PARSING for dl_free.
 *
 * Thread:    loop thread.
 * Ownership: body is borrowed (copied); r stays in dl->reqs and must not
 *            be freed or read for its page until the after callback.
 * Returns:   0, or SAM_ENOMEM / SAM_EBUSY / a libuv error as SAM_E* (r
 *            untouched then: the caller may parse on the loop instead).
 */
int dl_page_parse_queue(dsg_dl *dl,
                        dl_req *r,
                        const char *body,
                        size_t body_len);

/*
 * Builds a page's batch (dl_batch_map) on the thread pool once every
 * previous record is back: moves r to RQ_MAPPING; the after callback
 * calls dl_batch_mapped (r goes to RQ_WRITING) or, when the mapping ran
 * out of memory, fails the run. When the job is finishing by then (or the
 * work was cancelled), r stays RQ_MAPPING for dl_free.
 *
 * Shared with the loop while the work runs, read-only: dl->models,
 * dl->unrec (through a copy of the two pointers), dl->excl, dl->run_id.
 * None of them changes after setup; the loop does not touch r's page,
 * previous records or batch while r is RQ_MAPPING.
 *
 * Thread:    loop thread.
 * Returns:   0, or SAM_ENOMEM / SAM_EBUSY / a libuv error as SAM_E* (r
 *            untouched then: the caller may map on the loop instead).
 */
int dl_batch_queue(dsg_dl *dl, dl_req *r);

#endif /* DSG_DOWNLOAD_WORK_H */
