/*
 * dsg_paging.h: the users-list paging arithmetic and the stop rules of
 * DOCUSIGN.md A2 (compute offsets, never follow nextUri; stop on a null or
 * missing nextUri, an empty page, or an offset >= totalSetSize; at most
 * ceil(total/100)+1 pages), plus the consistency facts the sweep needs
 * (issue 6 item 6). Pure: no I/O, no clock. Thread: any; a dsg_paging or
 * dsg_page_ranges is used by one thread at a time.
 */
#ifndef DSG_PAGING_H
#define DSG_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The largest v2.1 page (DOCUSIGN.md 3); the plugin always asks for it. */
#define DSG_PAGE_SIZE 100

/*
 * Pages needed for `total` users: ceil(total / page_size); 0 for 0 users.
 * page_size 0 counts as DSG_PAGE_SIZE.
 */
uint64_t dsg_paging_pages(uint64_t total, uint32_t page_size);

/*
 * start_position of page `index` (counted from 0).
 */
uint64_t dsg_paging_offset(uint64_t index, uint32_t page_size);

/*
 * The most pages one run may request for a first-page total (A2):
 * ceil(total / page_size) + 1. The first page counts.
 */
uint64_t dsg_paging_cap(uint64_t total, uint32_t page_size);

/* Why there is no further page. */
typedef enum dsg_paging_stop {
  DSG_PAGING_MORE = 0,    /* another page may exist */
  DSG_PAGING_NO_NEXT_URI, /* nextUri null or missing */
  DSG_PAGING_EMPTY_PAGE,  /* the page held no users */
  DSG_PAGING_PAST_TOTAL,  /* the next offset is >= totalSetSize */
  DSG_PAGING_CAP_REACHED  /* the A2 cap would be exceeded */
} dsg_paging_stop;

/*
 * The state of one run's paging. Pages may complete in any order; the job
 * requests offsets from dsg_paging_next and reports each page with
 * dsg_paging_page_done. Plain data: copy or persist freely.
 */
typedef struct dsg_paging {
  uint32_t page_size;
  uint64_t first_total;    /* totalSetSize of the first page */
  uint64_t total;          /* the largest totalSetSize seen */
  uint64_t pages_planned;  /* pages for `total`, never above cap */
  uint64_t cap;            /* from first_total (A2) */
  uint64_t next_index;     /* next page index to hand out */
  uint64_t pages_done;     /* pages reported */
  uint64_t users_in_pages; /* sum of resultSetSize over reported pages */
  int started;             /* the first page was reported */
  int total_changed;       /* some page's totalSetSize differed */
  int short_page;          /* a page before the last one was not full */
  int cap_reached;         /* the plan was cut by the cap */
  int stopped_early;       /* a page said stop before the planned end */
} dsg_paging;

/*
 * Starts a run. page_size 0 or > DSG_PAGE_SIZE means DSG_PAGE_SIZE.
 * The first request is always offset 0 (index 0): call dsg_paging_next.
 */
void dsg_paging_init(dsg_paging *p, uint32_t page_size);

/*
 * Hands out the next page to request.
 *
 * Thread:    any; pure.
 * Returns:   1 with *index and *offset set, or 0 when no page is left to
 *            request (before the first page is reported only index 0 is
 *            handed out, since the total is not known yet).
 */
int dsg_paging_next(dsg_paging *p, uint64_t *index, uint64_t *offset);

/*
 * Records a page that arrived and was parsed (dsg_page_parse): its offset,
 * resultSetSize, totalSetSize and whether nextUri was set. The first page
 * fixes the plan and the cap. A later page with a larger total extends the
 * plan (users added during the run) up to the cap; any total that differs
 * from the first marks the run inconsistent.
 *
 * Thread:    any; pure.
 * Returns:   the stop rule that this page triggers for the pages after it
 *            (DSG_PAGING_MORE when none). A page reporting a stop before
 *            the planned end cuts the plan at that page.
 */
dsg_paging_stop dsg_paging_page_done(dsg_paging *p,
                                     uint64_t offset,
                                     uint64_t result_set_size,
                                     uint64_t total_set_size,
                                     int has_next_uri);

/*
 * Whether every planned page was reported.
 */
