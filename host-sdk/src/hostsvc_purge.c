/*
 * hostsvc_purge.c: the bulk work of a profile deletion: deleting every
 * record of a type page by page (never the whole list in memory), and
 * closing the open candidates with a history entry; plus the candidate
 * state change both this and the candidates list use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

static int is_open_state(const char *s) {
  return strncmp(s, "closed_", 7) != 0;
}

void sam__hs_candidate_move(json_object *cand,
                            const char *to,
                            const char *actor,
                            const char *reason) {
  json_object *hist = NULL, *h = json_object_new_object();
  const char *from = sam__hs_str(cand, "state");
  char now[32];

  sam__hs_now(now);
  json_object_object_add(h, "at", json_object_new_string(now));
  json_object_object_add(h, "from",
                         from != NULL ? json_object_new_string(from) : NULL);
  json_object_object_add(h, "to", json_object_new_string(to));
  json_object_object_add(h, "actor", json_object_new_string(actor));
  json_object_object_add(h, "reason", json_object_new_string(reason));
  if (!json_object_object_get_ex(cand, "history", &hist) ||
      !json_object_is_type(hist, json_type_array)) {
    hist = json_object_new_array();
    json_object_object_add(cand, "history", hist);
  }
  json_object_array_add(hist, h);
  json_object_object_add(cand, "state", json_object_new_string(to));
  json_object_object_add(cand, "open",
                         json_object_new_boolean(is_open_state(to)));
  if (!is_open_state(to))
    json_object_object_add(cand, "closed_at", json_object_new_string(now));
}

/* ---- bulk work for profile deletion ---- */

static void
purge_page(sam__hs_call *c, int status, const sam_store_result *res);

static void
purge_deleted(sam__hs_call *c, int status, const sam_store_result *res) {
  (void)res;
  if (status != 0 && status != SAM_ENOENT && c->first_err == 0)
    c->first_err = status;
  if (c->pending > 0)
    return;
  if (c->first_err != 0) {
    c->as = NULL;
    c->then(c, c->first_err);
    return;
  }
  /* The page is gone: the next query starts from the beginning again. */
  status = sam__hs_query(c, c->buf, sam__hs_str(c->work2, "type"), NULL, NULL,
                         200, purge_page);
  if (status != 0) {
    c->as = NULL;
    c->then(c, status);
  }
}

static void
purge_page(sam__hs_call *c, int status, const sam_store_result *res) {
  size_t i;

  if (status != 0 || res->n == 0) {
    c->as = NULL;
    c->then(c, status);
    return;
  }
  c->first_err = 0;
  for (i = 0; i < res->n; i++) {
    int rc = sam__hs_del(c, c->buf, sam__hs_str(c->work2, "type"),
                         res->recs[i].key, SAM_IF_ANY, purge_deleted);

    if (rc != 0 && c->first_err == 0)
      c->first_err = rc;
    if (rc != 0)
      break;
  }
  if (c->pending == 0) {
    c->as = NULL;
    c->then(c, c->first_err != 0 ? c->first_err : SAM_EIO);
  }
}

int sam__hs_purge_type(sam__hs_call *c,
                       const char *scope,
                       const char *type,
                       sam__hs_step_fn then) {
  int rc;

  json_object_put(c->work2);
  c->work2 = json_object_new_object();
  json_object_object_add(c->work2, "type", json_object_new_string(type));
  snprintf(c->buf, sizeof(c->buf), "%s", scope);
  c->then = then;
  c->first_err = 0;
  /* A plugin's own type is reachable through that plugin's handle only. */
  c->as = strncmp(type, "sam_", 4) != 0
              ? sam__hs_plugin_handle(c->svc, sam__hs_str(c->profile, "plugin"))
              : NULL;
  rc = sam__hs_query(c, scope, type, NULL, NULL, 200, purge_page);
  if (rc != 0)
    c->as = NULL;
  return rc;
}

static void cand_page(sam__hs_call *c, int status, const sam_store_result *res);

static void
cand_written(sam__hs_call *c, int status, const sam_store_result *res) {
  json_object *f;

  (void)res;
  if (status != 0 && c->first_err == 0)
    c->first_err = status;
  if (c->pending > 0)
    return;
  if (c->first_err != 0) {
    c->then(c, c->first_err);
    return;
  }
  f = json_object_new_object();
  json_object_object_add(f, "/open", json_object_new_boolean(1));
  status = sam__hs_query(c, c->buf, "sam_candidate", f, NULL, 200, cand_page);
  json_object_put(f);
  if (status != 0)
    c->then(c, status);
}

static void
cand_page(sam__hs_call *c, int status, const sam_store_result *res) {
  const char *reason = sam__hs_str(c->work2, "reason");
  size_t i;

  if (status != 0 || res->n == 0) {
    c->then(c, status);
    return;
  }
  c->first_err = 0;
  for (i = 0; i < res->n; i++) {
    json_object *cand = sam__hs_parse(res->recs[i].json, res->recs[i].json_len);
    int rc;

    if (cand == NULL)
      continue;
    sam__hs_candidate_move(cand, "closed_skipped", c->actor, reason);
    rc = sam__hs_put(c, c->buf, "sam_candidate", res->recs[i].key, cand,
                     res->recs[i].version, cand_written);
    json_object_put(cand);
    if (rc != 0) {
      if (c->first_err == 0)
        c->first_err = rc;
      break;
    }
  }
  if (c->pending == 0)
    c->then(c, c->first_err != 0 ? c->first_err : SAM_EIO);
}

int sam__hs_close_candidates(sam__hs_call *c,
                             const char *pid,
                             const char *reason,
                             sam__hs_step_fn then) {
  json_object *f = json_object_new_object();
  int rc;

  json_object_put(c->work2);
  c->work2 = json_object_new_object();
  json_object_object_add(c->work2, "reason", json_object_new_string(reason));
  snprintf(c->buf, sizeof(c->buf), "%s", pid);
  c->then = then;
  c->first_err = 0;
  json_object_object_add(f, "/open", json_object_new_boolean(1));
  rc = sam__hs_query(c, pid, "sam_candidate", f, NULL, 200, cand_page);
  json_object_put(f);
  return rc;
}
