/*
 * dsg_governor.h: the rate-limit governor of the download (issue 6 items 1
 * and 9; DOCUSIGN.md 7, A20-A22). It is fed the X-RateLimit-* and
 * X-BurstLimit-* headers of every REST reply and the local clock, and says
 * how many requests may be in flight now and when the next may start, so
 * that normal operation never meets a limit error:
 *
 *   - hourly: never lets the account's remaining hourly calls drop below a
 *     reserve (default 10 % of X-RateLimit-Limit) kept for other
 *     integrations; when only the reserve is left it waits for
 *     X-RateLimit-Reset;
 *   - burst: never starts more than X-BurstLimit-Limit requests in any 30 s
 *     span (a sliding window over its own start times, which bounds every
 *     fixed 30 s window whatever its alignment), and never more than the
 *     last X-BurstLimit-Remaining allows, less what is in flight;
 *   - estimates are conservative: a reply's Remaining is assumed not to
 *     count the requests still in flight when it arrived.
 *
 * Pure: every call takes the time (milliseconds since the Unix epoch) from
 * the caller; no clock, no libuv, no allocation after dsg_gov_new. The time
 * must be wall-clock time (CLOCK_REALTIME), not uv_now(): X-RateLimit-Reset
 * is a Unix time, so the governor compares the two directly.
 *
 * Thread: a governor belongs to one thread (the loop) at a time; every
 * function runs on the caller's thread and returns at once. Ownership: no
 * function keeps a pointer it is given (headers are copied).
 *
 * Typical use from the job: dsg_gov_advise before starting requests, start
 * may_start of them (dsg_gov_started each), or arm a timer for next_at_ms
 * unless why is DSG_GOV_WAIT_IN_FLIGHT; on each reply dsg_gov_finished with
 * the parsed headers (dsg_gov_header_line), dsg_gov_classify, and for a
 * limit error dsg_gov_limit_error with Retry-After
 * (dsg_gov_retry_after_line); for DSG_GOV_RETRY dsg_gov_backoff_ms. When
 * the wait does not fit the job (dsg_gov_wait_fits), report
 * dsg_gov_describe_wait and end partial or pause.
 */
#ifndef DSG_GOVERNOR_H
#define DSG_GOVERNOR_H

#include <stddef.h>
#include <stdint.h>

/* Fixed burst window (DOCUSIGN.md 7 and A20). */
#define DSG_GOV_BURST_WINDOW_MS 30000

/* Returns a uniformly random 64-bit value (backoff jitter). */
typedef uint64_t (*dsg_gov_rand_fn)(void *ud);

typedef struct dsg_gov_config {
  uint32_t reserve_pct;    /* hourly share kept for others; default 10 */
  uint32_t max_in_flight;  /* concurrency ceiling; default 8 */
  uint32_t burst_margin;   /* burst calls left unused; default 0 */
  uint32_t assumed_burst;  /* burst limit before any header; 200 (demo) */
  int64_t reset_skew_ms;   /* wait this much past a reset; default 1000 */
  int64_t backoff_base_ms; /* first retry's ceiling; default 500 */
  int64_t backoff_cap_ms;  /* any retry's ceiling; default 30000 */
  uint32_t max_retries;    /* attempts after the first; default 5 */
  dsg_gov_rand_fn rand;    /* NULL: a fixed xorshift seed (tests) */
  void *rand_ud;
} dsg_gov_config;

/* The headers of one reply; a field < 0 means the header was absent. */
typedef struct dsg_gov_headers {
  int64_t rate_limit;      /* X-RateLimit-Limit */
  int64_t rate_remaining;  /* X-RateLimit-Remaining */
  int64_t rate_reset;      /* X-RateLimit-Reset, Unix seconds */
  int64_t burst_limit;     /* X-BurstLimit-Limit */
  int64_t burst_remaining; /* X-BurstLimit-Remaining */
} dsg_gov_headers;

/*
 * Sets every field of h to -1 (absent).
 */
void dsg_gov_headers_init(dsg_gov_headers *h);

