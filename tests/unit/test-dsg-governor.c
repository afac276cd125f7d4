/*
 * test-dsg-governor.c: the rate-limit governor against a model of
 * DocuSign's limits (DOCUSIGN.md 7, A20-A22), in simulated time: an hourly
 * window on the UTC hour and a fixed 30 s burst window (two alignments),
 * calls counted on arrival, rejected calls not counted, latency with
 * jitter. Scenarios: a 100,000-user account (1,000 pages) with the default
 * 3,000/hour and 500/30 s: no limit error, the 10 % reserve kept, and a
 * wall time close to the floor the limits allow; 1,000,000 users (10,000
 * pages) spanning hours with "waiting until" reported; another integration
 * using the same account; a 429 (burst) and a 400 HOURLY error in the
 * middle with Retry-After present and absent; classification on the code;
 * bounded backoff with full jitter; deadlines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_dates.h"
#include "dsg_governor.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

/* ---- the server model ---- */

typedef struct sim_cfg {
  uint64_t pages;
  int64_t hourly;      /* X-RateLimit-Limit */
  int64_t burst;       /* X-BurstLimit-Limit */
  int64_t align_ms;    /* burst windows start at align + k * 30 s */
  int64_t start_ms;    /* simulated wall clock at the first request */
  int64_t others_gap;  /* another integration calls every this many ms; 0 */
  uint64_t inject_at;  /* this request (1-based) gets a limit error; 0 */
  int inject_hourly;   /* 1: 400 HOURLY_..., 0: 429 BURST_... */
  int64_t retry_after; /* Retry-After on the injected error, -1 none */
  uint32_t max_in_flight;
} sim_cfg;

#define MAX_HOURS 16
#define MAX_WINDOWS 4096
#define MAX_EV 512

typedef struct ev {
  int64_t at;
  int kind; /* 1 arrive, 2 respond */
  uint64_t req;
  dsg_gov_headers h;
  int rejected; /* 0, or the class */
} ev;

typedef struct sim {
  sim_cfg c;
  int64_t hour_count[MAX_HOURS];  /* all calls counted, by UTC hour */
  int64_t ours_hour[MAX_HOURS];   /* ours only */
  int64_t win_count[MAX_WINDOWS]; /* all calls counted, by burst window */
  int64_t hour0;                  /* first hour index */
  int64_t win0;
  uint64_t rand;
  ev evs[MAX_EV];
  size_t n_ev;
  uint64_t calls, rejections, done, next_req;
  int64_t next_other;
  int64_t waits_hourly;
  char last_wait[200];
} sim;

