/*
 * sched.c: the reference host's scheduler (sam_sched.h): the job table,
 * the one timer, loading the jobs at start with the catch-up runs, run-now,
 * removal, chaining and the asynchronous close. Runs and their result
 * records are in sched_results.c, the time arithmetic in sched_time.c.
 *
 * One non-repeating uv_timer serves everything that waits: the earliest
 * due job (its delay divided by the time scale), run deadlines and
 * coalesced progress writes (real loop time), and store retries.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "sched_int.h"

/* The timer re-checks at least weekly. */
#define MAX_TIMER_MS (7ull * 24 * 3600 * 1000)

static void on_timer(uv_timer_t *t);

/* ---- clock and logging ---- */

static int64_t real_now_ms(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return 0;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int scaled(const sam_sched *s) {
  return s->scale > 0 && s->scale != 1.0;
}

int64_t sam__sched_clock(sam_sched *s) {
  int64_t real;

  if (s->now != NULL)
    return s->now(s->now_ud);
  real = real_now_ms();
  if (scaled(s))
    return s->t0_virtual + (int64_t)((double)(real - s->t0_real) * s->scale);
  return real;
}

int64_t sam_sched_now(sam_sched *s) {
  return sam__sched_clock(s);
}

void sam__sched_log(sam_sched *s, int32_t level, const char *fmt, ...) {
  char line[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  sam__host_api()->log_write(s->host, NULL, level, line, strlen(line));
}

/* ---- the job table ---- */

sam__sched_job *
sam__sched_find_job(sam_sched *s, const char *key, int removed) {
  sam__sched_job *j;

  for (j = s->jobs; j != NULL; j = j->next) {
    if (j->removed == removed && strcmp(j->key, key) == 0)
      return j;
  }
  return NULL;
}

static void job_free(sam__sched_job *j) {
  sam__sched_waiter *w = j->waiters;

  while (w != NULL) {
    sam__sched_waiter *next = w->next;

    free(w);
    w = next;
  }
  free(j->key);
  free(j->profile_id);
  free(j->process_id);
  free(j->plugin);
  free(j->display_name);
  free(j->name);
  free(j->profile_json);
  free(j->params_json);
  free(j);
}

void sam__sched_job_maybe_free(sam__sched_job *j) {
  sam__sched_job **pp;

  if (!j->removed || j->run != NULL || !sam__sched_writer_idle(&j->w) ||
      j->waiters != NULL)
    return;
  for (pp = &j->s->jobs; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == j) {
      *pp = j->next;
      break;
    }
  }
  job_free(j);
}

/* The job's record was written or deleted: tell who waited. */
static void job_settled(void *owner, int status) {
  sam__sched_job *j = owner;
  sam__sched_waiter *w = j->waiters;

  j->waiters = NULL;
  while (w != NULL) {
    sam__sched_waiter *next = w->next;

    w->cb(status, w->ud);
    free(w);
    w = next;
  }
  sam__sched_job_maybe_free(j);
}

static int add_waiter(sam__sched_job *j, void (*cb)(int, void *), void *ud) {
  sam__sched_waiter *w, **pp;

  if (cb == NULL)
    return 0;
  w = calloc(1, sizeof(*w));
  if (w == NULL)
    return SAM_ENOMEM;
  w->cb = cb;
  w->ud = ud;
  for (pp = &j->waiters; *pp != NULL; pp = &(*pp)->next)
    ;
  *pp = w;
  return 0;
}

sam__sched_job *sam__sched_job_new(sam_sched *s,
                                   const char *profile_id,
                                   const char *process_id) {
  sam__sched_job *j = calloc(1, sizeof(*j));
  size_t klen;

  if (j == NULL)
    return NULL;
  klen = strlen(profile_id) + strlen(process_id) + 2;
  j->key = malloc(klen);
  j->profile_id = strdup(profile_id);
  j->process_id = strdup(process_id);
  if (j->key == NULL || j->profile_id == NULL || j->process_id == NULL) {
    job_free(j);
    return NULL;
  }
  snprintf(j->key, klen, "%s:%s", profile_id, process_id);
  j->s = s;
  j->active = 1;
  j->spread_s = sam__sched_spread_s(profile_id, s->spread_window_s);
  j->next_run_at =
      sam__sched_next_due(sam__sched_clock(s), s->at_s, j->spread_s);
  j->last_run_at = SAM__SCHED_NONE;
  j->stored_next_run_at = SAM__SCHED_NONE;
  j->w.s = s;
  j->w.type = SAM_SCHED_JOB_TYPE;
  j->w.key = j->key;
  j->w.render = sam__sched_job_json;
  j->w.settled = job_settled;
  j->w.owner = j;
  j->next = s->jobs;
  s->jobs = j;
  return j;
}

/* Replaces *dst with a copy of src (NULL keeps NULL). 0 or SAM_ENOMEM. */
int sam__sched_set_str(char **dst, const char *src) {
  char *c = NULL;

  if (src != NULL) {
    c = strdup(src);
    if (c == NULL)
      return SAM_ENOMEM;
  }
  free(*dst);
  *dst = c;
  return 0;
}

/* The display name of process_id in the registry (plugin may be NULL). */
static char *
process_display_name(sam_sched *s, const char *plugin, const char *process_id) {
  char *text = sam_runtime_registry_json(s->rt);
  json_object *root = text != NULL ? json_tokener_parse(text) : NULL;
  json_object *plugins, *p, *procs, *proc, *v;
  char *out = NULL;
  size_t i, k;

  free(text);
  if (root == NULL || !json_object_object_get_ex(root, "plugins", &plugins))
    goto done;
  for (i = 0; out == NULL && i < json_object_array_length(plugins); i++) {
    p = json_object_array_get_idx(plugins, i);
    if (plugin != NULL && (!json_object_object_get_ex(p, "name", &v) ||
                           strcmp(json_object_get_string(v), plugin) != 0))
      continue;
    if (!json_object_object_get_ex(p, "processes", &procs))
      continue;
    for (k = 0; k < json_object_array_length(procs); k++) {
      proc = json_object_array_get_idx(procs, k);
      if (json_object_object_get_ex(proc, "process_id", &v) &&
          strcmp(json_object_get_string(v), process_id) == 0 &&
          json_object_object_get_ex(proc, "display_name", &v)) {
        out = strdup(json_object_get_string(v));
        break;
      }
    }
  }
done:
  json_object_put(root);
  return out;
}

/* "SAM - Refresh <display> Subscriptions" for the download process (the
 * reference's name, SAM-MODEL.md 4), "SAM - <Process> <display>" else. */
int sam__sched_job_set_name(sam_sched *s, sam__sched_job *j) {
  char buf[301];
  char *proc;

  if (strcmp(j->process_id, "download") == 0) {
    snprintf(buf, sizeof(buf), "SAM - Refresh %s Subscriptions",
             j->display_name);
  } else {
    proc = process_display_name(s, j->plugin, j->process_id);
    snprintf(buf, sizeof(buf), "SAM - %s %s",
             proc != NULL ? proc : j->process_id, j->display_name);
    free(proc);
  }
  return sam__sched_set_str(&j->name, buf);
}

static int id_ok(const char *id, size_t max, const char *extra) {
  size_t n = id != NULL ? strlen(id) : 0;
  size_t i;

  if (n == 0 || n > max)
    return 0;
  for (i = 0; i < n; i++) {
    char c = id[i];

    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          (extra != NULL && c != '\0' && strchr(extra, c) != NULL)))
      return 0;
  }
  return 1;
}

