/*
 * hostsvc_undo.c: POST /api/v1/profiles/{id}/lists/subscriptions/{key}/
 * restore, the Undo of a reclaim (issue 7 item 6). The host knows nothing
 * of DocuSign: it runs the profile plugin's "restore_subscription" action
 * (registered without SAM_ACTION_UI: it acts on one subscription, not on
 * the profile) with params {"external_user_id": key} and answers like an
 * action call: {"status", "message", "result", "job_id"}. The call is
 * audited like every changing call (hostsvc.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

#define RESTORE_ACTION "restore_subscription"

static void on_restored(const sam_job_outcome *o, void *ud) {
  sam__hs_call *c = ud;
  json_object *body = json_object_new_object();
  json_object *res = NULL;
  int st;

  c->pending--;
  c->job_running = 0;
  st = sam__hs_outcome_status(c, o->status);
  if (o->result_json != NULL)
    res = sam__hs_parse(o->result_json, o->result_len);
  json_object_object_add(body, "status",
                         json_object_new_string(sam_err_name(st)));
  json_object_object_add(
      body, "message",
      json_object_new_string(o->message != NULL ? o->message : ""));
  json_object_object_add(body, "result", res);
  json_object_object_add(body, "job_id", json_object_new_string(c->job_id));
  sam__hs_reply_json(c, sam__hs_http_status(st), body);
}

static void restore_loaded(sam__hs_call *c, int status) {
  sam_job_request req;
  json_object *params;
  char *pjson;
  const char *ptext;
  int rc;

  if (sam__hs_action_ready(c, status) != 0)
    return;
  if (sam__hs_plugin_action(c->plugin, RESTORE_ACTION, 0) == NULL) {
    sam__hs_reply_err(c, SAM_ENOENT, NULL,
                      "the profile's plugin cannot restore subscriptions "
                      "[plugin=%s] [action=%s]",
                      sam__hs_str(c->profile, "plugin"), RESTORE_ACTION);
    return;
  }
  pjson = sam__hs_profile_plugin_json(c->svc, c->profile);
  params = json_object_new_object();
  if (pjson == NULL || params == NULL) {
    free(pjson);
    json_object_put(params);
    sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return;
  }
  json_object_object_add(params, "external_user_id",
                         json_object_new_string(c->segs[6]));
  ptext = sam__hs_text(params);
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_ACTION;
  req.plugin = sam__hs_str(c->profile, "plugin");
  req.id = RESTORE_ACTION;
  req.profile_id = c->segs[3];
  req.profile_json = pjson;
  req.profile_len = strlen(pjson);
  req.params_json = ptext;
  req.params_len = strlen(ptext);
  req.done = on_restored;
  req.ud = c;
  rc = sam_runtime_job_start(c->svc->rt, &req, c->job_id);
  free(pjson);
  json_object_put(params);
  if (rc != 0) {
    sam__hs_reply_err(c, rc, NULL, "the restore could not start [%s]",
                      sam_err_name(rc));
    return;
  }
  c->pending++;
  c->job_running = 1; /* cancelled if the service closes */
}

void sam__hs_route_restore(sam__hs_call *c) {
  int rc;

  if (strcmp(c->method, "POST") != 0) {
    sam__hs_reply_err(c, SAM_EINVAL, NULL,
                      "use POST to restore a subscription");
    return;
  }
  rc = sam__hs_load_profile(c, c->segs[3], restore_loaded);
  if (rc != 0)
    sam__hs_reply_err(c, rc, NULL, "reading the profile failed [%s]",
                      sam_err_name(rc));
}
