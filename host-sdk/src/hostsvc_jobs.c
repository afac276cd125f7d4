/*
 * hostsvc_jobs.c: scheduled jobs and job results (SAM-MODEL.md 4):
 *   GET  /api/v1/jobs?profile=&cursor=&limit=
 *   POST /api/v1/jobs/{job_key}/run      {"dry_run": bool, "confirm": bool}
 *   GET  /api/v1/job-results?profile=&cursor=&limit=
 *   GET  /api/v1/job-results/{job_id}    the record plus live progress
 *   POST /api/v1/job-results/{job_id}/cancel
 * A manual run of a process that mutates the remote side (SAM_PROC_
 * MUTATES_REMOTE) needs "confirm": true unless it is a dry run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

static void
page_done(sam__hs_call *c, int status, const sam_store_result *res) {
  if (status != 0) {
    if (!sam__hs_reply_cursor_err(c, status))
      sam__hs_reply_err(c, status, NULL, "reading the list failed [%s]",
                        sam_err_name(status));
    return;
  }
  sam__hs_reply_page(c, res);
}

static void list(sam__hs_call *c, const char *type) {
  json_object *f = json_object_new_object();
  const char *prof = sam__hs_str(c->qs, "profile");
  const char *lim = sam__hs_str(c->qs, "limit");
  char *end = NULL;
  long limit = lim != NULL ? strtol(lim, &end, 10) : SAM__HS_PAGE_DEFAULT;
  int rc;

  if (limit < 1 || limit > SAM__HS_PAGE_MAX ||
      (lim != NULL && (end == lim || *end != '\0'))) {
    json_object_put(f);
    sam__hs_reply_err(c, SAM_EINVAL, NULL, "limit must be 1..%d [limit=%s]",
                      SAM__HS_PAGE_MAX, lim);
    return;
  }
  if (prof != NULL)
    json_object_object_add(f, "/profile_id", json_object_new_string(prof));
  rc = sam__hs_query(c, SAM__HS_HOST_SCOPE, type, f,
                     sam__hs_str(c->qs, "cursor"), (uint32_t)limit, page_done);
  json_object_put(f);
  if (rc != 0)
    sam__hs_reply_err(c, rc, NULL, "reading the list failed [%s]",
                      sam_err_name(rc));
}

/* The flags of process `pid` in any loaded plugin; 0 when unknown. When
 * ids is not NULL it receives every process id, comma-separated (for a
 * message naming what exists). */
static uint32_t
process_flags(sam__hs_call *c, const char *pid, char *ids, size_t ids_len) {
  json_object *plugins;
  uint32_t flags = 0;
  size_t i, j, n, m;

  if (ids != NULL && ids_len > 0)
    ids[0] = '\0';
  if (sam__hs_registry(c) != 0 ||
      !json_object_object_get_ex(c->registry, "plugins", &plugins))
    return 0;
  n = json_object_array_length(plugins);
  for (i = 0; i < n; i++) {
    json_object *procs;

    if (!json_object_object_get_ex(json_object_array_get_idx(plugins, i),
                                   "processes", &procs))
      continue;
    m = json_object_array_length(procs);
    for (j = 0; j < m; j++) {
      json_object *p = json_object_array_get_idx(procs, j);
      const char *id = sam__hs_str(p, "process_id");
      size_t used = ids != NULL ? strlen(ids) : 0;

      if (id == NULL)
        continue;
      if (strcmp(id, pid) == 0)
        flags =
            (uint32_t)json_object_get_int64(json_object_object_get(p, "flags"));
      if (ids != NULL && used + 1 < ids_len)
        snprintf(ids + used, ids_len - used, "%s%s", used > 0 ? ", " : "", id);
    }
  }
  return flags;
}

