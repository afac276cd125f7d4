/*
 * test-hostsvc.h: what the files of test-hostsvc share: the harness
 * (test-hostsvc-util.c) and the test cases (test-hostsvc.c,
 * test-hostsvc-lists.c). Everything runs on the test's one loop.
 */
#ifndef TEST_HOSTSVC_H
#define TEST_HOSTSVC_H

#include <stddef.h>

#include <json-c/json.h>
#include <uv.h>

#include "hostsvc_int.h"
#include "sam_core.h"
#include "sam_hostsvc.h"
#include "sam_sched.h"
#include "sam_test.h"

#define PUBLIC_URL "http://127.0.0.1:8080"
#define SECRET "s3cret-value-XYZ-42"

/* The last answer of call()/call_on(); body and json owned here. */
typedef struct reply {
  int done;
  int http;
  int status;
  char ctype[32];
  char *body;
  json_object *json;
} reply;

extern uv_loop_t loop;
extern sam_runtime *rt;
extern sam_sched *sched;
extern sam_hostsvc *svc;
extern sam_hostsvc *svc_short; /* OAuth state TTL of 1 ms */
extern reply last;
extern char pid1[64]; /* the main profile (account 42) */
extern char pid2[64]; /* account 43, for lists */

/* Creates the runtime (test host, or SQLite when HOSTSVC_BACKEND=sqlite),
 * loads the fixture, makes the scheduler and two services, runs
 * sam_hostsvc_start and starts the scheduler. */
void setup(void);
/* Closes everything (checking the close-time cases) and asserts an empty
 * loop. */
void teardown(void);
/* Runs sam_hostsvc_start and waits for it (status 0 expected). */
void svc_start(void);

/* A sam_hostsvc_cb filling the reply at ud; stops the loop. */
void on_reply(const sam_hostsvc_reply *r, void *ud);
void reset_last(void);
/* Runs the loop until *flag is set (completions call uv_stop). */
void run_until(int *flag);
/* One call on a service; waits; returns the HTTP status (reply in last). */
int call_on(sam_hostsvc *s,
            const char *method,
            const char *path,
            const char *query,
            const char *body);
int call(const char *method,
         const char *path,
         const char *query,
         const char *body);
/* Dotted path into JSON ("items.0.rule_id"); borrowed, or NULL. */
json_object *jget(json_object *o, const char *path);
const char *jstr(json_object *o, const char *path);
/* 1 when last's "errors" has an entry at that pointer. */
int has_error_at(const char *pointer);
/* The POST body of a fixture profile (static buffer). */
const char *create_body(const char *account, const char *name);

/* Raw store access: through `h`, or the host handle (sam_ types) or the
 * fixture's own handle (its types). Strings returned are malloc'd; for a
 * query, every record's JSON one per line. */
int raw_put_as(sam_host *h,
               const char *scope,
               const char *type,
               const char *key,
               const char *json);
int raw_put(const char *scope,
            const char *type,
            const char *key,
            const char *json);
/* One atomic batch of up to 500 records through the host handle. */
int raw_put_batch(const char *scope,
                  const char *type,
                  const sam_record *recs,
                  size_t n);
char *raw_get(const char *scope, const char *type, const char *key);
char *raw_all(const char *scope, const char *type);
int raw_secret_status(const char *pid, const char *name);
/* How many times the fixture's OAuth callback ran. */
int count_callbacks(void);

/* The cases of test-hostsvc-lists.c. */
void test_jobs(void);
void test_lists(void);
void test_edits(void);
void test_delete(void);

#endif /* TEST_HOSTSVC_H */
