/*
 * runtime.c: the host core's runtime object: creation, the deferred-task
 * queue that gives "a later loop turn" (C4), logging and violations, the
 * host API table, and the asynchronous close sequence (ABI.md 13.3).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "runtime_int.h"

#ifndef SAM_HOST_VERSION
#define SAM_HOST_VERSION "0"
#endif

/* ---- small helpers ---- */

char *sam__strdup(const char *s) {
  return s == NULL ? NULL : sam__strndup(s, strlen(s));
}

char *sam__strndup(const char *s, size_t n) {
  char *p;

  if (s == NULL)
    return NULL;
  p = malloc(n + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

int sam__random_id(char out[SAM_JOB_ID_LEN]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  int i;

  if (RAND_bytes(b, (int)sizeof(b)) != 1)
    return SAM_EIO;
  for (i = 0; i < 16; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[32] = '\0';
  return 0;
}

/* ---- deferred tasks ---- */

static void on_idle(uv_idle_t *idle) {
  sam_runtime *rt = idle->data;
  sam__task *t = rt->tq_head;

  /* Run a snapshot: tasks queued by these tasks wait for the next turn. */
  rt->tq_head = NULL;
  rt->tq_tail = NULL;
  while (t != NULL) {
    sam__task *next = t->next;

    t->next = NULL;
    t->queued = 0;
    t->fn(t);
    t = next;
  }
  if (rt->tq_head == NULL)
    uv_idle_stop(&rt->idle);
}

void sam__defer(sam_runtime *rt, sam__task *t) {
  if (t->queued || rt->closed)
    return;
  t->queued = 1;
  t->next = NULL;
  if (rt->tq_tail != NULL)
    rt->tq_tail->next = t;
  else
    rt->tq_head = t;
  rt->tq_tail = t;
  if (!uv_is_active((uv_handle_t *)&rt->idle))
    uv_idle_start(&rt->idle, on_idle);
}

/* ---- logging and violations ---- */

void sam__log(sam_runtime *rt,
              int32_t level,
              const char *plugin,
              const char *job_id,
              const char *fmt,
              ...) {
  char line[2048];
  va_list ap;

  if (rt->log_fn == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  rt->log_fn(rt->log_ud, level, plugin, job_id, line);
}

void sam__violation(sam_runtime *rt, const char *plugin, const char *fmt, ...) {
  char line[1024];
  size_t len;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  len = strlen(line);
  if (rt->vlen + len + 2 > rt->vcap) {
    size_t cap = (rt->vcap + len + 2) * 2;
    char *p = realloc(rt->violations, cap);

    if (p != NULL) {
      rt->violations = p;
      rt->vcap = cap;
    }
  }
  if (rt->vlen + len + 2 <= rt->vcap) {
    memcpy(rt->violations + rt->vlen, line, len);
    rt->vlen += len;
    rt->violations[rt->vlen++] = '\n';
    rt->violations[rt->vlen] = '\0';
  }
  sam__log(rt, SAM_LOG_ERROR, plugin, NULL, "contract violation: %s", line);
#ifndef NDEBUG
  if (!rt->test_mode)
    abort();
#endif
}

int sam__on_loop(sam_runtime *rt, const char *fn) {
  uv_thread_t self = uv_thread_self();

  if (uv_thread_equal(&self, &rt->loop_thread))
    return 0;
  sam__violation(rt, NULL, "host function called off the loop thread [fn=%s]",
                 fn);
  return SAM_EBUSY;
}

sam_host *sam__host_check(sam_host *h) {
  if (h == NULL || h->magic != SAM__MAGIC_HOST)
    return NULL;
  if (sam__on_loop(h->rt, "host") != 0)
    return NULL;
  return h;
}

const char *sam__runtime_violations(sam_runtime *rt) {
  return rt->violations != NULL ? rt->violations : "";
}

int sam__runtime_faulty_count(sam_runtime *rt) {
  return rt->faulty_count;
}

/* ---- the table ---- */

static struct uv_loop_s *api_get_loop(sam_host *host) {
  sam_host *h = sam__host_check(host);

  return h != NULL ? h->rt->loop : NULL;
}

static void *api_mem_alloc(sam_host *host, size_t size) {
  (void)host;
  return malloc(size == 0 ? 1 : size);
}

static void api_mem_free(sam_host *host, void *ptr) {
  (void)host;
  free(ptr);
}

static const sam_host_api host_api = {
    sizeof(sam_host_api),
    SAM_ABI_MAJOR,
    SAM_ABI_MINOR,
    0,
    api_get_loop,
    sam__api_post,
    sam__api_shutdown_done,
    sam__api_register_profile_type,
    sam__api_register_record_type,
    sam__api_register_process,
    sam__api_register_model,
    sam__api_register_rule_template,
    sam__api_register_action,
    sam__api_job_set_data,
    sam__api_job_progress,
    sam__api_job_complete,
    sam__api_store_get,
    sam__api_store_put_batch,
    sam__api_store_query,
    sam__api_store_delete,
    sam__api_op_cancel,
    sam__api_secret_put,
    sam__api_secret_get,
    sam__api_log_write,
    api_mem_alloc,
    api_mem_free,
};

const sam_host_api *sam__host_api(void) {
  return &host_api;
}

/* ---- handles ---- */

static void on_post_async(uv_async_t *a) {
  sam__post_run(a->data, 0);
}

static void on_done_poll(uv_poll_t *p, int status, int events) {
  sam_runtime *rt = p->data;
  uint64_t n;

  (void)status;
  (void)events;
  /* reset the counter first: a wake-up written after this read is for
   * ops this delivery may not see, and polls again */
  if (read(rt->done_fd, &n, sizeof(n)) < 0) {
    /* EAGAIN: another turn already read it; the list is taken anyway */
  }
  sam__ops_deliver(rt, 0);
}

static void on_shutdown_timer(uv_timer_t *t) {
  sam_runtime *rt = t->data;

  rt->closing_timer_expired = 1;
  sam__runtime_kick_close(rt);
}

void sam__runtime_handle_closed(sam_runtime *rt) {
  rt->open_handles--;
  if (rt->open_handles == 0 && rt->close_stage == 7) {
    rt->close_stage = 8;
    if (rt->close_done != NULL)
      rt->close_done(rt->close_ud);
  }
}

static void on_handle_closed(uv_handle_t *h) {
  sam__runtime_handle_closed(h->data);
}

static void close_handle(sam_runtime *rt, uv_handle_t *h) {
  h->data = rt;
  uv_close(h, on_handle_closed);
}

static void close_step(sam__task *t);

int sam__runtime_new(const sam__runtime_config *cfg, sam_runtime **out) {
  sam_runtime *rt = NULL;
  int rc = SAM_ENOMEM;

  *out = NULL;
  if (cfg == NULL || cfg->loop == NULL || cfg->backend.vt == NULL)
    return SAM_EINVAL;
  rt = calloc(1, sizeof(*rt));
  if (rt == NULL)
    goto fail;
  rt->magic = SAM__MAGIC_RT;
  rt->done_fd = -1;
  rt->loop = cfg->loop;
  rt->loop_thread = uv_thread_self();
  rt->backend = cfg->backend;
  rt->backend_open = 1;
  rt->keyring = cfg->keyring;
  rt->log_fn = cfg->log_fn;
  rt->log_ud = cfg->log_ud;
  rt->test_mode = cfg->test_mode;
  rt->job_grace_ms = cfg->job_grace_ms ? cfg->job_grace_ms : 30000;
  rt->shutdown_deadline_ms =
      cfg->shutdown_deadline_ms ? cfg->shutdown_deadline_ms : 10000;
  rt->action_timeout_ms =
      cfg->action_timeout_ms ? cfg->action_timeout_ms : 30000;
  rt->plugins_tail = &rt->plugins;
  rt->close_task.fn = close_step;
  rt->close_task.owner = rt;
  rc = SAM_EIO;
  if (uv_mutex_init(&rt->post_mu) != 0)
    goto fail;
  if (uv_mutex_init(&rt->done_mu) != 0) {
    uv_mutex_destroy(&rt->post_mu);
    goto fail;
  }
  /* From here on every handle is initialised; init cannot fail for idle
   * and timer, and async init only fails on fd exhaustion. */
  uv_idle_init(rt->loop, &rt->idle);
  rt->idle.data = rt;
  uv_timer_init(rt->loop, &rt->progress_timer);
  rt->progress_timer.data = rt;
  uv_timer_init(rt->loop, &rt->shutdown_timer);
  rt->shutdown_timer.data = rt;
  rt->open_handles = 3;
  if (uv_async_init(rt->loop, &rt->post_async, on_post_async) == 0) {
    rt->post_async.data = rt;
    rt->open_handles++;
  } else {
    goto fail_handles;
  }
  rt->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (rt->done_fd >= 0 &&
      uv_poll_init(rt->loop, &rt->done_poll, rt->done_fd) == 0) {
    rt->done_poll.data = rt;
    rt->open_handles++;
    if (uv_poll_start(&rt->done_poll, UV_READABLE, on_done_poll) != 0) {
      /* no op could ever be delivered; the descriptor goes with
       * sam_runtime_free */
      close_handle(rt, (uv_handle_t *)&rt->done_poll);
      close_handle(rt, (uv_handle_t *)&rt->post_async);
      goto fail_handles;
    }
  } else {
    if (rt->done_fd >= 0)
      close(rt->done_fd);
    rt->done_fd = -1;
    close_handle(rt, (uv_handle_t *)&rt->post_async);
    goto fail_handles;
  }
  *out = rt;
  return 0;

fail_handles:
  /* The runtime is freed by the caller's sam_runtime_free after the loop
   * ran the close callbacks; mark it closed so nothing else starts. */
  rt->closed = 1;
  rt->close_stage = 7;
  close_handle(rt, (uv_handle_t *)&rt->idle);
  close_handle(rt, (uv_handle_t *)&rt->progress_timer);
  close_handle(rt, (uv_handle_t *)&rt->shutdown_timer);
  *out = rt;
  return rc;

fail:
  free(rt);
  return rc;
}

struct uv_loop_s *sam_runtime_loop(sam_runtime *rt) {
  return rt->loop;
}

void sam__runtime_kick_close(sam_runtime *rt) {
  if (rt->stopping && rt->close_stage < 5)
    sam__defer(rt, &rt->close_task);
}

/* ---- close sequence (ABI.md 13.3) ---- */

static void on_backend_closed(void *ud) {
  sam_runtime *rt = ud;
  sam_host *h;

  rt->backend_open = 0;
  /* Anything finished but not yet delivered: host-side callbacks run,
   * plugin ones are dropped (the plugins are stopped). */
  sam__ops_deliver(rt, 1);
  sam__ops_drop_all(rt);
  sam__post_run(rt, 1);
  for (h = rt->plugins; h != NULL; h = h->next)
    sam__registry_free_uds(h);
  rt->close_stage = 7;
  rt->closed = 1;
  sam__jobs_close_handles(rt);
  close_handle(rt, (uv_handle_t *)&rt->idle);
  close_handle(rt, (uv_handle_t *)&rt->progress_timer);
  close_handle(rt, (uv_handle_t *)&rt->shutdown_timer);
  close_handle(rt, (uv_handle_t *)&rt->post_async);
  close_handle(rt, (uv_handle_t *)&rt->done_poll);
  /* uv_close stopped the polling: the descriptor can go now; no op can
   * finish any more (the backend is closed) */
  if (rt->done_fd >= 0)
    close(rt->done_fd);
  rt->done_fd = -1;
}

static void start_deadline(sam_runtime *rt) {
  rt->closing_timer_expired = 0;
  uv_timer_stop(&rt->shutdown_timer);
  uv_timer_start(&rt->shutdown_timer, on_shutdown_timer,
                 rt->shutdown_deadline_ms, 0);
}

static void close_step(sam__task *t) {
  sam_runtime *rt = t->owner;
  sam_host *h;
  int waiting = 0;

  if (rt->close_stage == 1) {
    /* Draining: wait for the cancelled jobs to complete. */
    if (sam__jobs_open(rt) > 0 && !rt->closing_timer_expired)
      return;
    if (sam__jobs_open(rt) > 0)
      sam__jobs_expire_all(rt);
    rt->close_stage = 2;
    start_deadline(rt);
    for (h = rt->plugins; h != NULL; h = h->next) {
      if (h->phase != SAM__PHASE_RUNNING || !h->has_ops)
        continue;
      h->phase = SAM__PHASE_STOPPING;
      h->shutdown_called = 1;
      h->ops.shutdown(h->ops.plugin_ud, &h->done);
    }
    rt->close_stage = 3;
  }
  if (rt->close_stage == 3) {
    for (h = rt->plugins; h != NULL; h = h->next) {
      if (h->shutdown_called && !h->shutdown_finished)
        waiting++;
    }
    if (waiting > 0 && !rt->closing_timer_expired)
      return;
    for (h = rt->plugins; h != NULL; h = h->next) {
      if (h->shutdown_called && !h->shutdown_finished) {
        h->faulty = 1;
        h->degraded = 1;
        h->phase = SAM__PHASE_STOPPED;
        rt->faulty_count++;
        sam__log(rt, SAM_LOG_ERROR, h->name, NULL,
                 "plugin faulty: no shutdown_done within the deadline "
                 "[plugin=%s] [deadline_ms=%llu]",
                 h->name, (unsigned long long)rt->shutdown_deadline_ms);
      }
    }
    uv_timer_stop(&rt->shutdown_timer);
    rt->close_stage = 4;
    /* Owned user data goes last, once the plugins have stopped. */
    for (h = rt->plugins; h != NULL; h = h->next) {
      if (h->phase == SAM__PHASE_RUNNING || h->phase == SAM__PHASE_STOPPING)
        h->phase = SAM__PHASE_STOPPED;
      h->published = 0;
      sam__registry_free_uds(h);
    }
    sam__jobs_free_data(rt);
    rt->close_stage = 5;
    rt->backend.vt->close(rt->backend.self, on_backend_closed, rt);
  }
}

void sam_runtime_close(sam_runtime *rt, void (*done)(void *ud), void *ud) {
  if (rt->stopping)
    return;
  rt->stopping = 1;
  rt->close_done = done;
  rt->close_ud = ud;
  sam__post_close(rt);
  sam__jobs_cancel_all(rt);
  rt->close_stage = 1;
  start_deadline(rt);
  sam__defer(rt, &rt->close_task);
}

void sam_runtime_free(sam_runtime *rt) {
  sam_host *h;

  if (rt == NULL)
    return;
  sam__jobs_free_all(rt);
  sam__registry_free_all(rt);
  h = rt->plugins;
  while (h != NULL) {
    sam_host *next = h->next;

    free(h->name);
    free(h->version);
    free(h->manifest_path);
    h->magic = SAM__MAGIC_DEAD;
    free(h);
    h = next;
  }
  sam__strset_free(&rt->secrets);
  sam__strset_free(&rt->secret_keys);
  free(rt->violations);
  if (rt->done_fd >= 0)
    close(rt->done_fd); /* a runtime freed without its close sequence */
  uv_mutex_destroy(&rt->post_mu);
  uv_mutex_destroy(&rt->done_mu);
  rt->magic = SAM__MAGIC_DEAD;
  free(rt);
}