static void run(sam__hs_call *c, const char *key) {
  json_object *dry = NULL, *confirm = NULL, *o;
  const char *colon = strrchr(key, ':');
  uint32_t pflags;
  char job_id[SAM_JOB_ID_LEN] = "";
  int rc;

  if (c->req != NULL) {
    if (!json_object_is_type(c->req, json_type_object)) {
      sam__hs_reply_err(c, SAM_EINVAL, NULL, "the body must be an object");
      return;
    }
    json_object_object_foreach(c->req, k, v) {
      (void)v;
      if (strcmp(k, "dry_run") != 0 && strcmp(k, "confirm") != 0) {
        sam__hs_reply_err(c, SAM_EINVAL, NULL,
                          "unknown field [%s]; send dry_run and confirm", k);
        return;
      }
    }
    json_object_object_get_ex(c->req, "dry_run", &dry);
    json_object_object_get_ex(c->req, "confirm", &confirm);
  }
  if (colon == NULL) {
    sam__hs_reply_err(c, SAM_ENOENT, NULL,
                      "a job key is <profile_id>:<process_id> [key=%s]", key);
    return;
  }
  pflags = process_flags(c, colon + 1, NULL, 0);
  if ((pflags & SAM_PROC_MUTATES_REMOTE) && !json_object_get_boolean(dry) &&
      !json_object_get_boolean(confirm)) {
    sam__hs_reply_err(c, SAM_ECONFLICT, NULL,
                      "this process changes the remote service [process=%s]; "
                      "send {\"confirm\": true}, or {\"dry_run\": true} to "
                      "see what it would do",
                      colon + 1);
    return;
  }
  if (c->svc->sched == NULL) {
    sam__hs_reply_err(c, SAM_ENOTSUP, NULL, "no scheduler in this host");
    return;
  }
  rc = sam_sched_run_now(c->svc->sched, key,
                         json_object_get_boolean(dry) ? SAM_JOB_DRY_RUN : 0,
                         "api", job_id, NULL, NULL);
  if (rc == SAM_EBUSY) {
    sam__hs_reply_err(c, SAM_ECONFLICT, NULL,
                      "the job is already running [job_id=%s]", job_id);
    return;
  }
  if (rc == SAM_ENOENT) {
    char ids[512];

    (void)process_flags(c, colon + 1, ids, sizeof(ids));
    sam__hs_reply_err(c, rc, NULL,
                      "no such job [key=%s]: a published profile has one job "
                      "per process of its type; processes here: [%s]",
                      key, ids);
    return;
  }
  if (rc != 0) {
    sam__hs_reply_err(c, rc, NULL, "the job could not run [key=%s] [%s]", key,
                      sam_err_name(rc));
    return;
  }
  o = json_object_new_object();
  json_object_object_add(o, "job_id", json_object_new_string(job_id));
  json_object_object_add(o, "job_key", json_object_new_string(key));
  sam__hs_reply_json(c, 202, o);
}

static json_object *live_progress(sam__hs_call *c, const char *job_id) {
  char *text;
  json_object *all, *p = NULL;

  if (c->svc->sched == NULL)
    return NULL;
  text = sam_sched_progress_json(c->svc->sched);
  if (text == NULL)
    return NULL;
  all = json_tokener_parse(text);
  free(text);
  if (all != NULL && json_object_object_get_ex(all, job_id, &p))
    json_object_get(p);
  else
    p = NULL;
  json_object_put(all);
  return p;
}

static void
result_got(sam__hs_call *c, int status, const sam_store_result *res) {
  json_object *rec = NULL, *live = live_progress(c, c->segs[3]);

  if (status == 0)
    rec = sam__hs_parse(res->recs[0].json, res->recs[0].json_len);
  if (rec == NULL && live == NULL) {
    sam__hs_reply_err(c, status != 0 ? status : SAM_EIO, NULL,
                      "no such job result [job_id=%s]", c->segs[3]);
    return;
  }
  if (rec == NULL) {
    rec = json_object_new_object();
    json_object_object_add(rec, "job_id", json_object_new_string(c->segs[3]));
    json_object_object_add(rec, "outcome", json_object_new_string("running"));
  }
  json_object_object_add(rec, "live", live);
  sam__hs_reply_json(c, 200, rec);
}

void sam__hs_route_jobs(sam__hs_call *c) {
  int results = strcmp(c->segs[2], "job-results") == 0;
  int get = strcmp(c->method, "GET") == 0;
  int post = strcmp(c->method, "POST") == 0;
  int rc;

  if (c->n_segs == 3 && get) {
    list(c, results ? "sam_job_result" : "sam_scheduled_job");
    return;
  }
  if (!results && c->n_segs == 5 && post && strcmp(c->segs[4], "run") == 0) {
    run(c, c->segs[3]);
    return;
  }
  if (results && c->n_segs == 4 && get) {
    rc = sam__hs_get(c, SAM__HS_HOST_SCOPE, "sam_job_result", c->segs[3],
                     result_got);
    if (rc != 0)
      sam__hs_reply_err(c, rc, NULL, "reading the job result failed");
    return;
  }
  if (results && c->n_segs == 5 && post && strcmp(c->segs[4], "cancel") == 0) {
    json_object *o;

    rc = c->svc->sched != NULL ? sam_sched_cancel(c->svc->sched, c->segs[3])
                               : SAM_ENOENT;
    if (rc != 0) {
      sam__hs_reply_err(c, rc, NULL, "the job is not running [job_id=%s]",
                        c->segs[3]);
      return;
    }
    o = json_object_new_object();
    json_object_object_add(o, "cancel_requested", json_object_new_boolean(1));
    json_object_object_add(o, "job_id", json_object_new_string(c->segs[3]));
    sam__hs_reply_json(c, 202, o);
    return;
  }
  sam__hs_reply_err(c, SAM_ENOENT, NULL, "no such resource [%s %s]", c->method,
                    c->path);
}