int sam_sched_ensure_job_ex(sam_sched *s,
                            const sam_sched_job_spec *spec,
                            void (*cb)(int status, void *ud),
                            void *ud) {
  sam__sched_job *j;
  int rc = SAM_ENOMEM;

  if (s == NULL || spec == NULL || spec->display_name == NULL ||
      !id_ok(spec->profile_id, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-") ||
      !id_ok(spec->process_id, 64, NULL))
    return SAM_EINVAL;
  if (s->closing)
    return SAM_EBUSY;
  {
    char key[140];

    snprintf(key, sizeof(key), "%s:%s", spec->profile_id, spec->process_id);
    j = sam__sched_find_job(s, key, 0);
    if (j == NULL) {
      /* Removed but its delete still runs: bring it back (the writer
       * writes again after the delete). */
      j = sam__sched_find_job(s, key, 1);
      if (j != NULL) {
        j->removed = 0;
        if (!j->w.deleting)
          j->w.want_delete = 0;
      }
    }
  }
  if (j == NULL) {
    j = sam__sched_job_new(s, spec->profile_id, spec->process_id);
    if (j == NULL)
      return SAM_ENOMEM;
  }
  if (sam__sched_set_str(&j->display_name, spec->display_name) != 0 ||
      sam__sched_set_str(&j->plugin, spec->plugin) != 0 ||
      (spec->profile_json != NULL &&
       sam__sched_set_str(&j->profile_json, spec->profile_json) != 0) ||
      sam__sched_set_str(&j->params_json, spec->params_json) != 0 ||
      sam__sched_job_set_name(s, j) != 0)
    goto fail;
  j->deadline_s = spec->deadline_s;
  j->active = !spec->inactive;
  rc = add_waiter(j, cb, ud);
  if (rc != 0)
    goto fail;
  /* Before the jobs are loaded a write could race the load's read of
   * last_run_at: the load writes every job when it has finished. */
  if (s->started)
    sam__sched_writer_kick(&j->w);
  sam__sched_rearm(s);
  return 0;

fail:
  if (j->name == NULL) {
    j->removed = 1;
    sam__sched_job_maybe_free(j);
  }
  return rc;
}

int sam_sched_ensure_job(sam_sched *s,
                         const char *profile_id,
                         const char *display_name,
                         const char *process_id,
                         const char *profile_json,
                         void (*cb)(int status, void *ud),
                         void *ud) {
  sam_sched_job_spec spec;

  memset(&spec, 0, sizeof(spec));
  spec.profile_id = profile_id;
  spec.display_name = display_name;
  spec.process_id = process_id;
  spec.profile_json = profile_json;
  return sam_sched_ensure_job_ex(s, &spec, cb, ud);
}

/* ---- removal ---- */

typedef struct remove_ctx {
  sam_sched *s;
  size_t pending;
  int status;
  void (*cb)(int status, void *ud);
  void *ud;
} remove_ctx;

static void remove_ctx_done(void *ud) {
  remove_ctx *c = ud;

  if (c->cb != NULL)
    c->cb(c->status, c->ud);
  free(c);
}

static void remove_one_done(int status, void *ud) {
  remove_ctx *c = ud;

  if (status != 0 && c->status == 0)
    c->status = status;
  if (--c->pending == 0)
    remove_ctx_done(c);
}

int sam_sched_remove_jobs(sam_sched *s,
                          const char *profile_id,
                          void (*cb)(int status, void *ud),
                          void *ud) {
  sam__sched_job *j;
  remove_ctx *c;
  int rc;

  if (s == NULL || profile_id == NULL)
    return SAM_EINVAL;
  if (s->closing)
    return SAM_EBUSY;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return SAM_ENOMEM;
  c->s = s;
  c->cb = cb;
  c->ud = ud;
  c->pending = 1; /* this call's own reference */
  for (j = s->jobs; j != NULL; j = j->next) {
    if (j->removed || strcmp(j->profile_id, profile_id) != 0)
      continue;
    if (add_waiter(j, remove_one_done, c) != 0) {
      c->status = SAM_ENOMEM;
      continue;
    }
    c->pending++;
    j->removed = 1;
    if (j->run != NULL && !j->run->finished) {
      rc = sam_runtime_job_cancel(s->rt, j->run->id);
      j->run->cancel_requested = 1;
      sam__sched_log(s, SAM_LOG_INFO,
                     "job removed, cancelling its run [job_key=%s] [job=%s] "
                     "[cancel=%s]",
                     j->key, j->run->id, sam_err_name(rc));
    }
    sam__sched_writer_delete(&j->w);
  }
  if (--c->pending == 0) {
    /* Nothing to delete: answer on a later turn all the same. */
    rc = sam__host_api()->post(s->host, remove_ctx_done, c);
    if (rc != 0) {
      free(c);
      return rc;
    }
  }
  sam__sched_rearm(s);
  return 0;
}

/* ---- run-now, cancel, progress ---- */

static int trigger_ok(const char *t) {
  static const char *const ok[] = {"schedule", "run_now", "catch_up", "api",
                                   "chained"};
  size_t i;

  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    if (strcmp(ok[i], t) == 0)
      return 1;
  }
  return 0;
}