/*
 * Reads one response header line ("X-RateLimit-Remaining: 2990\r\n", as
 * curl's header callback passes it; len bytes, no NUL needed) into h when
 * it is one of the five rate headers (names case-insensitive, value a
 * whole number). Other lines, and values that are not numbers, leave h
 * unchanged.
 *
 * Thread:    any; pure.
 * Returns:   1 when the line set a field, else 0.
 */
int dsg_gov_header_line(dsg_gov_headers *h, const char *line, size_t len);

/*
 * Reads a Retry-After header line (name case-insensitive) as seconds to
 * wait from now_ms: delta-seconds, or an HTTP date ("Sun, 06 Nov 1994
 * 08:49:37 GMT"; a date in the past gives 0).
 *
 * Thread:    any; pure.
 * Returns:   the seconds, or -1 when the line is not a usable Retry-After.
 */
int64_t dsg_gov_retry_after_line(const char *line, size_t len, int64_t now_ms);

/* What a reply means for the governor (dsg_gov_classify). */
typedef enum dsg_gov_class {
  DSG_GOV_OK = 0,       /* 2xx */
  DSG_GOV_LIMIT_HOURLY, /* HOURLY_APIINVOCATION_LIMIT_EXCEEDED */
  DSG_GOV_LIMIT_BURST,  /* BURST_APIINVOCATION_LIMIT_EXCEEDED, or a 429
                           without a known code */
  DSG_GOV_RETRY,        /* 5xx, 408, or a transport failure (status 0):
                           bounded backoff with jitter */
  DSG_GOV_FAIL          /* any other status: not the governor's business */
} dsg_gov_class;

/* Why the governor says wait. */
typedef enum dsg_gov_wait {
  DSG_GOV_GO = 0,         /* may_start > 0 */
  DSG_GOV_WAIT_IN_FLIGHT, /* the concurrency ceiling is reached */
  DSG_GOV_WAIT_BURST,     /* the 30 s burst budget is used */
  DSG_GOV_WAIT_HOURLY,    /* only the reserve is left until the reset */
  DSG_GOV_WAIT_LIMITED    /* after a limit error, until its reset */
} dsg_gov_wait;

typedef struct dsg_gov_advice {
  uint32_t may_start; /* requests that may start now */
  dsg_gov_wait why;   /* DSG_GOV_GO when may_start > 0 */
  int64_t next_at_ms; /* when may_start is 0: ask again at this time (for
                         DSG_GOV_WAIT_IN_FLIGHT: when a reply arrives,
                         next_at_ms is then INT64_MAX) */
} dsg_gov_advice;

typedef struct dsg_gov dsg_gov;

/*
 * Fills cfg with the defaults listed in dsg_gov_config.
 */
void dsg_gov_config_init(dsg_gov_config *cfg);

/*
 * Creates a governor. cfg may be NULL (defaults); it is copied. Until the
 * first reply arrives only one request may be in flight, so the first
 * reply's headers are known before anything else starts.
 *
 * Thread:    any; a governor is used by one thread (the loop) at a time.
 * Ownership: *out is freed with dsg_gov_free.
 * Returns:   0, SAM_EINVAL (reserve_pct > 90 or max_in_flight 0), or
 *            SAM_ENOMEM.
 */
int dsg_gov_new(const dsg_gov_config *cfg, dsg_gov **out);

/*
 * Frees the governor. NULL is accepted.
 */
void dsg_gov_free(dsg_gov *g);

/*
 * Says how many requests may start at now_ms and, if none, until when to
 * wait and why.
 *
 * Thread:    the governor's thread; pure (does not change g).
 */
void dsg_gov_advise(const dsg_gov *g, int64_t now_ms, dsg_gov_advice *out);

/*
 * Records that one request started at now_ms. Call it for every REST call
 * of the profile that counts against DocuSign's limits (not for OAuth).
 */
void dsg_gov_started(dsg_gov *g, int64_t now_ms);