static uint64_t xs(uint64_t *s) {
  uint64_t x = *s;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static int64_t hour_of(sim *s, int64_t t) {
  int64_t h = t / 3600000 - s->hour0;

  if (h < 0 || h >= MAX_HOURS)
    SAM_T_FAIL("simulated time out of range [%lld]", (long long)t);
  return h;
}

static int64_t win_of(sim *s, int64_t t) {
  int64_t w = (t - s->c.align_ms) / 30000 - s->win0;

  if (w < 0 || w >= MAX_WINDOWS)
    SAM_T_FAIL("simulated window out of range [%lld]", (long long)w);
  return w;
}

/* A call reaches the server at t: counted unless over a limit. */
static int server_arrive(sim *s, int64_t t, int ours, dsg_gov_headers *h) {
  int64_t hr = hour_of(s, t), w = win_of(s, t);

  if (s->hour_count[hr] >= s->c.hourly)
    return DSG_GOV_LIMIT_HOURLY;
  if (s->win_count[w] >= s->c.burst)
    return DSG_GOV_LIMIT_BURST;
  s->hour_count[hr]++;
  s->win_count[w]++;
  if (ours)
    s->ours_hour[hr]++;
  if (h != NULL) {
    h->rate_limit = s->c.hourly;
    h->rate_remaining = s->c.hourly - s->hour_count[hr];
    h->rate_reset = (t / 3600000 + 1) * 3600;
    h->burst_limit = s->c.burst;
    h->burst_remaining = s->c.burst - s->win_count[w];
  }
  return 0;
}

static void push(sim *s, ev e) {
  if (s->n_ev == MAX_EV)
    SAM_T_FAIL("event queue full");
  s->evs[s->n_ev++] = e;
}

static int pop_min(sim *s, ev *out) {
  size_t i, m = 0;

  if (s->n_ev == 0)
    return 0;
  for (i = 1; i < s->n_ev; i++)
    if (s->evs[i].at < s->evs[m].at)
      m = i;
  *out = s->evs[m];
  s->evs[m] = s->evs[--s->n_ev];
  return 1;
}

static void start_one(sim *s, dsg_gov *g, int64_t now, uint64_t req) {
  int64_t up = 100 + (int64_t)(xs(&s->rand) % 100);
  int64_t down = 50 + (int64_t)(xs(&s->rand) % 100);
  ev e;

  memset(&e, 0, sizeof(e));
  dsg_gov_started(g, now);
  s->calls++;
  e.at = now + up;
  e.kind = 1;
  e.req = req;
  e.h.rate_reset = down; /* carries the down latency until arrival */
  push(s, e);
}

/* Others' calls up to t. */
static void others_until(sim *s, int64_t t) {
  while (s->c.others_gap > 0 && s->next_other <= t) {
    server_arrive(s, s->next_other, 0, NULL);
    s->next_other += s->c.others_gap;
  }
}

/* Runs the whole download; returns the simulated end time. */
static int64_t run(sim *s, const sim_cfg *c, dsg_gov *g) {
  int64_t now;
  uint64_t retry_queue = 0; /* requests to send again */

  memset(s, 0, sizeof(*s));
  s->c = *c;
  s->hour0 = c->start_ms / 3600000;
  s->win0 = (c->start_ms - c->align_ms) / 30000;
  s->rand = 88172645463325252ULL;
  s->next_other = c->start_ms;
  now = c->start_ms;
  while (s->done < c->pages) {
    dsg_gov_advice a;
    ev e;
    int64_t next_at;
    int have_ev;

    dsg_gov_advise(g, now, &a);
    while (a.may_start > 0 && (s->next_req < c->pages || retry_queue > 0)) {
      if (retry_queue > 0)
        retry_queue--;
      else
        s->next_req++;
      start_one(s, g, now, s->calls + 1);
      dsg_gov_advise(g, now, &a);
    }
    if (a.may_start == 0 && a.why == DSG_GOV_WAIT_HOURLY) {
      char buf[200];

      EXPECT_EQ_INT(
          0, dsg_gov_describe_wait(g, a.why, a.next_at_ms, buf, sizeof(buf)));
      if (strcmp(buf, s->last_wait) != 0) {
        s->waits_hourly++;
        snprintf(s->last_wait, sizeof(s->last_wait), "%s", buf);
      }
    }
    next_at = a.may_start == 0 && a.why != DSG_GOV_WAIT_IN_FLIGHT ? a.next_at_ms
                                                                  : INT64_MAX;
    if (a.may_start == 0 && a.why != DSG_GOV_GO &&
        a.why != DSG_GOV_WAIT_IN_FLIGHT && a.next_at_ms <= now)
      SAM_T_FAIL("governor says wait until the past [%lld <= %lld]",
                 (long long)a.next_at_ms, (long long)now);
    have_ev = s->n_ev > 0;
    if (!have_ev && next_at == INT64_MAX)
      SAM_T_FAIL("stalled: nothing in flight and no time to wait for [why=%d]",
                 (int)a.why);
    if (have_ev) {
      size_t i, m = 0;

      for (i = 1; i < s->n_ev; i++)
        if (s->evs[i].at < s->evs[m].at)
          m = i;
      if (s->evs[m].at <= next_at) {
        pop_min(s, &e);
        others_until(s, e.at);
        now = e.at;
        if (e.kind == 1) {
          int64_t down = e.h.rate_reset;

          memset(&e.h, 0, sizeof(e.h));
          e.rejected = server_arrive(s, now, 1, &e.h);
          if (e.rejected) {
            /* a rejected reply still has the headers (A22) */
            int64_t hr = hour_of(s, now), w = win_of(s, now);

            e.h.rate_limit = c->hourly;
            e.h.rate_remaining = c->hourly - s->hour_count[hr];
            e.h.rate_reset = (now / 3600000 + 1) * 3600;
            e.h.burst_limit = c->burst;
            e.h.burst_remaining = c->burst - s->win_count[w];
          }
          if (c->inject_at != 0 && e.req == c->inject_at && !e.rejected)
            e.rejected =
                c->inject_hourly ? DSG_GOV_LIMIT_HOURLY : DSG_GOV_LIMIT_BURST;
          e.kind = 2;
          e.at = now + down;
          push(s, e);
        } else {
          dsg_gov_finished(g, now, &e.h);
          if (e.rejected) {
            int status = 429;
            const char *code = "BURST_APIINVOCATION_LIMIT_EXCEEDED";
            dsg_gov_class cls;

            if (e.rejected == DSG_GOV_LIMIT_HOURLY) {
              status = 400;
              code = "HOURLY_APIINVOCATION_LIMIT_EXCEEDED";
            }
            cls = dsg_gov_classify(status, code);
            EXPECT_EQ_INT(e.rejected, cls);
            s->rejections++;
            if (getenv("DL_DEBUG"))
              fprintf(stderr, "  rejected [%d] at +%lld ms, call %llu\n",
                      e.rejected, (long long)(now - c->start_ms),
                      (unsigned long long)e.req);
            dsg_gov_limit_error(g, now, cls,
                                e.req == c->inject_at ? c->retry_after : -1);
            retry_queue++;
          } else {
            s->done++;
          }
        }
        continue;
      }
    }
    others_until(s, next_at);
    now = next_at;
  }
  while (s->n_ev > 0) { /* nothing left should be in flight */
    ev e;

    pop_min(s, &e);
    SAM_T_FAIL("request still in flight at the end [%llu]",
               (unsigned long long)e.req);
  }
  return now;
}

static dsg_gov *gov(uint32_t max_in_flight) {
  dsg_gov_config cfg;
  dsg_gov *g = NULL;

  dsg_gov_config_init(&cfg);
  cfg.max_in_flight = max_in_flight;
  EXPECT_EQ_INT(0, dsg_gov_new(&cfg, &g));
  return g;
}

static sim S;

static void base_cfg(sim_cfg *c, uint64_t pages) {
  memset(c, 0, sizeof(*c));
  c->pages = pages;
  c->hourly = 3000;
  c->burst = 500;
  c->retry_after = -1;
  /* 2026-11-28T17:10:00Z */
  c->start_ms = dsg_time_from_civil(2026, 11, 28, 17, 10, 0) * 1000;
  c->align_ms = 0;
}

/* 100,000 users: 1,000 pages in ~30 s, the floor the burst limit allows. */
static void test_100k_users(void) {
  static const int64_t aligns[] = {0, 7000, 29999};
  size_t i;

  for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
    sim_cfg c;
    dsg_gov *g = gov(64);
    int64_t end;
    dsg_gov_stats st;

    base_cfg(&c, 1000);
    c.align_ms = aligns[i];
    end = run(&S, &c, g);
    EXPECT_EQ_U64(0, S.rejections);
    EXPECT_EQ_U64(1000, S.calls); /* API calls = pages */
    EXPECT_TRUE(S.ours_hour[0] <= 2700);
    /* The floor: 500 calls per 30 s means the second 500 cannot start
     * before 30 s; ~250 ms latency on top. Within 1.15 times that. */
    printf("  align %lld: 1000 pages in %.2f s simulated\n",
           (long long)aligns[i], (double)(end - c.start_ms) / 1000.0);
    EXPECT_TRUE(end - c.start_ms <= (int64_t)(1.15 * 30300));
    dsg_gov_get_stats(g, &st);
    EXPECT_EQ_INT(3000, st.rate_limit);
    EXPECT_EQ_INT(500, st.burst_limit);
    EXPECT_EQ_INT(0, st.in_flight);
    EXPECT_EQ_U64(1000, st.started);
    EXPECT_EQ_U64(0, st.limit_errors);
    EXPECT_EQ_INT(2000, st.rate_remaining); /* the last reply's */
    dsg_gov_free(g);
  }
}

