/*
 * hostsvc_actions.c: profile actions (ABI.md 9.4), Publish (SAM-MODEL.md 3),
 * and the per-profile materialization of the plugin's model catalog and
 * rule templates (ABI.md 9.3).
 *
 * Conventions a generic host needs to recognise a validation: a UI action
 * that succeeds marks the profile "validated" when its id is
 * "validate_connection" or its result says {"connection_status":
 * "validated"}. Any failed action stores its message as last_error, and
 * its result may set connection_status to needs_consent, error or
 * not_connected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

/* ---- running an action ---- */

static void action_reply(sam__hs_call *c, int status) {
  json_object *o = json_object_new_object();
  json_object *res = c->work;
  int st = c->r_status; /* the action's status (scratch until the reply) */

  (void)status;
  json_object_object_add(o, "status",
                         json_object_new_string(sam_err_name(c->r_status)));
  json_object_object_add(
      o, "message", json_object_new_string(c->cursor != NULL ? c->cursor : ""));
  json_object_object_add(o, "result",
                         res != NULL ? json_object_get(res) : NULL);
  json_object_object_add(o, "job_id", json_object_new_string(c->job_id));
  sam__hs_reply_json(c, sam__hs_http_status(c->r_status), o);
  if (c->r_status == SAM_EAGAIN) {
    json_object *ra;

    c->r_retry_after = 30;
    if (res != NULL && json_object_object_get_ex(res, "retry_after_s", &ra))
      c->r_retry_after = (uint32_t)json_object_get_int64(ra);
  }
  /* sam__hs_reply_json derives the reply's status from the HTTP code; the
   * action's own status is what the caller needs. */
  c->r_status = st;
}

static void action_saved(sam__hs_call *c, int status) {
  if (status != 0 && c->r_status == SAM_OK)
    c->r_status = status;
  action_reply(c, status);
}

static void on_action_done(const sam_job_outcome *o, void *ud) {
  sam__hs_call *c = ud;
  const char *aid = c->segs[5];
  const char *cs;
  int rc;

  c->pending--;
  c->job_running = 0;
  c->r_status = sam__hs_outcome_status(c, o->status);
  free(c->cursor);
  c->cursor = strdup(o->message != NULL ? o->message : "");
  json_object_put(c->work);
  c->work = o->result_json != NULL
                ? sam__hs_parse(o->result_json, o->result_len)
                : NULL;
  if (c->r_status == SAM_OK) {
    cs = sam__hs_str(c->work, "connection_status");
    if (strcmp(aid, "validate_connection") == 0 ||
        (cs != NULL && strcmp(cs, "validated") == 0)) {
      json_object_object_add(c->profile, "connection_status",
                             json_object_new_string("validated"));
      json_object_object_add(c->profile, "last_error", NULL);
    } else if (c->step) {
      /* OAuth start: nothing to save until the callback. */
      action_reply(c, 0);
      return;
    } else {
      action_reply(c, 0);
      return;
    }
  } else {
    char msg[2000];

    snprintf(msg, sizeof(msg), "%s: %s [%s]", aid, c->cursor,
             sam_err_name(c->r_status));
    json_object_object_add(c->profile, "last_error",
                           json_object_new_string(msg));
    /* A failure may say what it means for the connection, e.g. a
     * rejected refresh token: {"connection_status": "needs_consent"}. */
    cs = sam__hs_str(c->work, "connection_status");
    if (cs != NULL &&
        (strcmp(cs, "needs_consent") == 0 || strcmp(cs, "error") == 0 ||
         strcmp(cs, "not_connected") == 0))
      json_object_object_add(c->profile, "connection_status",
                             json_object_new_string(cs));
  }
  rc = sam__hs_save_profile(c, action_saved);
  if (rc != 0)
    action_saved(c, rc);
}

int sam__hs_action_ready(sam__hs_call *c, int status) {
  if (status != 0) {
    sam__hs_reply_err(c, status, NULL, "no such profile [id=%s]", c->segs[3]);
    return status;
  }
  if (c->plugin == NULL) {
    sam__hs_reply_err(c, SAM_EBUSY, NULL,
                      "the profile's plugin is not loaded [plugin=%s]",
                      sam__hs_str(c->profile, "plugin"));
    return SAM_EBUSY;
  }
  if (c->svc->closing) {
    sam__hs_reply_err(c, SAM_EAGAIN, NULL, "the host is shutting down");
    return SAM_EAGAIN;
  }
  return 0;
}