/*
 * Records that a request finished at now_ms with headers h (NULL when the
 * request failed before a reply, e.g. a reset connection). Every
 * dsg_gov_started is matched by exactly one dsg_gov_finished.
 */
void dsg_gov_finished(dsg_gov *g, int64_t now_ms, const dsg_gov_headers *h);

/*
 * Classifies a reply by DocuSign's errorCode first and the HTTP status
 * second (A20: decide on the code, not the status). error_code may be NULL.
 * http_status 0 means no reply (transport failure, timeout).
 */
dsg_gov_class dsg_gov_classify(int http_status, const char *error_code);

/*
 * Records a limit error (class DSG_GOV_LIMIT_HOURLY or _BURST) received at
 * now_ms, after dsg_gov_finished for that request. retry_after_s is the
 * Retry-After header in seconds, or < 0 when absent (A21). The wait is
 * Retry-After when present; else, for the hourly limit, until
 * X-RateLimit-Reset (+ skew) or the next UTC hour when no reset is known;
 * for the burst limit, 30 s. No request may start before then.
 *
 * Returns:   the time (ms) when requests may start again.
 */
int64_t dsg_gov_limit_error(dsg_gov *g,
                            int64_t now_ms,
                            dsg_gov_class cls,
                            int64_t retry_after_s);

/*
 * The delay before retry `attempt` (1 for the first retry) of a request
 * that failed with class DSG_GOV_RETRY: "full jitter", uniform in
 * [0, min(backoff_cap_ms, backoff_base_ms * 2^(attempt-1))].
 *
 * Returns:   the delay in ms, or -1 when attempt > max_retries (give up).
 */
int64_t dsg_gov_backoff_ms(dsg_gov *g, uint32_t attempt);

/*
 * Whether waiting until `until_ms` fits the job: 1 when until_ms <=
 * deadline_ms (the job may sleep, then resume), 0 when it does not (the job
 * ends partial or pauses, issue 6 item 9). deadline_ms < 0 means no
 * deadline.
 */
int dsg_gov_wait_fits(int64_t until_ms, int64_t deadline_ms);

/*
 * Writes the progress text for a wait, "waiting until 2026-11-28T18:00:01Z
 * for the hourly rate limit to reset (reserve 10% kept for other
 * integrations)", into buf (len bytes).
 *
 * Returns:   0, or SAM_EINVAL when buf is too small (buf then holds a
 *            truncated text).
 */
int dsg_gov_describe_wait(const dsg_gov *g,
                          dsg_gov_wait why,
                          int64_t until_ms,
                          char *buf,
                          size_t len);

/*
 * The floor the limits allow: the earliest time (ms after start_ms) at
 * which the last of `calls` requests can start, when at most `burst` start
 * in each 30 s window (windows beginning at the first call) and at most
 * `hourly_usable` (the hourly limit less the reserve) in each UTC hour,
 * with no latency. For the benchmark's "floor" figure (issue 6 item 10).
 *
 * Thread:    any; pure.
 * Returns:   the milliseconds, 0 for calls <= 1, or -1 when burst or
 *            hourly_usable is < 1.
 */
int64_t dsg_gov_floor_ms(uint64_t calls,
                         int64_t hourly_usable,
                         int64_t burst,
                         int64_t start_ms);

/* Read-outs for the job result and the profile's telemetry (A22). */
typedef struct dsg_gov_stats {
  int64_t rate_limit;      /* last seen, -1 unknown */
  int64_t rate_remaining;  /* last seen, -1 unknown */
  int64_t rate_reset;      /* last seen, Unix seconds, -1 unknown */
  int64_t burst_limit;     /* last seen, -1 unknown */
  int64_t burst_remaining; /* last seen, -1 unknown */
  uint32_t in_flight;
  uint64_t started;      /* requests started in total */
  uint64_t limit_errors; /* dsg_gov_limit_error calls */
} dsg_gov_stats;

/*
 * Copies the current figures into out.
 */
void dsg_gov_get_stats(const dsg_gov *g, dsg_gov_stats *out);

#endif /* DSG_GOVERNOR_H */
