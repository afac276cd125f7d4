/*
 * sim_limits.c: DocuSign's per-account API limits (DOCUSIGN.md 7, A20-A22):
 * an hourly quota on the UTC hour (window length configurable for tests)
 * and a fixed 30 s burst window. Every REST reply carries the five headers.
 */
#include "sim.h"

#include <string.h>
#include <time.h>

static int64_t hourly_window(const sim_limits *l) {
  return l->hourly_window_s > 0 ? l->hourly_window_s : 3600;
}

static int64_t burst_window(const sim_limits *l) {
  return l->burst_window_s > 0 ? l->burst_window_s : 30;
}

/* The start of the window of length w holding `now`, windows starting at
 * phase + k * w. */
static int64_t window_start(int64_t now, int64_t phase, int64_t w) {
  int64_t into = (now - phase) % w;

  return now - (into < 0 ? into + w : into);
}

static void roll(sim_limits *l, int64_t now) {
  int64_t hs = window_start(now, l->hour_phase, hourly_window(l));
  int64_t bs = window_start(now, l->burst_phase, burst_window(l));

  if (hs != l->hour_start) {
    l->hour_start = hs;
    l->hour_used = 0;
  }
  if (bs != l->burst_start) {
    l->burst_start = bs;
    l->burst_used = 0;
  }
}

static long left(long limit, long used) {
  return used >= limit ? 0 : limit - used;
}

/*
 * Adds X-RateLimit-Limit/Remaining/Reset and X-BurstLimit-Limit/Remaining
 * for the current windows, without counting the call.
 */
void sim_limits_headers(sim_req *r) {
  sim_limits *l = &r->ctx->limits;
  char v[32];

  roll(l, (int64_t)time(NULL));
  snprintf(v, sizeof(v), "%ld", l->hourly);
  sim_add_header(r, "X-RateLimit-Limit", v);
  snprintf(v, sizeof(v), "%ld", left(l->hourly, l->hour_used));
  sim_add_header(r, "X-RateLimit-Remaining", v);
  snprintf(v, sizeof(v), "%lld", (long long)(l->hour_start + hourly_window(l)));
  sim_add_header(r, "X-RateLimit-Reset", v);
  snprintf(v, sizeof(v), "%ld", l->burst);
  sim_add_header(r, "X-BurstLimit-Limit", v);
  snprintf(v, sizeof(v), "%ld", left(l->burst, l->burst_used));
  sim_add_header(r, "X-BurstLimit-Remaining", v);
}

/*
 * Counts the call against both windows, or rejects it (hourly: 400
 * HOURLY_APIINVOCATION_LIMIT_EXCEEDED, burst: 429
 * BURST_APIINVOCATION_LIMIT_EXCEEDED; swapped by --limit-swap-status) and
 * sends that reply. Returns 0 when the call may proceed, 1 when rejected.
 */
int sim_limits_check(sim_req *r) {
  sim_limits *l = &r->ctx->limits;
  int64_t now = (int64_t)time(NULL);
  int hourly;
  char v[32];

  /* A next_429 fault on a write (not GET) refuses it before anything is
   * done, as DocuSign's limits do; other faults replace the reply after
   * the handler ran (sim_reply). */
  if ((r->ctx->faults.scope == 0 || r->ctx->faults.scope >= 2) &&
      r->method != NULL && strcmp(r->method, "GET") != 0 &&
      r->ctx->faults.next_status[3] > 0) {
    r->ctx->faults.next_status[3]--;
    sim_limits_headers(r);
    sim_reply_error(r, 429, "BURST_APIINVOCATION_LIMIT_EXCEEDED",
                    "The maximum number of API requests per 30 seconds has "
                    "been reached (simulated).");
    return 1;
  }

  roll(l, now);
  if (!l->enabled || (l->hour_used < l->hourly && l->burst_used < l->burst)) {
    l->hour_used++;
    l->burst_used++;
    sim_limits_headers(r);
    return 0;
  }
  hourly = l->hour_used >= l->hourly;
  sim_limits_headers(r);
  if (l->retry_after) {
    int64_t wait = hourly ? l->hour_start + hourly_window(l) - now
                          : l->burst_start + burst_window(l) - now;
    snprintf(v, sizeof(v), "%lld", (long long)(wait > 0 ? wait : 1));
    sim_add_header(r, "Retry-After", v);
  }
  if (hourly) {
    char msg[160];
    snprintf(msg, sizeof(msg),
             "The maximum number of hourly API invocations has been "
             "exceeded. Hourly Limit is %ld.",
             l->hourly);
    sim_reply_error(r, l->swap_status ? 429 : 400,
                    "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", msg);
  } else {
    sim_reply_error(r, l->swap_status ? 400 : 429,
                    "BURST_APIINVOCATION_LIMIT_EXCEEDED",
                    "The maximum number of API requests per 30 seconds has "
                    "been reached.");
  }
  return 1;
}

/*
 * Moves the hourly window so that it ends in `seconds` (control API): a test
 * that needs "the reset is far away" must not depend on where in the UTC
 * hour it happens to run.
 */
void sim_limits_hourly_resets_in(sim_limits *l, int64_t seconds) {
  int64_t now = (int64_t)time(NULL);

  l->hour_phase = (now + seconds) % hourly_window(l);
  l->hour_start = 0;
  l->hour_used = 0;
}

/*
 * The same for the burst window: a test that must see a burst wait cannot
 * have its calls straddle a window boundary that happens to fall in them.
 */
void sim_limits_burst_resets_in(sim_limits *l, int64_t seconds) {
  int64_t now = (int64_t)time(NULL);

  l->burst_phase = (now + seconds) % burst_window(l);
  l->burst_start = 0;
  l->burst_used = 0;
}

/*
 * Starts both windows afresh (control API).
 */
void sim_limits_reset(sim_limits *l) {
  l->hour_used = 0;
  l->burst_used = 0;
  l->hour_start = 0;
  l->burst_start = 0;
}
