/*
 * dsg_download_store.c: the download's store side (ABI.md 9.6): tracked
 * store calls, the reads at start (models, unrecognized identifiers,
 * exclusion rules, the checkpoint), the previous records of each page read
 * concurrently and bounded, the page's batch (SAM_EAGAIN retried after the
 * next callback or a short timer), the checkpoint, the consumption record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_action.h"
#include "dsg_consumption.h"
#include "dsg_dates.h"
#include "dsg_download_int.h"
#include "dsg_download_work.h"
#include "dsg_log.h"
#include "dsg_register.h"
#include "dsg_user_map.h"

#define SUB_TYPE "sam_subscription"
#define QUERY_LIMIT 500

/* ---- tracked store calls ---- */

static void on_store(int status, const sam_store_result *res, void *ud) {
  dl_op *o = ud;
  dsg_dl *dl = o->dl;
  dsg_ctx *ctx = o->ctx;

  if (o->prev != NULL)
    o->prev->next = o->next;
  else
    dl->ops = o->next;
  if (o->next != NULL)
    o->next->prev = o->prev;
  dl->n_ops--;
  o->fn(dl, status, res, o->arg);
  dl_pump(dl);
  /* Last: while stopping this may free ctx (dsg_ctx.h). */
  dsg_op_untrack(ctx, &o->ref);
  free(o);
}

static dl_op *op_new(dsg_dl *dl, dl_store_fn fn, void *arg) {
  dl_op *o = calloc(1, sizeof(*o));

  if (o == NULL)
    return NULL;
  o->dl = dl;
  o->ctx = dl->ctx;
  o->fn = fn;
  o->arg = arg;
  return o;
}

static int op_accepted(dsg_dl *dl, dl_op *o, int rc, sam_op *op) {
  if (rc != 0) {
    free(o);
    return rc;
  }
  o->ref.op = op;
  dsg_op_track(dl->ctx, &o->ref);
  o->next = dl->ops;
  if (dl->ops != NULL)
    dl->ops->prev = o;
  dl->ops = o;
  dl->n_ops++;
  return 0;
}

int dl_store_get(dsg_dl *dl,
                 const char *scope,
                 const char *type,
                 const char *key,
                 dl_store_fn fn,
                 void *arg) {
  dl_op *o = op_new(dl, fn, arg);
  sam_op *op = NULL;
  int rc;

  if (o == NULL)
    return SAM_ENOMEM;
  rc = dl->ctx->api->store_get(dl->ctx->host, scope, type, key, on_store, o,
                               &op);
  return op_accepted(dl, o, rc, op);
}

int dl_store_query(dsg_dl *dl,
                   const char *scope,
                   const char *type,
                   const char *filter,
                   const char *cursor,
                   uint32_t limit,
                   dl_store_fn fn,
                   void *arg) {
  dl_op *o = op_new(dl, fn, arg);
  sam_op *op = NULL;
  int rc;

  if (o == NULL)
    return SAM_ENOMEM;
  rc = dl->ctx->api->store_query(dl->ctx->host, scope, type, filter, cursor,
                                 limit, on_store, o, &op);
  return op_accepted(dl, o, rc, op);
}

int dl_store_put(dsg_dl *dl,
                 const char *type,
                 const sam_record *recs,
                 size_t n,
                 dl_store_fn fn,
                 void *arg) {
  dl_op *o = op_new(dl, fn, arg);
  sam_op *op = NULL;
  int rc;

  if (o == NULL)
    return SAM_ENOMEM;
  rc = dl->ctx->api->store_put_batch(dl->ctx->host, dl->profile_id, type, recs,
                                     n, on_store, o, &op);
  return op_accepted(dl, o, rc, op);
}

void dl_ops_cancel(dsg_dl *dl) {
  dl_op *o;

  for (o = dl->ops; o != NULL; o = o->next)
    if (o->ref.op != NULL)
      dl->ctx->api->op_cancel(o->ref.op);
}

/* A refused store call: SAM_EAGAIN waits for the next callback or a short
 * timer (ABI.md 9.6); anything else ends the run. Returns 1 to stop. */
