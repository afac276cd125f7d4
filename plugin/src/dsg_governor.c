/*
 * dsg_governor.c: the rate-limit governor. See dsg_governor.h for the
 * rules; the comments here explain the estimates.
 */
#include "dsg_governor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsg_dates.h"
#include "sam/sam_plugin.h"

/* Own start times kept for the sliding burst window. DocuSign's burst
 * limits are 200 and 500; a larger limit is capped at this (conservative). */
#define RING_CAP 4096

struct dsg_gov {
  dsg_gov_config cfg;
  uint32_t in_flight;
  uint64_t started;
  uint64_t limit_errors;
  int seen_headers; /* any rate header ever seen */

  /* last raw header values (-1 unknown) */
  int64_t rate_limit, rate_remaining, rate_reset;
  int64_t burst_limit, burst_remaining;

  /* Hourly: the lowest Remaining of the window ending at hour_reset_ms.
   * The server counts calls in order, so the lowest value counts every call
   * whose reply has arrived; only calls in flight may be missing from it.
   * hour_min - in_flight is therefore a lower bound of what is left (exact
   * when nothing is in flight and nobody else uses the account). */
  int64_t hour_min;
  int64_t hour_reset_ms; /* -1 unknown */

  /* Burst: the same bound for the 30 s window ending by burst_win_end_ms */
  int64_t burst_min;
  int64_t burst_win_end_ms; /* -1: no header window known */

  int64_t blocked_until_ms; /* after a limit error */
  uint64_t rand_state;

  int64_t *ring; /* start times, chronological */
  size_t ring_head, ring_len;
};

void dsg_gov_config_init(dsg_gov_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->reserve_pct = 10; /* A22 */
  cfg->max_in_flight = 8;
  cfg->burst_margin = 0;
  cfg->assumed_burst = 200; /* the demo burst limit, the smaller one */
  cfg->reset_skew_ms = 1000;
  cfg->backoff_base_ms = 500;
  cfg->backoff_cap_ms = 30000;
  cfg->max_retries = 5;
}

int dsg_gov_new(const dsg_gov_config *cfg, dsg_gov **out) {
  dsg_gov *g;

  *out = NULL;
  g = calloc(1, sizeof(*g));
  if (g == NULL)
    return SAM_ENOMEM;
  if (cfg != NULL)
    g->cfg = *cfg;
  else
    dsg_gov_config_init(&g->cfg);
  if (g->cfg.reserve_pct > 90 || g->cfg.max_in_flight == 0) {
    free(g);
    return SAM_EINVAL;
  }
  if (g->cfg.assumed_burst == 0)
    g->cfg.assumed_burst = 200;
  g->ring = calloc(RING_CAP, sizeof(*g->ring));
  if (g->ring == NULL) {
    free(g);
    return SAM_ENOMEM;
  }
  g->rate_limit = g->rate_remaining = g->rate_reset = -1;
  g->burst_limit = g->burst_remaining = -1;
  g->hour_reset_ms = -1;
  g->burst_win_end_ms = -1;
  g->blocked_until_ms = 0;
  g->rand_state = 0x9e3779b97f4a7c15ULL;
  *out = g;
  return 0;
}

void dsg_gov_free(dsg_gov *g) {
  if (g == NULL)
    return;
  free(g->ring);
  free(g);
}

static int64_t reserve_of(const dsg_gov *g) {
  if (g->rate_limit < 0)
    return 0;
  /* ceil(limit * pct / 100): 10 % of 3,000 is 300 */
  return (g->rate_limit * (int64_t)g->cfg.reserve_pct + 99) / 100;
}

static int64_t burst_limit_of(const dsg_gov *g) {
  int64_t b = g->burst_limit >= 0 ? g->burst_limit : g->cfg.assumed_burst;

  if (b > RING_CAP)
    b = RING_CAP;
  return b - (int64_t)g->cfg.burst_margin;
}

