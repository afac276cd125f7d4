/*
 * sched_time.c: the scheduler's time arithmetic. Pure functions, no clock
 * and no libc time zone: daily due instants in UTC with a per-profile
 * spread, and RFC 3339 formatting and parsing by civil-date arithmetic
 * (days from 1970-01-01, proleptic Gregorian), so they work for any
 * injected time, including before 1970.
 */
#include <stdio.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "sam_sched.h"

/* Floor division and modulo for a positive divisor (C rounds toward 0). */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;

  if ((a % b) != 0 && a < 0)
    q--;
  return q;
}

static int64_t floor_mod(int64_t a, int64_t b) {
  return a - floor_div(a, b) * b;
}

int sam__sched_parse_daily(const char *hhmm, uint32_t *sec_out) {
  int h, m;

  if (hhmm == NULL || strlen(hhmm) != 5 || hhmm[2] != ':')
    return SAM_EINVAL;
  if (hhmm[0] < '0' || hhmm[0] > '2' || hhmm[1] < '0' || hhmm[1] > '9' ||
      hhmm[3] < '0' || hhmm[3] > '5' || hhmm[4] < '0' || hhmm[4] > '9')
    return SAM_EINVAL;
  h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
  m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
  if (h > 23)
    return SAM_EINVAL;
  *sec_out = (uint32_t)(h * 3600 + m * 60);
  return 0;
}

uint32_t sam__sched_spread_s(const char *profile_id, uint32_t window_s) {
  uint64_t hash = 1469598103934665603ull; /* FNV-1a 64 offset basis */
  const unsigned char *p = (const unsigned char *)profile_id;

  if (window_s == 0 || profile_id == NULL)
    return 0;
  if (window_s > 86400)
    window_s = 86400;
  for (; *p != '\0'; p++) {
    hash ^= *p;
    hash *= 1099511628211ull; /* FNV prime */
  }
  return (uint32_t)(hash % window_s);
}

/* The due offset within a UTC day, in ms. */
static int64_t due_offset_ms(uint32_t at_s, uint32_t spread_s) {
  return (int64_t)(((uint64_t)at_s + spread_s) % 86400u) * 1000;
}

int64_t sam__sched_prev_due(int64_t t_ms, uint32_t at_s, uint32_t spread_s) {
  int64_t off = due_offset_ms(at_s, spread_s);
  int64_t day = floor_div(t_ms, SAM__DAY_MS) * SAM__DAY_MS;

  if (day + off <= t_ms)
    return day + off;
  return day - SAM__DAY_MS + off;
}

int64_t sam__sched_next_due(int64_t t_ms, uint32_t at_s, uint32_t spread_s) {
  return sam__sched_prev_due(t_ms, at_s, spread_s) + SAM__DAY_MS;
}

/* ---- civil dates (H. Hinnant's algorithms) ---- */

static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = floor_div(y, 400);
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;

  z += 719468;
  era = floor_div(z, 146097);
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

void sam__sched_fmt_time(int64_t ms, char *out, size_t out_len) {
  int64_t days = floor_div(ms, SAM__DAY_MS);
  int64_t rem = floor_mod(ms, SAM__DAY_MS);
  int64_t y;
  int m, d;

  civil_from_days(days, &y, &m, &d);
  snprintf(out, out_len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y,
           m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
           (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* n decimal digits at s into *out; 1 on success. */
static int num(const char *s, int n, int *out) {
  int v = 0, i;

  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 1;
}

int sam__sched_parse_time(const char *s, int64_t *ms_out) {
  int y, mo, d, h, mi, sec, frac = 0, scale = 1000, oh, om;
  int64_t ms, off_ms = 0;
  const char *p;

  if (s == NULL || strlen(s) < 20)
    return SAM_EINVAL;
  if (!num(s, 4, &y) || s[4] != '-' || !num(s + 5, 2, &mo) || s[7] != '-' ||
      !num(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !num(s + 11, 2, &h) || s[13] != ':' || !num(s + 14, 2, &mi) ||
      s[16] != ':' || !num(s + 17, 2, &sec))
    return SAM_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return SAM_EINVAL;
  p = s + 19;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return SAM_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (scale > 1) {
        scale /= 10;
        frac += (*p - '0') * scale;
      }
    }
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    if (!num(p + 1, 2, &oh) || p[3] != ':' || !num(p + 4, 2, &om) || oh > 23 ||
        om > 59)
      return SAM_EINVAL;
    off_ms = ((int64_t)oh * 3600 + om * 60) * 1000;
    if (*p == '-')
      off_ms = -off_ms;
    p += 6;
  } else {
    return SAM_EINVAL;
  }
  if (*p != '\0')
    return SAM_EINVAL;
  ms = days_from_civil(y, mo, d) * SAM__DAY_MS +
       ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
  *ms_out = ms - off_ms;
  return 0;
}