static int refused(dsg_dl *dl, int rc, const char *what) {
  if (rc == 0)
    return 0;
  if (rc == SAM_EAGAIN) {
    dl_wake_at(dl, dl_now_ms() + DL_EAGAIN_RETRY_MS);
    return 1;
  }
  dl_fail(dl, rc, "store: %s refused [%s]", what, sam_err_name(rc));
  return 1;
}

static int failed(dsg_dl *dl, int status, const char *what) {
  if (status == 0)
    return 0;
  if (status != SAM_ECANCELED || !dl->finishing)
    dl_fail(dl, status, "store: %s failed [%s]", what, sam_err_name(status));
  return 1;
}

static json_object *rec_json(const sam_record *r) {
  return dsg_json_parse(r->json, r->json_len);
}

static void set_cursor(dsg_dl *dl, const char *next) {
  free(dl->cursor);
  dl->cursor = next != NULL ? strdup(next) : NULL;
}

/* ---- model look-up ---- */

const char *dl_model_lookup(const char *identifier, void *ud) {
  const dl_model_tables *t = ud;
  json_object *u = NULL;

  /* Read-only json-c calls: no refcount, no serialization buffer. */
  if (identifier == NULL || identifier[0] == '\0')
    return NULL;
  if (json_object_object_get_ex(t->models, identifier, NULL))
    return identifier;
  if (json_object_object_get_ex(t->unrec, identifier, &u))
    return dsg_json_str(u, "software_model"); /* an admin's mapping */
  return NULL;
}

/* ---- setup: what the run reads once ---- */

static void resume_from(dsg_dl *dl, json_object *ck) {
  json_object *ranges = NULL;
  json_object *v = NULL;
  size_t i;
  uint64_t hi = 0;

  if (!json_object_object_get_ex(ck, "pages_done", &ranges) ||
      !json_object_is_type(ranges, json_type_array))
    return;
  for (i = 0; i < json_object_array_length(ranges); i++) {
    json_object *e = json_object_array_get_idx(ranges, i);
    int64_t to = json_object_get_int64(json_object_object_get(e, "to"));

    if (to >= 0 && (uint64_t)to + 1 > hi)
      hi = (uint64_t)to + 1;
  }
  if (hi > 1000000)
    return; /* not a checkpoint of ours */
  dl->done_map = calloc(hi + 1, 1);
  if (dl->done_map == NULL)
    return;
  dl->done_cap = hi + 1;
  for (i = 0; i < json_object_array_length(ranges); i++) {
    json_object *e = json_object_array_get_idx(ranges, i);
    int64_t from = json_object_get_int64(json_object_object_get(e, "from"));
    int64_t to = json_object_get_int64(json_object_object_get(e, "to"));
    int64_t k;

    for (k = from; k >= 0 && k <= to; k++)
      dl->done_map[k] = 1;
  }
  snprintf(dl->run_id, sizeof(dl->run_id), "%s", dsg_json_str(ck, "run_id"));
  if (dsg_json_str(ck, "started_at") != NULL)
    snprintf(dl->started_at, sizeof(dl->started_at), "%s",
             dsg_json_str(ck, "started_at"));
  if (json_object_object_get_ex(ck, "total_set_size", &v))
    dl->ck_total = (uint64_t)json_object_get_int64(v);
  if (json_object_object_get_ex(ck, "users_seen", &v))
    dl->ck_users = (uint64_t)json_object_get_int64(v);
  dl->resumed = 1;
  dsg_logf(dl->ctx, dl->job, SAM_LOG_INFO,
           "download: resuming run [%s] from its checkpoint", dl->run_id);
}

static void
on_setup(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  json_object *best = NULL;
  size_t i;

  (void)arg;
  dl->busy = 0;
  if (failed(dl, status, "reading the profile's settings"))
    return;
  for (i = 0; i < res->n; i++) {
    json_object *o = rec_json(&res->recs[i]);

    if (o == NULL)
      continue;
    switch (dl->step) {
    case 0:
      json_object_object_add(dl->models, res->recs[i].key,
                             json_object_new_boolean(1));
      json_object_put(o);
      break;
    case 1:
      json_object_object_add(dl->unrec, res->recs[i].key, o);
      break;
    case 2:
      json_object_array_add(dl->excl_id, o);
      break;
    case 3:
      json_object_array_add(dl->excl_user, o);
      break;
    default: {
      const char *a = dsg_json_str(o, "started_at");
      const char *b = dsg_json_str(best, "started_at");

      if (best == NULL || (a != NULL && b != NULL && strcmp(a, b) > 0)) {
        json_object_put(best);
        best = o;
      } else {
        json_object_put(o);
      }
      break;
    }
    }
  }
  if (best != NULL) {
    resume_from(dl, best);
    json_object_put(best);
  }
  set_cursor(dl, res->next_cursor);
  if (dl->cursor == NULL)
    dl->step++;
}

