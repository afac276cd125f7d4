/*
 * sched_start.c: the scheduler's start. Reads every scheduled job record
 * (pages of SAM_SCHED_SCOPE/sam_scheduled_job), merges them with the jobs
 * ensured before start, reads the profile JSON of loaded jobs nobody
 * ensured, then decides the catch-up runs and writes every job with its
 * next_run_at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sched_int.h"

#define START_PAGE 200

/* ---- start: load the jobs, catch up ---- */

typedef struct profile_get {
  sam_sched *s;
  char key[140];
} profile_get;

static void start_check_done(sam_sched *s) {
  if (s->starting && s->start_pending == 0)
    sam__sched_start_decide(s);
}

/* A job record read at start: merge it into the table. */
static void merge_loaded(sam_sched *s, const char *json) {
  json_object *o = json_tokener_parse(json);
  json_object *v;
  const char *key, *pid, *proc;
  sam__sched_job *j;
  int64_t t;

  if (o == NULL)
    return;
  if (!json_object_object_get_ex(o, "job_key", &v) ||
      (key = json_object_get_string(v)) == NULL ||
      !json_object_object_get_ex(o, "profile_id", &v) ||
      (pid = json_object_get_string(v)) == NULL ||
      !json_object_object_get_ex(o, "process_id", &v) ||
      (proc = json_object_get_string(v)) == NULL)
    goto done;
  if (sam__sched_find_job(s, key, 1) != NULL)
    goto done; /* removed while loading */
  j = sam__sched_find_job(s, key, 0);
  if (j == NULL) {
    j = sam__sched_job_new(s, pid, proc);
    if (j == NULL)
      goto done;
    j->from_store = 1;
    if (json_object_object_get_ex(o, "name", &v))
      (void)sam__sched_set_str(&j->name, json_object_get_string(v));
    if (json_object_object_get_ex(o, "active", &v))
      j->active = json_object_get_boolean(v);
    if (json_object_object_get_ex(o, "deadline_s", &v))
      j->deadline_s = (uint32_t)json_object_get_int64(v);
  }
  if (json_object_object_get_ex(o, "next_run_at", &v) &&
      json_object_is_type(v, json_type_string) &&
      sam__sched_parse_time(json_object_get_string(v), &t) == 0)
    j->stored_next_run_at = t;
  if (json_object_object_get_ex(o, "last_run_at", &v) &&
      json_object_is_type(v, json_type_string) &&
      sam__sched_parse_time(json_object_get_string(v), &t) == 0)
    j->last_run_at = t;
  if (json_object_object_get_ex(o, "last_job_id", &v) &&
      json_object_is_type(v, json_type_string))
    snprintf(j->last_job_id, sizeof(j->last_job_id), "%s",
             json_object_get_string(v));
done:
  json_object_put(o);
}