int sam_sched_run_now(sam_sched *s,
                      const char *job_key,
                      uint32_t flags,
                      const char *trigger,
                      char *job_id_out,
                      sam_sched_done_fn done,
                      void *ud) {
  sam__sched_job *j;

  if (s == NULL || job_key == NULL)
    return SAM_EINVAL;
  if (trigger == NULL)
    trigger = "run_now";
  if (!trigger_ok(trigger))
    return SAM_EINVAL;
  if (s->closing)
    return SAM_EBUSY;
  j = sam__sched_find_job(s, job_key, 0);
  if (j == NULL)
    return SAM_ENOENT;
  if (j->run != NULL) {
    if (job_id_out != NULL)
      memcpy(job_id_out, j->run->id, SAM_JOB_ID_LEN);
    return SAM_EBUSY;
  }
  return sam__sched_run_start(j, trigger, flags, done, ud, job_id_out);
}

int sam_sched_cancel(sam_sched *s, const char *job_id) {
  sam__sched_run *r;

  if (s == NULL || job_id == NULL)
    return SAM_EINVAL;
  for (r = s->runs; r != NULL; r = r->next) {
    if (!r->finished && strcmp(r->id, job_id) == 0) {
      int rc = sam_runtime_job_cancel(s->rt, r->id);

      if (rc == 0)
        r->cancel_requested = 1;
      return rc;
    }
  }
  return SAM_ENOENT;
}

