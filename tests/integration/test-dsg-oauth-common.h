/*
 * test-dsg-oauth-common.h: the harness of the OAuth tests. A runtime on a
 * private loop with the in-memory or a SQLite backend (so a plugin restart
 * keeps the sealed secrets) and a keyring that outlives it, the real
 * plugin loaded with {"ca_file", "test_mode": true}, and the simulator as
 * a child process over HTTPS with a throwaway CA.
 */
#ifndef TEST_DSG_OAUTH_COMMON_H
#define TEST_DSG_OAUTH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam/sam_runtime.h"
#include "sim_child.h"
#include "test_tls.h"

#define REDIRECT "https://127.0.0.1:1/oauth_redirect.do"
#define CLIENT_ID "sim-integration-key"
#define CLIENT_SECRET "sim-secret"

typedef struct oh_run {
  int status;
  int completions;
  char *message;
  char *result;
  json_object *res; /* parsed result or NULL */
} oh_run;

typedef struct oh {
  uv_loop_t loop;
  sam_runtime *rt;
  struct sam__keyring *kr;
  char db[320]; /* SQLite file, "" = in-memory backend */
  char *log;    /* every redacted log line */
  size_t log_len;
  sam_test_tls tls;
  sim_child sim;
  char profile[1024];
  char config[600];
  int closed;
} oh;

struct sam__backend;
/* When set, oh_start hands it the backend it made before the runtime gets
 * it: a case wraps the store to interleave writes (test-dsg-reclaim-safety
 * conflict). Cleared by nothing; a case that sets it resets it. */
extern void (*oh_backend_wrap)(struct sam__backend *b);

/* Makes the TLS files and starts the simulator with `extra` args (NULL-
 * terminated, may be NULL) plus --cert/--key/--users 5/--redirect-uri. */
void oh_sim_start(oh *h, const char *const *extra);
/* Creates the runtime (db: SQLite file path or NULL), loads the plugin with
 * config `config` (NULL: ca_file + test_mode) and sets the client secret
 * `secret` (NULL: the simulator's) of profile "p1". */
void oh_start(oh *h, const char *db, const char *config, const char *secret);
/* Closes the runtime (plugin shutdown) and frees it; the loop stays. */
void oh_stop_runtime(oh *h);
/* oh_stop_runtime, stops the simulator, closes the loop (asserting
 * uv_loop_close == 0) and removes the files. */
void oh_finish(oh *h);

/* Runs one action and waits for it. redirect/state/code may be NULL. */
void oh_action(oh *h,
               const char *id,
               const char *profile_json,
               const char *state,
               const char *code,
               oh_run *out);
void oh_run_free(oh_run *r);

/* Starts n validate_connection jobs at once and waits for all; returns
 * how many succeeded. */
int oh_validate_many(oh *h, int n);

/* get_oauth_token with state, then the consent (page = 1: GET the page and
 * POST Accept; else the simulator auto-consents), giving the code. */
void oh_consent(oh *h, const char *state, int page, char *code, size_t n);
/* The whole flow, asserting success: returns nothing. */
void oh_connect(oh *h, const char *state);

/* A secret of profile p1 read through the host: 0 and the value (malloc'd
 * into *out), or the status. */
int oh_secret(oh *h, const char *name, char **out);
/* Writes a secret of profile p1 through the host (tests tamper). */
int oh_secret_put(oh *h, const char *name, const char *value);

/* Simulator stats: the sum of counts of endpoints containing `key` with
 * HTTP `status` (0 = any); key "" = total_requests. */
long oh_stat(oh *h, const char *key, long status);
void oh_stats_reset(oh *h);

#endif /* TEST_DSG_OAUTH_COMMON_H */
