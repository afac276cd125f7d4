/*
 * test-dsg-paging.c: pages for a total, offsets, the A2 cap, the stop
 * rules (null nextUri, empty page, offset >= total, cap), out-of-order
 * completion, totals that change during a run, and when a run counts as
 * complete and consistent (the only case where unseen users are removed).
 */
#include <string.h>

#include "dlogic_schema.h"
#include "dsg_dates.h"
#include "dsg_paging.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

static void test_arithmetic(void) {
  EXPECT_EQ_U64(0, dsg_paging_pages(0, 100));
  EXPECT_EQ_U64(1, dsg_paging_pages(1, 100));
  EXPECT_EQ_U64(1, dsg_paging_pages(100, 100));
  EXPECT_EQ_U64(2, dsg_paging_pages(101, 100));
  EXPECT_EQ_U64(250, dsg_paging_pages(25000, 100));
  EXPECT_EQ_U64(10000, dsg_paging_pages(1000000, 100));
  EXPECT_EQ_U64(2, dsg_paging_pages(101, 0)); /* 0 = 100 */
  EXPECT_EQ_U64(34, dsg_paging_pages(100, 3));
  EXPECT_EQ_U64(0, dsg_paging_offset(0, 100));
  EXPECT_EQ_U64(9900, dsg_paging_offset(99, 100));
  EXPECT_EQ_U64(1, dsg_paging_cap(0, 100));
  EXPECT_EQ_U64(2, dsg_paging_cap(1, 100));
  EXPECT_EQ_U64(2, dsg_paging_cap(100, 100));
  EXPECT_EQ_U64(3, dsg_paging_cap(101, 100));
  EXPECT_EQ_U64(10001, dsg_paging_cap(1000000, 100));
  EXPECT_EQ_STR("no nextUri", dsg_paging_stop_name(DSG_PAGING_NO_NEXT_URI));
  EXPECT_EQ_STR("page cap reached",
                dsg_paging_stop_name(DSG_PAGING_CAP_REACHED));
}

/* Runs a whole account of `total` users in order, as a stable server does:
 * returns the pages requested. */
static uint64_t run_stable(uint64_t total, dsg_paging *p) {
  uint64_t idx, off, n = 0;

  dsg_paging_init(p, 100);
  while (dsg_paging_next(p, &idx, &off)) {
    uint64_t rss = off >= total ? 0 : (total - off < 100 ? total - off : 100);
    int next = off + rss < total;

    EXPECT_EQ_U64(idx * 100, off);
    dsg_paging_page_done(p, off, rss, total, next);
    n++;
  }
  return n;
}

static void test_accounts(void) {
  static const uint64_t totals[] = {0, 1, 99, 100, 101, 25000, 1000000};
  size_t i;

  for (i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
    dsg_paging p;
    uint64_t pages = run_stable(totals[i], &p);
    uint64_t want = totals[i] == 0 ? 1 : dsg_paging_pages(totals[i], 100);

    EXPECT_EQ_U64(want, pages);
    EXPECT_TRUE(pages <= dsg_paging_cap(totals[i], 100));
    EXPECT_EQ_INT(1, dsg_paging_complete(&p));
    EXPECT_EQ_INT(1, dsg_paging_consistent(&p));
    EXPECT_EQ_U64(totals[i], p.users_in_pages);
  }
}