/* Moves the estimates past windows that have ended by now. */
static void roll(dsg_gov *g, int64_t now) {
  if (g->hour_reset_ms >= 0 && now >= g->hour_reset_ms + g->cfg.reset_skew_ms) {
    /* A new hour: the whole limit, less what is still in flight. The next
     * reply corrects the figure (others may have used some already). */
    while (g->hour_reset_ms + g->cfg.reset_skew_ms <= now)
      g->hour_reset_ms += 3600 * 1000;
    g->hour_min = g->rate_limit;
    if (g->rate_limit < 0)
      g->hour_reset_ms = -1; /* no limit known: wait for the next reply */
  }
  if (g->burst_win_end_ms >= 0 && now >= g->burst_win_end_ms)
    g->burst_win_end_ms = -1; /* that window is over; sliding window rules */
}

/* Own starts in (now - window, now]. */
static size_t starts_in_window(const dsg_gov *g, int64_t now, size_t *first) {
  size_t lo = 0, hi = g->ring_len;

  /* binary search for the first start > now - window (chronological) */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t t = g->ring[(g->ring_head + mid) % RING_CAP];

    if (t > now - DSG_GOV_BURST_WINDOW_MS)
      hi = mid;
    else
      lo = mid + 1;
  }
  *first = lo;
  return g->ring_len - lo;
}

static int64_t ring_at(const dsg_gov *g, size_t i) {
  return g->ring[(g->ring_head + i) % RING_CAP];
}

void dsg_gov_advise(const dsg_gov *g, int64_t now_ms, dsg_gov_advice *out) {
  dsg_gov t = *g; /* shallow copy: roll() touches only plain fields */
  int64_t budget, hourly, burst_hdr, sliding, blim;
  int64_t wait_until = -1;
  dsg_gov_wait why = DSG_GOV_GO;
  size_t first, used;

  roll(&t, now_ms);
  memset(out, 0, sizeof(*out));
  if (now_ms < t.blocked_until_ms) {
    out->why = DSG_GOV_WAIT_LIMITED;
    out->next_at_ms = t.blocked_until_ms;
    return;
  }
  /* Before the first headers: one request at a time, so that the limits
   * are known before anything runs concurrently. */
  budget = t.seen_headers ? (int64_t)t.cfg.max_in_flight : 1;
  budget -= t.in_flight;

  hourly = INT64_MAX;
  if (t.hour_reset_ms >= 0) {
    hourly = t.hour_min - (int64_t)t.in_flight - reserve_of(&t);
    if (hourly <= 0) {
      why = DSG_GOV_WAIT_HOURLY;
      wait_until = t.hour_reset_ms + t.cfg.reset_skew_ms;
    }
  }

  blim = burst_limit_of(&t);
  burst_hdr = INT64_MAX;
  if (t.burst_win_end_ms >= 0) {
    burst_hdr =
        t.burst_min - (int64_t)t.in_flight - (int64_t)t.cfg.burst_margin;
    if (burst_hdr <= 0 && why == DSG_GOV_GO) {
      why = DSG_GOV_WAIT_BURST;
      /* no skew: both ends of this estimate are our own clock */
      wait_until = t.burst_win_end_ms;
    }
  }
  used = starts_in_window(&t, now_ms, &first);
  sliding = blim - (int64_t)used;
  if (sliding <= 0) {
    /* the oldest starts that must leave the window before one more fits */
    size_t k = first + (size_t)((int64_t)used - (blim > 0 ? blim : 0));
    int64_t at =
        (k < t.ring_len ? ring_at(&t, k) : now_ms) + DSG_GOV_BURST_WINDOW_MS;

    if (why == DSG_GOV_GO) {
      why = DSG_GOV_WAIT_BURST;
      wait_until = at;
    } else if (why == DSG_GOV_WAIT_BURST && at > wait_until) {
      wait_until = at;
    }
  }
  if (why != DSG_GOV_GO) {
    out->why = why;
    out->next_at_ms = wait_until;
    return;
  }
  if (hourly < budget)
    budget = hourly;
  if (burst_hdr < budget)
    budget = burst_hdr;
  if (sliding < budget)
    budget = sliding;
  if (budget <= 0) {
    out->why = DSG_GOV_WAIT_IN_FLIGHT;
    out->next_at_ms = INT64_MAX;
    return;
  }
  out->may_start = budget > UINT32_MAX ? UINT32_MAX : (uint32_t)budget;
}

