/*
 * dsg_download_int.h: what the files of the download share. The job is a
 * small state machine (dsg_download.c) driven by one pump: every callback
 * records its outcome and calls dl_pump, which starts whatever may start
 * now (requests within the governor and the backpressure bound, store
 * operations within their bound) and arms the job's one timer for the
 * earliest wake-up. Completion happens only from the timer's close
 * callback, so it runs exactly once and after every handle is closed.
 */
#ifndef DSG_DOWNLOAD_INT_H
#define DSG_DOWNLOAD_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam/sam_plugin.h"

#include "dsg_api.h"
#include "dsg_ctx.h"
#include "dsg_exclusions.h"
#include "dsg_governor.h"
#include "dsg_page_parse.h"
#include "dsg_paging.h"
#include "dsg_user_map.h"

/* Pages requested or parsed and not yet stored: the backpressure bound K
 * (ABI.md 9.6). Memory holds at most DL_MAX_OPEN_PAGES + in-flight pages. */
#define DL_MAX_OPEN_PAGES 8
/* Previous-record reads in flight for the whole job. */
#define DL_MAX_GETS 64
/* Records per store_put_batch: the host parses and validates each one on
 * its loop inside the call, so a part is what one loop turn spends. */
#define DL_PUT_MAX 50
/* Retry a store call refused with SAM_EAGAIN after this long when no store
 * callback is due to wake us first. */
#define DL_EAGAIN_RETRY_MS 5
/* Verification GETs (GET users/{userId}) in flight during the sweep. */
#define DL_MAX_VERIFY 4
/* The verification pass checks at most max(DL_VERIFY_MIN, total *
 * DL_VERIFY_PERCENT / 100) users; more skip removal for the run. */
#define DL_VERIFY_MIN 50
#define DL_VERIFY_PERCENT 2
/* The profile type whose exclusion rules apply. */
#define DL_PROFILE_TYPE "docusign_subscription"
/* The scope of host-wide records (exclusion rules). */
#define DL_HOST_SCOPE "_host"

typedef struct dsg_dl dsg_dl;
typedef struct dl_req dl_req;
typedef struct dl_op dl_op;
typedef struct dl_cand dl_cand;
typedef struct dl_work dl_work; /* dsg_download_work.h */
typedef struct dl_garbage dl_garbage;

typedef enum dl_phase {
  DL_SETUP = 0, /* read models, unrecognized, exclusions, checkpoint */
  DL_PAGES,     /* the users pages */
  DL_SWEEP,     /* remove subscriptions not seen, each one verified */
  DL_UNREC,     /* unrecognized identifiers and their counts */
  DL_FINAL,     /* consumption (once the account calls are back), final
                   checkpoint */
  DL_DONE
} dl_phase;

typedef enum dl_req_kind {
  DL_REQ_ACCOUNT = 0,
  DL_REQ_PLAN,
  DL_REQ_CHARGES,
  DL_REQ_PAGE,
  DL_REQ_VERIFY /* GET users/{userId} of a sweep candidate (index) */
} dl_req_kind;

/* What the verification pass learnt of a subscription not seen. */
typedef enum dl_verdict {
  DL_V_PENDING = 0,
  DL_V_GONE,    /* Closed, or unknown to the account: remove */
  DL_V_PRESENT, /* still there: missed by paging, not removed */
  DL_V_FAILED   /* not verified (network, 5xx after retries): kept */
} dl_verdict;

/* A subscription the sweep would remove, read with its version. */
struct dl_cand {
  char *key;  /* the record key: the userId */
  char *json; /* the record as it will be written (state removed) */
  uint64_t version;
  dl_verdict verdict;
};

typedef enum dl_req_state {
  RQ_READY = 0, /* to be sent when the governor allows */
  RQ_SENDING,   /* an API call in flight */
  RQ_RETRY,     /* waiting for retry_at_ms */
  RQ_PARSING,   /* page arrived: parsed on the thread pool */
  RQ_READING,   /* page parsed: previous records being read */
  RQ_MAPPING,   /* every read back: batch built on the thread pool */
  RQ_WRITING    /* page mapped: put_batch in flight or to be retried */
} dl_req_state;

/* One DocuSign request of the job; for users pages also the page's store
 * work until its records are written. */
