/*
 * jobs.c: processes and actions run as jobs (ABI.md 9.5 and section 11):
 * deferred start (C4), exactly-once completion (C2), cancel at most once
 * and never after completion (C3), deadlines, the grace period and
 * tombstones, coalesced progress.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "runtime_int.h"

static void job_finish_task(sam__task *t);

static void on_progress_timer(uv_timer_t *t) {
  sam__jobs_flush_progress(t->data);
}

/* ---- helpers ---- */

sam_job *sam__job_check(sam_job *job) {
  if (job == NULL || job->magic != SAM__MAGIC_JOB)
    return NULL;
  return job;
}

static const char *job_what(const sam_job *j) {
  return j->kind == SAM_JOB_ACTION ? "action" : "process";
}

static int can_cancel(const sam_job *j) {
  if (j->reg->cancel == NULL)
    return 0;
  return j->kind == SAM_JOB_ACTION || (j->reg->flags & SAM_PROC_CANCELLABLE);
}

static int job_open(const sam_job *j) {
  return j->state == SAM__JOB_STARTING || j->state == SAM__JOB_RUNNING;
}

/* One line of plugin text, redacted: newlines become spaces. */
static char *redact_line(sam_runtime *rt, const char *msg) {
  char *s, *p;

  if (msg == NULL)
    return sam__strdup("");
  s = sam__redact(rt, msg, strlen(msg));
  for (p = s; p != NULL && *p != '\0'; p++) {
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  }
  return s;
}

static void on_timer_closed(uv_handle_t *handle) {
  sam_job *j = handle->data;

  j->timer_open = 0;
  sam__runtime_handle_closed(j->rt);
}

static void close_timer(sam_job *j) {
  if (j->timer_open && !uv_is_closing((uv_handle_t *)&j->timer))
    uv_close((uv_handle_t *)&j->timer, on_timer_closed);
}

/* The host completes the job itself (rejected start, cancelled before
 * start, plugin not running). */
static void host_complete(sam_job *j, int status, const char *msg) {
  j->state = SAM__JOB_COMPLETED;
  j->status = status;
  free(j->message);
  j->message = sam__strdup(msg);
  uv_timer_stop(&j->timer);
  sam__defer(j->rt, &j->finish_task);
}

static void job_cancel_task(sam__task *t) {
  sam_job *j = t->owner;

  /* Checked here, at delivery, not when queued: a completion that arrived
   * on the same turn as the cancel wins, and cancel is never sent after. */
  if (j->state != SAM__JOB_RUNNING || j->cancel_sent || !can_cancel(j))
    return;
  j->cancel_sent = 1;
  j->reg->cancel(j, j->reg->ud);
}

static void on_job_timer(uv_timer_t *timer);

static void arm_grace(sam_job *j) {
  j->timer_grace = 1;
  uv_timer_stop(&j->timer);
  uv_timer_start(&j->timer, on_job_timer, j->rt->job_grace_ms, 0);
}

/* A cancel request: user, deadline or shutdown. */
static void request_cancel(sam_job *j, const char *why) {
  if (j->cancel_requested || j->finished)
    return;
  j->cancel_requested = 1;
  if (j->state == SAM__JOB_QUEUED || j->state == SAM__JOB_STARTING)
    return; /* handled when start runs or returns */
  if (j->state != SAM__JOB_RUNNING)
    return;
  sam__log(j->rt, SAM_LOG_INFO, j->h->name, j->id,
           "cancelling %s [job=%s] [%s=%s] [reason=%s]", job_what(j), j->id,
           job_what(j), j->reg->id, why);
  if (can_cancel(j)) {
    sam__defer(j->rt, &j->cancel_task);
    arm_grace(j);
  }
}

