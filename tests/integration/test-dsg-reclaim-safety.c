/*
 * test-dsg-reclaim-safety.c: the protections of a reclaim run against the
 * DocuSign simulator (harness: test-dsg-reclaim-common.h): the re-check of
 * each user just before the DELETE (an exclusion, a promotion, a seat given
 * again, a user DocuSign does not know) and the cap on how many users one
 * run closes, oldest assigned first. One ctest per case:
 * test-dsg-reclaim-safety runs between, test-dsg-reclaim-<case> the others.
 *
 *   between  an exclusion added after the download, a user promoted to
 *            admin, a user whose seat was given again (fresh start date),
 *            and a user DocuSign does not know: none is closed
 *   cap      the default cap (5% of active seats, at least 1) closes one;
 *            the others go to Attention Required "reclaim cap reached"
 *   order    under the cap the oldest assigned dates are closed first
 *   conflict a write lands between the reclaim's read of a subscription
 *            and its "reclaimed" put (as a download's sweep beside it
 *            would): the reclaim reads it again and still marks it
 *            reclaimed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "sam_backend.h"
#include "sam_core.h"
#include "sam_test.h"
#include "test-dsg-reclaim-common.h"

/* ---- cases ---- */

static void test_cap(void) {
  dh_run r;
  char st[64];
  int closed = 0;

  rh_start();
  rh_seed_two();
  rh_seed_sub(VIEWER, "Only.Viewer@Reclaim.Example.com", "Viewer", 0, 200);
  rh_seed_cand(VIEWER, "Only.Viewer@Reclaim.Example.com",
               "awaiting_revocation");
  /* 3 active seats: 5% is 0, so the cap is the minimum, 1 */
  rh_reclaim(0, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(1, rh_count(&r, "cap"));
  EXPECT_EQ_INT(1, rh_count(&r, "closed"));
  EXPECT_EQ_INT(2, rh_count(&r, "attention_required"));
  EXPECT_CONTAINS(r.message, "reclaim cap reached");
  EXPECT_CONTAINS(r.result, "reclaim cap reached (1 of 3)");
  closed += strcmp(rh_sim_status(QUIET, st, sizeof(st)), "Closed") == 0;
  closed += strcmp(rh_sim_status(NEVER, st, sizeof(st)), "Closed") == 0;
  closed += strcmp(rh_sim_status(VIEWER, st, sizeof(st)), "Closed") == 0;
  EXPECT_EQ_INT(1, closed);
  EXPECT_EQ_INT(1, rh_deletes());
  {
    json_object *all = dh_records(&rh_d, "p1", "sam_candidate");
    size_t i;
    int att = 0;

    for (i = 0; i < json_object_array_length(all); i++) {
      json_object *c = json_object_array_get_idx(all, i);

      if (strcmp(rh_js(c, "state"), "attention_required") == 0) {
        att++;
        EXPECT_CONTAINS(json_object_to_json_string(c), "reclaim cap reached");
      }
    }
    EXPECT_EQ_INT(2, att);
    json_object_put(all);
  }
  dh_run_free(&r);
  dh_finish(&rh_d);
}

static void test_between(void) {
  dh_run r;
  char st[64], path[200];

  rh_start();
  rh_seed_two();
  rh_seed_sub(VIEWER, "Only.Viewer@Reclaim.Example.com", "Viewer", 0, 200);
  rh_seed_cand(VIEWER, "Only.Viewer@Reclaim.Example.com",
               "awaiting_revocation");
  rh_seed_sub(UNKNOWN, "Nobody@Reclaim.Example.com", "Sender", 0, 200);
  rh_seed_cand(UNKNOWN, "Nobody@Reclaim.Example.com", "awaiting_revocation");
  rh_seed_sub(NEWS, "New.Sender@Reclaim.Example.com", "Sender", 0, 200);
  rh_seed_cand(NEWS, "New.Sender@Reclaim.Example.com", "awaiting_revocation");
  /* After the download: an exclusion for Quiet Sender... */
  EXPECT_EQ_INT(0, dh_put(&rh_d, "_host", "sam_exclusion_user", "x1",
                          "{\"rule_id\":\"x1\",\"user_principal_name\":"
                          "\"quiet.sender@reclaim.example.com\","
                          "\"active\":true}"));
  /* ...Never Sent promoted to administrator, the Viewer disabled. */
  snprintf(path, sizeof(path), "users/%s", NEVER);
  rh_sim_post(path, "{\"isAdmin\":\"True\"}");
  snprintf(path, sizeof(path), "users/%s", VIEWER);
  rh_sim_post(path, "{\"userStatus\":\"Disabled\"}");
  oh_stats_reset(&rh_d.h);
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(0, rh_count(&r, "closed"));
  EXPECT_EQ_INT(5, rh_count(&r, "skipped"));
  EXPECT_EQ_INT(0, rh_deletes());
  rh_expect_cand(QUIET, "closed_skipped", "excluded");
  rh_expect_cand(NEVER, "closed_skipped", "administrator");
  rh_expect_cand(VIEWER, "closed_skipped", "no longer active");
  rh_expect_cand(UNKNOWN, "closed_skipped", "no longer exists");
  /* New Sender was added 5 days ago in DocuSign: the seat is fresh */
  rh_expect_cand(NEWS, "closed_canceled", "fresh activity");
  EXPECT_EQ_STR("Active", rh_sim_status(QUIET, st, sizeof(st)));
  EXPECT_EQ_STR("Active", rh_sim_status(NEVER, st, sizeof(st)));
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* Under the cap, the oldest assigned dates go first (then userId). */
static void test_order(void) {
  const char *args[] = {"--users", "40", NULL};
  static const int days[] = {300, 900, 150, 700, 500, 800, 200, 600};
  json_object *users;
  char uids[8][64];
  dh_run r;
  size_t i;
  int n = 0;

  dh_start(&rh_d, args, NULL);
  rh_seed_rule();
  users = dh_sim_users(&rh_d);
  for (i = 0; i < json_object_array_length(users) && n < 8; i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *uid = rh_js(u, "userId");
    const char *lic = rh_js(u, "licenseType");

    if (strcmp(rh_js(u, "userStatus"), "Active") != 0 ||
        strcmp(uid, rh_d.h.sim.integ) == 0 ||
        strcmp(rh_js(u, "isAdmin"), "True") == 0)
      continue;
    snprintf(uids[n], sizeof(uids[n]), "%s", uid);
    rh_seed_sub(uid, rh_js(u, "email"),
                lic[0] ? lic : rh_js(u, "permissionProfileName"), 0, days[n]);
    rh_seed_cand(uid, rh_js(u, "email"), "awaiting_revocation");
    n++;
  }
  json_object_put(users);
  EXPECT_EQ_INT(8, n);
  rh_reclaim(0, "{\"cap\":3}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(3, (int)rh_count(&r, "closed"));
  for (i = 0; i < 8; i++) {
    json_object *c = rh_cand(uids[i]);
    int oldest = days[i] >= 700; /* 900, 800, 700 */

    EXPECT_TRUE(c != NULL);
    printf("  assigned %d days ago -> %s\n", days[i], rh_js(c, "state"));
    EXPECT_EQ_STR(oldest ? "closed_complete" : "attention_required",
                  rh_js(c, "state"));
    json_object_put(c);
  }
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* ---- conflict: the store wrapped so that a write lands in between ---- */

typedef struct cwrap {
  sam__backend inner;
  sam__backend_vt vt;
  const char *uid; /* whose "reclaimed" put is held back, until it is */
  sam__req *held;
  char *bump; /* the in-between record's JSON */
  uv_timer_t timer;
  int bumped; /* the in-between write landed */
} cwrap;

static cwrap cw;

static void cw_timer_closed(uv_handle_t *h) {
  (void)h;
}

/* The in-between write landed: the held put goes on, and conflicts. */
static void cw_bumped(int status, const sam_store_result *res, void *ud) {
  (void)res;
  (void)ud;
  EXPECT_EQ_INT(SAM_OK, status);
  cw.bumped = 1;
  EXPECT_EQ_INT(0, cw.inner.vt->submit(cw.inner.self, cw.held));
  cw.held = NULL;
}

static void cw_write(uv_timer_t *t) {
  sam_record rec;

  uv_close((uv_handle_t *)t, cw_timer_closed);
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.key = QUIET;
  rec.json = cw.bump;
  rec.json_len = strlen(cw.bump);
  rec.if_version = SAM_IF_ANY;
  EXPECT_EQ_INT(0, sam__host_api()->store_put_batch(
                       sam_runtime_host_handle(rh_d.h.rt), "p1",
                       "sam_subscription", &rec, 1, cw_bumped, NULL, NULL));
}

/* Holds the reclaim's "reclaimed" put of cw.uid and, on the next turn,
 * writes that subscription the way a download's sweep marks a user it
 * finds Closed. */
static int cw_submit(void *self, sam__req *req) {
  cwrap *w = self;
  json_object *s;

  if (w->uid == NULL || req->kind != SAM__REQ_PUT_BATCH ||
      strcmp(req->record_type, "sam_subscription") != 0 || req->n != 1 ||
      strcmp(req->recs[0].key, w->uid) != 0 ||
      strstr(req->recs[0].json, "\"reclaimed\"") == NULL)
    return w->inner.vt->submit(w->inner.self, req);
  w->uid = NULL;
  w->held = req;
  s = json_tokener_parse(req->recs[0].json);
  EXPECT_TRUE(s != NULL);
  json_object_object_add(s, "state", json_object_new_string("removed"));
  json_object_object_del(s, "reclaimed_at");
  w->bump = strdup(json_object_to_json_string(s));
  json_object_put(s);
  EXPECT_EQ_INT(0, uv_timer_init(&rh_d.h.loop, &w->timer));
  EXPECT_EQ_INT(0, uv_timer_start(&w->timer, cw_write, 0, 0));
  return 0;
}

static void cw_close(void *self, void (*done)(void *ud), void *ud) {
  cwrap *w = self;

  w->inner.vt->close(w->inner.self, done, ud);
}

static void cw_release(void *self, void *chunk) {
  cwrap *w = self;

  w->inner.vt->release(w->inner.self, chunk);
}

static void cw_wrap(sam__backend *b) {
  cw.inner = *b;
  cw.vt = *b->vt;
  cw.vt.submit = cw_submit;
  cw.vt.close = cw_close;
  cw.vt.release = b->vt->release != NULL ? cw_release : NULL;
  b->vt = &cw.vt;
  b->self = &cw;
}

static void test_conflict(void) {
  dh_run r;

  memset(&cw, 0, sizeof(cw));
  oh_backend_wrap = cw_wrap;
  rh_start();
  oh_backend_wrap = NULL;
  rh_seed_two();
  cw.uid = QUIET;
  rh_reclaim(0, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(2, rh_count(&r, "closed"));
  EXPECT_EQ_INT(1, cw.bumped);
  EXPECT_TRUE(cw.held == NULL);
  /* the put that conflicted was read again and written over "removed" */
  rh_expect_sub(QUIET, "reclaimed");
  rh_expect_sub(NEVER, "reclaimed");
  EXPECT_NOT_CONTAINS(rh_d.h.log, "subscription not marked reclaimed");
  free(cw.bump);
  dh_run_free(&r);
  dh_finish(&rh_d);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "between";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "cap") == 0)
    SAM_T_RUN(test_cap);
  else if (strcmp(c, "between") == 0)
    SAM_T_RUN(test_between);
  else if (strcmp(c, "order") == 0)
    SAM_T_RUN(test_order);
  else if (strcmp(c, "conflict") == 0)
    SAM_T_RUN(test_conflict);
  else
    SAM_T_FAIL("unknown case [%s]", c);
  return 0;
}
