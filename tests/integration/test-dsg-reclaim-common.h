/*
 * test-dsg-reclaim-common.h: the harness of the reclaim tests
 * (test-dsg-reclaim-run, -safety, -crash, -refresh, -paced): the Reclaim
 * process against the DocuSign simulator over HTTPS with the throwaway CA
 * (issue 7 item 8), on the download tests' harness (one dh, rh_d). The
 * simulator loads tests/fixtures/accounts/reclaim.json (rh_start); the
 * subscriptions, the rule and the candidates are written through the
 * host's store, so each case controls exactly what the reclaim sees.
 *
 * Everything here runs on the test's thread and loop; failed expectations
 * end the test (sam_test.h).
 */
#ifndef TEST_DSG_RECLAIM_COMMON_H
#define TEST_DSG_RECLAIM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "test-dsg-download-common.h"

/* Users of tests/fixtures/accounts/reclaim.json (UNKNOWN is in none). */
#define U(n) "7e57a000-0000-4000-8000-0000000000" n
#define INTEG U("01")
#define QUIET U("03")
#define NEVER U("04")
#define NEWS U("05")
#define VIEWER U("06")
#define QADMIN U("07")
#define DISABLED U("11")
#define UNKNOWN "7e57a000-0000-4000-8000-0000000000ff"

/* The harness of the current case: started by rh_start/rh_start_db or
 * dh_start, stopped by dh_finish. */
extern dh rh_d;
/* The host deadline of the jobs rh_run_job* start (ms; 300000 unless a
 * case changes it for one run). */
extern uint64_t rh_timeout_ms;

/* ---- seeding ---- */

/* Writes the UTC time `days` days ago as ISO 8601 ("...Z") into out. */
void rh_iso_days_ago(int days, char *out, size_t len);
/* Stores rule r1 of p1: assigned 60 days ago, creates candidates. */
void rh_seed_rule(void);
/* Stores an active subscription of p1 for uid, assigned `days_ago` days
 * ago; ident is both its identifier and its software model. */
void rh_seed_sub(const char *uid,
                 const char *email,
                 const char *ident,
                 int is_admin,
                 int days_ago);
/* Stores an open candidate of rule r1 for uid in `state` (key t-<end of
 * uid>, see rh_cand). */
void rh_seed_cand(const char *uid, const char *email, const char *state);
/* The rule plus the fixture's closable users, Quiet Sender and Never Sent,
 * with their candidates (awaiting_revocation, ready). */
void rh_seed_two(void);

/* ---- reading back ---- */

/* uid's seeded candidate, or NULL (caller puts). */
json_object *rh_cand(const char *uid);
/* The string of o's member k; "" when o is NULL or has no k, NULL when it
 * is JSON null. Owned by o. */
const char *rh_js(json_object *o, const char *k);
/* Expects uid's candidate in `state` with `why` (may be NULL) somewhere in
 * its history. */
void rh_expect_cand(const char *uid, const char *state, const char *why);
/* Expects uid's subscription in `state`. */
void rh_expect_sub(const char *uid, const char *state);
/* The simulator's userStatus of uid, "(absent)" when it has no such user;
 * written into buf, which is returned. */
const char *rh_sim_status(const char *uid, char *buf, size_t len);
/* POSTs body to the simulator's control route /_sim/<path>; expects 200. */
void rh_sim_post(const char *path, const char *body);
/* Every docusign_reclaim_intent record of p1, read through the plugin's
 * handle, as a JSON array (caller puts). */
json_object *rh_intents(void);
/* How many of those are in `state`. */
int rh_intents_in(const char *state);
/* Stores a docusign_reclaim_intent record of p1 through the plugin's
 * handle (as a crashed run would have left it). */
void rh_intent_put(const char *key, const char *json);

/* ---- running jobs ---- */

/*
 * Starts job (kind, id) for p1 with flags, profile (NULL: rh_d.profile)
 * and params (may be NULL), runs the loop until it completes and fills
 * *out (dh_run_free it). cancel_on_progress 1 cancels the job at its first
 * "batch " progress report, 2 at its first "waiting" one; 0 never.
 * Expects exactly one completion.
 */
void rh_run_job_ex(int kind,
                   const char *id,
                   uint32_t flags,
                   const char *profile,
                   const char *params,
                   int cancel_on_progress,
                   dh_run *out);
/* rh_run_job_ex without a cancel. */
void rh_run_job(int kind,
                const char *id,
                uint32_t flags,
                const char *profile,
                const char *params,
                dh_run *out);
/* Runs the reclaim process of p1 (flags e.g. SAM_JOB_DRY_RUN). */
void rh_reclaim(uint32_t flags, const char *params, dh_run *out);
/* Member k of the run's result as an integer, -1 when absent. */
int64_t rh_count(const dh_run *r, const char *k);
/* How many DELETE requests the simulator got since the last stats reset. */
long rh_deletes(void);
/* Starts the harness on the reclaim fixture account, on SQLite in db
 * (removed first) or in memory (db NULL), and resets the stats. */
void rh_start_db(const char *db);
/* rh_start_db(NULL). */
void rh_start(void);

#endif /* TEST_DSG_RECLAIM_COMMON_H */