static void job_timed_out(sam_job *j, const char *why) {
  j->state = SAM__JOB_TIMEDOUT;
  j->status = SAM_ETIMEDOUT;
  j->h->degraded = 1;
  free(j->message);
  j->message = sam__strdup(why);
  sam__log(j->rt, SAM_LOG_ERROR, j->h->name, j->id,
           "job not completed: %s [job=%s] [%s=%s]; plugin marked degraded",
           why, j->id, job_what(j), j->reg->id);
  uv_timer_stop(&j->timer);
}

static void on_job_timer(uv_timer_t *timer) {
  sam_job *j = timer->data;

  if (j->state != SAM__JOB_RUNNING)
    return;
  if (!j->timer_grace) {
    sam__log(j->rt, SAM_LOG_WARN, j->h->name, j->id,
             "deadline passed [job=%s] [timeout_ms=%llu]", j->id,
             (unsigned long long)j->timeout_ms);
    if (can_cancel(j) && !j->cancel_requested) {
      request_cancel(j, "deadline");
    } else {
      arm_grace(j); /* C3: not cancellable, so C2 applies from now */
    }
    return;
  }
  job_timed_out(j, "no completion within the grace period");
  sam__defer(j->rt, &j->finish_task);
}

/* ---- start ---- */

static void job_start_task(sam__task *t) {
  sam_job *j = t->owner;
  sam_job_input in;
  int rc;

  if (j->cancel_requested) {
    host_complete(j, SAM_ECANCELED, "cancelled before start");
    return;
  }
  if (j->h->phase != SAM__PHASE_RUNNING) {
    host_complete(j, SAM_EBUSY, "plugin not running");
    return;
  }
  memset(&in, 0, sizeof(in));
  in.struct_size = sizeof(in);
  in.kind = j->kind;
  in.flags = j->flags;
  j->deadline_ms = uv_now(j->rt->loop) + j->timeout_ms;
  in.deadline_ms = j->deadline_ms;
  in.job_id = j->id;
  in.profile_id = j->profile_id;
  in.profile_json = j->profile_json;
  in.profile_len = j->profile_len;
  in.params_json = j->params_json;
  in.params_len = j->params_len;
  in.redirect_uri = j->redirect_uri;
  in.oauth_state = j->oauth_state;
  in.oauth_code = j->oauth_code;
  j->state = SAM__JOB_STARTING;
  j->in_start = 1;
  rc = j->reg->start(j, &in, j->reg->ud);
  j->in_start = 0;
  if (j->state != SAM__JOB_STARTING) {
    /* Completed inside start (C1): its finish is already queued and runs
     * on a later turn, after start has returned. */
    if (rc < 0)
      sam__violation(j->rt, j->h->name,
                     "start completed the job and then rejected it "
                     "[job=%s] [%s=%s] [rc=%s]",
                     j->id, job_what(j), j->reg->id, sam_err_name(rc));
    return;
  }
  if (rc < 0) {
    char msg[128];

    snprintf(msg, sizeof(msg), "start rejected the job [%s]", sam_err_name(rc));
    host_complete(j, rc, msg);
    return;
  }
  j->state = SAM__JOB_RUNNING;
  j->timer_grace = 0;
  uv_timer_start(&j->timer, on_job_timer, j->timeout_ms, 0);
  if (j->cancel_requested) {
    j->cancel_requested = 0;
    request_cancel(j, "requested during start");
  }
}

static sam__reg *find_job_reg(sam_runtime *rt, const sam_job_request *req) {
  int kind = req->kind == SAM_JOB_ACTION ? SAM__REG_ACTION : SAM__REG_PROCESS;
  sam_host *h;

  if (req->plugin == NULL)
    return sam__registry_find(rt, NULL, kind, req->id);
  for (h = rt->plugins; h != NULL; h = h->next) {
    if (h->published && strcmp(h->name, req->plugin) == 0)
      return sam__registry_find(rt, h, kind, req->id);
  }
  return NULL;
}

static char *dup_len(const char *s, size_t len, size_t *out_len) {
  if (s == NULL) {
    *out_len = 0;
    return NULL;
  }
  if (len == 0)
    len = strlen(s);
  *out_len = len;
  return sam__strndup(s, len);
}