/* Whether the profile holds any subscription yet: a first download has
 * no previous record to read for any user. */
static void
on_any_sub(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  (void)arg;
  dl->busy = 0;
  if (failed(dl, status, "reading the profile's subscriptions"))
    return;
  dl->no_prev = res->n == 0;
  dl->step++;
}

void dl_setup_pump(dsg_dl *dl) {
  static const char *const types[] = {
      "sam_software_model", "sam_unrecognized_identifier",
      "sam_exclusion_identifier", "sam_exclusion_user", DSG_RT_DOWNLOAD_STATE};
  const char *scope;
  const char *filter = NULL;
  char err[300];
  size_t skipped = 0;
  int rc;

  if (dl->busy)
    return;
  if (dl->step == 5) {
    rc = dl_store_query(dl, dl->profile_id, SUB_TYPE, NULL, NULL, 1, on_any_sub,
                        NULL);
    if (refused(dl, rc, "reading the profile's subscriptions"))
      return;
    dl->busy = 1;
    return;
  }
  if (dl->step >= 6) {
    rc = dsg_exclusions_new(DL_PROFILE_TYPE, dl->excl_id, dl->excl_user,
                            &dl->excl, &skipped, err, sizeof(err));
    if (rc != 0) {
      dl_fail(dl, rc, "exclusion rules: %s", err);
      return;
    }
    dl->phase = DL_PAGES;
    dl->step = 0;
    dl->pump_again = 1;
    return;
  }
  scope = dl->step == 2 || dl->step == 3 ? DL_HOST_SCOPE : dl->profile_id;
  if (dl->step == 2)
    filter = "{\"/profile_type\":\"" DL_PROFILE_TYPE "\"}";
  else if (dl->step == 4)
    filter = "{\"/status\":\"running\"}";
  rc = dl_store_query(dl, scope, types[dl->step], filter, dl->cursor,
                      QUERY_LIMIT, on_setup, NULL);
  if (refused(dl, rc, types[dl->step]))
    return;
  dl->busy = 1;
}

/* ---- one page: previous records, mapping, the batch ---- */

typedef struct get_arg {
  dl_req *r;
  size_t i;
} get_arg;

static void
on_prev(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  get_arg *a = arg;
  dl_req *r = a->r;

  r->gets_in_flight--;
  dl->gets_in_flight--;
  r->gets_done++;
  if (status == 0 && res != NULL && res->n == 1) {
    /* Kept as text: the mapping work parses it off the loop. */
    char *t = malloc(res->recs[0].json_len + 1);

    if (t == NULL) {
      dl_fail(dl, SAM_ENOMEM, "out of memory [previous record]");
    } else {
      memcpy(t, res->recs[0].json, res->recs[0].json_len);
      t[res->recs[0].json_len] = '\0';
      r->prev_texts[a->i] = t;
    }
  } else if (status != SAM_ENOENT && !(status == 0 && res != NULL))
    failed(dl, status, "reading a subscription");
  free(a);
}

static void
on_put(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  dl_req *r = arg;

  (void)res;
  if (r->puts_out > 0)
    r->puts_out--;
  if (failed(dl, status, "writing a page of subscriptions"))
    return;
  if (r->puts_out > 0 || r->put_next < r->n_recs)
    return; /* the page's other part is still to write */
  dl->c.created += r->t_created;
  dl->c.updated += r->t_updated;
  dl->c.unchanged += r->t_unchanged;
  dl->c.excluded += r->t_excluded;
  dl->users_stored += r->n_users;
  dl_page_mark_done(dl, r->index);
  dl_checkpoint(dl);
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    dl->reqs = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  dl->n_reqs--;
  dl_req_release(dl, r);
}

/* The identifier of an unrecognized subscription (no software_model), as
 * a new string; NULL when recognized or without one. *nomem on failure. */
