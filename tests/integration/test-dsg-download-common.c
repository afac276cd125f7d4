/*
 * test-dsg-download-common.c: see test-dsg-download-common.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sam/sam_plugin.h"
#include "hostsvc_int.h"
#include "sam_core.h"
#include "sam_test.h"
#include "test-dsg-download-common.h"

#define CATALOG SAM_SOURCE_DIR "/schemas/docusign-model-catalog.json"
#define TEMPLATES SAM_SOURCE_DIR "/schemas/docusign-rule-templates.json"

static void on_closed(void *ud) {
  *(int *)ud = 1;
}

static void make_svc(dh *d) {
  sam_sched_config sc;
  sam_hostsvc_config hc;
  char err[512] = "";

  memset(&sc, 0, sizeof(sc));
  sc.rt = d->h.rt;
  if (sam_sched_new(&sc, &d->sched, err, sizeof(err)) != 0)
    SAM_T_FAIL("sam_sched_new failed [%s]", err);
  memset(&hc, 0, sizeof(hc));
  hc.rt = d->h.rt;
  hc.sched = d->sched;
  hc.public_url = "https://127.0.0.1:1/";
  hc.test_mode = 1;
  if (sam_hostsvc_new(&hc, &d->svc, err, sizeof(err)) != 0)
    SAM_T_FAIL("sam_hostsvc_new failed [%s]", err);
}

static void close_svc(dh *d) {
  int done = 0;

  if (d->svc != NULL) {
    sam_hostsvc_close(d->svc, on_closed, &done);
    while (!done)
      uv_run(&d->h.loop, UV_RUN_ONCE);
    sam_hostsvc_free(d->svc);
    d->svc = NULL;
  }
  if (d->sched != NULL) {
    done = 0;
    sam_sched_close(d->sched, on_closed, &done);
    while (!done)
      uv_run(&d->h.loop, UV_RUN_ONCE);
    sam_sched_free(d->sched);
    d->sched = NULL;
  }
}

/* What the host does at connect (ABI.md 9.3): the profile's models. */
static void materialize(dh *d) {
  json_object *cat = json_object_from_file(CATALOG);
  json_object *models = NULL;
  size_t i;

  EXPECT_TRUE(cat != NULL);
  EXPECT_TRUE(json_object_object_get_ex(cat, "models", &models));
  for (i = 0; i < json_object_array_length(models); i++) {
    json_object *e = json_object_array_get_idx(models, i);
    json_object *m = json_object_object_get(e, "model");
    const char *id =
        json_object_get_string(json_object_object_get(e, "identifier"));
    json_object *rec = json_object_new_object();

    json_object_object_foreach(m, k, v) {
      json_object_object_add(rec, k, json_object_get(v));
    }
    json_object_object_add(rec, "identifier", json_object_new_string(id));
    json_object_object_add(rec, "source", json_object_new_string("catalog"));
    EXPECT_EQ_INT(0, dh_put(d, "p1", "sam_software_model", id,
                            json_object_to_json_string(rec)));
    json_object_put(rec);
  }
  json_object_put(cat);
  /* ... and its reclamation rules, one per template (rule id = template
   * id, as the host does). */
  cat = json_object_from_file(TEMPLATES);
  EXPECT_TRUE(cat != NULL);
  EXPECT_TRUE(json_object_object_get_ex(cat, "templates", &models));
  for (i = 0; i < json_object_array_length(models); i++) {
    json_object *e = json_object_array_get_idx(models, i);
    json_object *rule = json_object_object_get(e, "rule");
    const char *tid =
        json_object_get_string(json_object_object_get(e, "template_id"));
    json_object *rec = json_object_new_object();

    json_object_object_foreach(rule, k, v) {
      json_object_object_add(rec, k, json_object_get(v));
    }
    json_object_object_add(rec, "rule_id", json_object_new_string(tid));
    json_object_object_add(rec, "template_id", json_object_new_string(tid));
    json_object_object_add(
        rec, "template_version",
        json_object_get(json_object_object_get(e, "template_version")));
    json_object_object_add(rec, "edited", json_object_new_boolean(0));
    EXPECT_EQ_INT(0, dh_put(d, "p1", "sam_reclamation_rule", tid,
                            json_object_to_json_string(rec)));
    json_object_put(rec);
  }
  json_object_put(cat);
}