static void job_free(sam_job *j) {
  free(j->profile_id);
  free(j->profile_json);
  free(j->params_json);
  free(j->redirect_uri);
  free(j->oauth_state);
  if (j->oauth_code != NULL) {
    OPENSSL_cleanse(j->oauth_code, strlen(j->oauth_code));
    free(j->oauth_code);
  }
  free(j->message);
  free(j->result);
  free(j->p_msg);
  j->magic = SAM__MAGIC_DEAD;
  free(j);
}

int sam_runtime_job_start(sam_runtime *rt,
                          const sam_job_request *req,
                          char *job_id_out) {
  sam_job *j = NULL;
  sam__reg *reg;
  size_t len;
  int rc = SAM_EINVAL;

  if (rt == NULL || req == NULL || req->done == NULL || req->id == NULL ||
      req->profile_id == NULL ||
      (req->kind != SAM_JOB_PROCESS && req->kind != SAM_JOB_ACTION) ||
      (req->flags & ~(uint32_t)SAM_JOB_DRY_RUN) != 0)
    return SAM_EINVAL;
  if (sam__on_loop(rt, "sam_runtime_job_start") != 0)
    return SAM_EBUSY;
  if (rt->stopping)
    return SAM_EBUSY;
  reg = find_job_reg(rt, req);
  if (reg == NULL)
    return SAM_ENOENT;
  if ((req->flags & SAM_JOB_DRY_RUN) &&
      (req->kind != SAM_JOB_PROCESS || !(reg->flags & SAM_PROC_DRY_RUN)))
    return SAM_EINVAL;
  j = calloc(1, sizeof(*j));
  if (j == NULL)
    return SAM_ENOMEM;
  j->magic = SAM__MAGIC_JOB;
  j->rt = rt;
  j->h = reg->host;
  j->reg = reg;
  j->kind = req->kind;
  j->flags = req->flags;
  j->state = SAM__JOB_QUEUED;
  j->done_fn = req->done;
  j->progress_fn = req->progress;
  j->ud = req->ud;
  j->timeout_ms = req->timeout_ms ? req->timeout_ms : reg->timeout_ms;
  if (j->timeout_ms == 0)
    j->timeout_ms = req->kind == SAM_JOB_ACTION
                        ? rt->action_timeout_ms
                        : SAM__PROCESS_TIMEOUT_DEFAULT_MS;
  j->start_task.fn = job_start_task;
  j->start_task.owner = j;
  j->cancel_task.fn = job_cancel_task;
  j->cancel_task.owner = j;
  j->finish_task.fn = job_finish_task;
  j->finish_task.owner = j;
  rc = sam__random_id(j->id);
  if (rc != 0)
    goto fail;
  rc = SAM_ENOMEM;
  j->profile_id = sam__strdup(req->profile_id);
  j->profile_json = dup_len(req->profile_json ? req->profile_json : "{}",
                            req->profile_json ? req->profile_len : 2, &len);
  j->profile_len = len;
  j->params_json = dup_len(req->params_json, req->params_len, &len);
  j->params_len = len;
  j->redirect_uri = sam__strdup(req->redirect_uri);
  j->oauth_state = sam__strdup(req->oauth_state);
  j->oauth_code = sam__strdup(req->oauth_code);
  if (j->profile_id == NULL || j->profile_json == NULL ||
      (req->params_json && !j->params_json) ||
      (req->redirect_uri && !j->redirect_uri) ||
      (req->oauth_state && !j->oauth_state) ||
      (req->oauth_code && !j->oauth_code))
    goto fail;
  if (j->oauth_code != NULL)
    sam__redact_add_value(rt, j->oauth_code, strlen(j->oauth_code));
  rc = SAM_EIO;
  if (uv_timer_init(rt->loop, &j->timer) != 0)
    goto fail;
  j->timer.data = j;
  j->timer_open = 1;
  rt->open_handles++;
  j->next = rt->jobs;
  rt->jobs = j;
  sam__defer(rt, &j->start_task);
  if (job_id_out != NULL)
    memcpy(job_id_out, j->id, SAM_JOB_ID_LEN);
  return 0;

fail:
  job_free(j);
  return rc;
}