struct dl_req {
  dl_req *next;
  dl_req *prev;
  dsg_dl *dl;
  dl_req_kind kind;
  dl_req_state state;
  uint64_t index;  /* page index */
  uint64_t offset; /* start_position */
  uint32_t attempt;
  int64_t retry_at_ms;
  dsg_api_call *call;
  int sync_done;  /* the API callback ran inside dsg_api_get */
  int skip_store; /* page already stored by the run being resumed */
  /* the parsed page and its users (new ones only, de-duplicated) */
  dsg_page page;
  json_object **users; /* borrowed from page.root */
  char **prev_texts;   /* owned previous records' JSON (NULL: none) */
  size_t n_users;
  size_t next_get;
  size_t gets_in_flight;
  size_t gets_done;
  sam_record *recs; /* the batch, built once every read is back */
  char **texts;
  char **keys;   /* per record: its userId (the page is freed once mapped) */
  char **idents; /* per record: its identifier when unrecognized, or NULL */
  size_t n_recs;
  char **skips; /* why users were skipped, logged back on the loop */
  size_t n_skips;
  char **unw; /* userIds listed and not written (Closed, skipped) */
  size_t n_unw;
  dl_garbage *gb;  /* made with the batch, to free it (dl_req_release) */
  size_t put_next; /* records handed to store_put_batch so far */
  size_t puts_out; /* of those puts, callbacks not arrived yet */
  /* the page's tallies, counted once its batch is written */
  uint32_t t_created;
  uint32_t t_updated;
  uint32_t t_unchanged;
  uint32_t t_excluded;
};

typedef void (*dl_store_fn)(dsg_dl *dl,
                            int status,
                            const sam_store_result *res,
                            void *arg);

/* One store operation the host accepted. */
struct dl_op {
  dsg_op_ref ref; /* tracked for shutdown */
  dl_op *next;
  dl_op *prev;
  dsg_dl *dl;
  dsg_ctx *ctx;
  dl_store_fn fn;
  void *arg;
};

typedef struct dl_counts {
  uint64_t pages;
  uint64_t api_calls;
  uint64_t users_seen;
  uint64_t created;
  uint64_t updated;
  uint64_t unchanged;
  uint64_t removed;
  uint64_t unrecognized;
  uint64_t excluded;
  uint64_t errors;
  uint64_t verify_calls;     /* GET users/{userId} of the sweep */
  uint64_t verified_present; /* not seen, yet DocuSign still lists them */
} dl_counts;

