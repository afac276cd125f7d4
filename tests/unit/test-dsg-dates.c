/*
 * test-dsg-dates.c: DocuSign timestamps (DOCUSIGN.md 3, A7): 0-7 fraction
 * digits, Z and offsets, the 0001 placeholder, garbage; RFC 3339 output;
 * whole UTC days.
 */
#include <stdint.h>

#include "dsg_dates.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

static int64_t parse_ok(const char *s) {
  int64_t t = 0;
  int rc = dsg_date_parse(s, &t);

  if (rc != 0)
    SAM_T_FAIL("expected [%s] to parse, got [%s]", s, sam_err_name(rc));
  return t;
}

static void expect_unknown(const char *s, int want_rc) {
  int64_t t = 0;

  EXPECT_EQ_INT(want_rc, dsg_date_parse(s, &t));
  EXPECT_TRUE(t == DSG_TIME_UNKNOWN);
}

static void fmt_is(int64_t t, const char *want) {
  char buf[DSG_DATE_BUF];

  EXPECT_EQ_INT(0, dsg_date_format(t, buf, sizeof(buf)));
  EXPECT_EQ_STR(want, buf);
}

static void test_docusign_formats(void) {
  int64_t base = dsg_time_from_civil(2023, 6, 1, 9, 15, 42);

  /* DocuSign's own: 7 fraction digits */
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42.1230000Z") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42Z") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42.1Z") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42.12Z") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42.999Z") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42.9999999Z") == base);
  EXPECT_TRUE(parse_ok("2023-06-01t09:15:42z") == base);
  /* offsets */
  EXPECT_TRUE(parse_ok("2023-06-01T11:15:42+02:00") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T04:15:42.5000000-05:00") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T14:45:42+05:30") == base);
  EXPECT_TRUE(parse_ok("2023-06-01T09:15:42+00:00") == base);
  /* an offset that crosses the date line */
  EXPECT_TRUE(parse_ok("2023-05-31T23:15:42-10:00") == base);
  fmt_is(base, "2023-06-01T09:15:42Z");
  fmt_is(0, "1970-01-01T00:00:00Z");
  fmt_is(parse_ok("2024-02-29T23:59:59Z"), "2024-02-29T23:59:59Z");
  fmt_is(parse_ok("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59Z");
  fmt_is(parse_ok("2000-03-01T00:00:00.0000000Z"), "2000-03-01T00:00:00Z");
}

static void test_unknown_and_garbage(void) {
  int64_t t;
  char buf[DSG_DATE_BUF];

  /* DocuSign's placeholder, in userAddedToAccountDateTime of its example */
  expect_unknown("0001-01-01T08:00:00.0000000Z", SAM_ENOENT);
  expect_unknown("0001-01-01T00:00:00Z", SAM_ENOENT);
  expect_unknown("0001-12-31T23:59:59.9999999+01:00", SAM_ENOENT);
  expect_unknown("", SAM_ENOENT);
  expect_unknown(NULL, SAM_ENOENT);
  expect_unknown("2023-06-01T09:15:42.12345678Z", SAM_EINVAL); /* 8 digits */
  expect_unknown("2023-06-01T09:15:42.Z", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:42", SAM_EINVAL); /* no zone */
  expect_unknown("2023-06-01", SAM_EINVAL);
  expect_unknown("2023-06-01 09:15:42Z", SAM_EINVAL);
  expect_unknown("2023-13-01T09:15:42Z", SAM_EINVAL);
  expect_unknown("2023-02-29T09:15:42Z", SAM_EINVAL); /* not a leap year */
  expect_unknown("2023-06-31T09:15:42Z", SAM_EINVAL);
  expect_unknown("2023-06-01T24:00:00Z", SAM_EINVAL);
  expect_unknown("2023-06-01T09:60:00Z", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:42+2:00", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:42+0200", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:42+24:00", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:42Zjunk", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:42Z ", SAM_EINVAL);
  expect_unknown("not a date", SAM_EINVAL);
  expect_unknown("2023", SAM_EINVAL);
  expect_unknown("-023-06-01T09:15:42Z", SAM_EINVAL);
  expect_unknown("2023-06-01T09:15:4", SAM_EINVAL);
  EXPECT_TRUE(parse_ok("2024-02-29T00:00:00Z") > 0);
  /* a leap second is accepted as :59 */
  EXPECT_TRUE(parse_ok("2016-12-31T23:59:60Z") ==
              parse_ok("2016-12-31T23:59:59Z"));
  /* formatting refuses what it cannot write */
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_date_format(DSG_TIME_UNKNOWN, buf, sizeof(buf)));
  EXPECT_EQ_STR("", buf);
  EXPECT_EQ_INT(SAM_EINVAL, dsg_date_format(0, buf, 10));
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_date_format(dsg_time_from_civil(10000, 1, 1, 0, 0, 0), buf,
                                sizeof(buf)));
  t = parse_ok("0002-01-01T00:00:00Z"); /* year 2 is a date */
  fmt_is(t, "0002-01-01T00:00:00Z");
  EXPECT_EQ_INT(0, dsg_date_format_day(parse_ok("2026-07-02T10:00:00Z"), buf,
                                       sizeof(buf)));
  EXPECT_EQ_STR("2026-07-02", buf);
}