static sam_job *find_job(sam_runtime *rt, const char *id) {
  sam_job *j;

  for (j = rt->jobs; j != NULL && id != NULL; j = j->next) {
    if (strcmp(j->id, id) == 0)
      return j;
  }
  return NULL;
}

int sam_runtime_job_cancel(sam_runtime *rt, const char *job_id) {
  sam_job *j = find_job(rt, job_id);

  if (sam__on_loop(rt, "sam_runtime_job_cancel") != 0)
    return SAM_EBUSY;
  if (j == NULL || j->finished || j->state == SAM__JOB_COMPLETED ||
      j->state == SAM__JOB_TIMEDOUT)
    return SAM_ENOENT;
  if (j->state != SAM__JOB_QUEUED && !can_cancel(j))
    return SAM_ENOTSUP;
  request_cancel(j, "user");
  return 0;
}

int sam_runtime_job_cancel_profile(sam_runtime *rt, const char *profile_id) {
  sam_job *j;
  int n = 0;

  if (rt == NULL || profile_id == NULL ||
      sam__on_loop(rt, "sam_runtime_job_cancel_profile") != 0)
    return SAM_EINVAL;
  for (j = rt->jobs; j != NULL; j = j->next) {
    if (j->finished || j->cancel_requested ||
        strcmp(j->profile_id, profile_id) != 0 ||
        j->state == SAM__JOB_COMPLETED || j->state == SAM__JOB_TIMEDOUT)
      continue;
    if (j->state != SAM__JOB_QUEUED && !can_cancel(j))
      continue;
    request_cancel(j, "profile deleted");
    n++;
  }
  return n;
}

/* ---- the plugin's calls ---- */

int sam__api_job_set_data(sam_job *job, void *data, sam_free_fn free_fn) {
  sam_job *j = sam__job_check(job);

  if (j == NULL || sam__on_loop(j->rt, "job_set_data") != 0)
    return SAM_EINVAL;
  if (!job_open(j)) {
    sam__violation(j->rt, j->h->name,
                   "job_set_data on a finished job [job=%s] [%s=%s]", j->id,
                   job_what(j), j->reg->id);
    return SAM_EINVAL;
  }
  if (j->data_free != NULL && j->data != NULL && j->data != data)
    return SAM_EINVAL; /* already set; the host would lose the first one */
  j->data = data;
  j->data_free = free_fn;
  return 0;
}

int sam__api_job_progress(sam_job *job,
                          uint64_t done,
                          uint64_t total,
                          const char *msg) {
  sam_job *j = sam__job_check(job);
  sam_runtime *rt;
  char *m;

  if (j == NULL || sam__on_loop(j->rt, "job_progress") != 0)
    return SAM_EINVAL;
  rt = j->rt;
  if (!job_open(j))
    return SAM_EINVAL;
  m = msg != NULL ? redact_line(rt, msg) : NULL;
  if (msg != NULL && m == NULL)
    return SAM_ENOMEM;
  free(j->p_msg);
  j->p_msg = m;
  j->p_done = done;
  j->p_total = total;
  j->progress_pending = 1;
  if (!rt->progress_armed && !rt->closed) {
    /* Delivered from the timer: coalesced, and never inside this call. */
    rt->progress_armed = 1;
    uv_timer_start(&rt->progress_timer, on_progress_timer, 0, 0);
  }
  return 0;
}