/* How concurrency bounds the realistic benchmark (250 ms latency): the
 * figures printed show what max_in_flight the job needs to reach the
 * floor. No limit error at any setting. */
static void test_100k_concurrency(void) {
  static const uint32_t fl[] = {4, 8, 16, 32, 48, 64, 128};
  size_t i;

  for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
    sim_cfg c;
    dsg_gov *g = gov(fl[i]);
    int64_t end;

    base_cfg(&c, 1000);
    end = run(&S, &c, g);
    EXPECT_EQ_U64(0, S.rejections);
    EXPECT_EQ_U64(1000, S.calls);
    printf("  max_in_flight %3u: 1000 pages in %6.2f s simulated (floor "
           "%.2f s + latency)\n",
           fl[i], (double)(end - c.start_ms) / 1000.0,
           (double)dsg_gov_floor_ms(1000, 2700, 500, c.start_ms) / 1000.0);
    dsg_gov_free(g);
  }
}

/* 1,000,000 users: 10,000 pages; 2,700 per hour at most, waiting for each
 * reset and saying until when. */
static void test_1m_users_span_hours(void) {
  sim_cfg c;
  dsg_gov *g = gov(16);
  int64_t end, h;

  base_cfg(&c, 10000);
  end = run(&S, &c, g);
  EXPECT_EQ_U64(0, S.rejections);
  EXPECT_EQ_U64(10000, S.calls);
  for (h = 0; h < MAX_HOURS; h++)
    EXPECT_TRUE(S.ours_hour[h] <= 2700); /* the 10 % reserve is kept */
  EXPECT_EQ_INT(2700, S.ours_hour[0]);   /* and the rest is used */
  EXPECT_EQ_INT(2700, S.ours_hour[1]);
  EXPECT_EQ_INT(2700, S.ours_hour[2]);
  EXPECT_EQ_INT(1900, S.ours_hour[3]);
  EXPECT_TRUE(S.waits_hourly >= 3);
  /* the last wait named the 20:00 reset (+1 s skew) */
  EXPECT_EQ_STR("waiting until 2026-11-28T20:00:01Z for the hourly rate limit "
                "to reset (reserve 10% kept for other integrations)",
                S.last_wait);
  printf("  10000 pages end at +%.0f s\n", (double)(end - c.start_ms) / 1000.0);
  EXPECT_TRUE(end < (dsg_time_from_civil(2026, 11, 28, 20, 5, 0) * 1000));
  dsg_gov_free(g);
}