/* ---- start: the jobs of published profiles ---- */

typedef struct start_ctx {
  void (*done)(int status, void *ud);
  void *ud;
} start_ctx;

static void
start_page(sam__hs_call *c, int status, const sam_store_result *res);

static void start_replied(const sam_hostsvc_reply *r, void *ud) {
  start_ctx *sc = ud;

  sc->done(r->status, sc->ud);
  free(sc);
}

static void start_next(sam__hs_call *c, int status) {
  json_object *rec;
  int rc;

  if (status != 0 && c->first_err == 0)
    c->first_err = status; /* one profile's failure does not stop the rest */
  while ((size_t)c->step < json_object_array_length(c->work)) {
    rec = json_object_array_get_idx(c->work, (size_t)c->step++);
    json_object_put(c->profile);
    c->profile = json_object_get(rec);
    json_object_put(c->plugin);
    c->plugin = sam__hs_plugin_by_name(c, sam__hs_str(rec, "plugin"));
    if (c->plugin == NULL)
      continue; /* its plugin is not loaded: its jobs stay as stored */
    json_object_get(c->plugin);
    rc = sam__hs_ensure_jobs(c, start_next);
    if (rc == 0)
      return;
  }
  if (c->cursor == NULL) {
    if (c->first_err != 0)
      sam__hs_reply_err(c, c->first_err, NULL,
                        "some published profiles' jobs could not be renewed");
    else
      sam__hs_reply_json(c, 200, NULL);
    return;
  }
  {
    json_object *f = json_object_new_object();

    json_object_object_add(f, "/state", json_object_new_string("published"));
    rc = sam__hs_query(c, SAM__HS_HOST_SCOPE, "sam_profile", f, c->cursor, 100,
                       start_page);
    json_object_put(f);
    if (rc != 0)
      sam__hs_reply_err(c, rc, NULL, "reading the profiles failed");
  }
}

static void
start_page(sam__hs_call *c, int status, const sam_store_result *res) {
  size_t i;

  if (status != 0) {
    sam__hs_reply_err(c, status, NULL, "reading the profiles failed [%s]",
                      sam_err_name(status));
    return;
  }
  json_object_put(c->work);
  c->work = json_object_new_array();
  for (i = 0; i < res->n; i++) {
    json_object *p = sam__hs_parse(res->recs[i].json, res->recs[i].json_len);

    if (p != NULL)
      json_object_array_add(c->work, p);
  }
  free(c->cursor);
  c->cursor = res->next_cursor != NULL ? strdup(res->next_cursor) : NULL;
  c->step = 0;
  start_next(c, 0);
}

int sam_hostsvc_start(sam_hostsvc *svc,
                      void (*done)(int status, void *ud),
                      void *ud) {
  start_ctx *sc = calloc(1, sizeof(*sc));
  json_object *f;
  sam__hs_call *c;
  int rc;

  if (sc == NULL)
    return SAM_ENOMEM;
  sc->done = done;
  sc->ud = ud;
  rc = sam__hs_call_new(svc, "START", "/", start_replied, sc, &c);
  if (rc != 0) {
    free(sc);
    return rc;
  }
  if (sam__hs_registry(c) != 0) {
    sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return 0;
  }
  f = json_object_new_object();
  json_object_object_add(f, "/state", json_object_new_string("published"));
  rc = sam__hs_query(c, SAM__HS_HOST_SCOPE, "sam_profile", f, NULL, 100,
                     start_page);
  json_object_put(f);
  if (rc != 0)
    sam__hs_reply_err(c, rc, NULL, "reading the profiles failed [%s]",
                      sam_err_name(rc));
  return 0;
}