static char *unrec_ident(json_object *rec, int *nomem) {
  const char *id = dsg_json_str(rec, "subscription_identifier");
  json_object *m = NULL;
  char *c;

  if (id == NULL || id[0] == '\0')
    return NULL;
  if (json_object_object_get_ex(rec, "software_model", &m) &&
      json_object_is_type(m, json_type_string))
    return NULL;
  c = strdup(id);
  if (c == NULL)
    *nomem = 1;
  return c;
}

static int add_skip(dl_req *r, const char *err) {
  char *c = strdup(err);

  if (c == NULL)
    return SAM_ENOMEM;
  r->skips[r->n_skips++] = c;
  return 0;
}

/* A user listed whose record this run does not write: the sweep must
 * read that record, as if the user had not been listed. */
static int add_unwritten(dl_req *r, json_object *u) {
  const char *id = dsg_json_str(u, "userId");
  char *c;

  if (id == NULL || id[0] == '\0')
    return 0; /* not in the seen set either */
  c = strdup(id);
  if (c == NULL)
    return SAM_ENOMEM;
  r->unw[r->n_unw++] = c;
  return 0;
}

void dl_batch_opts(dsg_dl *dl, dl_model_tables *tables, dsg_user_map_opts *mo) {
  tables->models = dl->models;
  tables->unrec = dl->unrec;
  memset(mo, 0, sizeof(*mo));
  mo->now = dl->now_s;
  mo->run_id = dl->run_id; /* fixed from setup on */
  mo->model_lookup = dl_model_lookup;
  mo->model_ud = tables;
  mo->exclusions = dl->excl; /* read-only, shareable (dsg_exclusions.h) */
}

