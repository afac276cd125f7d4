/*
 * sched_results.c: the scheduler's runs and their records. A run is one
 * runtime job of a scheduled job; it writes a sam_job_result at start
 * (outcome running), with coalesced progress while it runs (at most one
 * write per second), and at the end (status, outcome, message, counts,
 * result, ended_at). Records go through a writer that keeps one store
 * operation in flight per record, because the store promises no order
 * between operations (ABI.md 11, C6).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sched_int.h"

#define MESSAGE_MAX 4000      /* sam-job-result.schema.json /message */
#define PROGRESS_MSG_MAX 1000 /* /progress/message */

/* ---- the record writer ---- */

static void writer_next(sam__sched_writer *w);

static void writer_cb(int status, const sam_store_result *res, void *ud) {
  sam__sched_writer *w = ud;
  sam_sched *s = w->s;

  (void)res;
  s->ops_inflight--;
  w->inflight = 0;
  if (w->deleting) {
    w->deleting = 0;
    w->want_delete = 0;
    if (status == SAM_ENOENT)
      status = 0; /* already gone: what we wanted */
  }
  w->status = status;
  if (status != 0)
    sam__sched_log(s, SAM_LOG_WARN,
                   "scheduler record write failed [type=%s] [key=%s] "
                   "[status=%s]",
                   w->type, w->key, sam_err_name(status));
  writer_next(w);
  sam__sched_rearm(s);
}

static void writer_call_failed(sam__sched_writer *w, int rc) {
  if (rc == SAM_EAGAIN) {
    w->retry = 1; /* the store's queue is full: try again shortly */
  } else {
    w->fail_rc = rc;
    sam__sched_log(w->s, SAM_LOG_WARN,
                   "scheduler record write refused [type=%s] [key=%s] "
                   "[status=%s]",
                   w->type, w->key, sam_err_name(rc));
  }
  sam__sched_rearm(w->s);
}

static void send_put(sam__sched_writer *w) {
  const sam_host_api *api = sam__host_api();
  sam_record rec;
  char *json;
  int rc;

  json = w->render(w->owner);
  if (json == NULL) {
    writer_call_failed(w, SAM_ENOMEM);
    return;
  }
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = SAM_IF_ANY;
  rec.key = w->key;
  rec.json = json;
  rec.json_len = strlen(json);
  rc = api->store_put_batch(w->s->host, SAM_SCHED_SCOPE, w->type, &rec, 1,
                            writer_cb, w, NULL);
  free(json); /* the store copied it */
  if (rc != 0) {
    writer_call_failed(w, rc);
    return;
  }
  w->dirty = 0;
  w->inflight = 1;
  w->s->ops_inflight++;
}

static void send_delete(sam__sched_writer *w) {
  const sam_host_api *api = sam__host_api();
  int rc;

  rc = api->store_delete(w->s->host, SAM_SCHED_SCOPE, w->type, w->key,
                         SAM_IF_ANY, writer_cb, w, NULL);
  if (rc != 0) {
    writer_call_failed(w, rc);
    return;
  }
  w->inflight = 1;
  w->deleting = 1;
  w->s->ops_inflight++;
}

/* Sends what is pending, or reports the writer settled. The settled
 * callback may free the owner: nothing touches w after it. */
static void writer_next(sam__sched_writer *w) {
  if (w->inflight || w->retry || w->fail_rc != 0)
    return;
  if (w->want_delete) {
    send_delete(w);
  } else if (w->dirty) {
    send_put(w);
  } else if (w->settled != NULL) {
    w->settled(w->owner, w->status);
  }
}

void sam__sched_writer_kick(sam__sched_writer *w) {
  if (w->want_delete && w->deleting) {
    w->dirty = 1; /* re-created while its delete runs: write after it */
    return;
  }
  w->want_delete = 0;
  w->dirty = 1;
  writer_next(w);
}

void sam__sched_writer_delete(sam__sched_writer *w) {
  w->dirty = 0;
  w->want_delete = 1;
  writer_next(w);
}

int sam__sched_writer_idle(const sam__sched_writer *w) {
  return !w->inflight && !w->dirty && !w->want_delete && !w->retry &&
         w->fail_rc == 0;
}