static void make_profile(dh *d) {
  size_t n = strlen(d->h.profile);

  /* The host merges base_uri from the connect's profile_patch; this
   * harness passes the profile itself. */
  snprintf(d->profile, sizeof(d->profile), "%.*s,\"base_uri\":\"%s\"}",
           (int)(n - 1), d->h.profile, d->h.sim.https);
}

void dh_start(dh *d, const char *const *extra, const char *db) {
  const char *args[40];
  int n = 0;

  memset(d, 0, sizeof(*d));
  args[n++] = "--auto-consent";
  while (extra != NULL && *extra != NULL && n < 38)
    args[n++] = *extra++;
  args[n] = NULL;
  oh_sim_start(&d->h, args);
  oh_start(&d->h, db, NULL, NULL);
  make_svc(d);
  oh_connect(&d->h, "download-state-1");
  make_profile(d);
  materialize(d);
}

void dh_host_down(dh *d) {
  close_svc(d);
  oh_stop_runtime(&d->h);
}

void dh_host_up(dh *d) {
  char db[320];

  snprintf(db, sizeof(db), "%s", d->h.db);
  oh_start(&d->h, db[0] ? db : NULL, NULL, NULL);
  make_svc(d);
}

void dh_restart(dh *d) {
  dh_host_down(d);
  dh_host_up(d);
}

void dh_finish(dh *d) {
  close_svc(d);
  oh_finish(&d->h);
}

/* ---- running the download ---- */

typedef struct waitrun {
  dh *d;
  dh_run *out;
  dh_progress_fn progress;
  void *ud;
  int done;
} waitrun;

void dh_download_request(dh *d,
                         sam_job_request *req,
                         sam_job_done_fn done,
                         sam_job_progress_fn progress,
                         void *ud) {
  memset(req, 0, sizeof(*req));
  req->kind = SAM_JOB_PROCESS;
  req->id = "download";
  req->profile_id = "p1";
  req->profile_json = d->profile;
  req->profile_len = strlen(d->profile);
  req->done = done;
  req->progress = progress;
  req->ud = ud;
}

void dh_run_take(dh_run *out, const sam_job_outcome *o) {
  out->status = o->status;
  out->completions = o->completions;
  out->message = strdup(o->message != NULL ? o->message : "");
  out->result =
      o->result_json != NULL ? strndup(o->result_json, o->result_len) : NULL;
  out->res = out->result != NULL ? json_tokener_parse(out->result) : NULL;
}

static void on_done(const sam_job_outcome *o, void *ud) {
  waitrun *w = ud;

  w->done++;
  dh_run_take(w->out, o);
}

static void on_progress(const char *job_id,
                        uint64_t done,
                        uint64_t total,
                        const char *msg,
                        void *ud) {
  waitrun *w = ud;

  w->out->progress_calls++;
  if (msg != NULL && strstr(msg, "waiting") != NULL) {
    if (!w->out->waiting_seen)
      printf("  progress: %s\n", msg);
    w->out->waiting_seen = 1;
  }
  if (w->progress != NULL)
    w->progress(w->d, job_id, done, total, msg, w->ud);
}

void dh_download(dh *d, dh_progress_fn progress, void *ud, dh_run *out) {
  sam_job_request req;
  waitrun w;

  memset(out, 0, sizeof(*out));
  memset(&w, 0, sizeof(w));
  w.d = d;
  w.out = out;
  w.progress = progress;
  w.ud = ud;
  dh_download_request(d, &req, on_done, on_progress, &w);
  req.timeout_ms = d->timeout_ms != 0 ? d->timeout_ms : 600000;
  EXPECT_EQ_INT(0, sam_runtime_job_start(d->h.rt, &req, NULL));
  while (!w.done)
    uv_run(&d->h.loop, UV_RUN_ONCE);
  /* Exactly one completion, and none later. */
  EXPECT_EQ_INT(1, w.done);
  printf("  download -> [%s] %s\n  result %s\n", sam_err_name(out->status),
         out->message, out->result != NULL ? out->result : "(none)");
}

void dh_run_free(dh_run *r) {
  free(r->message);
  free(r->result);
  json_object_put(r->res);
  memset(r, 0, sizeof(*r));
}

int64_t dh_count(const dh_run *r, const char *name) {
  json_object *c = NULL;
  json_object *v = NULL;

  if (r->res == NULL || !json_object_object_get_ex(r->res, "counts", &c) ||
      !json_object_object_get_ex(c, name, &v))
    return -1;
  return json_object_get_int64(v);
}

/* ---- records ---- */