/* Another integration calls every 2 s (1,800/hour) on the same account.
 * Its calls show up in the headers only with a delay, so within a burst
 * window the governor needs a margin for them (burst_margin, 5 % here):
 * then no limit error, and we never eat into the hourly reserve. Without a
 * margin a burst error can happen at a window's end; it is waited out and
 * retried, and still every page arrives with calls = pages + errors. */
static void test_shared_account(void) {
  int margin;

  for (margin = 0; margin <= 25; margin += 25) {
    sim_cfg c;
    dsg_gov_config cfg;
    dsg_gov *g = NULL;
    int64_t h;

    dsg_gov_config_init(&cfg);
    cfg.max_in_flight = 16;
    cfg.burst_margin = (uint32_t)margin;
    EXPECT_EQ_INT(0, dsg_gov_new(&cfg, &g));
    base_cfg(&c, 3000);
    c.others_gap = 2000;
    run(&S, &c, g);
    if (margin > 0)
      EXPECT_EQ_U64(0, S.rejections);
    EXPECT_EQ_U64(3000 + S.rejections, S.calls);
    for (h = 0; h < MAX_HOURS; h++) {
      EXPECT_TRUE(S.hour_count[h] <= 3000);
      EXPECT_TRUE(S.ours_hour[h] <= 2700);
    }
    dsg_gov_free(g);
  }
}

/* A 429 (burst code) in the middle: wait Retry-After when present, else
 * 30 s; the one rejected call is retried, nothing else fails. */
static void test_limit_error_midway(void) {
  static const int64_t ra[] = {-1, 5, 0};
  size_t i;

  for (i = 0; i < 3; i++) {
    sim_cfg c;
    dsg_gov *g = gov(64);

    base_cfg(&c, 400);
    c.inject_at = 150;
    c.retry_after = ra[i];
    run(&S, &c, g);
    EXPECT_EQ_U64(1, S.rejections);
    EXPECT_EQ_U64(401, S.calls); /* pages + 1 */
    dsg_gov_free(g);
  }
}

/* A 400 HOURLY_APIINVOCATION_LIMIT_EXCEEDED in the middle (another app
 * used the hour up, as far as the server says): nothing more starts until
 * X-RateLimit-Reset (+1 s), then the run completes. */