char *sam_sched_progress_json(sam_sched *s) {
  json_object *root = json_object_new_object();
  sam__sched_run *r;
  char buf[40];
  char *out;

  if (root == NULL)
    return NULL;
  for (r = s->runs; r != NULL; r = r->next) {
    json_object *o;

    if (r->finished)
      continue;
    o = json_object_new_object();
    if (o == NULL)
      continue;
    json_object_object_add(o, "job_key", json_object_new_string(r->job->key));
    json_object_object_add(o, "trigger", json_object_new_string(r->trigger));
    sam__sched_fmt_time(r->started_at, buf, sizeof(buf));
    json_object_object_add(o, "started_at", json_object_new_string(buf));
    json_object_object_add(o, "done",
                           json_object_new_int64((int64_t)r->p_done));
    json_object_object_add(o, "total",
                           json_object_new_int64((int64_t)r->p_total));
    json_object_object_add(
        o, "message", json_object_new_string(r->p_msg != NULL ? r->p_msg : ""));
    json_object_object_add(o, "cancel_requested",
                           json_object_new_boolean(r->cancel_requested));
    json_object_object_add(root, r->id, o);
  }
  out = strdup(json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(root);
  return out;
}

/* ---- chaining ---- */

int sam_sched_add_chain(sam_sched *s,
                        const char *from,
                        const char *to,
                        const char *field) {
  sam__sched_chain *v, *c;

  if (s == NULL || !id_ok(from, 64, NULL) || !id_ok(to, 64, NULL) ||
      field == NULL || field[0] == '\0')
    return SAM_EINVAL;
  v = realloc(s->chains, (s->n_chains + 1) * sizeof(*v));
  if (v == NULL)
    return SAM_ENOMEM;
  s->chains = v;
  c = &v[s->n_chains];
  c->from = strdup(from);
  c->to = strdup(to);
  c->field = strdup(field);
  if (c->from == NULL || c->to == NULL || c->field == NULL) {
    free(c->from);
    free(c->to);
    free(c->field);
    return SAM_ENOMEM;
  }
  s->n_chains++;
  return 0;
}

/* Is the boolean `field` true in the profile JSON (or its "form")? */
static int profile_flag(const char *profile_json, const char *field) {
  json_object *root, *v, *form;
  int on = 0;

  if (profile_json == NULL)
    return 0;
  root = json_tokener_parse(profile_json);
  if (root == NULL)
    return 0;
  if (json_object_object_get_ex(root, field, &v)) {
    on =
        json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
  } else if (json_object_object_get_ex(root, "form", &form) &&
             json_object_object_get_ex(form, field, &v)) {
    on =
        json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
  }
  json_object_put(root);
  return on;
}

void sam__sched_chain_after(sam_sched *s, sam__sched_job *job) {
  sam__sched_job *next;
  char key[140];
  size_t i;
  int rc;

  for (i = 0; i < s->n_chains; i++) {
    const sam__sched_chain *c = &s->chains[i];

    if (strcmp(c->from, job->process_id) != 0 ||
        !profile_flag(job->profile_json, c->field))
      continue;
    snprintf(key, sizeof(key), "%s:%s", job->profile_id, c->to);
    next = sam__sched_find_job(s, key, 0);
    if (next == NULL)
      continue;
    if (next->run != NULL) {
      sam__sched_log(s, SAM_LOG_INFO,
                     "chained job already running [job_key=%s] [job=%s]", key,
                     next->run->id);
      continue;
    }
    rc = sam__sched_run_start(next, "chained", 0, NULL, NULL, NULL);
    if (rc != 0)
      sam__sched_log(s, SAM_LOG_WARN,
                     "chained job did not start [job_key=%s] [status=%s]", key,
                     sam_err_name(rc));
  }
}

/* ---- the timer ---- */

static void on_timer_closed(uv_handle_t *h) {
  sam_sched *s = h->data;

  s->timer_open = 0;
  if (s->close_done != NULL)
    s->close_done(s->close_ud);
}

static int all_idle(sam_sched *s) {
  sam__sched_job *j;

  if (s->runs != NULL || s->ops_inflight > 0 || s->starting)
    return 0;
  for (j = s->jobs; j != NULL; j = j->next) {
    if (!sam__sched_writer_idle(&j->w) || j->waiters != NULL)
      return 0;
  }
  return 1;
}

/* Closing without ever starting: the jobs ensured meanwhile were never
 * written (the load writes them), so their callbacks get SAM_ECANCELED. */
static int unstarted_waiters(sam_sched *s) {
  sam__sched_job *j;

  if (!s->closing || s->started || s->starting)
    return 0;
  for (j = s->jobs; j != NULL; j = j->next) {
    if (j->waiters != NULL && sam__sched_writer_idle(&j->w))
      return 1;
  }
  return 0;
}

static void cancel_unstarted_waiters(sam_sched *s) {
  sam__sched_job *j;

  for (j = s->jobs; j != NULL; j = j->next) {
    sam__sched_waiter *w = j->waiters;

    if (!sam__sched_writer_idle(&j->w))
      continue;
    j->waiters = NULL;
    while (w != NULL) {
      sam__sched_waiter *next = w->next;

      w->cb(SAM_ECANCELED, w->ud);
      free(w);
      w = next;
    }
  }
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

static uint64_t writer_wake(const sam__sched_writer *w, uint64_t now_uv) {
  if (w->fail_rc != 0)
    return now_uv;
  if (w->retry)
    return now_uv + SAM__SCHED_RETRY_MS;
  return UINT64_MAX;
}

void sam__sched_rearm(sam_sched *s) {
  uint64_t now_uv, wake = UINT64_MAX;
  sam__sched_job *j;
  sam__sched_run *r;

  if (!s->timer_open || s->closed || s->in_tick)
    return;
  if (s->closing && all_idle(s)) {
    s->closed = 1;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    return;
  }
  now_uv = uv_now(s->loop);
  if (s->starting && s->start_pending == 0 && s->start_status != 0)
    wake = now_uv; /* a failed load call: finish it from the timer */
  if (s->start_retry)
    wake = min_u64(wake, now_uv + SAM__SCHED_RETRY_MS);
  if (unstarted_waiters(s))
    wake = now_uv;
  for (j = s->jobs; j != NULL; j = j->next)
    wake = min_u64(wake, writer_wake(&j->w, now_uv));
  for (r = s->runs; r != NULL; r = r->next) {
    wake = min_u64(wake, writer_wake(&r->w, now_uv));
    if (!r->finished && !r->deadline_hit)
      wake = min_u64(wake, r->deadline_uv);
    if (r->progress_dirty)
      wake = min_u64(wake, r->progress_next_uv);
  }
  if (s->started && !s->closing) {
    int64_t now = sam__sched_clock(s);

    for (j = s->jobs; j != NULL; j = j->next) {
      double d;

      if (j->removed || !j->active || j->next_run_at == SAM__SCHED_NONE)
        continue;
      d = (double)(j->next_run_at - now);
      if (d <= 0) {
        wake = now_uv;
        break;
      }
      if (scaled(s))
        d = ceil(d / s->scale);
      wake = min_u64(wake, now_uv + (uint64_t)fmin(d, (double)MAX_TIMER_MS));
    }
  }
  uv_timer_stop(&s->timer);
  if (wake != UINT64_MAX)
    uv_timer_start(&s->timer, on_timer, wake > now_uv ? wake - now_uv : 0, 0);
}

/* Runs every job that is due at the scheduler's clock. */
static void run_due(sam_sched *s) {
  int64_t now = sam__sched_clock(s);
  sam__sched_job *j;
  int rc;

  for (j = s->jobs; j != NULL; j = j->next) {
    if (j->removed || !j->active || j->next_run_at == SAM__SCHED_NONE ||
        j->next_run_at > now)
      continue;
    j->next_run_at = sam__sched_next_due(now, s->at_s, j->spread_s);
    if (j->run != NULL) {
      /* No overlap: this day's run is skipped, the next one stands. */
      sam__sched_log(s, SAM_LOG_WARN,
                     "scheduled run skipped: still running [job_key=%s] "
                     "[job=%s]",
                     j->key, j->run->id);
      sam__sched_writer_kick(&j->w);
      continue;
    }
    rc = sam__sched_run_start(j, "schedule", 0, NULL, NULL, NULL);
    if (rc != 0)
      sam__sched_writer_kick(&j->w); /* keep next_run_at current */
  }
}

static void on_timer(uv_timer_t *t) {
  sam_sched *s = t->data;
  uint64_t now_uv = uv_now(s->loop);
  sam__sched_job *j, *jn;
  sam__sched_run *r, *rn;

  s->in_tick = 1;
  sam__sched_start_timer(s);
  if (unstarted_waiters(s))
    cancel_unstarted_waiters(s);
  for (j = s->jobs; j != NULL; j = jn) {
    jn = j->next;
    sam__sched_writer_timer(&j->w);
  }
  for (r = s->runs; r != NULL; r = rn) {
    rn = r->next;
    sam__sched_writer_timer(&r->w);
  }
  for (r = s->runs; r != NULL; r = r->next)
    (void)sam__sched_run_timer(r, now_uv);
  if (s->started && !s->closing)
    run_due(s);
  s->in_tick = 0;
  sam__sched_rearm(s);
}

void sam_sched_poke(sam_sched *s) {
  if (s->started && !s->closing && !s->in_tick) {
    s->in_tick = 1;
    run_due(s);
    s->in_tick = 0;
  }
  sam__sched_rearm(s);
}

/* ---- lifecycle ---- */

int sam_sched_new(const sam_sched_config *cfg,
                  sam_sched **out,
                  char *err,
                  size_t err_len) {
  sam_sched *s = NULL;
  const char *at;
  int rc = SAM_ENOMEM;

  *out = NULL;
  if (cfg == NULL || cfg->rt == NULL) {
    snprintf(err, err_len, "scheduler config needs a runtime");
    return SAM_EINVAL;
  }
  at = cfg->daily_at != NULL ? cfg->daily_at : "02:00";
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    goto fail;
  if (sam__sched_parse_daily(at, &s->at_s) != 0) {
    snprintf(err, err_len, "bad daily time [daily_at=%s]; use HH:MM (UTC)", at);
    rc = SAM_EINVAL;
    goto fail;
  }
  snprintf(s->daily_at, sizeof(s->daily_at), "%s", at);
  s->rt = cfg->rt;
  s->loop = sam_runtime_loop(cfg->rt);
  s->host = sam_runtime_host_handle(cfg->rt);
  if (s->host == NULL) {
    snprintf(err, err_len, "no host handle from the runtime (stopping?)");
    rc = SAM_EBUSY;
    goto fail;
  }
  s->now = cfg->now;
  s->now_ud = cfg->now_ud;
  s->scale = cfg->time_scale;
  s->t0_real = real_now_ms();
  s->t0_virtual = s->t0_real;
  s->spread_window_s = cfg->spread_window_s ? cfg->spread_window_s : 3600;
  s->default_deadline_ms =
      cfg->default_deadline_ms ? cfg->default_deadline_ms : 6ull * 3600000;
  s->catch_up = cfg->catch_up;
  rc = sam_sched_add_chain(s, "download", "reclaim", "reclaim_enabled");
  if (rc != 0) {
    snprintf(err, err_len, "out of memory");
    goto fail;
  }
  uv_timer_init(s->loop, &s->timer); /* cannot fail for a timer */
  s->timer.data = s;
  s->timer_open = 1;
  *out = s;
  return 0;

fail:
  sam_sched_free(s);
  return rc;
}

void sam_sched_close(sam_sched *s, void (*done)(void *ud), void *ud) {
  sam__sched_run *r;
  int rc;

  if (s->closing)
    return;
  s->closing = 1;
  s->close_done = done;
  s->close_ud = ud;
  for (r = s->runs; r != NULL; r = r->next) {
    if (r->finished)
      continue;
    rc = sam_runtime_job_cancel(s->rt, r->id);
    r->cancel_requested = 1;
    sam__sched_log(s, SAM_LOG_INFO,
                   "scheduler closing, cancelling [job_key=%s] [job=%s] "
                   "[cancel=%s]",
                   r->job->key, r->id, sam_err_name(rc));
  }
  sam__sched_rearm(s);
}

void sam_sched_free(sam_sched *s) {
  sam__sched_job *j;
  size_t i;

  if (s == NULL)
    return;
  j = s->jobs;
  while (j != NULL) {
    sam__sched_job *next = j->next;

    job_free(j);
    j = next;
  }
  for (i = 0; i < s->n_chains; i++) {
    free(s->chains[i].from);
    free(s->chains[i].to);
    free(s->chains[i].field);
  }
  free(s->chains);
  free(s->start_cursor);
  free(s);
}