static void action_loaded(sam__hs_call *c, int status) {
  const char *aid = c->segs[5];
  json_object *a, *flags;
  sam_job_request req;
  char state[64];
  char *pjson = NULL;
  uint32_t fl = 0;
  int rc;

  if (sam__hs_action_ready(c, status) != 0)
    return;
  a = sam__hs_plugin_action(c->plugin, aid, 0);
  if (a != NULL && json_object_object_get_ex(a, "flags", &flags))
    fl = (uint32_t)json_object_get_int64(flags);
  if (a == NULL || (fl & SAM_ACTION_UI) == 0) {
    sam__hs_reply_err(c, SAM_ENOENT, NULL,
                      "no such action on this profile type [action=%s]", aid);
    return;
  }
  memset(&req, 0, sizeof(req));
  if (fl & SAM_ACTION_OAUTH_START) {
    rc = sam__hs_oauth_state_new(c->svc, sam__hs_str(c->profile, "plugin"),
                                 c->segs[3], state);
    if (rc != 0) {
      sam__hs_reply_err(c, rc, NULL, "creating the OAuth state failed");
      return;
    }
    req.oauth_state = state;
    req.redirect_uri = c->svc->redirect_uri;
    c->step = 1;
  }
  pjson = sam__hs_profile_plugin_json(c->svc, c->profile);
  if (pjson == NULL) {
    sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return;
  }
  req.kind = SAM_JOB_ACTION;
  req.plugin = sam__hs_str(c->profile, "plugin");
  req.id = aid;
  req.profile_id = c->segs[3];
  req.profile_json = pjson;
  req.profile_len = strlen(pjson);
  if (c->req != NULL) {
    req.params_json = sam__hs_text(c->req);
    req.params_len = strlen(req.params_json);
  }
  req.done = on_action_done;
  req.ud = c;
  rc = sam_runtime_job_start(c->svc->rt, &req, c->job_id);
  free(pjson);
  if (rc != 0) {
    sam__hs_reply_err(c, rc, NULL, "the action could not start [action=%s]",
                      aid);
    return;
  }
  c->pending++;
  c->job_running = 1; /* cancelled if the service closes */
}

void sam__hs_route_action(sam__hs_call *c, const char *action) {
  int rc;

  (void)action;
  rc = sam__hs_load_profile(c, c->segs[3], action_loaded);
  if (rc != 0)
    sam__hs_reply_err(c, rc, NULL, "reading the profile failed");
}

/* ---- materialization ---- */

static void
mat_put_done(sam__hs_call *c, int status, const sam_store_result *res) {
  (void)res;
  /* EEXIST: the model is there already (maybe edited): never overwritten.
   * ECONFLICT: an admin edited the rule meanwhile: the next run retries. */
  if (status != 0 && status != SAM_EEXIST && status != SAM_ECONFLICT &&
      c->first_err == 0)
    c->first_err = status;
  if (c->pending == 0)
    c->then(c, c->first_err);
}

static json_object *copy_known(json_object *src, json_object *schema) {
  json_object *props = NULL, *out = json_object_new_object();

  json_object_object_get_ex(schema, "properties", &props);
  json_object_object_foreach(src, k, v) {
    if (props != NULL && json_object_object_get_ex(props, k, NULL))
      json_object_object_add(out, k, json_object_get(v));
  }
  return out;
}

