/*
 * test-dsg-download-common.h: the harness of the download tests. The OAuth
 * tests' harness (a runtime with the in-memory or a SQLite backend, the
 * real plugin, the simulator over HTTPS with a throwaway CA) plus the host
 * service, which registers the host-owned record types, and helpers to
 * run the download process and read the records it wrote.
 */
#ifndef TEST_DSG_DOWNLOAD_COMMON_H
#define TEST_DSG_DOWNLOAD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sam_hostsvc.h"
#include "sam_sched.h"
#include "test-dsg-oauth-common.h"

typedef struct dh {
  oh h;
  sam_sched *sched;
  sam_hostsvc *svc;
  char profile[1400];  /* the oauth profile plus base_uri */
  uint64_t timeout_ms; /* the next runs' deadline; 0: 10 minutes */
} dh;

/* Called on each progress report of a download run (may be NULL). */
typedef void (*dh_progress_fn)(dh *d,
                               const char *job_id,
                               uint64_t done,
                               uint64_t total,
                               const char *msg,
                               void *ud);

typedef struct dh_run {
  int status;
  int completions;
  char *message;
  char *result;
  json_object *res;
  uint64_t progress_calls;
  int waiting_seen; /* a progress message said "waiting" */
} dh_run;

/* Starts the simulator (extra args), the runtime (db NULL: memory), the
 * host service, connects profile p1 and materializes the model catalog. */
void dh_start(dh *d, const char *const *extra, const char *db);
/* Restarts the runtime (plugin) on the same database: a host restart. */
void dh_restart(dh *d);
/* The two halves of dh_restart: the runtime (and host service) closed,
 * then opened again on the same database (a forked child may open it). */
void dh_host_down(dh *d);
void dh_host_up(dh *d);
/* Stops everything; asserts the loop closes empty. */
void dh_finish(dh *d);

/* Runs the download of p1 and waits; progress may be NULL. */
void dh_download(dh *d, dh_progress_fn progress, void *ud, dh_run *out);
/* Fills req for a Download subscriptions job of profile "p1" (no
 * timeout: the caller sets one if it wants). */
void dh_download_request(dh *d,
                         sam_job_request *req,
                         sam_job_done_fn done,
                         sam_job_progress_fn progress,
                         void *ud);
void dh_run_free(dh_run *r);
/* Copies a job's outcome into out (message, result and its parsed JSON);
 * free with dh_run_free. */
void dh_run_take(dh_run *out, const sam_job_outcome *o);
/* A count of the result's "counts" object. */
int64_t dh_count(const dh_run *r, const char *name);

/* Every record of (scope, type) as a JSON array (caller puts). */
json_object *dh_records(dh *d, const char *scope, const char *type);
/* Writes one record (scope, type, key). Returns the status. */
int dh_put(dh *d,
           const char *scope,
           const char *type,
           const char *key,
           const char *json);
/* One record or NULL (caller puts). */
json_object *
dh_get(dh *d, const char *scope, const char *type, const char *key);

/* The simulator's users (GET /_sim/users) as an array (caller puts). */
json_object *dh_sim_users(dh *d);
/* Users of the simulator that are not Closed. */
int dh_sim_open_users(dh *d);
/* Subscriptions of p1 in `state` (NULL: any). */
int dh_subs_in_state(dh *d, const char *state);

#endif /* TEST_DSG_DOWNLOAD_COMMON_H */