struct dsg_dl {
  dsg_job_ref ref; /* first */
  dsg_ctx *ctx;
  sam_job *job;
  char *profile_id;
  char *profile_json;
  char *client_id;
  char *account_id;
  char *instance; /* Instance URL without a trailing '/' */
  char *rest;     /* {base_uri}/restapi/v2.1/accounts/{account_id} */
  char run_id[48];
  char started_at[24];
  int64_t t0_ms;     /* wall clock at start */
  int64_t now_s;     /* the run's clock for records */
  uint64_t uv_t0;    /* loop time at start */
  uint64_t deadline; /* loop time of the host's deadline, 0: none */
  dl_phase phase;
  int busy; /* a sequential step's operation is in flight */
  int step; /* the step within the phase */
  char *cursor;
  char *next_cursor;  /* the sweep's: taken once its batch is written */
  size_t pending_n;   /* records in the sweep's or DL_UNREC's batch */
  size_t uidx;        /* DL_UNREC: the identifier being counted */
  int unrec_inactive; /* DL_UNREC: counting its inactive ones (else active) */
  /* read once at start */
  json_object *models;     /* identifier -> true (sam_software_model) */
  json_object *unrec;      /* identifier -> stored record */
  json_object *unrec_seen; /* identifier -> subscriptions (unrecognized) */
  json_object *unrec_cnt;  /* identifier -> count from records (DL_UNREC) */
  json_object *unrec_ids;  /* the identifiers DL_UNREC counts */
  json_object *excl_id;    /* sam_exclusion_identifier records */
  json_object *excl_user;  /* sam_exclusion_user records */
  dsg_exclusions *excl;
  /* the checkpoint (docusign_download_state) */
  int resumed;
  uint8_t *done_map; /* 1 per page index stored */
  uint64_t done_cap;
  uint64_t ck_total;
  uint64_t ck_users;
  uint64_t users_stored; /* users of the pages stored (checkpoint) */
  int ck_busy;
  int ck_dirty;
  int ck_final_sent; /* the checkpoint written on the way out */
  /* account and billing: asked once the pages are in (dl_account_pump),
   * while the sweep and the rules work on the store */
  int no_prev; /* the profile held no subscription when the run began */
  uint64_t put_turn_ms; /* uv_now of the loop turn of the last page put */
  unsigned put_turn_n;  /* page puts in that turn (0 again on the timer) */
  int acct_started;
  int acct_written; /* the consumption record was sent */
  json_object *acct;
  json_object *plan;
  json_object *charges;
  int charges_status;
  /* paging */
  dsg_gov *gov;
  dsg_paging paging;
  dsg_idset *seen; /* marked: listed, no record written (Closed, skipped) */
  dl_req *reqs;
  dl_garbage *garbage; /* written batches, for the next work to free */
  size_t n_reqs;
  size_t http_in_flight;
  size_t peak_in_flight;
  size_t gets_in_flight;
  int64_t wake_ms; /* earliest wanted wake-up (wall ms), INT64_MAX none */
  int waiting_limit;
  /* timer (one per job) */
  uv_timer_t timer;
  int timer_closing;
  /* store operations in flight */
  dl_op *ops;
  size_t n_ops;
  /* uv_queue_work requests whose after callback has not run yet */
  dl_work *works; /* every work of the job not yet called back */
  size_t n_works;
  size_t n_works_pool; /* of those, handed to libuv's pool */
  dl_work *held_head;  /* the others, in order (DL_MAX_WORKS) */
  dl_work *held_tail;
  /* outcome */
  int finishing;
  int status;
  char msg[768];
  int consistent;
  int do_sweep; /* pages_finished: the sweep may run (verified) */
  int swept;
  /* the sweep's candidates and their verification */
  dl_cand *cands;
  size_t n_cands;
  size_t cands_cap;
  size_t verify_cap;     /* max(DL_VERIFY_MIN, DL_VERIFY_PERCENT of total) */
  size_t verify_next;    /* next candidate to verify */
  size_t verify_done;    /* candidates with a verdict */
  size_t write_next;     /* next candidate to write */
  size_t write_end;      /* past the last candidate of the put in flight */
  int write_single;      /* after a conflict: one record per put */
  uint64_t reported;     /* pages_done at the last job_progress */
  int64_t retry_after_s; /* set when ending before a limit reset */
  /* the reset comes after the deadline: no new page; the run ends once
   * the pages already asked for (and counted by DocuSign) are stored */
  int draining;
  char drain_wait[300];      /* the governor's description of the wait */
  int cand_busy;             /* dsg_candidates_refresh in flight */
  int cand_done;             /* it ran (or was skipped) */
  json_object *cand_summary; /* its summary, for the result */
  int in_pump;
  int pump_again;
  dl_counts c;
};

/* ---- dsg_download.c ---- */

/* Wall clock in ms since the Unix epoch. */
int64_t dl_now_ms(void);
/* Runs the state machine (re-entrancy safe). */
void dl_pump(dsg_dl *dl);
/* Ends the job with status and message (first call wins): stops every
 * request and store operation; completion follows from the pump. */