void sam__sched_writer_timer(sam__sched_writer *w) {
  if (w->retry) {
    w->retry = 0;
    writer_next(w);
  } else if (w->fail_rc != 0) {
    w->status = w->fail_rc;
    w->fail_rc = 0;
    /* A put that could not be made is dropped; a delete that could not
     * be made is given up (the record stays). */
    w->dirty = 0;
    w->want_delete = 0;
    writer_next(w);
  }
}

/* ---- JSON helpers ---- */

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t max) {
  size_t n = strlen(s);

  if (n <= max)
    return n;
  n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
    n--;
  return n;
}

static void add_str(json_object *o, const char *k, const char *v) {
  json_object_object_add(o, k, v != NULL ? json_object_new_string(v) : NULL);
}

static void add_time(json_object *o, const char *k, int64_t t) {
  char buf[40];

  if (t == SAM__SCHED_NONE) {
    json_object_object_add(o, k, NULL);
    return;
  }
  sam__sched_fmt_time(t, buf, sizeof(buf));
  add_str(o, k, buf);
}

static char *to_text(json_object *o) {
  char *out;

  if (o == NULL)
    return NULL;
  out = strdup(json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
  return out;
}

/* ---- the scheduled job record ---- */

char *sam__sched_job_json(void *owner) {
  sam__sched_job *j = owner;
  json_object *o = json_object_new_object();

  if (o == NULL)
    return NULL;
  add_str(o, "job_key", j->key);
  add_str(o, "name", j->name);
  add_str(o, "profile_id", j->profile_id);
  add_str(o, "process_id", j->process_id);
  json_object_object_add(o, "active", json_object_new_boolean(j->active));
  add_str(o, "daily_at", j->s->daily_at);
  json_object_object_add(o, "spread_s", json_object_new_int64(j->spread_s));
  add_time(o, "next_run_at", j->next_run_at);
  add_time(o, "last_run_at", j->last_run_at);
  add_str(o, "last_job_id", j->last_job_id[0] ? j->last_job_id : NULL);
  add_str(o, "running_job_id", j->run != NULL ? j->run->id : NULL);
  if (j->deadline_s > 0)
    json_object_object_add(o, "deadline_s",
                           json_object_new_int64(j->deadline_s));
  return to_text(o);
}

/* ---- the job result record ---- */

static const char *outcome_of(const sam__sched_run *r, json_object *result) {
  json_object *v;

  if (!r->finished)
    return "running";
  if (r->status == SAM_OK) {
    if (result != NULL && json_object_object_get_ex(result, "partial", &v) &&
        json_object_get_boolean(v))
      return "partial";
    return "success";
  }
  if (r->status == SAM_ECANCELED)
    return "canceled";
  return "failure";
}

/* The parsed result JSON when it is an object, else NULL. */
static json_object *parse_result(const sam__sched_run *r) {
  json_object *o;

  if (r->result_json == NULL)
    return NULL;
  o = json_tokener_parse(r->result_json);
  if (o != NULL && !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    o = NULL;
  }
  return o;
}

static void add_message(json_object *o, const sam__sched_run *r) {
  char buf[MESSAGE_MAX + 1];
  const char *msg = r->message != NULL ? r->message : "";
  size_t n;

  if (r->deadline_hit)
    snprintf(buf, sizeof(buf), "deadline exceeded [deadline_ms=%llu]%s%s",
             (unsigned long long)r->deadline_ms, msg[0] ? ": " : "", msg);
  else
    snprintf(buf, sizeof(buf), "%s", msg);
  n = utf8_cut(buf, MESSAGE_MAX);
  json_object_object_add(o, "message", json_object_new_string_len(buf, (int)n));
}

static void add_progress(json_object *o, const sam__sched_run *r) {
  json_object *p;

  if (!r->has_progress)
    return;
  p = json_object_new_object();
  if (p == NULL)
    return;
  json_object_object_add(p, "done", json_object_new_int64((int64_t)r->p_done));
  json_object_object_add(p, "total",
                         json_object_new_int64((int64_t)r->p_total));
  if (r->p_msg != NULL)
    json_object_object_add(
        p, "message",
        json_object_new_string_len(r->p_msg,
                                   (int)utf8_cut(r->p_msg, PROGRESS_MSG_MAX)));
  add_time(p, "at", r->p_at);
  json_object_object_add(o, "progress", p);
}

/* counts: the numeric members of the result's "counts" object. */
static void add_counts(json_object *o, json_object *result) {
  json_object *counts, *c;

  if (result == NULL || !json_object_object_get_ex(result, "counts", &c) ||
      !json_object_is_type(c, json_type_object))
    return;
  counts = json_object_new_object();
  if (counts == NULL)
    return;
  json_object_object_foreach(c, k, v) {
    if (json_object_is_type(v, json_type_int))
      json_object_object_add(counts, k,
                             json_object_new_int64(json_object_get_int64(v)));
    else if (json_object_is_type(v, json_type_double))
      json_object_object_add(counts, k,
                             json_object_new_double(json_object_get_double(v)));
  }
  json_object_object_add(o, "counts", counts);
}

static char *result_record_json(void *owner) {
  sam__sched_run *r = owner;
  json_object *o = json_object_new_object();
  json_object *result = parse_result(r);

  if (o == NULL) {
    json_object_put(result);
    return NULL;
  }
  add_str(o, "job_id", r->id);
  add_str(o, "job_key", r->job->key);
  add_str(o, "profile_id", r->job->profile_id);
  add_str(o, "process_id", r->job->process_id);
  add_str(o, "kind", "process");
  add_str(o, "trigger", r->trigger);
  add_time(o, "started_at", r->started_at);
  add_time(o, "ended_at", r->finished ? r->ended_at : SAM__SCHED_NONE);
  add_str(o, "outcome", outcome_of(r, result));
  if (r->finished) {
    add_str(o, "status", sam_err_name(r->status));
    add_message(o, r);
  }
  add_progress(o, r);
  add_counts(o, result);
  if (r->finished)
    json_object_object_add(o, "result", result); /* takes the reference */
  else
    json_object_put(result);
  json_object_object_add(
      o, "dry_run", json_object_new_boolean((r->flags & SAM_JOB_DRY_RUN) != 0));
  return to_text(o);
}

/* ---- runs ---- */

static void run_free(sam__sched_run *r) {
  free(r->message);
  free(r->result_json);
  free(r->p_msg);
  free(r);
}

static void run_unlink(sam__sched_run *r) {
  sam__sched_run **pp = &r->s->runs;

  while (*pp != NULL && *pp != r)
    pp = &(*pp)->next;
  if (*pp == r)
    *pp = r->next;
}

/* The run finished and its final result is stored: tell the job, chain,
 * tell the caller, free. */
static void run_finish(sam__sched_run *r) {
  sam_sched *s = r->s;
  sam__sched_job *j = r->job;
  sam_sched_run out;
  json_object *result = parse_result(r);
  int success =
      r->status == SAM_OK && strcmp(outcome_of(r, result), "success") == 0;

  json_object_put(result);
  run_unlink(r);
  if (j->run == r)
    j->run = NULL;
  sam__sched_log(s, SAM_LOG_INFO,
                 "job finished [job_key=%s] [job=%s] [status=%s]", j->key,
                 r->id, sam_err_name(r->status));
  if (!j->removed)
    sam__sched_writer_kick(&j->w); /* running_job_id back to null */
  if (success && !j->removed && !s->closing)
    sam__sched_chain_after(s, j);
  if (r->done != NULL) {
    memset(&out, 0, sizeof(out));
    out.job_id = r->id;
    out.job_key = j->key;
    out.status = r->status;
    out.message = r->message != NULL ? r->message : "";
    out.result_json = r->result_json;
    r->done(&out, r->done_ud);
  }
  run_free(r);
  sam__sched_job_maybe_free(j);
  sam__sched_rearm(s);
}

static void run_settled(void *owner, int status) {
  sam__sched_run *r = owner;

  (void)status;
  if (r->finished)
    run_finish(r);
}

static void on_run_done(const sam_job_outcome *o, void *ud) {
  sam__sched_run *r = ud;

  r->finished = 1;
  r->status = o->status;
  r->message = strdup(o->message != NULL ? o->message : "");
  if (o->result_json != NULL)
    r->result_json = strndup(o->result_json, o->result_len);
  r->ended_at = sam__sched_clock(r->s);
  r->progress_dirty = 0;
  sam__sched_writer_kick(&r->w);
  sam__sched_rearm(r->s);
}

static void on_run_progress(const char *job_id,
                            uint64_t done,
                            uint64_t total,
                            const char *msg,
                            void *ud) {
  sam__sched_run *r = ud;
  uint64_t now_uv = uv_now(r->s->loop);

  (void)job_id;
  if (r->finished)
    return;
  r->has_progress = 1;
  r->p_done = done;
  r->p_total = total;
  free(r->p_msg);
  r->p_msg = msg != NULL ? strdup(msg) : NULL;
  r->p_at = sam__sched_clock(r->s);
  if (now_uv >= r->progress_next_uv) {
    r->progress_next_uv = now_uv + SAM__SCHED_PROGRESS_MS;
    sam__sched_writer_kick(&r->w);
  } else {
    r->progress_dirty = 1; /* coalesced: the timer writes it */
    sam__sched_rearm(r->s);
  }
}

uint64_t sam__sched_run_timer(sam__sched_run *r, uint64_t now_uv) {
  uint64_t next = UINT64_MAX;
  int rc;

  if (!r->finished && !r->deadline_hit && now_uv >= r->deadline_uv) {
    r->deadline_hit = 1;
    r->cancel_requested = 1;
    rc = sam_runtime_job_cancel(r->s->rt, r->id);
    sam__sched_log(r->s, SAM_LOG_WARN,
                   "job deadline exceeded, cancelling [job_key=%s] [job=%s] "
                   "[deadline_ms=%llu] [cancel=%s]",
                   r->job->key, r->id, (unsigned long long)r->deadline_ms,
                   sam_err_name(rc));
  }
  if (r->progress_dirty && now_uv >= r->progress_next_uv) {
    r->progress_dirty = 0;
    r->progress_next_uv = now_uv + SAM__SCHED_PROGRESS_MS;
    sam__sched_writer_kick(&r->w);
  }
  if (!r->finished && !r->deadline_hit)
    next = r->deadline_uv;
  if (r->progress_dirty && r->progress_next_uv < next)
    next = r->progress_next_uv;
  return next;
}

int sam__sched_run_start(sam__sched_job *job,
                         const char *trigger,
                         uint32_t flags,
                         sam_sched_done_fn done,
                         void *ud,
                         char *id_out) {
  sam_sched *s = job->s;
  sam_job_request req;
  sam__sched_run *r;
  const char *profile = job->profile_json != NULL ? job->profile_json : "{}";
  int rc;

  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return SAM_ENOMEM;
  r->s = s;
  r->job = job;
  r->flags = flags;
  r->done = done;
  r->done_ud = ud;
  snprintf(r->trigger, sizeof(r->trigger), "%s", trigger);
  r->deadline_ms = job->deadline_s > 0 ? (uint64_t)job->deadline_s * 1000
                                       : s->default_deadline_ms;
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_PROCESS;
  req.flags = flags;
  req.plugin = job->plugin;
  req.id = job->process_id;
  req.profile_id = job->profile_id;
  req.profile_json = profile;
  req.profile_len = strlen(profile);
  req.params_json = job->params_json;
  req.params_len = job->params_json != NULL ? strlen(job->params_json) : 0;
  /* The runtime's own deadline is the same: for a process that cannot be
   * cancelled, the C2 grace then starts when ours passes. */
  req.timeout_ms = r->deadline_ms;
  req.done = on_run_done;
  req.progress = on_run_progress;
  req.ud = r;
  rc = sam_runtime_job_start(s->rt, &req, r->id);
  if (rc != 0) {
    sam__sched_log(s, SAM_LOG_WARN,
                   "job could not start [job_key=%s] [trigger=%s] "
                   "[status=%s]",
                   job->key, trigger, sam_err_name(rc));
    free(r);
    return rc;
  }
  r->started_at = sam__sched_clock(s);
  r->deadline_uv = uv_now(s->loop) + r->deadline_ms;
  r->w.s = s;
  r->w.type = SAM_SCHED_RESULT_TYPE;
  r->w.key = r->id;
  r->w.render = result_record_json;
  r->w.settled = run_settled;
  r->w.owner = r;
  r->next = s->runs;
  s->runs = r;
  job->run = r;
  job->last_run_at = r->started_at;
  memcpy(job->last_job_id, r->id, SAM_JOB_ID_LEN);
  if (id_out != NULL)
    memcpy(id_out, r->id, SAM_JOB_ID_LEN);
  sam__sched_log(s, SAM_LOG_INFO,
                 "job started [job_key=%s] [job=%s] [trigger=%s]", job->key,
                 r->id, trigger);
  sam__sched_writer_kick(&r->w);
  if (!job->removed && s->started)
    sam__sched_writer_kick(&job->w);
  sam__sched_rearm(s);
  return 0;
}
