/*
 * dsg_page_parse.h: one users-list page body (DOCUSIGN.md 3, 4.1, A2)
 * checked and opened for iteration, and the run's set of userIds seen, for
 * de-duplication across pages. Pure: no I/O.
 */
#ifndef DSG_PAGE_PARSE_H
#define DSG_PAGE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* One parsed page. Only this page is held, never the account. */
typedef struct dsg_page {
  json_object *root;        /* owned; freed by dsg_page_free */
  json_object *users;       /* borrowed from root; NULL when absent */
  size_t n_users;           /* entries in users */
  uint64_t result_set_size; /* resultSetSize */
  uint64_t total_set_size;  /* totalSetSize */
  uint64_t start_position;  /* startPosition (equals the one requested) */
  uint64_t end_position;    /* endPosition; start + n - 1, or 0 if empty */
  int has_next_uri;         /* nextUri is a non-empty string */
} dsg_page;

/*
 * Parses and checks one page of GET .../users. The paging fields are
 * DocuSign strings ("100"); JSON integers are tolerated. Checked:
 *   - the body is one JSON object (nothing after it but white space);
 *   - resultSetSize, totalSetSize and startPosition are present,
 *     non-negative whole numbers; endPosition is checked when present;
 *   - startPosition equals expected_start;
 *   - resultSetSize <= totalSetSize (DOCUSIGN.md 3);
 *   - resultSetSize > 0 requires a users array of exactly that length;
 *     resultSetSize 0 may come without a users key (a page past the end,
 *     A2);
 *   - every users entry is an object (fields are checked by dsg_user_map).
 *
 * Thread:    any; pure.
 * Ownership: body (len bytes, need not be NUL-terminated) is borrowed; on
 *            success `out` owns the parsed tree until dsg_page_free.
 * Returns:   0; SAM_EPROTO with a reason naming the field and its bracketed
 *            value in err, e.g. "users page: startPosition [200] differs
 *            from the requested [100]"; SAM_EINVAL for NULL arguments;
 *            SAM_ENOMEM. `out` is zeroed on error.
 */
int dsg_page_parse(const char *body,
                   size_t len,
                   uint64_t expected_start,
                   dsg_page *out,
                   char *err,
                   size_t errlen);

/*
 * The i-th user object of the page (i < n_users), borrowed from the page.
 *
 * Thread:    any; pure.
 */
json_object *dsg_page_user(const dsg_page *p, size_t i);

/*
 * Frees the page's tree and zeroes it. NULL and zeroed pages are accepted.
 */
void dsg_page_free(dsg_page *p);

/*
 * Parses a DocuSign count: a JSON string of 1-18 ASCII digits, or a JSON
 * integer >= 0.
 *
 * Thread:    any; pure.
 * Returns:   0 with *out set, or SAM_EPROTO.
 */
int dsg_parse_count(json_object *v, uint64_t *out);

/* ---- the run's userIds (A2: de-duplicate by userId) ---- */

/*
 * A set of userIds seen in one run, as 64-bit fingerprints in an
 * open-addressed table kept at most 3/4 full: about 12 bytes per user when
 * `expected` is right (12 MB for 1,000,000 users), at most 16 after growth,
 * so that the run's memory stays small next to the host's fixed share.
 * A canonical GUID ("8-4-4-4-12" hex, any case) is fingerprinted from its
 * 16 bytes, any other id from its text; the hash is keyed with a random
 * salt drawn per set (per run).
 *
 * Fingerprints can collide: two distinct ids of one run do so with a
 * probability of about n^2 / 2^63 (1e-7 for 1,000,000 users). The set
 * then reports the second id as already seen, the run skips that user as
 * a duplicate, and the user's subscription is not refreshed by that run.
 * Nothing is lost: the sweep removes a subscription only when DocuSign
 * itself confirms the user closed or gone (dsg_download_sweep.c), and the
 * next run, with another salt, refreshes it.
 */
typedef struct dsg_idset dsg_idset;

/*
 * Creates an empty set sized for `expected` ids plus 10 % (it grows by half
 * when that is not enough). Pass the first page's totalSetSize. The salt
 * comes from OpenSSL's RAND_bytes (a fixed one if that fails: the set
 * still works, its collisions are then the same from run to run).
 *
 * Thread:    any; a set is used by one thread at a time.
 * Ownership: *out is freed with dsg_idset_free.
 * Returns:   0 or SAM_ENOMEM.
 */
int dsg_idset_new(size_t expected, dsg_idset **out);

/*
 * Adds id. Returns 1 when it was new, 0 when already present (a duplicate
 * across pages, or a fingerprint collision, see above), SAM_EINVAL for NULL or
 * "", SAM_ENOMEM when growing fails (the set is unchanged then).
 */
int dsg_idset_add(dsg_idset *s, const char *id);

/*
 * Returns 1 when id is in the set, else 0.
 */
int dsg_idset_contains(const dsg_idset *s, const char *id);

/*
 * Marks id, when it is in the set: a second bit of information per id
 * without a second set (a second set grew, and rehashed, on the loop).
 * Returns 1 when marked, 0 when id is not in the set, SAM_EINVAL for NULL
 * or "".
 */
int dsg_idset_mark(dsg_idset *s, const char *id);

/*
 * Returns 1 when id is in the set and marked, else 0.
 */
int dsg_idset_marked(const dsg_idset *s, const char *id);

/*
 * Number of distinct ids added.
 */
size_t dsg_idset_count(const dsg_idset *s);

/*
 * Bytes the set holds on the heap (for the benchmark's memory figures).
 */
size_t dsg_idset_bytes(const dsg_idset *s);

/*
 * Frees the set. NULL is accepted.
 */
void dsg_idset_free(dsg_idset *s);

#endif /* DSG_PAGE_PARSE_H */