static void test_hourly_error_midway(void) {
  sim_cfg c;
  dsg_gov *g = gov(16);
  int64_t end;

  base_cfg(&c, 400);
  c.inject_at = 120;
  c.inject_hourly = 1;
  end = run(&S, &c, g);
  EXPECT_EQ_U64(1, S.rejections);
  EXPECT_EQ_U64(401, S.calls);
  EXPECT_TRUE(S.ours_hour[1] > 0); /* the rest ran after 18:00 */
  EXPECT_TRUE(end > dsg_time_from_civil(2026, 11, 28, 18, 0, 1) * 1000);
  EXPECT_TRUE(end < dsg_time_from_civil(2026, 11, 28, 18, 2, 0) * 1000);
  dsg_gov_free(g);
}

static void test_limit_error_waits(void) {
  dsg_gov *g = gov(8);
  dsg_gov_headers h = {3000, 1200, 0, 500, 400};
  dsg_gov_advice a;
  int64_t t0 = dsg_time_from_civil(2026, 11, 28, 17, 10, 0) * 1000, until;
  char buf[200];

  h.rate_reset = dsg_time_from_civil(2026, 11, 28, 18, 0, 0);
  dsg_gov_started(g, t0);
  dsg_gov_finished(g, t0 + 200, &h);
  dsg_gov_advise(g, t0 + 200, &a);
  EXPECT_EQ_INT(8, a.may_start);

  /* burst, no Retry-After: 30 s */
  until = dsg_gov_limit_error(g, t0 + 200, DSG_GOV_LIMIT_BURST, -1);
  EXPECT_TRUE(until == t0 + 200 + 30000);
  dsg_gov_advise(g, t0 + 10000, &a);
  EXPECT_EQ_INT(0, a.may_start);
  EXPECT_EQ_INT(DSG_GOV_WAIT_LIMITED, a.why);
  EXPECT_TRUE(a.next_at_ms == until);
  EXPECT_EQ_INT(
      0, dsg_gov_describe_wait(g, a.why, a.next_at_ms, buf, sizeof(buf)));
  EXPECT_EQ_STR("waiting until 2026-11-28T17:10:31Z after a rate-limit error",
                buf);
  dsg_gov_advise(g, until, &a);
  EXPECT_TRUE(a.may_start > 0);

  /* hourly, Retry-After present: honoured */
  until = dsg_gov_limit_error(g, until, DSG_GOV_LIMIT_HOURLY, 120);
  EXPECT_TRUE(until == t0 + 30200 + 120000);
  /* hourly, no Retry-After: until X-RateLimit-Reset + 1 s */
  until = dsg_gov_limit_error(g, t0 + 200000, DSG_GOV_LIMIT_HOURLY, -1);
  EXPECT_TRUE(until == dsg_time_from_civil(2026, 11, 28, 18, 0, 1) * 1000);
  dsg_gov_advise(g, until - 1, &a);
  EXPECT_EQ_INT(DSG_GOV_WAIT_LIMITED, a.why);
  /* the job's budget ends at 17:30: that wait does not fit (partial) */
  EXPECT_EQ_INT(
      0, dsg_gov_wait_fits(until, dsg_time_from_civil(2026, 11, 28, 17, 30, 0) *
                                      1000));
  EXPECT_EQ_INT(1, dsg_gov_wait_fits(until, until));
  EXPECT_EQ_INT(1, dsg_gov_wait_fits(until, -1));
  /* after the reset the whole budget less the reserve is back */
  dsg_gov_advise(g, until, &a);
  EXPECT_EQ_INT(8, a.may_start);
  dsg_gov_free(g);
}

static void test_first_request_alone(void) {
  dsg_gov *g = gov(8);
  dsg_gov_advice a;

  dsg_gov_advise(g, 1000, &a);
  EXPECT_EQ_INT(1, a.may_start);
  dsg_gov_started(g, 1000);
  dsg_gov_advise(g, 1001, &a);
  EXPECT_EQ_INT(0, a.may_start);
  EXPECT_EQ_INT(DSG_GOV_WAIT_IN_FLIGHT, a.why);
  EXPECT_TRUE(a.next_at_ms == INT64_MAX);
  /* a failure without headers: still one at a time */
  dsg_gov_finished(g, 1500, NULL);
  dsg_gov_advise(g, 1500, &a);
  EXPECT_EQ_INT(1, a.may_start);
  dsg_gov_free(g);
}