typedef struct raw {
  int done;
  int status;
  json_object *arr;
  char *next;
} raw;

static void on_raw(int status, const sam_store_result *res, void *ud) {
  raw *r = ud;
  size_t i;

  r->done = 1;
  r->status = status;
  if (status != 0 || res == NULL)
    return;
  for (i = 0; i < res->n; i++) {
    if (res->recs[i].json == NULL)
      continue;
    json_object_array_add(r->arr, json_tokener_parse(res->recs[i].json));
  }
  r->next = res->next_cursor != NULL ? strdup(res->next_cursor) : NULL;
}

/* Host-owned types through the host's handle, plugin types through the
 * plugin's own. */
static sam_host *handle_for(dh *d, const char *type) {
  return strncmp(type, "sam_", 4) == 0
             ? sam_runtime_host_handle(d->h.rt)
             : sam__hs_plugin_handle(d->svc, "docusign");
}

json_object *dh_records(dh *d, const char *scope, const char *type) {
  sam_host *hh = handle_for(d, type);
  json_object *arr = json_object_new_array();
  char *cursor = NULL;

  for (;;) {
    raw r;

    memset(&r, 0, sizeof(r));
    r.arr = arr;
    EXPECT_EQ_INT(0, sam__host_api()->store_query(hh, scope, type, NULL, cursor,
                                                  1000, on_raw, &r, NULL));
    while (!r.done)
      uv_run(&d->h.loop, UV_RUN_ONCE);
    EXPECT_EQ_INT(0, r.status);
    free(cursor);
    cursor = r.next;
    if (cursor == NULL)
      break;
  }
  return arr;
}

int dh_put(dh *d,
           const char *scope,
           const char *type,
           const char *key,
           const char *json) {
  sam_host *hh = handle_for(d, type);
  sam_record rec;
  raw r;

  memset(&r, 0, sizeof(r));
  r.arr = json_object_new_array();
  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.key = key;
  rec.json = json;
  rec.json_len = strlen(json);
  EXPECT_EQ_INT(0, sam__host_api()->store_put_batch(hh, scope, type, &rec, 1,
                                                    on_raw, &r, NULL));
  while (!r.done)
    uv_run(&d->h.loop, UV_RUN_ONCE);
  json_object_put(r.arr);
  free(r.next);
  return r.status;
}

json_object *
dh_get(dh *d, const char *scope, const char *type, const char *key) {
  sam_host *hh = handle_for(d, type);
  json_object *o = NULL;
  raw r;

  memset(&r, 0, sizeof(r));
  r.arr = json_object_new_array();
  EXPECT_EQ_INT(
      0, sam__host_api()->store_get(hh, scope, type, key, on_raw, &r, NULL));
  while (!r.done)
    uv_run(&d->h.loop, UV_RUN_ONCE);
  if (r.status == 0 && json_object_array_length(r.arr) == 1)
    o = json_object_get(json_object_array_get_idx(r.arr, 0));
  json_object_put(r.arr);
  free(r.next);
  return o;
}

json_object *dh_sim_users(dh *d) {
  char url[256];
  sim_resp r;
  json_object *o;
  json_object *u = NULL;

  snprintf(url, sizeof(url), "%s/_sim/users", d->h.sim.http);
  EXPECT_EQ_INT(CURLE_OK, sim_http("GET", url, NULL, NULL, NULL, NULL, &r));
  o = sim_resp_json(&r);
  sim_resp_free(&r);
  EXPECT_TRUE(o != NULL);
  EXPECT_TRUE(json_object_object_get_ex(o, "users", &u));
  json_object_get(u);
  json_object_put(o);
  return u;
}

int dh_sim_open_users(dh *d) {
  json_object *u = dh_sim_users(d);
  size_t i;
  int n = 0;

  for (i = 0; i < json_object_array_length(u); i++)
    n += strcmp(sim_jstr(json_object_array_get_idx(u, i), "userStatus"),
                "Closed") != 0;
  json_object_put(u);
  return n;
}

int dh_subs_in_state(dh *d, const char *state) {
  json_object *a = dh_records(d, "p1", "sam_subscription");
  size_t i;
  int n = 0;

  for (i = 0; i < json_object_array_length(a); i++) {
    const char *s = sim_jstr(json_object_array_get_idx(a, i), "state");

    n += state == NULL || (s != NULL && strcmp(s, state) == 0);
  }
  json_object_put(a);
  return n;
}