static void
mat_rules_read(sam__hs_call *c, int status, const sam_store_result *res) {
  const char *pid = sam__hs_str(c->profile, "profile_id");
  const sam__hs_type *mt = sam__hs_type_find(c->svc, "sam_software_model");
  const sam__hs_type *rt = sam__hs_type_find(c->svc, "sam_reclamation_rule");
  json_object *models = NULL, *tpls = NULL, *have;
  size_t i, n;
  int rc;

  if (status != 0) {
    c->then(c, status);
    return;
  }
  have = json_object_new_object();
  for (i = 0; i < res->n; i++) {
    json_object *r = sam__hs_parse(res->recs[i].json, res->recs[i].json_len);

    if (r == NULL)
      continue;
    json_object_object_add(
        r, "_version", json_object_new_int64((int64_t)res->recs[i].version));
    json_object_object_add(have, res->recs[i].key, r);
  }
  c->first_err = 0;
  c->pending++; /* guard */
  json_object_object_get_ex(c->plugin, "models", &models);
  n = models != NULL ? json_object_array_length(models) : 0;
  for (i = 0; i < n; i++) {
    json_object *m = json_object_array_get_idx(models, i);
    const char *ident = sam__hs_str(m, "identifier");
    json_object *rec;

    if (ident == NULL)
      continue;
    rec = copy_known(json_object_object_get(m, "model"), mt->schema);
    json_object_object_add(rec, "identifier", json_object_new_string(ident));
    json_object_object_add(rec, "source", json_object_new_string("catalog"));
    json_object_object_add(rec, "edited", json_object_new_boolean(0));
    rc = sam__hs_put(c, pid, "sam_software_model", ident, rec, SAM_IF_NEW,
                     mat_put_done);
    json_object_put(rec);
    if (rc != 0 && c->first_err == 0)
      c->first_err = rc;
  }
  json_object_object_get_ex(c->plugin, "rule_templates", &tpls);
  n = tpls != NULL ? json_object_array_length(tpls) : 0;
  for (i = 0; i < n; i++) {
    json_object *t = json_object_array_get_idx(tpls, i);
    const char *tid = sam__hs_str(t, "template_id");
    int64_t tv =
        json_object_get_int64(json_object_object_get(t, "template_version"));
    json_object *old = NULL, *rec;
    char rid[65];
    uint64_t ifv = SAM_IF_NEW;

    if (tid == NULL)
      continue;
    snprintf(rid, sizeof(rid), "%s", tid); /* rule id = template id */
    rec = copy_known(json_object_object_get(t, "rule"), rt->schema);
    json_object_object_del(rec, "rule_id");
    json_object_object_del(rec, "edited");
    json_object_object_del(rec, "suggested_update");
    json_object_object_add(rec, "rule_id", json_object_new_string(rid));
    json_object_object_add(rec, "template_id", json_object_new_string(tid));
    json_object_object_add(rec, "template_version", json_object_new_int64(tv));
    json_object_object_add(rec, "edited", json_object_new_boolean(0));
    if (json_object_object_get_ex(have, rid, &old)) {
      int64_t ov = json_object_get_int64(
          json_object_object_get(old, "template_version"));
      json_object *ed = json_object_object_get(old, "edited");

      ifv = (uint64_t)json_object_get_int64(
          json_object_object_get(old, "_version"));
      if (tv <= ov) {
        json_object_put(rec);
        continue; /* up to date */
      }
      if (ed != NULL && json_object_get_boolean(ed)) {
        /* An admin's rule is never overwritten: offer the new template. */
        json_object *sug = json_object_new_object();
        json_object *keep = sam__hs_copy(old);
        json_object *cur = NULL;

        if (json_object_object_get_ex(old, "suggested_update", &cur) &&
            cur != NULL &&
            json_object_get_int64(
                json_object_object_get(cur, "template_version")) >= tv) {
          json_object_put(sug);
          json_object_put(keep);
          json_object_put(rec);
          continue;
        }
        json_object_object_del(keep, "_version");
        json_object_object_del(rec, "edited");
        json_object_object_add(sug, "template_version",
                               json_object_new_int64(tv));
        json_object_object_add(sug, "rule", rec);
        json_object_object_add(keep, "suggested_update", sug);
        rec = keep;
      }
    }
    rc = sam__hs_put(c, pid, "sam_reclamation_rule", rid, rec, ifv,
                     mat_put_done);
    json_object_put(rec);
    if (rc != 0 && c->first_err == 0)
      c->first_err = rc;
  }
  json_object_put(have);
  c->pending--;
  if (c->pending == 0)
    c->then(c, c->first_err);
}

int sam__hs_materialize(sam__hs_call *c, sam__hs_step_fn then) {
  /* A profile has a handful of rules (one per template); one page holds
   * them all. */
  c->then = then;
  return sam__hs_query(c, sam__hs_str(c->profile, "profile_id"),
                       "sam_reclamation_rule", NULL, NULL, SAM__HS_PAGE_MAX,
                       mat_rules_read);
}

/* ---- publish ---- */

static void publish_reply(sam__hs_call *c, int status) {
  json_object *v;

  if (status != 0) {
    sam__hs_reply_err(c, status, NULL,
                      "publishing failed while materializing the catalog "
                      "[%s]",
                      sam_err_name(status));
    return;
  }
  v = sam__hs_profile_view(c->profile, c->plugin);
  json_object_object_add(
      v, "run_job_id",
      c->job_id[0] != '\0' ? json_object_new_string(c->job_id) : NULL);
  sam__hs_reply_json(c, 200, v);
}