/* Low hourly remaining: only down to the reserve. */
static void test_reserve(void) {
  dsg_gov *g = gov(50);
  dsg_gov_headers h = {3000, 320, 0, 500, 480};
  dsg_gov_advice a;
  int64_t t0 = dsg_time_from_civil(2026, 11, 28, 17, 59, 0) * 1000;
  int i;

  h.rate_reset = dsg_time_from_civil(2026, 11, 28, 18, 0, 0);
  dsg_gov_started(g, t0);
  dsg_gov_finished(g, t0 + 100, &h);
  dsg_gov_advise(g, t0 + 100, &a);
  EXPECT_EQ_INT(20, a.may_start); /* 320 - 300 */
  for (i = 0; i < 20; i++)
    dsg_gov_started(g, t0 + 100);
  dsg_gov_advise(g, t0 + 100, &a);
  EXPECT_EQ_INT(0, a.may_start);
  EXPECT_EQ_INT(DSG_GOV_WAIT_HOURLY, a.why);
  EXPECT_TRUE(a.next_at_ms == (h.rate_reset * 1000 + 1000));
  /* one of the 20 replies (19 still in flight): 319 - 19 < 300 */
  h.rate_remaining = 319;
  dsg_gov_finished(g, t0 + 200, &h);
  dsg_gov_advise(g, t0 + 200, &a);
  EXPECT_EQ_INT(0, a.may_start);
  /* a late reply from the hour before (older reset) changes nothing */
  h.rate_remaining = 2000;
  h.rate_reset -= 3600;
  dsg_gov_started(g, t0 + 300); /* keep 19 in flight */
  dsg_gov_finished(g, t0 + 300, &h);
  dsg_gov_advise(g, t0 + 300, &a);
  EXPECT_EQ_INT(0, a.may_start);
  /* all 20 back, the last one processed saw 300 left: still nothing */
  h.rate_reset += 3600;
  h.rate_remaining = 300;
  for (i = 0; i < 19; i++)
    dsg_gov_finished(g, t0 + 400, &h);
  dsg_gov_advise(g, t0 + 400, &a);
  EXPECT_EQ_INT(0, a.may_start);
  /* after the reset (+1 s): the whole limit less the reserve */
  dsg_gov_advise(g, h.rate_reset * 1000 + 1000, &a);
  EXPECT_EQ_INT(50, a.may_start);
  dsg_gov_free(g);

  /* a reserve of 0 % may use everything; more than 90 % is refused */
  {
    dsg_gov_config cfg;

    dsg_gov_config_init(&cfg);
    cfg.reserve_pct = 91;
    EXPECT_EQ_INT(SAM_EINVAL, dsg_gov_new(&cfg, &g));
    cfg.reserve_pct = 10;
    cfg.max_in_flight = 0;
    EXPECT_EQ_INT(SAM_EINVAL, dsg_gov_new(&cfg, &g));
  }
}