static void on_profile(int status, const sam_store_result *res, void *ud) {
  profile_get *g = ud;
  sam_sched *s = g->s;
  sam__sched_job *j = sam__sched_find_job(s, g->key, 0);
  json_object *o = NULL, *v;

  s->ops_inflight--;
  s->start_pending--;
  if (status == 0 && res != NULL && res->n == 1 && j != NULL &&
      j->profile_json == NULL)
    o = json_tokener_parse(res->recs[0].json);
  if (o != NULL) {
    if (json_object_object_get_ex(o, "form", &v))
      (void)sam__sched_set_str(
          &j->profile_json,
          json_object_to_json_string_ext(
              v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    if (j->plugin == NULL && json_object_object_get_ex(o, "plugin", &v))
      (void)sam__sched_set_str(&j->plugin, json_object_get_string(v));
    if (j->display_name == NULL &&
        json_object_object_get_ex(o, "display_name", &v) &&
        sam__sched_set_str(&j->display_name, json_object_get_string(v)) == 0)
      (void)sam__sched_job_set_name(s, j);
    json_object_put(o);
  }
  free(g);
  start_check_done(s);
}

/* Reads sam_profile for every loaded job that has no profile JSON. */
static void fetch_profiles(sam_sched *s) {
  const sam_host_api *api = sam__host_api();
  sam__sched_job *j;
  profile_get *g;

  s->start_pending++; /* this function's own reference */
  for (j = s->jobs; j != NULL; j = j->next) {
    if (j->removed || j->profile_json != NULL)
      continue;
    g = calloc(1, sizeof(*g));
    if (g == NULL)
      break;
    g->s = s;
    snprintf(g->key, sizeof(g->key), "%s", j->key);
    if (api->store_get(s->host, SAM_SCHED_SCOPE, "sam_profile", j->profile_id,
                       on_profile, g, NULL) != 0) {
      free(g); /* no sam_profile type: runs get "{}" */
      continue;
    }
    s->ops_inflight++;
    s->start_pending++;
  }
  s->start_pending--;
}

static int query_or_retry(sam_sched *s);

static void on_query(int status, const sam_store_result *res, void *ud) {
  sam_sched *s = ud;
  size_t i;
  int rc;

  s->ops_inflight--;
  s->start_pending--;
  free(s->start_cursor);
  s->start_cursor = NULL;
  if (status != 0) {
    sam__sched_log(s, SAM_LOG_ERROR,
                   "scheduler could not read its jobs [type=%s] [status=%s]; "
                   "is the record type registered?",
                   SAM_SCHED_JOB_TYPE, sam_err_name(status));
    s->start_status = status;
    start_check_done(s);
    return;
  }
  for (i = 0; i < res->n; i++)
    merge_loaded(s, res->recs[i].json);
  if (res->next_cursor != NULL && !s->closing) {
    s->start_cursor = strdup(res->next_cursor);
    rc = s->start_cursor != NULL ? query_or_retry(s) : SAM_ENOMEM;
    if (rc == 0)
      return;
    s->start_status = rc;
    sam__sched_rearm(s); /* the timer finishes the start */
    return;
  }
  fetch_profiles(s);
  start_check_done(s);
}

static int query_page(sam_sched *s) {
  int rc = sam__host_api()->store_query(
      s->host, SAM_SCHED_SCOPE, SAM_SCHED_JOB_TYPE, NULL, s->start_cursor,
      START_PAGE, on_query, s, NULL);

  if (rc == 0) {
    s->ops_inflight++;
    s->start_pending++;
  }
  return rc;
}

/* Queries the next page; when the store's queue is full (SAM_EAGAIN) the
 * timer asks again shortly. 0, or the store's refusal. */
static int query_or_retry(sam_sched *s) {
  int rc = query_page(s);

  if (rc == SAM_EAGAIN) {
    s->start_retry = 1;
    sam__sched_rearm(s);
    return 0;
  }
  return rc;
}

void sam__sched_start_timer(sam_sched *s) {
  int rc;

  if (s->start_retry) {
    s->start_retry = 0;
    rc = query_or_retry(s);
    if (rc != 0)
      s->start_status = rc;
  }
  if (s->starting && s->start_pending == 0 && !s->start_retry &&
      s->start_status != 0)
    sam__sched_start_decide(s);
}

/* The jobs are loaded: catch up, set next_run_at, write every job. */
void sam__sched_start_decide(sam_sched *s) {
  int64_t now = sam__sched_clock(s);
  sam__sched_job *j;
  int status = s->start_status;
  int n_catch = 0;

  s->starting = 0;
  s->started = 1;
  for (j = s->jobs; j != NULL; j = j->next) {
    int64_t prev = sam__sched_prev_due(now, s->at_s, j->spread_s);
    int catch;

    if (j->removed)
      continue;
    /* The job existed at a due instant that passed while the host was
     * down (its stored next_run_at is behind us) and no run started since
     * the latest one: run once, however many days were missed. */
    catch = s->catch_up && !s->closing && j->active && j->run == NULL &&
            j->stored_next_run_at != SAM__SCHED_NONE &&
            j->stored_next_run_at <= now &&
            (j->last_run_at == SAM__SCHED_NONE || j->last_run_at < prev);
    j->next_run_at = sam__sched_next_due(now, s->at_s, j->spread_s);
    if (catch && sam__sched_run_start(j, "catch_up", 0, NULL, NULL, NULL) == 0)
      n_catch++;
    sam__sched_writer_kick(&j->w);
  }
  sam__sched_log(s, SAM_LOG_INFO,
                 "scheduler started [catch_up_runs=%d] [status=%s]", n_catch,
                 sam_err_name(status));
  if (s->start_done != NULL)
    s->start_done(status, s->start_ud);
  sam__sched_rearm(s);
}

typedef struct start_refused {
  void (*done)(int status, void *ud);
  void *ud;
} start_refused;

static void start_refused_cb(void *ud) {
  start_refused *c = ud;

  c->done(SAM_EBUSY, c->ud);
  free(c);
}

void sam_sched_start(sam_sched *s,
                     void (*done)(int status, void *ud),
                     void *ud) {
  int rc;

  if (s->starting || s->started || s->closing) {
    /* A second start (or one after close): refused, on a later turn. */
    start_refused *c = done != NULL ? calloc(1, sizeof(*c)) : NULL;

    if (c == NULL)
      return;
    c->done = done;
    c->ud = ud;
    if (sam__host_api()->post(s->host, start_refused_cb, c) != 0)
      free(c);
    return;
  }
  s->start_done = done;
  s->start_ud = ud;
  s->starting = 1;
  rc = query_or_retry(s);
  if (rc != 0) {
    s->start_status = rc; /* finished by the timer, on a later turn */
    sam__sched_rearm(s);
  }
}
