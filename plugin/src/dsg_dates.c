/*
 * dsg_dates.c: DocuSign timestamps. The calendar arithmetic is Howard
 * Hinnant's days_from_civil / civil_from_days, so neither timegm() (not in
 * C11 or POSIX) nor the process time zone is involved.
 */
#include "dsg_dates.h"

#include <stdio.h>
#include <string.h>

#include "sam/sam_plugin.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t era;
  unsigned yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  int64_t era;
  unsigned doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;

  if ((a % b != 0) && ((a < 0) != (b < 0)))
    q--;
  return q;
}

int64_t dsg_time_from_civil(int64_t y, int mon, int d, int h, int min, int s) {
  return days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 +
         (int64_t)h * 3600 + (int64_t)min * 60 + s;
}

/* Reads exactly n digits at *p; advances *p. Returns -1 if not digits. */
static int digits(const char **p, int n) {
  int v = 0;
  int i;

  for (i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  return v;
}

static int leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m) {
  static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

  return m == 2 && leap(y) ? 29 : md[m - 1];
}

int dsg_date_parse(const char *s, int64_t *out) {
  const char *p = s;
  int y, mo, d, h, mi, se, nfrac = 0;
  int64_t off = 0;

  *out = DSG_TIME_UNKNOWN;
  if (s == NULL || *s == '\0')
    return SAM_ENOENT;
  if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 ||
      *p++ != '-' || (d = digits(&p, 2)) < 0)
    return SAM_EINVAL;
  if (*p != 'T' && *p != 't')
    return SAM_EINVAL;
  p++;
  if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0 ||
      *p++ != ':' || (se = digits(&p, 2)) < 0)
    return SAM_EINVAL;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      p++;
      nfrac++;
    }
    /* DocuSign writes 7 digits (100 ns ticks); more is not its format. */
    if (nfrac == 0 || nfrac > 7)
      return SAM_EINVAL;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int oh, om;

    p++;
    if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0)
      return SAM_EINVAL;
    if (oh > 23 || om > 59)
      return SAM_EINVAL;
    off = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
  } else {
    return SAM_EINVAL;
  }
  if (*p != '\0')
    return SAM_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
      mi > 59 || se > 60)
    return SAM_EINVAL;
  /* Year 0001 is .NET's DateTime.MinValue: DocuSign's "no date". Year 0000
   * is not a real date either. */
  if (y <= 1)
    return SAM_ENOENT;
  if (se == 60) /* a leap second counts as the next second's start */
    se = 59;
  *out = dsg_time_from_civil(y, mo, d, h, mi, se) - off;
  return 0;
}

static int format_parts(int64_t t, int with_time, char *buf, size_t len) {
  int64_t days, secs, y;
  unsigned m, d;
  int n;

  if (buf != NULL && len > 0)
    buf[0] = '\0';
  if (buf == NULL || t == DSG_TIME_UNKNOWN)
    return SAM_EINVAL;
  days = floor_div(t, 86400);
  secs = t - days * 86400;
  civil_from_days(days, &y, &m, &d);
  if (y < 1 || y > 9999)
    return SAM_EINVAL;
  if (with_time)
    n = snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
                 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
  else
    n = snprintf(buf, len, "%04d-%02u-%02u", (int)y, m, d);
  if (n < 0 || (size_t)n >= len) {
    if (len > 0)
      buf[0] = '\0';
    return SAM_EINVAL;
  }
  return 0;
}

int dsg_date_format(int64_t t, char *buf, size_t len) {
  return format_parts(t, 1, buf, len);
}

int dsg_date_format_day(int64_t t, char *buf, size_t len) {
  return format_parts(t, 0, buf, len);
}

int64_t dsg_days_between(int64_t from, int64_t to) {
  if (from == DSG_TIME_UNKNOWN || to == DSG_TIME_UNKNOWN)
    return 0;
  return floor_div(to, 86400) - floor_div(from, 86400);
}
