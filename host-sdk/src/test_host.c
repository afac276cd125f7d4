/*
 * test_host.c: the test host (ABI.md 14.1): a runtime in test mode with
 * the in-memory backend and an ephemeral master key, capturing every log
 * line and contract violation.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sam_backend_memory.h"
#include "sam_core.h"
#include "sam_seal.h"
#include "sam_test_host.h"

typedef struct tbuf {
  char *p;
  size_t n;
  size_t cap;
} tbuf;

struct sam_test_host {
  uv_loop_t *loop;
  sam_runtime *rt;
  sam__keyring *keyring;
  tbuf log;
  char *registry;
  /* the last run */
  int run_done;
  sam_test_run run;
  char job_id[SAM_JOB_ID_LEN];
  char *message;
  char *result;
  int completions;
  int closed;
  int shut_down;
  uv_timer_t cancel_timer;
  sam__backend backend;
};

static void tbuf_add(tbuf *b, const char *s) {
  size_t len = strlen(s);

  if (b->n + len + 2 > b->cap) {
    size_t cap = (b->n + len + 2) * 2;
    char *p = realloc(b->p, cap);

    if (p == NULL)
      return;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n++] = '\n';
  b->p[b->n] = '\0';
}

static void on_log(void *ud,
                   int32_t level,
                   const char *plugin,
                   const char *job_id,
                   const char *line) {
  sam_test_host *th = ud;

  (void)level;
  (void)plugin;
  (void)job_id;
  tbuf_add(&th->log, line);
}