int sam__api_job_complete(sam_job *job,
                          int status,
                          const char *msg,
                          const char *result_json,
                          size_t result_len) {
  sam_job *j = sam__job_check(job);
  sam_runtime *rt;

  if (j == NULL)
    return SAM_EINVAL;
  rt = j->rt;
  if (sam__on_loop(rt, "job_complete") != 0)
    return SAM_EINVAL;
  if (j->state == SAM__JOB_COMPLETED || j->state == SAM__JOB_TIMEDOUT) {
    j->completions++;
    sam__violation(rt, j->h->name, "%s [job=%s] [%s=%s] [status=%s]",
                   j->state == SAM__JOB_TIMEDOUT
                       ? "late job_complete after the job timed out"
                       : "job_complete called twice",
                   j->id, job_what(j), j->reg->id, sam_err_name(status));
    return SAM_EINVAL;
  }
  if (!job_open(j))
    return SAM_EINVAL;
  if (status > 0) {
    sam__violation(rt, j->h->name,
                   "job_complete with a positive status [job=%s] [status=%d]",
                   j->id, status);
    status = SAM_EINVAL;
  }
  j->completions = 1;
  j->status = status;
  free(j->message);
  j->message = redact_line(rt, msg);
  if (result_json != NULL) {
    if (result_len == 0)
      result_len = strlen(result_json);
    j->result = sam__redact(rt, result_json, result_len);
    j->result_len = j->result != NULL ? strlen(j->result) : 0;
  }
  j->state = SAM__JOB_COMPLETED;
  uv_timer_stop(&j->timer);
  /* Effects on a later turn; inside start that is after start returned. */
  sam__defer(rt, &j->finish_task);
  return 0;
}

/* ---- finish ---- */

static void deliver_progress(sam_job *j) {
  if (!j->progress_pending)
    return;
  j->progress_pending = 0;
  j->p_last = uv_now(j->rt->loop);
  if (j->progress_fn != NULL)
    j->progress_fn(j->id, j->p_done, j->p_total, j->p_msg ? j->p_msg : "",
                   j->ud);
}

static void job_finish_task(sam__task *t) {
  sam_job *j = t->owner;
  sam_runtime *rt = j->rt;
  sam_job_outcome o;
  sam_free_fn data_free;

  if (j->finished)
    return;
  j->finished = 1;
  deliver_progress(j);
  memset(&o, 0, sizeof(o));
  o.status = j->status;
  o.completions = j->completions;
  o.job_id = j->id;
  o.message = j->message ? j->message : "";
  o.result_json = j->result;
  o.result_len = j->result_len;
  sam__log(rt, j->status == 0 ? SAM_LOG_INFO : SAM_LOG_WARN, j->h->name, j->id,
           "job finished [job=%s] [%s=%s] [status=%s] [message=%s]", j->id,
           job_what(j), j->reg->id, sam_err_name(j->status), o.message);
  j->done_fn(&o, j->ud);
  /* A timed-out job's data may still be in use by the plugin: it is freed
   * after the plugin's shutdown instead. */
  if (j->state == SAM__JOB_COMPLETED && j->data_free != NULL) {
    data_free = j->data_free;
    j->data_free = NULL;
    data_free(j->data);
  }
  /* What stays is a small tombstone (id, state, registration), so a late
   * call from the plugin is diagnosed instead of touching freed memory. */
  free(j->result);
  j->result = NULL;
  free(j->p_msg);
  j->p_msg = NULL;
  free(j->message);
  j->message = NULL;
  free(j->profile_json);
  j->profile_json = NULL;
  free(j->params_json);
  j->params_json = NULL;
  free(j->redirect_uri);
  j->redirect_uri = NULL;
  free(j->oauth_state);
  j->oauth_state = NULL;
  if (j->oauth_code != NULL) {
    OPENSSL_cleanse(j->oauth_code, strlen(j->oauth_code));
    free(j->oauth_code);
    j->oauth_code = NULL;
  }
  close_timer(j);
  sam__runtime_kick_close(rt);
}

/* ---- runtime-wide ---- */

