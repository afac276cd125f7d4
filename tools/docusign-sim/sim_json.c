/*
 * sim_json.c: a small streaming JSON writer (pages are serialized on demand
 * from the compact user array, never through a json-c tree) and the
 * DocuSign date format.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- buffer ---- */

static void grow(sim_buf *b, size_t need) {
  size_t cap;
  char *p;

  if (b->len + need + 1 <= b->cap)
    return;
  cap = b->cap ? b->cap : 1024;
  while (cap < b->len + need + 1)
    cap *= 2;
  p = realloc(b->p, cap);
  if (p == NULL) {
    /* The simulator has no way to serve a reply it cannot build. */
    fprintf(stderr, "docusign-sim: out of memory [bytes=%zu]\n", cap);
    abort();
  }
  b->p = p;
  b->cap = cap;
}

/*
 * Frees the buffer's memory and resets it. Loop thread. NULL-safe.
 */
void sim_buf_free(sim_buf *b) {
  if (b == NULL)
    return;
  free(b->p);
  memset(b, 0, sizeof(*b));
}

/*
 * Appends `n` raw bytes; the buffer stays NUL-terminated. Aborts on OOM.
 */
void sim_buf_raw(sim_buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap)
    grow(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

/*
 * Appends a NUL-terminated string unescaped.
 */
void sim_buf_cstr(sim_buf *b, const char *s) {
  sim_buf_raw(b, s, strlen(s));
}

/*
 * Appends printf output. Aborts on OOM.
 */
void sim_buf_printf(sim_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  grow(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* ---- JSON writer ---- */

static void sep(sim_buf *b) {
  uint64_t bit = 1ull << (b->depth & 63);

  if (b->comma & bit)
    sim_buf_raw(b, ",", 1);
  b->comma |= bit;
}

static void value_sep(sim_buf *b) {
  if (b->after_key) {
    b->after_key = 0; /* the key already wrote the comma */
    return;
  }
  sep(b);
}

static void open_c(sim_buf *b, char ch) {
  value_sep(b);
  sim_buf_raw(b, &ch, 1);
  b->depth++;
  b->comma &= ~(1ull << (b->depth & 63));
}

static void close_c(sim_buf *b, char ch) {
  b->depth--;
  sim_buf_raw(b, &ch, 1);
}

/*
 * The writer: obj/arr open and close containers, key writes `"k":` and the
 * value functions write one value with the right comma before it.
 */
void sim_json_obj(sim_buf *b) {
  open_c(b, '{');
}

/* Closes the innermost object. */
void sim_json_obj_end(sim_buf *b) {
  close_c(b, '}');
}

/* Opens an array (as a value: after a key, or inside an array). */
void sim_json_arr(sim_buf *b) {
  open_c(b, '[');
}

/* Closes the innermost array. */
void sim_json_arr_end(sim_buf *b) {
  close_c(b, ']');
}

/* 1 for the bytes JSON strings must escape: controls, '"' and '\\' */
/* clang-format off */
static const unsigned char needs_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

static void esc(sim_buf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  const unsigned char *run = p;
  size_t n = strlen(s);

  /* the common case: nothing to escape, one copy */
  if (b->len + n + 3 > b->cap)
    grow(b, n + 2);
  while (*p && !needs_esc[*p])
    p++;
  if (*p == '\0') {
    b->p[b->len++] = '"';
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len++] = '"';
    b->p[b->len] = '\0';
    return;
  }
  sim_buf_raw(b, "\"", 1);
  for (; *p; p++) {
    if (!needs_esc[*p])
      continue;
    sim_buf_raw(b, (const char *)run, (size_t)(p - run));
    if (*p == '"')
      sim_buf_raw(b, "\\\"", 2);
    else if (*p == '\\')
      sim_buf_raw(b, "\\\\", 2);
    else if (*p == '\n')
      sim_buf_raw(b, "\\n", 2);
    else
      sim_buf_printf(b, "\\u%04x", *p);
    run = p + 1;
  }
  sim_buf_raw(b, (const char *)run, (size_t)(p - run));
  sim_buf_raw(b, "\"", 1);
}

/*
 * Writes `"k":`; `k` must be a literal that needs no escaping. The next
 * value call completes the member.
 */
void sim_json_key(sim_buf *b, const char *k) {
  size_t n = strlen(k);

  /* keys are the simulator's own literals: no escaping needed */
  sep(b);
  if (b->len + n + 4 > b->cap)
    grow(b, n + 3);
  b->p[b->len++] = '"';
  memcpy(b->p + b->len, k, n);
  b->len += n;
  b->p[b->len++] = '"';
  b->p[b->len++] = ':';
  b->p[b->len] = '\0';
  b->after_key = 1;
}

/*
 * Appends `s` as a quoted, escaped JSON string with no comma handling (for
 * hand-written hot paths such as the users page).
 */
void sim_buf_jstr(sim_buf *b, const char *s) {
  esc(b, s ? s : "");
}

/* Writes a JSON string value (escaped); NULL writes "". */
void sim_json_str(sim_buf *b, const char *s) {
  value_sep(b);
  esc(b, s ? s : "");
}

/* Writes null. */
void sim_json_null(sim_buf *b) {
  value_sep(b);
  sim_buf_raw(b, "null", 4);
}

/* Writes `s` verbatim as a value (true, false, a number). */
void sim_json_rawval(sim_buf *b, const char *s) {
  value_sep(b);
  sim_buf_cstr(b, s);
}

/* Writes the member "k":"v". */
void sim_json_kstr(sim_buf *b, const char *k, const char *v) {
  sim_json_key(b, k);
  sim_json_str(b, v);
}

/* Writes the member "k":v with a JSON number. */
void sim_json_kint(sim_buf *b, const char *k, long long v) {
  sim_json_key(b, k);
  value_sep(b);
  sim_buf_printf(b, "%lld", v);
}

/* Writes the member "k":v with a JSON number (%g). */
void sim_json_kdouble(sim_buf *b, const char *k, double v) {
  sim_json_key(b, k);
  value_sep(b);
  sim_buf_printf(b, "%g", v);
}

/* Writes the member "k":"v": DocuSign sends counts as strings. */
void sim_json_kstrint(sim_buf *b, const char *k, long long v) {
  char d[24];
  int i = (int)sizeof(d);
  unsigned long long u =
      v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

  sim_json_key(b, k);
  value_sep(b);
  d[--i] = '"';
  do {
    d[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    d[--i] = '-';
  d[--i] = '"';
  sim_buf_raw(b, d + i, sizeof(d) - (size_t)i);
}

/* ---- times ---- */

/*
 * Now as ticks of 100 ns since the epoch (wall clock, UTC).
 */
int64_t sim_time_now(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return 0;
  return (int64_t)ts.tv_sec * SIM_TICKS + ts.tv_nsec / 100;
}

/* days since 1970-01-01 to civil date (Howard Hinnant's algorithm) */
static void civil(int64_t z, int *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d) {
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int sim_date_style;

static void digits(char *out, long v, int n) {
  while (n-- > 0) {
    out[n] = (char)('0' + v % 10);
    v /= 10;
  }
}

/*
 * Formats `t` as YYYY-MM-DDThh:mm:ss.fffffffZ into `out` (the placeholder
 * for SIM_T_PLACEHOLDER, "" for SIM_T_NONE).
 */
void sim_time_fmt(int64_t t, char out[40]) {
  int64_t secs, days, rem, frac;
  int y, m, d;

  if (t == SIM_T_NONE) {
    out[0] = '\0';
    return;
  }
  if (t == SIM_T_PLACEHOLDER) {
    strcpy(out, "0001-01-01T08:00:00.0000000Z");
    return;
  }
  secs = t >= 0 ? t / SIM_TICKS : -((-t + SIM_TICKS - 1) / SIM_TICKS);
  frac = t - secs * SIM_TICKS;
  days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  rem = secs - days * 86400;
  civil(days, &y, &m, &d);
  if (y < 0 || y > 9999)
    y = 1;
  /* written by hand: this runs for every date of every page */
  digits(out, y, 4);
  out[4] = '-';
  digits(out + 5, m, 2);
  out[7] = '-';
  digits(out + 8, d, 2);
  out[10] = 'T';
  digits(out + 11, (long)(rem / 3600), 2);
  out[13] = ':';
  digits(out + 14, (long)(rem / 60 % 60), 2);
  out[16] = ':';
  digits(out + 17, (long)(rem % 60), 2);
  out[19] = '.';
  digits(out + 20, (long)frac, 7);
  out[27] = 'Z';
  out[28] = '\0';
  if (sim_date_style == 1) {
    out[23] = 'Z';
    out[24] = '\0';
  } else if (sim_date_style == 2) {
    memcpy(out + 19, "+00:00", 7);
  }
}

/*
 * Parses an ISO-8601 date-time (0-7 fractional digits, Z or +-hh:mm, or a
 * bare date) or a relative time such as "-61d", "-3h", "+10m", "-30s",
 * "now". The 0001-01-01 year gives SIM_T_PLACEHOLDER. Returns 0 or -1.
 */
int sim_time_parse(const char *s, int64_t *out) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, n = 0;
  int64_t frac = 0, t;
  const char *p;

  if (s == NULL || *s == '\0')
    return -1;
  if (strcmp(s, "now") == 0) {
    *out = sim_time_now();
    return 0;
  }
  if (s[0] == '-' || s[0] == '+') {
    char *end;
    double v = strtod(s + 1, &end);
    int64_t unit;
    if (end == s + 1)
      return -1;
    if (*end == 'd')
      unit = 86400;
    else if (*end == 'h')
      unit = 3600;
    else if (*end == 'm')
      unit = 60;
    else if (*end == 's')
      unit = 1;
    else
      return -1;
    if (end[1] != '\0')
      return -1;
    t = (int64_t)(v * (double)unit * (double)SIM_TICKS);
    *out = sim_time_now() + (s[0] == '-' ? -t : t);
    return 0;
  }
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
    return -1;
  p = s + n;
  if (*p == 'T' || *p == ' ') {
    if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3)
      return -1;
    p += 1 + n;
    if (*p == '.') {
      int digits = 0;
      for (p++; *p >= '0' && *p <= '9'; p++) {
        if (digits < 7) {
          frac = frac * 10 + (*p - '0');
          digits++;
        }
      }
      for (; digits < 7; digits++)
        frac *= 10;
    }
  }
  if (y == 1) {
    *out = SIM_T_PLACEHOLDER;
    return 0;
  }
  t = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) *
          SIM_TICKS +
      frac;
  if (*p == '+' || *p == '-') {
    int oh = 0, om = 0;
    if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
      return -1;
    t -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60) * SIM_TICKS;
  } else if (*p != 'Z' && *p != '\0') {
    return -1;
  }
  *out = t;
  return 0;
}