void dsg_gov_started(dsg_gov *g, int64_t now_ms) {
  roll(g, now_ms);
  g->in_flight++;
  g->started++;
  if (g->ring_len == RING_CAP) {
    g->ring_head = (g->ring_head + 1) % RING_CAP;
    g->ring_len--;
  }
  g->ring[(g->ring_head + g->ring_len) % RING_CAP] = now_ms;
  g->ring_len++;
  /* drop starts that left the window, keeping the ring short */
  while (g->ring_len > 0 && ring_at(g, 0) <= now_ms - DSG_GOV_BURST_WINDOW_MS) {
    g->ring_head = (g->ring_head + 1) % RING_CAP;
    g->ring_len--;
  }
}

void dsg_gov_finished(dsg_gov *g, int64_t now_ms, const dsg_gov_headers *h) {
  if (g->in_flight > 0)
    g->in_flight--;
  roll(g, now_ms);
  if (h == NULL)
    return;
  if (h->rate_limit >= 0)
    g->rate_limit = h->rate_limit;
  if (h->burst_limit >= 0)
    g->burst_limit = h->burst_limit;
  if (h->rate_limit >= 0 || h->rate_remaining >= 0 || h->burst_limit >= 0 ||
      h->burst_remaining >= 0)
    g->seen_headers = 1;
  if (h->rate_remaining >= 0) {
    int64_t reset_ms = h->rate_reset >= 0 ? h->rate_reset * 1000 : -1;

    if (reset_ms < 0 && g->hour_reset_ms < 0) {
      /* no reset header: DocuSign resets on the hour (DOCUSIGN.md 7) */
      reset_ms = (now_ms / 3600000 + 1) * 3600000;
    }
    if (reset_ms > g->hour_reset_ms) {
      g->hour_reset_ms = reset_ms; /* a new hourly window */
      g->hour_min = h->rate_remaining;
    } else if ((reset_ms < 0 || reset_ms == g->hour_reset_ms) &&
               h->rate_remaining < g->hour_min) {
      g->hour_min = h->rate_remaining; /* replies come out of order */
    } /* else a late reply from an hour that is over: stale, ignored */
    g->rate_remaining = h->rate_remaining;
    if (h->rate_reset >= 0)
      g->rate_reset = h->rate_reset;
  }
  if (h->burst_remaining >= 0) {
    /* Replies out of order differ by at most the calls in flight around
     * them, so only a larger rise means a new window. Missing a real reset
     * is safe: the estimate stays low until the window is over. */
    if (g->burst_win_end_ms < 0 ||
        h->burst_remaining > g->burst_min + (int64_t)g->cfg.max_in_flight + 1) {
      /* A new burst window began at or before this reply, so it ends 30 s
       * from now at the latest. */
      g->burst_win_end_ms = now_ms + DSG_GOV_BURST_WINDOW_MS;
      g->burst_min = h->burst_remaining;
    } else if (h->burst_remaining < g->burst_min) {
      g->burst_min = h->burst_remaining;
    }
    g->burst_remaining = h->burst_remaining;
  }
}

/* ---- header parsing ---- */

void dsg_gov_headers_init(dsg_gov_headers *h) {
  h->rate_limit = h->rate_remaining = h->rate_reset = -1;
  h->burst_limit = h->burst_remaining = -1;
}

/* If line starts with "name:", points *val at the trimmed value and sets
 * *vlen; returns 1. */
static int header_value(const char *line,
                        size_t len,
                        const char *name,
                        const char **val,
                        size_t *vlen) {
  size_t n = strlen(name);

  if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
    return 0;
  line += n + 1;
  len -= n + 1;
  while (len > 0 && (*line == ' ' || *line == '\t')) {
    line++;
    len--;
  }
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
                     line[len - 1] == ' ' || line[len - 1] == '\t'))
    len--;
  *val = line;
  *vlen = len;
  return 1;
}