static void test_days_between(void) {
  int64_t a = parse_ok("2026-07-02T23:59:00Z");
  int64_t b = parse_ok("2026-07-03T00:01:00Z");

  EXPECT_EQ_INT(1, dsg_days_between(a, b));
  EXPECT_EQ_INT(0, dsg_days_between(parse_ok("2026-07-02T00:01:00Z"), a));
  EXPECT_EQ_INT(-1, dsg_days_between(b, a));
  /* an offset date counts by its UTC date: 23:30 at -05:00 is 04:30Z on
   * the 3rd */
  EXPECT_EQ_INT(0, dsg_days_between(parse_ok("2026-07-02T23:30:00-05:00"),
                                    parse_ok("2026-07-03T12:00:00Z")));
  /* and 00:30 at +02:00 is 22:30Z the day before */
  EXPECT_EQ_INT(2, dsg_days_between(parse_ok("2026-07-03T00:30:00+02:00"),
                                    parse_ok("2026-07-04T12:00:00Z")));
  EXPECT_EQ_INT(149, dsg_days_between(parse_ok("2026-07-02T10:00:00Z"),
                                      parse_ok("2026-11-28T09:00:00Z")));
  EXPECT_EQ_INT(366, dsg_days_between(parse_ok("2024-01-01T00:00:00Z"),
                                      parse_ok("2025-01-01T00:00:00Z")));
  /* before 1970 the floor division still counts calendar days */
  EXPECT_EQ_INT(1, dsg_days_between(parse_ok("1969-12-31T23:00:00Z"),
                                    parse_ok("1970-01-01T01:00:00Z")));
  EXPECT_EQ_INT(0, dsg_days_between(DSG_TIME_UNKNOWN, 0));
}

/* Every day of four years survives format -> parse. */
static void test_round_trip(void) {
  int64_t t;

  for (t = parse_ok("2023-01-01T00:00:00Z");
       t < parse_ok("2027-01-01T00:00:00Z"); t += 86400 + 3661) {
    char buf[DSG_DATE_BUF];

    EXPECT_EQ_INT(0, dsg_date_format(t, buf, sizeof(buf)));
    EXPECT_TRUE(parse_ok(buf) == t);
  }
}

int main(void) {
  SAM_T_RUN(test_docusign_formats);
  SAM_T_RUN(test_unknown_and_garbage);
  SAM_T_RUN(test_days_between);
  SAM_T_RUN(test_round_trip);
  return 0;
}