static void publish_saved(sam__hs_call *c, int status) {
  json_object *procs = NULL;
  const char *run = NULL;
  char key[200];
  size_t i, n;
  int rc;

  if (status != 0) {
    sam__hs_reply_err(c, status, NULL, "saving the profile failed [%s]",
                      sam_err_name(status));
    return;
  }
  /* Run once straight away: "download" by convention, else the first
   * process of the type. */
  json_object_object_get_ex(c->plugin, "processes", &procs);
  n = procs != NULL ? json_object_array_length(procs) : 0;
  for (i = 0; i < n; i++) {
    const char *p =
        sam__hs_str(json_object_array_get_idx(procs, i), "process_id");

    if (run == NULL || (p != NULL && strcmp(p, "download") == 0))
      run = p;
  }
  if (run != NULL && c->svc->sched != NULL) {
    snprintf(key, sizeof(key), "%s:%s", c->segs[3], run);
    rc = sam_sched_run_now(c->svc->sched, key, 0, "run_now", c->job_id, NULL,
                           NULL);
    if (rc != 0)
      c->job_id[0] = '\0';
  }
  rc = sam__hs_materialize(c, publish_reply);
  if (rc != 0)
    publish_reply(c, rc);
}

/* ---- the profile's scheduled jobs ---- */

static void on_job_ensured(int status, void *ud) {
  sam__hs_call *c = ud;

  c->pending--;
  if (status != 0 && c->first_err == 0)
    c->first_err = status;
  if (c->pending == 0)
    c->then(c, c->first_err);
}

int sam__hs_ensure_jobs(sam__hs_call *c, sam__hs_step_fn then) {
  const char *pid = sam__hs_str(c->profile, "profile_id");
  json_object *procs = NULL;
  char *pjson;
  size_t i, n;

  c->then = then;
  c->first_err = 0;
  if (c->svc->sched == NULL || c->plugin == NULL) {
    then(c, 0);
    return 0;
  }
  pjson = sam__hs_profile_plugin_json(c->svc, c->profile);
  if (pjson == NULL)
    return SAM_ENOMEM;
  json_object_object_get_ex(c->plugin, "processes", &procs);
  n = procs != NULL ? json_object_array_length(procs) : 0;
  c->pending++; /* guard */
  for (i = 0; i < n; i++) {
    sam_sched_job_spec spec;
    int rc;

    /* Every process gets its job ("download" and "reclaim"); the
     * scheduler's chaining rule decides whether reclaim runs. */
    memset(&spec, 0, sizeof(spec));
    spec.profile_id = pid;
    spec.display_name = sam__hs_str(c->profile, "display_name");
    spec.process_id =
        sam__hs_str(json_object_array_get_idx(procs, i), "process_id");
    spec.plugin = sam__hs_str(c->profile, "plugin");
    spec.profile_json = pjson;
    rc = sam_sched_ensure_job_ex(c->svc->sched, &spec, on_job_ensured, c);
    if (rc == 0)
      c->pending++;
    else if (c->first_err == 0)
      c->first_err = rc;
  }
  free(pjson);
  on_job_ensured(0, c); /* drops the guard */
  return 0;
}

static void publish_ensured(sam__hs_call *c, int status) {
  int rc;

  if (status != 0) {
    sam__hs_reply_err(c, status, NULL,
                      "creating the scheduled jobs failed [%s]",
                      sam_err_name(status));
    return;
  }
  rc = sam__hs_save_profile(c, publish_saved);
  if (rc != 0)
    publish_saved(c, rc);
}

static void publish_loaded(sam__hs_call *c, int status) {
  const char *cs;
  int rc;

  if (status != 0) {
    sam__hs_reply_err(c, status, NULL, "no such profile [id=%s]", c->segs[3]);
    return;
  }
  if (c->plugin == NULL) {
    sam__hs_reply_err(c, SAM_EBUSY, NULL,
                      "the profile's plugin is not loaded [plugin=%s]",
                      sam__hs_str(c->profile, "plugin"));
    return;
  }
  cs = sam__hs_str(c->profile, "connection_status");
  if (cs == NULL || strcmp(cs, "validated") != 0) {
    sam__hs_reply_err(c, SAM_ECONFLICT, NULL,
                      "the connection is not validated [connection_status=%s]; "
                      "run Validate Connection first",
                      cs != NULL ? cs : "");
    return;
  }
  /* The jobs' runs receive the profile as it will be stored: published. */
  json_object_object_add(c->profile, "state",
                         json_object_new_string("published"));
  rc = sam__hs_ensure_jobs(c, publish_ensured);
  if (rc != 0)
    publish_ensured(c, rc);
}

void sam__hs_route_publish(sam__hs_call *c) {
  int rc = sam__hs_load_profile(c, c->segs[3], publish_loaded);

  if (rc != 0)
    sam__hs_reply_err(c, rc, NULL, "reading the profile failed");
}