int dsg_paging_complete(const dsg_paging *p);

/*
 * Whether the run can be trusted to remove users it did not see (issue 6
 * item 6): complete, the total never changed, no page came back short, the
 * cap did not cut the plan, and the pages together held `total` users.
 * When this is 0 the caller sweeps nothing (or runs a verification pass).
 */
int dsg_paging_consistent(const dsg_paging *p);

/*
 * dsg_paging_consistent, and the run saw exactly first_total distinct
 * userIds (dsg_idset_count). This catches what page sizes alone cannot: a
 * user added and another removed during the run keep totalSetSize and
 * every page full, but shift the list, so one user is listed twice and
 * another never. Use this one before removing unseen users.
 */
int dsg_paging_consistent_ids(const dsg_paging *p, uint64_t distinct_ids);

/*
 * Static English name of a stop rule ("no nextUri", ...), for messages.
 */
const char *dsg_paging_stop_name(dsg_paging_stop s);

/* ---- pages done: the checkpoint of docusign_download_state ---- */

/* Page indexes already stored, as sorted, disjoint, non-adjacent inclusive
 * ranges. Pages finish out of order, but only a bounded number are in
 * flight, so the list stays short. Zero-initialise or dsg_ranges_init. */
typedef struct dsg_page_range {
  uint64_t from, to;
} dsg_page_range;

typedef struct dsg_page_ranges {
  dsg_page_range *r;
  size_t n, cap;
} dsg_page_ranges;

/*
 * Empties rs without freeing (use on a fresh struct).
 */
void dsg_ranges_init(dsg_page_ranges *rs);

/*
 * Frees the ranges and empties rs. NULL is accepted.
 */
void dsg_ranges_free(dsg_page_ranges *rs);

/*
 * Marks page done, merging with its neighbours.
 *
 * Thread:    any; one thread at a time per rs.
 * Returns:   1 when newly added, 0 when it was already done, SAM_ENOMEM
 *            (rs unchanged).
 */
int dsg_ranges_add(dsg_page_ranges *rs, uint64_t page);

/*
 * Returns 1 when page is done, else 0.
 */
int dsg_ranges_contains(const dsg_page_ranges *rs, uint64_t page);

/*
 * Number of pages done.
 */
uint64_t dsg_ranges_count(const dsg_page_ranges *rs);

/*
 * The lowest page >= from that is not done (where a resumed run starts).
 */
uint64_t dsg_ranges_first_missing(const dsg_page_ranges *rs, uint64_t from);

/* One run's checkpoint (schemas/docusign-download-state.schema.json).
 * Strings are borrowed; times DSG_TIME_UNKNOWN and counts < 0 are left
 * out of the record. */
typedef struct dsg_download_state {
  const char *run_id;  /* required */
  const char *job_id;  /* may be NULL */
  const char *status;  /* running, complete, partial, failed, canceled */
  const char *message; /* may be NULL; cut to 500 characters */
  int64_t started_at;  /* required */
  int64_t updated_at;
  int64_t finished_at;
  int64_t total_set_size;
  uint32_t page_size; /* 1..100 */
  int64_t pages_total;
  int64_t users_seen;
  dsg_page_ranges pages_done;
} dsg_download_state;

/*
 * Builds the docusign_download_state record of st.
 *
 * Thread:    any; pure.
 * Ownership: st borrowed; *out is a new object the caller puts.
 * Returns:   0, SAM_EINVAL (run_id, status, started_at or page_size missing
 *            or out of range; err names it), or SAM_ENOMEM.
 */
int dsg_download_state_record(const dsg_download_state *st,
                              json_object **out,
                              char *err,
                              size_t errlen);

/*
 * Reads a stored docusign_download_state record back (to resume a run).
 * Strings in st point into rec, which must outlive st; st->pages_done is
 * filled and must be freed with dsg_ranges_free (also after an error).
 *
 * Thread:    any; pure.
 * Returns:   0, SAM_EPROTO when a required field is missing or a range is
 *            malformed (from > to, overlapping or unsorted; err says
 *            which), or SAM_ENOMEM.
 */
int dsg_download_state_parse(json_object *rec,
                             dsg_download_state *st,
                             char *err,
                             size_t errlen);

#endif /* DSG_PAGING_H */