void sam__jobs_flush_progress(sam_runtime *rt) {
  uint64_t now = uv_now(rt->loop);
  uint64_t wait = 0;
  sam_job *j;
  int pending = 0;

  for (j = rt->jobs; j != NULL; j = j->next) {
    if (!j->progress_pending || j->finished)
      continue;
    if (j->p_last == 0 || now >= j->p_last + SAM__PROGRESS_INTERVAL_MS) {
      deliver_progress(j);
    } else {
      uint64_t left = j->p_last + SAM__PROGRESS_INTERVAL_MS - now;

      if (!pending || left < wait)
        wait = left;
      pending = 1;
    }
  }
  rt->progress_armed = pending;
  uv_timer_stop(&rt->progress_timer);
  if (pending && !rt->closed)
    uv_timer_start(&rt->progress_timer, on_progress_timer, wait, 0);
}

size_t sam__jobs_open(sam_runtime *rt) {
  size_t n = 0;
  sam_job *j;

  for (j = rt->jobs; j != NULL; j = j->next)
    n += !j->finished;
  return n;
}

void sam__jobs_cancel_all(sam_runtime *rt) {
  sam_job *j;

  for (j = rt->jobs; j != NULL; j = j->next) {
    if (!j->finished)
      request_cancel(j, "shutdown");
  }
}

void sam__jobs_expire_all(sam_runtime *rt) {
  sam_job *j;

  for (j = rt->jobs; j != NULL; j = j->next) {
    if (j->finished)
      continue;
    if (j->state == SAM__JOB_QUEUED) {
      host_complete(j, SAM_ECANCELED, "cancelled before start");
    } else if (job_open(j)) {
      job_timed_out(j, "still open at the shutdown drain deadline");
    }
    j->finish_task.fn(&j->finish_task);
  }
}

void sam__jobs_free_data(sam_runtime *rt) {
  sam_job *j;

  for (j = rt->jobs; j != NULL; j = j->next) {
    sam_free_fn fn = j->data_free;

    if (fn == NULL)
      continue;
    j->data_free = NULL;
    fn(j->data);
  }
}

void sam__jobs_close_handles(sam_runtime *rt) {
  sam_job *j;

  for (j = rt->jobs; j != NULL; j = j->next)
    close_timer(j);
}

void sam__jobs_free_all(sam_runtime *rt) {
  sam_job *j = rt->jobs;

  while (j != NULL) {
    sam_job *next = j->next;

    job_free(j);
    j = next;
  }
  rt->jobs = NULL;
}

char *sam_runtime_jobs_json(sam_runtime *rt) {
  static const char *states[] = {"",        "queued",    "starting",
                                 "running", "completed", "timed_out"};
  json_object *a = json_object_new_array();
  char *out;
  sam_job *j;

  if (a == NULL)
    return NULL;
  for (j = rt->jobs; j != NULL; j = j->next) {
    json_object *o, *p;

    if (j->finished)
      continue;
    o = json_object_new_object();
    p = json_object_new_object();
    json_object_object_add(o, "job_id", json_object_new_string(j->id));
    json_object_object_add(o, "plugin", json_object_new_string(j->h->name));
    json_object_object_add(o, "id", json_object_new_string(j->reg->id));
    json_object_object_add(o, "kind", json_object_new_string(job_what(j)));
    json_object_object_add(o, "profile_id",
                           json_object_new_string(j->profile_id));
    json_object_object_add(o, "state",
                           json_object_new_string(states[j->state]));
    json_object_object_add(o, "cancel_requested",
                           json_object_new_boolean(j->cancel_requested));
    json_object_object_add(p, "done",
                           json_object_new_int64((int64_t)j->p_done));
    json_object_object_add(p, "total",
                           json_object_new_int64((int64_t)j->p_total));
    json_object_object_add(p, "msg",
                           json_object_new_string(j->p_msg ? j->p_msg : ""));
    json_object_object_add(o, "progress", p);
    json_object_array_add(a, o);
  }
  out = sam__strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
  json_object_put(a);
  return out;
}
