/* The scheduler's time arithmetic (sched_time.c). */
#include <stdint.h>

#include "sam_test.h"
#include "sam_sched.h"

#define H (3600LL * 1000)
#define M (60LL * 1000)

/* 2026-11-28T00:00:00Z */
static int64_t day0(void) {
  int64_t t = 0;

  EXPECT_EQ_INT(0, sam__sched_parse_time("2026-11-28T00:00:00Z", &t));
  return t;
}

static void test_parse_daily(void) {
  uint32_t s = 0;

  EXPECT_EQ_INT(0, sam__sched_parse_daily("02:00", &s));
  EXPECT_EQ_INT(7200, s);
  EXPECT_EQ_INT(0, sam__sched_parse_daily("23:59", &s));
  EXPECT_EQ_INT(86340, s);
  EXPECT_EQ_INT(0, sam__sched_parse_daily("00:00", &s));
  EXPECT_EQ_INT(0, s);
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_daily("24:00", &s));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_daily("2:00", &s));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_daily("02:60", &s));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_daily("02-00", &s));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_daily("", &s));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_daily(NULL, &s));
}

static void test_next_due(void) {
  int64_t d = day0();

  /* Before the time on the same day, at it (strictly after), after it. */
  EXPECT_EQ_INT(d + 2 * H, sam__sched_next_due(d, 7200, 0));
  EXPECT_EQ_INT(d + 2 * H, sam__sched_next_due(d + 2 * H - 1, 7200, 0));
  EXPECT_EQ_INT(d + 26 * H, sam__sched_next_due(d + 2 * H, 7200, 0));
  EXPECT_EQ_INT(d + 26 * H, sam__sched_next_due(d + 23 * H, 7200, 0));
  /* Spread adds seconds. */
  EXPECT_EQ_INT(d + 2 * H + 90 * 1000, sam__sched_next_due(d, 7200, 90));
  /* Spread past midnight wraps into the next day's early hours. */
  EXPECT_EQ_INT(d + 30 * M, sam__sched_next_due(d, 23 * 3600 + 1800, 3600));
  EXPECT_EQ_INT(d + 24 * H + 30 * M,
                sam__sched_next_due(d + 30 * M, 23 * 3600 + 1800, 3600));
  /* Midnight itself. */
  EXPECT_EQ_INT(d + 24 * H, sam__sched_next_due(d, 0, 0));
  EXPECT_EQ_INT(d, sam__sched_next_due(d - 1, 0, 0));
  /* Month and year boundaries. */
  {
    int64_t t = 0, due = 0;

    EXPECT_EQ_INT(0, sam__sched_parse_time("2026-12-31T23:00:00Z", &t));
    EXPECT_EQ_INT(0, sam__sched_parse_time("2027-01-01T02:00:00Z", &due));
    EXPECT_EQ_INT(due, sam__sched_next_due(t, 7200, 0));
    EXPECT_EQ_INT(0, sam__sched_parse_time("2028-02-28T03:00:00Z", &t));
    EXPECT_EQ_INT(0, sam__sched_parse_time("2028-02-29T02:00:00Z", &due));
    EXPECT_EQ_INT(due, sam__sched_next_due(t, 7200, 0));
  }
  /* Before 1970 (floor division). */
  EXPECT_EQ_INT(-22 * H, sam__sched_next_due(-23 * H, 7200, 0));
  EXPECT_EQ_INT(2 * H, sam__sched_next_due(-1, 7200, 0));
}