void dl_fail(dsg_dl *dl, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Asks the pump to run again no later than at_ms (wall clock). */
void dl_wake_at(dsg_dl *dl, int64_t at_ms);

/* ---- dsg_download_pages.c ---- */

/* Starts what may start in DL_PAGES; advances the phase when the pages
 * are all done. */
void dl_pages_pump(dsg_dl *dl);
/*
 * The account, billing plan and billing charges calls, which feed only the
 * consumption record. They go out after the last page rather than before
 * the first: they are then off the pages' critical path, and when the
 * rate limit holds them back, the sweep and the reclamation rules run on
 * the store meanwhile instead of after them. Sends what the governor
 * allows; a wait past the run's deadline drops them (consumption not
 * updated this run, never the run paused for it). Returns the number
 * still outstanding.
 */
size_t dl_account_pump(dsg_dl *dl);
/* Frees a request (its page, reads and batch). */
void dl_req_free(dl_req *r);

/* A written batch (records, texts, keys, identifiers, skips), freed by the
 * thread pool that made it. glibc frees a chunk under the lock of the
 * arena that allocated it, and a pool thread preempted while holding its
 * arena's lock made the loop wait in free() (bench-download
 * --stall-stacks); so what the pool makes, the pool frees, and what the
 * loop makes, the loop frees. */
struct dl_garbage {
  dl_garbage *next;
  sam_record *recs;
  char **texts;
  char **keys;
  char **idents;
  char **skips;
  char **unw;
  size_t n_recs;
  size_t n_skips;
  size_t n_unw;
};

/* Frees a list of batches. Thread: any. */
void dl_garbage_free(dl_garbage *g);

/* Frees r (loop thread), its batch excepted: that goes to dl->garbage,
 * which the job's next work frees on the pool (dl_work_queue), or dl_free
 * at the end. */
void dl_req_release(dsg_dl *dl, dl_req *r);
/* A users page parsed off the loop (dsg_download_work.c), back on the
 * loop: rc and err are dsg_page_parse's. On success the page moves into
 * r (*page zeroed) and r goes on as page_arrived did on the loop (paging,
 * userId de-duplication, RQ_READING); on error the request is retried
 * with backoff or the run fails (retry_or_give_up). */
void dl_page_parsed(
    dsg_dl *dl, dl_req *r, int rc, dsg_page *page, const char *err);
/* Cancels every API call in flight (their callbacks never run). */
void dl_reqs_cancel(dsg_dl *dl);
/* The sweep's verification pass: opens GET users/{userId} requests for
 * the candidates (dl->cands from verify_next on) within DL_MAX_VERIFY and
 * the governor; each reply sets the candidate's verdict and counts
 * verify_done, then pumps. */
void dl_verify_pump(dsg_dl *dl);
/* Frees the sweep's candidates. */
void dl_cands_free(dsg_dl *dl);

/* ---- dsg_download_store.c ---- */

/* The run's model look-up tables (dl->models, dl->unrec): read-only from
 * the end of setup on, so mapping works may read them off the loop. */
typedef struct dl_model_tables {
  json_object *models;
  json_object *unrec;
} dl_model_tables;

/* Issues a store call; fn runs once from its callback. Returns 0 or the
 * host's refusal (SAM_EAGAIN: retry after the next callback or shortly). */
int dl_store_get(dsg_dl *dl,
                 const char *scope,
                 const char *type,
                 const char *key,
                 dl_store_fn fn,
                 void *arg);
int dl_store_query(dsg_dl *dl,
                   const char *scope,
                   const char *type,
                   const char *filter,
                   const char *cursor,
                   uint32_t limit,
                   dl_store_fn fn,
                   void *arg);
int dl_store_put(dsg_dl *dl,
                 const char *type,
                 const sam_record *recs,
                 size_t n,
                 dl_store_fn fn,
                 void *arg);
/* op_cancel on every store operation in flight. */
void dl_ops_cancel(dsg_dl *dl);
/* The sequential phases: setup, sweep, unrecognized, final checkpoint. */
void dl_setup_pump(dsg_dl *dl);
void dl_sweep_pump(dsg_dl *dl);
void dl_unrec_pump(dsg_dl *dl);
void dl_final_pump(dsg_dl *dl);
/* The store side of one parsed page: reads, maps (off the loop), writes. */
void dl_page_store_pump(dsg_dl *dl, dl_req *r);
/* Fills the mapping options of the run (tables: where the look-up reads;
 * it must outlive the mapping). Loop thread. */
void dl_batch_opts(dsg_dl *dl, dl_model_tables *tables, dsg_user_map_opts *mo);
/*
 * Maps the page's users (r->users with r->prev_texts) into r's batch
 * (recs, texts, keys, idents, skips) and its tallies; frees prev_texts,
 * and on success the page's tree and r->users (the batch holds copies).
 * Thread: any; touches only r's page, reads and batch, and reads mo and
 * what it points to (shared, read-only). Returns 0 or SAM_ENOMEM.
 */
int dl_batch_map(dl_req *r, const dsg_user_map_opts *mo);
/* Back on the loop after dl_batch_map: logs the skipped users, counts
 * them as errors and tallies the unrecognized identifiers; r goes to
 * RQ_WRITING. */
void dl_batch_mapped(dsg_dl *dl, dl_req *r);
/* Writes the consumption record (fire and forget within the job). */
void dl_consumption_write(dsg_dl *dl);
/* Writes the checkpoint (at most one write in flight; coalesced). */
void dl_checkpoint(dsg_dl *dl);
/* On the way out of a failed or cancelled run: writes the checkpoint once
 * more so the next run resumes after every page stored. Returns 1 when a
 * write was queued (its callback pumps again), else 0. */
int dl_checkpoint_last(dsg_dl *dl);
/* Whether page `index` was stored by the run being resumed. */
int dl_page_done_before(const dsg_dl *dl, uint64_t index);
/* Marks page index stored. */
void dl_page_mark_done(dsg_dl *dl, uint64_t index);
/* The model look-up of dsg_user_map (ud = a dl_model_tables). Any
 * thread while the tables are not changed. */
const char *dl_model_lookup(const char *identifier, void *ud);

#endif /* DSG_DOWNLOAD_INT_H */