int sam_test_host_new(struct uv_loop_s *loop,
                      const sam_test_host_opts *opts,
                      sam_test_host **out) {
  sam__runtime_config cfg;
  sam_test_host *th;
  int rc;

  *out = NULL;
  th = calloc(1, sizeof(*th));
  if (th == NULL)
    return SAM_ENOMEM;
  th->loop = loop;
  rc = sam__keyring_new_ephemeral(&th->keyring);
  if (rc != 0)
    goto fail;
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = loop;
  cfg.keyring = th->keyring;
  cfg.log_fn = on_log;
  cfg.log_ud = th;
  cfg.test_mode = 1;
  if (opts != NULL) {
    cfg.job_grace_ms = opts->job_grace_ms;
    cfg.shutdown_deadline_ms = opts->shutdown_deadline_ms;
  }
  rc = sam__backend_memory_new(loop, opts ? opts->store_queue_max : 0,
                               &cfg.backend);
  if (rc != 0)
    goto fail;
  uv_timer_init(loop, &th->cancel_timer);
  th->cancel_timer.data = th;
  th->backend = cfg.backend;
  rc = sam__runtime_new(&cfg, &th->rt);
  if (rc != 0) {
    /* The runtime did not take the backend: close it ourselves. */
    cfg.backend.vt->close(cfg.backend.self, NULL, NULL);
    uv_close((uv_handle_t *)&th->cancel_timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (th->rt != NULL) {
      uv_run(loop, UV_RUN_DEFAULT);
      sam_runtime_free(th->rt);
    }
    goto fail;
  }
  *out = th;
  return 0;

fail:
  sam__keyring_free(th->keyring);
  free(th);
  return rc;
}

struct sam__backend *sam_test_host_backend(sam_test_host *th) {
  return &th->backend;
}

sam_runtime *sam_test_host_runtime(sam_test_host *th) {
  return th->rt;
}

int sam_test_host_load(sam_test_host *th,
                       const char *manifest_path,
                       const char *config_json,
                       sam_load_result *res) {
  return sam_loader_load(th->rt, manifest_path, config_json, res, NULL);
}

static void on_run_done(const sam_job_outcome *o, void *ud) {
  sam_test_host *th = ud;

  th->run_done = 1;
  th->run.status = o->status;
  th->completions = o->completions;
  free(th->message);
  free(th->result);
  th->message = strdup(o->message ? o->message : "");
  th->result = o->result_json ? strdup(o->result_json) : NULL;
}

static void on_cancel_timer(uv_timer_t *t) {
  sam_test_host *th = t->data;

  sam_runtime_job_cancel(th->rt, th->job_id);
}

int sam_test_host_run(sam_test_host *th,
                      int kind,
                      const char *id,
                      const char *profile_id,
                      const char *profile_json,
                      const char *params_json,
                      uint32_t job_flags,
                      uint64_t timeout_ms,
                      uint64_t cancel_after_ms,
                      sam_test_run *out) {
  sam_job_request req;
  int rc;

  memset(&req, 0, sizeof(req));
  req.kind = kind;
  req.flags = job_flags;
  req.id = id;
  req.profile_id = profile_id;
  req.profile_json = profile_json;
  req.params_json = params_json;
  req.timeout_ms = timeout_ms;
  req.done = on_run_done;
  req.ud = th;
  th->run_done = 0;
  memset(&th->run, 0, sizeof(th->run));
  rc = sam_runtime_job_start(th->rt, &req, th->job_id);
  if (rc != 0)
    return rc;
  if (cancel_after_ms > 0) {
    /* One turn first: the start runs on the next loop iteration, and the
     * delay counts from there (a cancel that wins the race with the start
     * would complete the job without calling start at all). */
    uv_run(th->loop, UV_RUN_NOWAIT);
    if (!th->run_done)
      uv_timer_start(&th->cancel_timer, on_cancel_timer, cancel_after_ms, 0);
  }
  while (!th->run_done) {
    if (uv_run(th->loop, UV_RUN_ONCE) == 0 && !th->run_done)
      break;
  }
  uv_timer_stop(&th->cancel_timer);
  if (!th->run_done)
    return SAM_EIO; /* the loop ran dry: nothing left to wait for */
  th->run.job_id = th->job_id;
  th->run.message = th->message;
  th->run.result_json = th->result;
  th->run.completions = th->completions;
  if (out != NULL)
    *out = th->run;
  return 0;
}

int sam_test_host_set_secret(sam_test_host *th,
                             const char *profile_id,
                             const char *name,
                             const char *value) {
  int rc = sam_runtime_set_form_secret(th->rt, profile_id, name, value,
                                       value ? strlen(value) : 0, NULL, NULL);

  if (rc == 0)
    sam_test_host_drain(th);
  return rc;
}

void sam_test_host_drain(sam_test_host *th) {
  int i;

  /* Deferred tasks, backend turns and async deliveries each take a loop
   * iteration; a few dozen NOWAIT turns settle any chain the tests use. */
  for (i = 0; i < 64; i++)
    uv_run(th->loop, UV_RUN_NOWAIT);
}

const char *sam_test_host_log(sam_test_host *th) {
  return th->log.p ? th->log.p : "";
}

const char *sam_test_host_violations(sam_test_host *th) {
  return sam__runtime_violations(th->rt);
}

const char *sam_test_host_registry_json(sam_test_host *th) {
  free(th->registry);
  th->registry = sam_runtime_registry_json(th->rt);
  return th->registry ? th->registry : "";
}

static void on_closed(void *ud) {
  sam_test_host *th = ud;

  th->closed = 1;
}

int sam_test_host_shutdown(sam_test_host *th) {
  if (!th->shut_down) {
    th->shut_down = 1;
    uv_close((uv_handle_t *)&th->cancel_timer, NULL);
    sam_runtime_close(th->rt, on_closed, th);
  }
  while (!th->closed) {
    if (uv_run(th->loop, UV_RUN_ONCE) == 0 && !th->closed)
      break;
  }
  return sam__runtime_faulty_count(th->rt) > 0 ? SAM_ETIMEDOUT : 0;
}

void sam_test_host_free(sam_test_host *th) {
  if (th == NULL)
    return;
  sam_runtime_free(th->rt);
  sam__keyring_free(th->keyring);
  free(th->log.p);
  free(th->registry);
  free(th->message);
  free(th->result);
  free(th);
}