static void test_classify(void) {
  EXPECT_EQ_INT(DSG_GOV_OK, dsg_gov_classify(200, NULL));
  EXPECT_EQ_INT(DSG_GOV_LIMIT_HOURLY,
                dsg_gov_classify(400, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"));
  EXPECT_EQ_INT(DSG_GOV_LIMIT_HOURLY,
                dsg_gov_classify(429, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"));
  EXPECT_EQ_INT(DSG_GOV_LIMIT_BURST,
                dsg_gov_classify(400, "BURST_APIINVOCATION_LIMIT_EXCEEDED"));
  EXPECT_EQ_INT(DSG_GOV_LIMIT_BURST,
                dsg_gov_classify(429, "BURST_APIINVOCATION_LIMIT_EXCEEDED"));
  EXPECT_EQ_INT(DSG_GOV_LIMIT_BURST, dsg_gov_classify(429, NULL));
  EXPECT_EQ_INT(DSG_GOV_LIMIT_BURST, dsg_gov_classify(429, "SOMETHING"));
  /* per-envelope codes are not the account's limits */
  EXPECT_EQ_INT(DSG_GOV_FAIL,
                dsg_gov_classify(400, "Burst_Envelope_Polling_Limit_Exceeded"));
  EXPECT_EQ_INT(DSG_GOV_FAIL, dsg_gov_classify(400, "USER_LACKS_PERMISSIONS"));
  EXPECT_EQ_INT(DSG_GOV_FAIL, dsg_gov_classify(401, NULL));
  EXPECT_EQ_INT(DSG_GOV_RETRY, dsg_gov_classify(500, NULL));
  EXPECT_EQ_INT(DSG_GOV_RETRY, dsg_gov_classify(503, NULL));
  EXPECT_EQ_INT(DSG_GOV_RETRY, dsg_gov_classify(0, NULL));
  EXPECT_EQ_INT(DSG_GOV_RETRY, dsg_gov_classify(408, NULL));
}

static uint64_t rand_max(void *ud) {
  (void)ud;
  return UINT64_MAX;
}

static uint64_t rand_seq(void *ud) {
  uint64_t *s = ud;

  return xs(s);
}

static void test_backoff(void) {
  dsg_gov_config cfg;
  dsg_gov *g = NULL;
  uint64_t seed = 12345;
  uint32_t i;
  int n;

  dsg_gov_config_init(&cfg);
  cfg.rand = rand_max; /* the top of each range: the ceiling itself? */
  EXPECT_EQ_INT(0, dsg_gov_new(&cfg, &g));
  /* UINT64_MAX % (ceil + 1) is below the ceiling; check the bounds */
  for (i = 1; i <= 5; i++) {
    int64_t d = dsg_gov_backoff_ms(g, i);
    int64_t ceil = 500LL << (i - 1);

    EXPECT_TRUE(d >= 0 && d <= (ceil > 30000 ? 30000 : ceil));
  }
  EXPECT_EQ_INT(-1, dsg_gov_backoff_ms(g, 6)); /* bounded: give up */
  EXPECT_EQ_INT(-1, dsg_gov_backoff_ms(g, 0));
  dsg_gov_free(g);

  /* with a real random source: always within [0, min(cap, base*2^n)], and
   * spread out (full jitter) */
  dsg_gov_config_init(&cfg);
  cfg.rand = rand_seq;
  cfg.rand_ud = &seed;
  cfg.max_retries = 12;
  EXPECT_EQ_INT(0, dsg_gov_new(&cfg, &g));
  for (i = 1; i <= 12; i++) {
    int64_t lo = INT64_MAX, hi = -1;
    int64_t ceil = 500LL << (i - 1);

    if (ceil > 30000)
      ceil = 30000;
    for (n = 0; n < 200; n++) {
      int64_t d = dsg_gov_backoff_ms(g, i);

      EXPECT_TRUE(d >= 0 && d <= ceil);
      if (d < lo)
        lo = d;
      if (d > hi)
        hi = d;
    }
    EXPECT_TRUE(lo < ceil / 4 && hi > ceil * 3 / 4);
  }
  dsg_gov_free(g);
  /* the built-in source works too */
  g = gov(8);
  EXPECT_TRUE(dsg_gov_backoff_ms(g, 3) <= 2000);
  dsg_gov_free(g);
}

static void test_header_lines(void) {
  dsg_gov_headers h;
  int64_t now = dsg_time_from_civil(2026, 11, 28, 17, 10, 0) * 1000;
  const char *l;

  dsg_gov_headers_init(&h);
  EXPECT_EQ_INT(-1, h.rate_limit);
  EXPECT_EQ_INT(-1, h.burst_remaining);
  l = "X-RateLimit-Limit: 3000\r\n";
  EXPECT_EQ_INT(1, dsg_gov_header_line(&h, l, strlen(l)));
  l = "x-ratelimit-remaining:2990";
  EXPECT_EQ_INT(1, dsg_gov_header_line(&h, l, strlen(l)));
  l = "X-RateLimit-Reset: 1795885200\r\n";
  EXPECT_EQ_INT(1, dsg_gov_header_line(&h, l, strlen(l)));
  l = "X-BurstLimit-Limit: 500\r\n";
  EXPECT_EQ_INT(1, dsg_gov_header_line(&h, l, strlen(l)));
  l = "X-BURSTLIMIT-REMAINING: \t 499 \r\n";
  EXPECT_EQ_INT(1, dsg_gov_header_line(&h, l, strlen(l)));
  EXPECT_EQ_INT(3000, h.rate_limit);
  EXPECT_EQ_INT(2990, h.rate_remaining);
  EXPECT_EQ_INT(1795885200, h.rate_reset);
  EXPECT_EQ_INT(500, h.burst_limit);
  EXPECT_EQ_INT(499, h.burst_remaining);
  /* not ours, or not a number: unchanged */
  l = "X-RateLimit-Remaining: lots\r\n";
  EXPECT_EQ_INT(0, dsg_gov_header_line(&h, l, strlen(l)));
  l = "X-RateLimit-Remaining: -1\r\n";
  EXPECT_EQ_INT(0, dsg_gov_header_line(&h, l, strlen(l)));
  l = "X-RateLimit-Remaining:\r\n";
  EXPECT_EQ_INT(0, dsg_gov_header_line(&h, l, strlen(l)));
  l = "X-RateLimit-RemainingX: 5\r\n";
  EXPECT_EQ_INT(0, dsg_gov_header_line(&h, l, strlen(l)));
  l = "Content-Type: application/json\r\n";
  EXPECT_EQ_INT(0, dsg_gov_header_line(&h, l, strlen(l)));
  l = "HTTP/1.1 200 OK\r\n";
  EXPECT_EQ_INT(0, dsg_gov_header_line(&h, l, strlen(l)));
  EXPECT_EQ_INT(2990, h.rate_remaining);
  /* only the first len bytes count */
  l = "X-RateLimit-Remaining: 2989";
  EXPECT_EQ_INT(1, dsg_gov_header_line(&h, l, strlen(l) - 1));
  EXPECT_EQ_INT(298, h.rate_remaining);

  l = "Retry-After: 120\r\n";
  EXPECT_EQ_INT(120, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "retry-after:0";
  EXPECT_EQ_INT(0, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "Retry-After: Sat, 28 Nov 2026 17:12:30 GMT\r\n";
  EXPECT_EQ_INT(150, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "Retry-After: Sat, 28 Nov 2026 17:00:00 GMT\r\n";
  EXPECT_EQ_INT(0, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "Retry-After: Sat, 28 Foo 2026 17:00:00 GMT\r\n";
  EXPECT_EQ_INT(-1, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "Retry-After: Sat, 28 Nov 2026 17:00:00 CET\r\n";
  EXPECT_EQ_INT(-1, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "Retry-After: soon\r\n";
  EXPECT_EQ_INT(-1, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "Retry-After: -5\r\n";
  EXPECT_EQ_INT(-1, dsg_gov_retry_after_line(l, strlen(l), now));
  l = "X-RateLimit-Reset: 5\r\n";
  EXPECT_EQ_INT(-1, dsg_gov_retry_after_line(l, strlen(l), now));
}

static void test_floor(void) {
  int64_t t0 = dsg_time_from_civil(2026, 11, 28, 17, 10, 0) * 1000;

  EXPECT_EQ_INT(0, dsg_gov_floor_ms(1, 2700, 500, t0));
  EXPECT_EQ_INT(0, dsg_gov_floor_ms(500, 2700, 500, t0));
  EXPECT_EQ_INT(30000, dsg_gov_floor_ms(501, 2700, 500, t0));
  EXPECT_EQ_INT(30000, dsg_gov_floor_ms(1000, 2700, 500, t0)); /* 100k */
  EXPECT_EQ_INT(60000, dsg_gov_floor_ms(1001, 2700, 500, t0));
  /* 10,000 pages: 2,700 per hour, so the last starts after three resets */
  EXPECT_EQ_INT((dsg_time_from_civil(2026, 11, 28, 20, 0, 0) * 1000 - t0) +
                    3 * 30000,
                dsg_gov_floor_ms(10000, 2700, 500, t0));
  EXPECT_EQ_INT(-1, dsg_gov_floor_ms(10, 0, 500, t0));
  EXPECT_EQ_INT(-1, dsg_gov_floor_ms(10, 100, 0, t0));
}

int main(void) {
  SAM_T_RUN(test_floor);
  SAM_T_RUN(test_header_lines);
  SAM_T_RUN(test_classify);
  SAM_T_RUN(test_first_request_alone);
  SAM_T_RUN(test_reserve);
  SAM_T_RUN(test_limit_error_waits);
  SAM_T_RUN(test_backoff);
  SAM_T_RUN(test_100k_users);
  SAM_T_RUN(test_100k_concurrency);
  SAM_T_RUN(test_1m_users_span_hours);
  SAM_T_RUN(test_shared_account);
  SAM_T_RUN(test_limit_error_midway);
  SAM_T_RUN(test_hourly_error_midway);
  return 0;
}