/* Maps user i into the batch. Returns 0 or SAM_ENOMEM. */
static int map_one(dl_req *r, size_t i, const dsg_user_map_opts *mo) {
  json_object *u = r->users[i];
  json_object *prev = NULL;
  json_object *rec = NULL;
  json_object *ex = NULL;
  char err[300];
  sam_record *sr;
  int nomem = 0;
  int rc = 0;

  if (dsg_user_status_kind(dsg_json_str(u, "userStatus")) == DSG_USER_CLOSED) {
    /* Not an active subscription. Its record is left as it is: not seen
     * in this run, the sweep of a complete and consistent run removes
     * it; a partial run changes nothing (SAM-MODEL.md 6). */
    return add_unwritten(r, u);
  }
  if (r->prev_texts[i] != NULL) {
    /* the text is the loop's (on_prev): the loop frees it */
    prev = dsg_json_parse(r->prev_texts[i], strlen(r->prev_texts[i]));
  }
  rc = dsg_user_map(u, prev, mo, &rec, err, sizeof(err));
  if (rc == SAM_ENOMEM)
    goto done;
  if (rc != 0) {
    rc = add_skip(r, err);
    if (rc == 0)
      rc = add_unwritten(r, u);
    goto done;
  }
  if (prev == NULL)
    r->t_created++;
  else if (dsg_user_record_changed(prev, rec))
    r->t_updated++;
  else
    r->t_unchanged++;
  if (json_object_object_get_ex(rec, "excluded", &ex) &&
      json_object_get_boolean(ex))
    r->t_excluded++;
  r->idents[r->n_recs] = unrec_ident(rec, &nomem);
  r->keys[r->n_recs] = strdup(dsg_json_str(u, "userId")); /* checked */
  r->texts[r->n_recs] =
      strdup(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
  if (nomem || r->keys[r->n_recs] == NULL || r->texts[r->n_recs] == NULL) {
    free(r->idents[r->n_recs]);
    free(r->keys[r->n_recs]);
    free(r->texts[r->n_recs]);
    r->idents[r->n_recs] = NULL;
    r->keys[r->n_recs] = NULL;
    r->texts[r->n_recs] = NULL;
    rc = SAM_ENOMEM;
    goto done;
  }
  sr = &r->recs[r->n_recs];
  sr->struct_size = sizeof(*sr);
  sr->if_version = SAM_IF_ANY;
  sr->key = r->keys[r->n_recs];
  sr->json = r->texts[r->n_recs];
  sr->json_len = strlen(sr->json);
  r->n_recs++;
done:
  json_object_put(rec);
  json_object_put(prev);
  return rc;
}

int dl_batch_map(dl_req *r, const dsg_user_map_opts *mo) {
  size_t i;
  int rc;

  r->recs = calloc(r->n_users + 1, sizeof(*r->recs));
  r->texts = calloc(r->n_users + 1, sizeof(*r->texts));
  r->keys = calloc(r->n_users + 1, sizeof(*r->keys));
  r->idents = calloc(r->n_users + 1, sizeof(*r->idents));
  r->skips = calloc(r->n_users + 1, sizeof(*r->skips));
  r->unw = calloc(r->n_users + 1, sizeof(*r->unw));
  r->gb = calloc(1, sizeof(*r->gb));
  if (r->recs == NULL || r->texts == NULL || r->keys == NULL ||
      r->idents == NULL || r->skips == NULL || r->unw == NULL || r->gb == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < r->n_users; i++) {
    rc = map_one(r, i, mo);
    if (rc != 0)
      return rc;
  }
  /* The batch holds copies of all it needs: free the page's tree here
   * (off the loop when this runs as a work, where the parse made it)
   * rather than after the put. r->users and the previous texts are the
   * loop's: dl_batch_mapped frees them. */
  dsg_page_free(&r->page);
  return 0;
}

void dl_batch_mapped(dsg_dl *dl, dl_req *r) {
  json_object *n = NULL;
  size_t i;

  /* made on the loop (dl_page_parsed, on_prev): freed on the loop; the
   * users pointed into the page's tree, which the mapping freed */
  for (i = 0; i < r->n_users; i++)
    free(r->prev_texts[i]);
  free(r->prev_texts);
  r->prev_texts = NULL;
  free(r->users);
  r->users = NULL;

  /* Listed, not written (Closed, skipped): marked in the seen set, which
   * is sized for the account from the first page, so this never rehashes
   * on the loop (a set of their own did: 3-8 ms turns at 1M users). */
  for (i = 0; i < r->n_unw; i++)
    (void)dsg_idset_mark(dl->seen, r->unw[i]);

  for (i = 0; i < r->n_skips; i++) {
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: user skipped on page [%llu]: %s",
             (unsigned long long)r->index, r->skips[i]);
  }
  for (i = 0; i < r->n_recs; i++) {
    const char *id = r->idents[i];

    if (id == NULL)
      continue;
    if (json_object_object_get_ex(dl->unrec_seen, id, &n))
      json_object_set_int64(n, json_object_get_int64(n) + 1);
    else
      json_object_object_add(dl->unrec_seen, id, json_object_new_int64(1));
  }
  r->state = RQ_WRITING;
}