static void test_first_page_gates(void) {
  dsg_paging p;
  uint64_t idx, off;

  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_U64(0, off);
  /* nothing else until the first page gives the total */
  EXPECT_EQ_INT(0, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(0, dsg_paging_complete(&p));
  EXPECT_EQ_INT(DSG_PAGING_MORE, dsg_paging_page_done(&p, 0, 100, 350, 1));
  EXPECT_EQ_U64(4, p.pages_planned);
  EXPECT_EQ_U64(5, p.cap);
  /* the rest may be requested at once, completing in any order */
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_U64(100, off);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_U64(300, off);
  EXPECT_EQ_INT(0, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(DSG_PAGING_PAST_TOTAL,
                dsg_paging_page_done(&p, 300, 50, 350, 0));
  EXPECT_EQ_INT(0, dsg_paging_complete(&p));
  EXPECT_EQ_INT(DSG_PAGING_MORE, dsg_paging_page_done(&p, 200, 100, 350, 1));
  EXPECT_EQ_INT(DSG_PAGING_MORE, dsg_paging_page_done(&p, 100, 100, 350, 1));
  EXPECT_EQ_INT(1, dsg_paging_complete(&p));
  EXPECT_EQ_INT(1, dsg_paging_consistent(&p));
}

static void test_stop_rules(void) {
  dsg_paging p;
  uint64_t idx, off;

  /* empty first page of an empty account */
  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(DSG_PAGING_EMPTY_PAGE, dsg_paging_page_done(&p, 0, 0, 0, 0));
  EXPECT_EQ_INT(0, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(1, dsg_paging_consistent(&p));

  /* nextUri null in the middle: the plan is cut and the run is not
   * consistent (some users may not have been listed) */
  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(DSG_PAGING_NO_NEXT_URI,
                dsg_paging_page_done(&p, 0, 100, 500, 0));
  EXPECT_EQ_INT(0, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(1, dsg_paging_complete(&p));
  EXPECT_EQ_INT(0, dsg_paging_consistent(&p));
  EXPECT_EQ_INT(1, p.stopped_early);

  /* a page past the end (users removed during the run): resultSetSize 0 */
  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  dsg_paging_page_done(&p, 0, 100, 300, 1);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(DSG_PAGING_EMPTY_PAGE,
                dsg_paging_page_done(&p, 200, 0, 150, 0));
  EXPECT_EQ_INT(DSG_PAGING_PAST_TOTAL,
                dsg_paging_page_done(&p, 100, 50, 150, 0));
  EXPECT_EQ_INT(1, dsg_paging_complete(&p));
  EXPECT_EQ_INT(0, dsg_paging_consistent(&p));
  EXPECT_EQ_INT(1, p.total_changed);

  /* a short page in the middle (a full page was expected) */
  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  dsg_paging_page_done(&p, 0, 99, 300, 1);
  EXPECT_EQ_INT(1, p.short_page);
  EXPECT_EQ_INT(0, dsg_paging_consistent(&p));
}

/* One user added at the front and another removed at the end while the
 * run pages: the total and every page size stay the same, but page 1
 * repeats page 0's last user and one user is never listed. Only the
 * distinct count shows it. */
static void test_shift_same_total(void) {
  dsg_paging p;
  uint64_t idx, off;

  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  dsg_paging_page_done(&p, 0, 100, 200, 1);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  dsg_paging_page_done(&p, 100, 100, 200, 0);
  EXPECT_EQ_INT(1, dsg_paging_consistent(&p));
  EXPECT_EQ_INT(0, dsg_paging_consistent_ids(&p, 199)); /* one duplicate */
  EXPECT_EQ_INT(1, dsg_paging_consistent_ids(&p, 200));
}

/* Users added during the run: the plan grows, but never past the cap, and
 * a server that keeps saying "more" is stopped by the cap (A2). */
static void test_growth_and_cap(void) {
  dsg_paging p;
  uint64_t idx, off, n = 0;

  dsg_paging_init(&p, 100);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  dsg_paging_page_done(&p, 0, 100, 200, 1); /* plan 2, cap 3 */
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  dsg_paging_page_done(&p, 100, 100, 250, 1); /* grew: plan 3 */
  EXPECT_EQ_U64(3, p.pages_planned);
  EXPECT_EQ_INT(1, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_U64(200, off);
  EXPECT_EQ_INT(DSG_PAGING_CAP_REACHED,
                dsg_paging_page_done(&p, 200, 100, 5000, 1)); /* grew more */
  EXPECT_EQ_INT(0, dsg_paging_next(&p, &idx, &off));
  EXPECT_EQ_INT(1, p.cap_reached);
  EXPECT_EQ_INT(0, dsg_paging_consistent(&p));

  /* a server that lies forever: never more than the cap */
  dsg_paging_init(&p, 100);
  while (dsg_paging_next(&p, &idx, &off)) {
    dsg_paging_page_done(&p, off, 100, 1000 + off * 2, 1);
    n++;
  }
  EXPECT_EQ_U64(dsg_paging_cap(1000, 100), n);
  EXPECT_EQ_INT(0, dsg_paging_consistent(&p));
}

static void test_ranges(void) {
  dsg_page_ranges rs;
  static const uint64_t order[] = {0, 2, 4, 3, 9, 1, 7, 8, 5};
  size_t i;

  dsg_ranges_init(&rs);
  EXPECT_EQ_U64(0, dsg_ranges_first_missing(&rs, 0));
  for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
    EXPECT_EQ_INT(1, dsg_ranges_add(&rs, order[i]));
  EXPECT_EQ_INT(0, dsg_ranges_add(&rs, 4)); /* already done */
  /* {0-5}, {7-9} */
  EXPECT_EQ_INT(2, rs.n);
  EXPECT_EQ_U64(0, rs.r[0].from);
  EXPECT_EQ_U64(5, rs.r[0].to);
  EXPECT_EQ_U64(7, rs.r[1].from);
  EXPECT_EQ_U64(9, rs.r[1].to);
  EXPECT_EQ_U64(9, dsg_ranges_count(&rs));
  EXPECT_EQ_U64(6, dsg_ranges_first_missing(&rs, 0));
  EXPECT_EQ_U64(6, dsg_ranges_first_missing(&rs, 6));
  EXPECT_EQ_U64(10, dsg_ranges_first_missing(&rs, 8));
  EXPECT_EQ_U64(11, dsg_ranges_first_missing(&rs, 11));
  EXPECT_EQ_INT(1, dsg_ranges_contains(&rs, 5));
  EXPECT_EQ_INT(0, dsg_ranges_contains(&rs, 6));
  EXPECT_EQ_INT(1, dsg_ranges_add(&rs, 6));
  EXPECT_EQ_INT(1, rs.n);
  EXPECT_EQ_U64(10, dsg_ranges_count(&rs));
  /* 10,000 pages in a scrambled order with at most 16 in flight */
  dsg_ranges_free(&rs);
  for (i = 0; i < 10000; i++) {
    uint64_t p = (i / 16) * 16 + (15 - i % 16);

    EXPECT_EQ_INT(1, dsg_ranges_add(&rs, p));
    EXPECT_TRUE(rs.n <= 2);
  }
  EXPECT_EQ_INT(1, rs.n);
  EXPECT_EQ_U64(10000, dsg_ranges_count(&rs));
  dsg_ranges_free(&rs);
  dsg_ranges_free(NULL);
}

static void test_download_state(void) {
  dsg_download_state st, back;
  json_object *rec = NULL;
  char err[256];
  const char *text;

  memset(&st, 0, sizeof(st));
  st.run_id = "run-2026-11-28";
  st.job_id = "job-7";
  st.status = "running";
  st.message = "waiting until 2026-11-28T18:00:01Z for the hourly rate limit";
  EXPECT_EQ_INT(0, dsg_date_parse("2026-11-28T17:10:00Z", &st.started_at));
  EXPECT_EQ_INT(0, dsg_date_parse("2026-11-28T17:40:00Z", &st.updated_at));
  st.finished_at = DSG_TIME_UNKNOWN;
  st.total_set_size = 1000000;
  st.page_size = 100;
  st.pages_total = 10000;
  st.users_seen = 270000;
  EXPECT_EQ_INT(1, dsg_ranges_add(&st.pages_done, 0));
  EXPECT_EQ_INT(1, dsg_ranges_add(&st.pages_done, 1));
  EXPECT_EQ_INT(1, dsg_ranges_add(&st.pages_done, 3));
  EXPECT_EQ_INT(0, dsg_download_state_record(&st, &rec, err, sizeof(err)));
  dl_expect_valid("docusign-download-state.schema.json", rec);
  text = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN);
  EXPECT_CONTAINS(text, "\"pages_done\":[{\"from\":0,\"to\":1},"
                        "{\"from\":3,\"to\":3}]");
  EXPECT_NOT_CONTAINS(text, "finished_at");
  EXPECT_EQ_INT(0, dsg_download_state_parse(rec, &back, err, sizeof(err)));
  EXPECT_EQ_STR("run-2026-11-28", back.run_id);
  EXPECT_EQ_STR("job-7", back.job_id);
  EXPECT_EQ_STR("running", back.status);
  EXPECT_TRUE(back.started_at == st.started_at);
  EXPECT_TRUE(back.finished_at == DSG_TIME_UNKNOWN);
  EXPECT_EQ_INT(1000000, back.total_set_size);
  EXPECT_EQ_INT(100, back.page_size);
  EXPECT_EQ_INT(270000, back.users_seen);
  EXPECT_EQ_U64(3, dsg_ranges_count(&back.pages_done));
  EXPECT_EQ_U64(2, dsg_ranges_first_missing(&back.pages_done, 0));
  dsg_ranges_free(&back.pages_done);
  json_object_put(rec);

  /* refused inputs */
  st.status = "paused";
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_download_state_record(&st, &rec, err, sizeof(err)));
  EXPECT_CONTAINS(err, "[status=paused]");
  st.status = "complete";
  st.page_size = 0;
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_download_state_record(&st, &rec, err, sizeof(err)));
  dsg_ranges_free(&st.pages_done);

  /* stored records that cannot be resumed from */
  rec = dl_parse("{\"run_id\":\"r\",\"status\":\"running\",\"started_at\":"
                 "\"2026-11-28T17:10:00Z\",\"page_size\":100,\"pages_done\":"
                 "[{\"from\":5,\"to\":9},{\"from\":3,\"to\":4}]}");
  EXPECT_EQ_INT(SAM_EPROTO,
                dsg_download_state_parse(rec, &back, err, sizeof(err)));
  EXPECT_CONTAINS(err, "pages_done[1]");
  dsg_ranges_free(&back.pages_done);
  json_object_put(rec);
  rec = dl_parse("{\"run_id\":\"r\",\"status\":\"running\",\"page_size\":100,"
                 "\"pages_done\":[]}");
  EXPECT_EQ_INT(SAM_EPROTO,
                dsg_download_state_parse(rec, &back, err, sizeof(err)));
  dsg_ranges_free(&back.pages_done);
  json_object_put(rec);
  /* adjacent ranges written by someone else are merged */
  rec = dl_parse("{\"run_id\":\"r\",\"status\":\"running\",\"started_at\":"
                 "\"2026-11-28T17:10:00Z\",\"page_size\":100,\"pages_done\":"
                 "[{\"from\":0,\"to\":4},{\"from\":5,\"to\":9}]}");
  EXPECT_EQ_INT(0, dsg_download_state_parse(rec, &back, err, sizeof(err)));
  EXPECT_EQ_INT(1, back.pages_done.n);
  EXPECT_EQ_U64(10, dsg_ranges_first_missing(&back.pages_done, 0));
  dsg_ranges_free(&back.pages_done);
  json_object_put(rec);
}

int main(void) {
  SAM_T_RUN(test_arithmetic);
  SAM_T_RUN(test_accounts);
  SAM_T_RUN(test_first_page_gates);
  SAM_T_RUN(test_stop_rules);
  SAM_T_RUN(test_growth_and_cap);
  SAM_T_RUN(test_shift_same_total);
  SAM_T_RUN(test_ranges);
  SAM_T_RUN(test_download_state);
  return 0;
}