/* A whole number of 1-15 digits, or -1. */
static int64_t digits_value(const char *v, size_t n) {
  int64_t r = 0;
  size_t i;

  if (n == 0 || n > 15)
    return -1;
  for (i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    r = r * 10 + (v[i] - '0');
  }
  return r;
}

int dsg_gov_header_line(dsg_gov_headers *h, const char *line, size_t len) {
  static const char *const names[] = {
      "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
      "X-BurstLimit-Limit", "X-BurstLimit-Remaining"};
  int64_t *fields[5];
  const char *v;
  size_t vlen, i;

  fields[0] = &h->rate_limit;
  fields[1] = &h->rate_remaining;
  fields[2] = &h->rate_reset;
  fields[3] = &h->burst_limit;
  fields[4] = &h->burst_remaining;
  for (i = 0; i < 5; i++) {
    int64_t n;

    if (!header_value(line, len, names[i], &v, &vlen))
      continue;
    n = digits_value(v, vlen);
    if (n < 0)
      return 0;
    *fields[i] = n;
    return 1;
  }
  return 0;
}

int64_t dsg_gov_retry_after_line(const char *line, size_t len, int64_t now_ms) {
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
  const char *v;
  size_t vlen;
  char buf[64], mon[4] = "", tz[4] = "";
  int d, y, hh, mm, ss, m, used = 0;
  int64_t t, secs;

  if (!header_value(line, len, "Retry-After", &v, &vlen))
    return -1;
  secs = digits_value(v, vlen);
  if (secs >= 0)
    return secs;
  /* IMF-fixdate, the only date form senders may use (RFC 9110 5.6.7) */
  if (vlen >= sizeof(buf))
    return -1;
  memcpy(buf, v, vlen);
  buf[vlen] = '\0';
  if (sscanf(buf, "%*3s, %2d %3s %4d %2d:%2d:%2d %3s%n", &d, mon, &y, &hh, &mm,
             &ss, tz, &used) != 7 ||
      (size_t)used != vlen || strcmp(tz, "GMT") != 0)
    return -1;
  for (m = 0; m < 12 && strcmp(mon, months[m]) != 0; m++)
    ;
  if (m == 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
    return -1;
  t = dsg_time_from_civil(y, m + 1, d, hh, mm, ss);
  secs = t - now_ms / 1000;
  return secs > 0 ? secs : 0;
}

/* ---- classification and waits ---- */

dsg_gov_class dsg_gov_classify(int http_status, const char *error_code) {
  if (error_code != NULL) {
    if (strcasecmp(error_code, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED") == 0)
      return DSG_GOV_LIMIT_HOURLY;
    if (strcasecmp(error_code, "BURST_APIINVOCATION_LIMIT_EXCEEDED") == 0)
      return DSG_GOV_LIMIT_BURST;
  }
  if (http_status == 429)
    return DSG_GOV_LIMIT_BURST;
  if (http_status >= 200 && http_status < 300)
    return DSG_GOV_OK;
  if (http_status == 0 || http_status == 408 || http_status >= 500)
    return DSG_GOV_RETRY;
  return DSG_GOV_FAIL;
}

int64_t dsg_gov_limit_error(dsg_gov *g,
                            int64_t now_ms,
                            dsg_gov_class cls,
                            int64_t retry_after_s) {
  int64_t until;

  g->limit_errors++;
  if (retry_after_s >= 0) {
    until = now_ms + retry_after_s * 1000; /* A21: honour it */
  } else if (cls == DSG_GOV_LIMIT_HOURLY) {
    if (g->rate_reset >= 0 && g->rate_reset * 1000 > now_ms)
      until = g->rate_reset * 1000 + g->cfg.reset_skew_ms;
    else
      until = (now_ms / 3600000 + 1) * 3600000 + g->cfg.reset_skew_ms;
  } else {
    until = now_ms + DSG_GOV_BURST_WINDOW_MS;
  }
  if (cls == DSG_GOV_LIMIT_HOURLY) {
    g->hour_min = 0;
    if (g->hour_reset_ms < 0 || g->hour_reset_ms > until)
      g->hour_reset_ms = until - g->cfg.reset_skew_ms;
  } else {
    g->burst_min = 0;
    g->burst_win_end_ms = until;
  }
  if (until > g->blocked_until_ms)
    g->blocked_until_ms = until;
  return g->blocked_until_ms;
}

static uint64_t next_rand(dsg_gov *g) {
  uint64_t x;

  if (g->cfg.rand != NULL)
    return g->cfg.rand(g->cfg.rand_ud);
  x = g->rand_state; /* xorshift64 */
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  g->rand_state = x;
  return x;
}

int64_t dsg_gov_backoff_ms(dsg_gov *g, uint32_t attempt) {
  int64_t ceil_ms = g->cfg.backoff_base_ms;
  uint32_t i;

  if (attempt == 0 || attempt > g->cfg.max_retries)
    return -1;
  for (i = 1; i < attempt && ceil_ms < g->cfg.backoff_cap_ms; i++)
    ceil_ms *= 2;
  if (ceil_ms > g->cfg.backoff_cap_ms)
    ceil_ms = g->cfg.backoff_cap_ms;
  if (ceil_ms <= 0)
    return 0;
  return (int64_t)(next_rand(g) % (uint64_t)(ceil_ms + 1));
}

int dsg_gov_wait_fits(int64_t until_ms, int64_t deadline_ms) {
  return deadline_ms < 0 || until_ms <= deadline_ms;
}

int dsg_gov_describe_wait(const dsg_gov *g,
                          dsg_gov_wait why,
                          int64_t until_ms,
                          char *buf,
                          size_t len) {
  char when[DSG_DATE_BUF];
  int64_t secs = until_ms / 1000 + (until_ms % 1000 != 0);
  int n;

  if (dsg_date_format(secs, when, sizeof(when)) != 0)
    snprintf(when, sizeof(when), "(unknown)");
  switch (why) {
  case DSG_GOV_WAIT_HOURLY:
    n = snprintf(buf, len,
                 "waiting until %s for the hourly rate limit to reset "
                 "(reserve %u%% kept for other integrations)",
                 when, g->cfg.reserve_pct);
    break;
  case DSG_GOV_WAIT_BURST:
    n = snprintf(buf, len, "waiting until %s for the 30-second burst limit",
                 when);
    break;
  case DSG_GOV_WAIT_LIMITED:
    n = snprintf(buf, len, "waiting until %s after a rate-limit error", when);
    break;
  case DSG_GOV_WAIT_IN_FLIGHT:
    n = snprintf(buf, len, "waiting for requests in flight");
    break;
  default:
    n = snprintf(buf, len, "not waiting");
    break;
  }
  return n < 0 || (size_t)n >= len ? SAM_EINVAL : 0;
}

void dsg_gov_get_stats(const dsg_gov *g, dsg_gov_stats *out) {
  out->rate_limit = g->rate_limit;
  out->rate_remaining = g->rate_remaining;
  out->rate_reset = g->rate_reset;
  out->burst_limit = g->burst_limit;
  out->burst_remaining = g->burst_remaining;
  out->in_flight = g->in_flight;
  out->started = g->started;
  out->limit_errors = g->limit_errors;
}

int64_t dsg_gov_floor_ms(uint64_t calls,
                         int64_t hourly_usable,
                         int64_t burst,
                         int64_t start_ms) {
  int64_t t = start_ms, hour_end, last = start_ms;
  int64_t used_hour = 0;

  if (burst < 1 || hourly_usable < 1)
    return -1;
  if (calls <= 1)
    return 0;
  hour_end = (start_ms / 3600000 + 1) * 3600000;
  while (calls > 0) {
    int64_t n;

    if (t >= hour_end) {
      hour_end = (t / 3600000 + 1) * 3600000;
      used_hour = 0;
    }
    if (used_hour >= hourly_usable) {
      t = hour_end; /* wait for the reset; a new burst window starts */
      continue;
    }
    n = burst;
    if (n > hourly_usable - used_hour)
      n = hourly_usable - used_hour;
    if ((uint64_t)n > calls)
      n = (int64_t)calls;
    calls -= (uint64_t)n;
    used_hour += n;
    last = t;
    t += DSG_GOV_BURST_WINDOW_MS;
  }
  return last - start_ms;
}