void dl_page_store_pump(dsg_dl *dl, dl_req *r) {
  dl_model_tables tables;
  dsg_user_map_opts mo;
  size_t n;
  int rc;

  if (r->state == RQ_READING) {
    if (dl->no_prev) /* a first download: no previous record exists */
      r->next_get = r->gets_done = r->n_users;
    while (r->next_get < r->n_users && dl->gets_in_flight < DL_MAX_GETS) {
      get_arg *a = malloc(sizeof(*a));

      if (a == NULL) {
        dl_fail(dl, SAM_ENOMEM, "out of memory [read]");
        return;
      }
      a->r = r;
      a->i = r->next_get;
      rc = dl_store_get(dl, dl->profile_id, SUB_TYPE,
                        dsg_json_str(r->users[r->next_get], "userId"), on_prev,
                        a);
      if (rc != 0)
        free(a);
      if (refused(dl, rc, "reading a subscription"))
        return;
      r->next_get++;
      r->gets_in_flight++;
      dl->gets_in_flight++;
    }
    if (r->gets_done < r->n_users || dl->finishing)
      return;
    /* Mapping 100 users and writing them out as text: off the loop. */
    rc = dl_batch_queue(dl, r);
    if (rc == 0 || dl->finishing)
      return; /* dl_batch_mapped follows from the work's after callback */
    /* The pool refused (out of memory): map here, as before. */
    dl_batch_opts(dl, &tables, &mo);
    rc = dl_batch_map(r, &mo);
    if (rc != 0) {
      dl_fail(dl, rc, "mapping page [%llu] failed [%s]",
              (unsigned long long)r->index, sam_err_name(rc));
      return;
    }
    dl_batch_mapped(dl, r);
  }
  if (r->state != RQ_WRITING || (r->put_next >= r->n_recs && r->n_recs > 0))
    return;
  if (r->n_recs == 0) {
    on_put(dl, 0, NULL, r); /* frees r */
    return;
  }
  /* One put per loop turn: the host parses (and may validate) each
   * record on its loop inside store_put_batch, about 1.5 ms for 100, and
   * several pages mapped off the loop often come back in one turn
   * (bench-download saw 2-4 puts in one turn hundreds of times per 100k
   * users). The next ones wait for the timer, a later turn. */
  if (uv_now(dl->ctx->loop) != dl->put_turn_ms) {
    dl->put_turn_ms = uv_now(dl->ctx->loop);
    dl->put_turn_n = 0;
  }
  if (dl->put_turn_n > 0) {
    /* +1 ms: a 0 ms timer re-armed in its own callback would run again
     * in the same turn (libuv 1.44 runs every due timer in one pass) */
    dl_wake_at(dl, dl_now_ms() + 1);
    return;
  }
  /* A page goes out in parts of DL_PUT_MAX records, one part per turn:
   * the host's parse and validation of a part is what one turn spends. A
   * page counts as stored (tallies, checkpoint) once every part is. */
  n = r->n_recs - r->put_next;
  if (n > DL_PUT_MAX)
    n = DL_PUT_MAX;
  rc = dl_store_put(dl, SUB_TYPE, r->recs + r->put_next, n, on_put, r);
  if (refused(dl, rc, "writing a page of subscriptions"))
    return;
  r->put_next += n;
  r->puts_out++;
  dl->put_turn_n++;
  if (r->put_next < r->n_recs)
    dl_wake_at(dl, dl_now_ms() + 1);
}

/* ---- the checkpoint ---- */

int dl_page_done_before(const dsg_dl *dl, uint64_t index) {
  return dl->resumed && index < dl->done_cap && dl->done_map[index] == 1;
}

void dl_page_mark_done(dsg_dl *dl, uint64_t index) {
  if (index < dl->done_cap && dl->done_map[index] == 0)
    dl->done_map[index] = 2; /* stored by this job */
}

static json_object *checkpoint_json(dsg_dl *dl, const char *status) {
  json_object *o = json_object_new_object();
  json_object *ranges = json_object_new_array();
  char now[DSG_DATE_BUF];
  uint64_t i = 0;

  if (o == NULL || ranges == NULL) {
    json_object_put(o);
    json_object_put(ranges);
    return NULL;
  }
  while (i < dl->done_cap) {
    uint64_t j;
    json_object *e;

    if (dl->done_map[i] == 0) {
      i++;
      continue;
    }
    for (j = i; j + 1 < dl->done_cap && dl->done_map[j + 1] != 0; j++)
      ;
    e = json_object_new_object();
    json_object_object_add(e, "from", json_object_new_int64((int64_t)i));
    json_object_object_add(e, "to", json_object_new_int64((int64_t)j));
    json_object_array_add(ranges, e);
    i = j + 1;
  }
  if (dsg_date_format(dl_now_ms() / 1000, now, sizeof(now)) != 0)
    snprintf(now, sizeof(now), "%.20s", dl->started_at);
  json_object_object_add(o, "run_id", json_object_new_string(dl->run_id));
  json_object_object_add(o, "status", json_object_new_string(status));
  json_object_object_add(o, "started_at",
                         json_object_new_string(dl->started_at));
  json_object_object_add(o, "updated_at", json_object_new_string(now));
  if (strcmp(status, "running") != 0)
    json_object_object_add(o, "finished_at", json_object_new_string(now));
  json_object_object_add(
      o, "total_set_size",
      json_object_new_int64((int64_t)dl->paging.first_total));
  json_object_object_add(o, "page_size", json_object_new_int(DSG_PAGE_SIZE));
  json_object_object_add(
      o, "pages_total",
      json_object_new_int64((int64_t)dl->paging.pages_planned));
  json_object_object_add(o, "pages_done", ranges);
  json_object_object_add(
      o, "users_seen",
      json_object_new_int64((int64_t)(dl->ck_users + dl->users_stored)));
  return o;
}