static void test_prev_due(void) {
  int64_t d = day0();

  EXPECT_EQ_INT(d + 2 * H, sam__sched_prev_due(d + 2 * H, 7200, 0));
  EXPECT_EQ_INT(d + 2 * H, sam__sched_prev_due(d + 20 * H, 7200, 0));
  EXPECT_EQ_INT(d - 22 * H, sam__sched_prev_due(d + 2 * H - 1, 7200, 0));
  EXPECT_EQ_INT(d - 22 * H, sam__sched_prev_due(d, 7200, 0));
  /* Three days later: the latest due instant only. */
  EXPECT_EQ_INT(d + 3 * 24 * H + 2 * H,
                sam__sched_prev_due(d + 3 * 24 * H + 12 * H, 7200, 0));
  EXPECT_EQ_INT(-22 * H, sam__sched_prev_due(-1, 7200, 0));
  /* prev <= t < next, next - prev = one day, everywhere. */
  for (int64_t t = d - 48 * H; t < d + 48 * H; t += 17 * M + 123) {
    int64_t p = sam__sched_prev_due(t, 7200, 1234);
    int64_t n = sam__sched_next_due(t, 7200, 1234);

    EXPECT_TRUE(p <= t);
    EXPECT_TRUE(n > t);
    EXPECT_EQ_INT(SAM__DAY_MS, n - p);
  }
}

static void test_spread(void) {
  uint32_t a = sam__sched_spread_s("profile-a", 3600);
  uint32_t b = sam__sched_spread_s("profile-b", 3600);
  int distinct = 0;
  char id[32];
  uint32_t first = 0;

  /* Stable per profile, inside the window. */
  EXPECT_EQ_INT(a, sam__sched_spread_s("profile-a", 3600));
  EXPECT_EQ_INT(b, sam__sched_spread_s("profile-b", 3600));
  EXPECT_TRUE(a < 3600);
  EXPECT_TRUE(b < 3600);
  EXPECT_EQ_INT(0, sam__sched_spread_s("profile-a", 0));
  EXPECT_TRUE(sam__sched_spread_s("x", 1000000) < 86400);
  /* Profiles spread out (not all on the same second). */
  for (int i = 0; i < 20; i++) {
    uint32_t v;

    snprintf(id, sizeof(id), "p%d", i);
    v = sam__sched_spread_s(id, 3600);
    EXPECT_TRUE(v < 3600);
    if (i == 0)
      first = v;
    else if (v != first)
      distinct++;
  }
  EXPECT_TRUE(distinct > 0);
}

static void test_format_parse(void) {
  char buf[40];
  int64_t t = 0, back = 0;

  sam__sched_fmt_time(0, buf, sizeof(buf));
  EXPECT_EQ_STR("1970-01-01T00:00:00.000Z", buf);
  sam__sched_fmt_time(-1, buf, sizeof(buf));
  EXPECT_EQ_STR("1969-12-31T23:59:59.999Z", buf);
  EXPECT_EQ_INT(0, sam__sched_parse_time("2026-11-28T02:13:07.123Z", &t));
  sam__sched_fmt_time(t, buf, sizeof(buf));
  EXPECT_EQ_STR("2026-11-28T02:13:07.123Z", buf);
  EXPECT_EQ_INT(0, sam__sched_parse_time(buf, &back));
  EXPECT_EQ_INT(t, back);
  EXPECT_EQ_INT(0, sam__sched_parse_time("2028-02-29T00:00:00Z", &t));
  sam__sched_fmt_time(t, buf, sizeof(buf));
  EXPECT_EQ_STR("2028-02-29T00:00:00.000Z", buf);
  /* Offsets and long fractions. */
  EXPECT_EQ_INT(0,
                sam__sched_parse_time("2026-11-28T03:13:07.1239+01:00", &back));
  EXPECT_EQ_INT(0, sam__sched_parse_time("2026-11-28T02:13:07.123Z", &t));
  EXPECT_EQ_INT(t, back);
  /* Garbage. */
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_time("2026-11-28", &t));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_time("2026-13-01T00:00:00Z", &t));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_time("2026-11-28T00:00:00", &t));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_time("2026-11-28T00:00:00Zx", &t));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_time("2026-11-28T00:00:00.Z", &t));
  EXPECT_EQ_INT(SAM_EINVAL, sam__sched_parse_time(NULL, &t));
}

int main(void) {
  SAM_T_RUN(test_parse_daily);
  SAM_T_RUN(test_next_due);
  SAM_T_RUN(test_prev_due);
  SAM_T_RUN(test_spread);
  SAM_T_RUN(test_format_parse);
  return 0;
}
