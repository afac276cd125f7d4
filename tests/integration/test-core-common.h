/*
 * test-core-common.h: a tiny in-test plugin ("tp") for the host core's
 * integration tests. It is initialised with sam__plugin_create /
 * run_init / post_init directly, so no shared object is needed.
 */
#ifndef TEST_CORE_COMMON_H
#define TEST_CORE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_core.h"
#include "sam_test.h"
#include "sam_test_host.h"

/* One process or action the plugin registers. */
typedef struct tp_proc {
  const char *id;
  int kind; /* SAM_JOB_PROCESS or SAM_JOB_ACTION */
  uint32_t flags;
  uint64_t timeout_ms;
  sam_start_fn start;
  sam_cancel_fn cancel;
  void *ud;
  sam_free_fn ud_free;
} tp_proc;

typedef struct tp_state {
  const sam_host_api *api;
  sam_host *host;
  sam_profile_type *pt;
  int shutdown_calls;
  int leaky;            /* never call shutdown_done */
  int post_in_shutdown; /* result of a post() made inside shutdown */
  void (*on_shutdown)(void);
} tp_state;

extern tp_state tp;

/* Form: client_id (string), client_secret (x-sam-secret). Record type
 * "tp_item": {id: string, status: string, n: integer}, key /id, index
 * /status, validated. */
extern const char *const tp_form_schema;
extern const char *const tp_item_schema;

/* Loads "tp" with `procs` into the test host. Returns post_init's status;
 * err receives init's or post_init's message. */
int tp_load(sam_test_host *th,
            const tp_proc *procs,
            size_t n,
            char *err,
            size_t err_len);

/* A loop and a test host (opts may be NULL). */
void tp_setup(uv_loop_t *loop,
              sam_test_host **th,
              const sam_test_host_opts *opts);
/* Shuts the test host down, frees it, runs the loop empty and asserts
 * uv_loop_close(loop) == 0. */
void tp_teardown(uv_loop_t *loop, sam_test_host *th);

/* Runs the loop until *flag is non-zero (fails when the loop runs dry). */
void tp_run_until(uv_loop_t *loop, const int *flag);

#endif /* TEST_CORE_COMMON_H */