static void
on_checkpoint(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  (void)res;
  (void)arg;
  dl->ck_busy = 0;
  if (status != 0 && status != SAM_ECANCELED) {
    /* A lost checkpoint only costs pages re-read after a crash. */
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: checkpoint write failed [%s]", sam_err_name(status));
  }
  if (dl->ck_dirty && !dl->finishing)
    dl_checkpoint(dl);
}

static int put_one(dsg_dl *dl,
                   const char *type,
                   const char *key,
                   json_object *o,
                   dl_store_fn fn) {
  sam_record rec;

  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.if_version = SAM_IF_ANY;
  rec.key = key;
  rec.json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  rec.json_len = strlen(rec.json);
  return dl_store_put(dl, type, &rec, 1, fn, NULL);
}

void dl_checkpoint(dsg_dl *dl) {
  json_object *o;
  int rc;

  if (dl->ck_busy || dl->finishing) {
    dl->ck_dirty = 1;
    return;
  }
  dl->ck_dirty = 0;
  o = checkpoint_json(dl, "running");
  if (o == NULL)
    return;
  rc = put_one(dl, DSG_RT_DOWNLOAD_STATE, dl->run_id, o, on_checkpoint);
  json_object_put(o);
  if (rc == SAM_EAGAIN) {
    dl->ck_dirty = 1; /* the next page's checkpoint carries it */
    return;
  }
  if (rc == 0)
    dl->ck_busy = 1;
}

int dl_checkpoint_last(dsg_dl *dl) {
  json_object *o;
  int rc;

  if (dl->ck_final_sent || dl->ck_busy || dl->status == SAM_OK ||
      !dl->paging.started || dl->ctx->stopping)
    return 0;
  dl->ck_final_sent = 1;
  o = checkpoint_json(dl, "running");
  if (o == NULL)
    return 0;
  rc = put_one(dl, DSG_RT_DOWNLOAD_STATE, dl->run_id, o, on_checkpoint);
  json_object_put(o);
  if (rc != 0)
    return 0;
  dl->ck_busy = 1;
  return 1;
}

static void
on_final(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  (void)res;
  (void)arg;
  dl->busy = 0;
  if (failed(dl, status, "writing the final checkpoint"))
    return;
  dl->phase = DL_DONE;
}

void dl_final_pump(dsg_dl *dl) {
  json_object *o;
  int rc;

  if (dl->busy || dl->ck_busy)
    return;
  if (!dl->acct_written) {
    if (dl_account_pump(dl) > 0)
      return; /* each reply pumps again */
    dl->acct_written = 1;
    dl_consumption_write(dl);
  }
  o = checkpoint_json(dl, dl->consistent ? "complete" : "partial");
  if (o == NULL) {
    dl_fail(dl, SAM_ENOMEM, "out of memory [checkpoint]");
    return;
  }
  rc = put_one(dl, DSG_RT_DOWNLOAD_STATE, dl->run_id, o, on_final);
  json_object_put(o);
  if (refused(dl, rc, "the final checkpoint"))
    return;
  dl->busy = 1;
}

/* ---- consumption ---- */

static void
on_consumption(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  (void)res;
  (void)arg;
  if (status != 0 && status != SAM_ECANCELED) {
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: the consumption record was not written [%s]",
             sam_err_name(status));
  }
}

void dl_consumption_write(dsg_dl *dl) {
  dsg_consumption_in in;
  json_object *rec = NULL;
  char err[300];
  int rc;

  memset(&in, 0, sizeof(in));
  in.account_id = dl->account_id;
  in.run_id = dl->run_id;
  in.now = dl->now_s;
  in.account = dl->acct;
  in.billing_plan = dl->plan;
  in.charges_status = dl->charges_status;
  in.charges = dl->charges;
  if (dl->acct == NULL) {
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: no account information: consumption not updated");
    return;
  }
  rc = dsg_consumption_build(&in, &rec, err, sizeof(err));
  if (rc != 0) {
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN, "download: consumption: %s", err);
    return;
  }
  rc = put_one(dl, DSG_RT_CONSUMPTION, dl->account_id, rec, on_consumption);
  json_object_put(rec);
  if (rc != 0) {
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: consumption write refused [%s]", sam_err_name(rc));
  }
}
