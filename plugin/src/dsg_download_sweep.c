/*
 * dsg_download_sweep.c: the end of a download: the sweep of subscriptions
 * not seen by a complete run, each removal confirmed by DocuSign (issue 6
 * item 6), the
 * unrecognized identifiers with their subscription counts taken from the
 * records (item 4), and the hook that runs the reclamation rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_action.h"
#include "dsg_candidates_run.h"
#include "dsg_dates.h"
#include "dsg_download_int.h"
#include "dsg_log.h"

#define SUB_TYPE "sam_subscription"
#define UNREC_TYPE "sam_unrecognized_identifier"
/* Records per store query: one page is parsed in one callback on the
 * host's loop, and 500 JSON records took it past 5 ms (bench-download's
 * loop CPU column); 100 keep a callback near a millisecond. */
#define QUERY_LIMIT 100

static int failed(dsg_dl *dl, int status, const char *what) {
  if (status == 0)
    return 0;
  if (status != SAM_ECANCELED || !dl->finishing)
    dl_fail(dl, status, "store: %s failed [%s]", what, sam_err_name(status));
  return 1;
}

/* 1 to stop: SAM_EAGAIN retries the same step shortly, others end. */
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

static void take_cursor(char **dst, const char *src) {
  free(*dst);
  *dst = src != NULL ? strdup(src) : NULL;
}

/* ---- the sweep ---- */

/*
 * The sweep (issue 6 item 6) in steps: 0 and 1 read the active, then the
 * inactive subscriptions and keep those not seen in this run as
 * candidates; 2 asks DocuSign about each candidate (dl_verify_pump,
 * dsg_download_pages.c); 3 writes state removed for those DocuSign
 * reports Closed or unknown; 4 is done. Paging can miss a user while the
 * account changes (a removal early in the list shifts a user onto a page
 * already fetched), so nothing is removed on paging's word alone.
 */

static void sweep_next_page(dsg_dl *dl) {
  char *c = dl->next_cursor;

  dl->next_cursor = NULL;
  free(dl->cursor);
  dl->cursor = c;
  if (c == NULL)
    dl->step++; /* active, then inactive, then verification */
}

/* More candidates than a verification pass checks: nothing is removed. */
static void sweep_skip(dsg_dl *dl) {
  snprintf(dl->msg, sizeof(dl->msg),
           "removal skipped: more than [%zu] subscriptions were not seen in "
           "this run (the verification limit, max(%d, %d%% of totalSetSize "
           "[%llu])); a mass disappearance is more likely a fault than real "
           "churn: nothing was removed and the next run checks again",
           dl->verify_cap, DL_VERIFY_MIN, DL_VERIFY_PERCENT,
           (unsigned long long)dl->paging.first_total);
  dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN, "download: %s", dl->msg);
  dl_cands_free(dl);
  free(dl->cursor);
  dl->cursor = NULL;
  free(dl->next_cursor);
  dl->next_cursor = NULL;
  dl->consistent = 0; /* partial; no candidates refresh either */
  dl->phase = DL_UNREC;
  dl->step = 0;
  dl->pump_again = 1;
}

static int cand_add(dsg_dl *dl, const sam_record *rec, json_object *o) {
  const char *when = dl->started_at;
  char buf[DSG_DATE_BUF];
  dl_cand *c;

  if (dl->n_cands == dl->cands_cap) {
    size_t n = dl->cands_cap != 0 ? dl->cands_cap * 2 : 64;
    dl_cand *m = realloc(dl->cands, n * sizeof(*m));

    if (m == NULL)
      return SAM_ENOMEM;
    dl->cands = m;
    dl->cands_cap = n;
  }
  if (dsg_date_format(dl->now_s, buf, sizeof(buf)) == 0)
    when = buf;
  json_object_object_add(o, "state", json_object_new_string("removed"));
  json_object_object_add(o, "active", json_object_new_boolean(0));
  json_object_object_add(o, "removed_at", json_object_new_string(when));
  c = &dl->cands[dl->n_cands];
  memset(c, 0, sizeof(*c));
  c->key = strdup(rec->key);
  c->json = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  /* The version read: an admin's or a reclaim's change meanwhile makes
   * the write fail instead of being overwritten. */
  c->version = rec->version;
  c->verdict = DL_V_PENDING;
  if (c->key == NULL || c->json == NULL) {
    free(c->key);
    free(c->json);
    return SAM_ENOMEM;
  }
  dl->n_cands++;
  return 0;
}

static void
on_sweep_query(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  size_t i;

  (void)arg;
  dl->busy = 0;
  if (failed(dl, status, "reading subscriptions for the sweep"))
    return;
  take_cursor(&dl->next_cursor, res->next_cursor);
  for (i = 0; i < res->n; i++) {
    json_object *o;
    const char *run;
    int rc;

    /* Listed and written in this run (the key is the userId): seen, no
     * parse on the loop. A fingerprint collision can only keep a
     * subscription, never remove one; the others are read to be sure. */
    if (res->recs[i].key != NULL &&
        dsg_idset_contains(dl->seen, res->recs[i].key) &&
        !dsg_idset_marked(dl->seen, res->recs[i].key))
      continue;
    o = dsg_json_parse(res->recs[i].json, res->recs[i].json_len);
    run = dsg_json_str(o, "last_run_id");
    if (o == NULL || (run != NULL && strcmp(run, dl->run_id) == 0)) {
      json_object_put(o);
      continue; /* seen in this run */
    }
    rc = dl->n_cands < dl->verify_cap ? cand_add(dl, &res->recs[i], o) : 1;
    json_object_put(o);
    if (rc == 1) {
      sweep_skip(dl);
      return;
    }
    if (rc != 0) {
      dl_fail(dl, SAM_ENOMEM, "out of memory [sweep]");
      return;
    }
  }
  sweep_next_page(dl);
}

static void
on_sweep_put(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  (void)res;
  (void)arg;
  dl->busy = 0;
  if (status == SAM_ECONFLICT && !dl->finishing) {
    /* Changed meanwhile (an admin, a reclaim). Write one at a time to find
     * which; that one is left as it is now. */
    if (!dl->write_single) {
      dl->write_single = 1;
      return;
    }
    dsg_logf(dl->ctx, dl->job, SAM_LOG_INFO,
             "download: subscription [%s] changed during the sweep; left as "
             "it is",
             dl->cands[dl->write_next].key);
    dl->write_next = dl->write_end;
    return;
  }
  if (failed(dl, status, "removing subscriptions not seen"))
    return;
  dl->c.removed += dl->pending_n;
  dl->write_next = dl->write_end;
}

/* Writes the next batch of confirmed removals; 1 when a put is in flight
 * or a retry is due, 0 when none is left. */
static int sweep_write(dsg_dl *dl) {
  size_t max = dl->write_single ? 1 : QUERY_LIMIT;
  sam_record *recs;
  size_t i;
  size_t n = 0;
  int rc;

  while (dl->write_next < dl->n_cands &&
         dl->cands[dl->write_next].verdict != DL_V_GONE)
    dl->write_next++;
  if (dl->write_next >= dl->n_cands)
    return 0;
  recs = calloc(max, sizeof(*recs));
  if (recs == NULL) {
    dl_fail(dl, SAM_ENOMEM, "out of memory [sweep]");
    return 1;
  }
  for (i = dl->write_next; i < dl->n_cands && n < max; i++) {
    const dl_cand *c = &dl->cands[i];

    if (c->verdict != DL_V_GONE)
      continue;
    recs[n].struct_size = sizeof(recs[n]);
    recs[n].if_version = c->version;
    recs[n].key = c->key;
    recs[n].json = c->json;
    recs[n].json_len = strlen(c->json);
    n++;
  }
  dl->write_end = i;
  dl->pending_n = n;
  rc = dl_store_put(dl, SUB_TYPE, recs, n, on_sweep_put, NULL);
  free(recs);
  if (!refused(dl, rc, "removing subscriptions"))
    dl->busy = 1;
  return 1;
}

void dl_sweep_pump(dsg_dl *dl) {
  const char *filter;
  int rc;

  if (dl->busy)
    return;
  if (dl->step == 2) {
    if (dl->verify_done < dl->n_cands) {
      dl_verify_pump(dl);
      return;
    }
    dl->step = 3;
    dl->write_next = 0;
    dl->write_single = 0;
  }
  if (dl->step == 3) {
    if (sweep_write(dl))
      return;
    dl->step = 4;
  }
  if (dl->step >= 4) {
    if (dl->n_cands > 0)
      dsg_logf(dl->ctx, dl->job, SAM_LOG_INFO,
               "download: [%zu] subscriptions not seen: [%llu] removed "
               "(DocuSign: closed or gone), [%llu] still present in "
               "DocuSign and kept",
               dl->n_cands, (unsigned long long)dl->c.removed,
               (unsigned long long)dl->c.verified_present);
    dl_cands_free(dl);
    dl->swept = 1;
    dl->phase = DL_UNREC;
    dl->step = 0;
    dl->pump_again = 1;
    return;
  }
  /* Only what is still a subscription: removed and reclaimed stay. */
  filter =
      dl->step == 0 ? "{\"/state\":\"active\"}" : "{\"/state\":\"inactive\"}";
  rc = dl_store_query(dl, dl->profile_id, SUB_TYPE, filter, dl->cursor,
                      QUERY_LIMIT, on_sweep_query, NULL);
  if (refused(dl, rc, "reading subscriptions for the sweep"))
    return;
  dl->busy = 1;
}

/* ---- unrecognized identifiers ---- */

static void
on_unrec_count(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  const char *id;
  json_object *n = NULL;
  int64_t k = 0;

  (void)arg;
  dl->busy = 0;
  if (failed(dl, status, "counting subscriptions of an identifier"))
    return;
  id = json_object_get_string(
      json_object_array_get_idx(dl->unrec_ids, dl->uidx));
  /* The filter named the state too: every record counts, none is parsed. */
  k = (int64_t)res->n;
  if (json_object_object_get_ex(dl->unrec_cnt, id, &n))
    json_object_set_int64(n, json_object_get_int64(n) + k);
  else
    json_object_object_add(dl->unrec_cnt, id, json_object_new_int64(k));
  take_cursor(&dl->cursor, res->next_cursor);
  if (dl->cursor != NULL)
    return;
  if (!dl->unrec_inactive) {
    dl->unrec_inactive = 1;
    return;
  }
  dl->unrec_inactive = 0;
  dl->uidx++;
}

static void
on_unrec_put(dsg_dl *dl, int status, const sam_store_result *res, void *arg) {
  (void)res;
  (void)arg;
  dl->busy = 0;
  if (failed(dl, status, "writing unrecognized identifiers"))
    return;
  dl->uidx += dl->pending_n;
}

static int unrec_write(dsg_dl *dl) {
  size_t total = json_object_array_length(dl->unrec_ids);
  size_t n = total - dl->uidx;
  sam_record *recs;
  char **texts;
  char when[DSG_DATE_BUF];
  size_t i;
  int rc = SAM_ENOMEM;

  if (n > 500)
    n = 500;
  recs = calloc(n + 1, sizeof(*recs));
  texts = calloc(n + 1, sizeof(*texts));
  if (recs == NULL || texts == NULL)
    goto done;
  if (dsg_date_format(dl->now_s, when, sizeof(when)) != 0)
    snprintf(when, sizeof(when), "%.20s", dl->started_at);
  for (i = 0; i < n; i++) {
    const char *id = json_object_get_string(
        json_object_array_get_idx(dl->unrec_ids, dl->uidx + i));
    json_object *old = NULL;
    json_object *o = json_object_new_object();
    json_object *v = NULL;

    json_object_object_get_ex(dl->unrec, id, &old);
    json_object_object_add(o, "identifier", json_object_new_string(id));
    json_object_object_add(o, "subscription_count",
                           json_object_new_int64(json_object_get_int64(
                               json_object_object_get(dl->unrec_cnt, id))));
    if (old != NULL && json_object_object_get_ex(old, "software_model", &v))
      json_object_object_add(o, "software_model", json_object_get(v));
    else
      json_object_object_add(o, "software_model", NULL);
    if (old != NULL &&
        json_object_object_get_ex(old, "exclude_from_content_service", &v))
      json_object_object_add(o, "exclude_from_content_service",
                             json_object_get(v));
    if (old != NULL && json_object_object_get_ex(old, "first_seen_at", &v))
      json_object_object_add(o, "first_seen_at", json_object_get(v));
    else
      json_object_object_add(o, "first_seen_at", json_object_new_string(when));
    if (json_object_object_get_ex(dl->unrec_seen, id, NULL))
      json_object_object_add(o, "last_seen_at", json_object_new_string(when));
    else if (old != NULL && json_object_object_get_ex(old, "last_seen_at", &v))
      json_object_object_add(o, "last_seen_at", json_object_get(v));
    texts[i] =
        strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    if (texts[i] == NULL)
      goto done;
    recs[i].struct_size = sizeof(recs[i]);
    recs[i].if_version = SAM_IF_ANY;
    recs[i].key = id;
    recs[i].json = texts[i];
    recs[i].json_len = strlen(texts[i]);
  }
  dl->pending_n = n;
  rc = dl_store_put(dl, UNREC_TYPE, recs, n, on_unrec_put, NULL);
done:
  for (i = 0; texts != NULL && i < n; i++)
    free(texts[i]);
  free(texts);
  free(recs);
  return rc;
}

static void on_candidates(int status, const char *summary, void *ud) {
  dsg_dl *dl = ud;

  dl->cand_busy = 0;
  dl->cand_done = 1;
  json_object_put(dl->cand_summary);
  dl->cand_summary =
      summary != NULL ? dsg_json_parse(summary, strlen(summary)) : NULL;
  if (status != SAM_OK && status != SAM_ECANCELED) {
    /* The subscriptions are stored; the candidates wait for the next run. */
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: candidates not refreshed [%s] %s", sam_err_name(status),
             summary != NULL ? summary : "");
  }
  dl_pump(dl);
}

/*
 * The reclamation rules after a complete download (SAM-MODEL.md 4 step 8):
 * dsg_candidates_refresh (dsg_candidates_run.c) opens and closes removal
 * candidates. Only a complete and consistent run refreshes them: a
 * partial view of the account would close candidates of users not seen.
 */
static void candidates_hook(dsg_dl *dl) {
  int rc;

  if (dl->cand_busy)
    return;
  if (dl->consistent && !dl->cand_done) {
    rc = dsg_candidates_refresh(dl->ctx, dl->job, dl->profile_id,
                                dl->profile_json, on_candidates, dl);
    if (rc == 0) {
      dl->cand_busy = 1;
      return;
    }
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: candidates not refreshed [%s]", sam_err_name(rc));
  }
  dl->phase = DL_FINAL;
  dl->step = 0;
  dl->pump_again = 1;
}

void dl_unrec_pump(dsg_dl *dl) {
  json_object *filter;
  int rc;

  if (dl->busy)
    return;
  if (dl->step == 0) {
    /* The identifiers to count: known ones and those seen now. */
    json_object_put(dl->unrec_ids);
    dl->unrec_ids = json_object_new_array();
    if (dl->unrec_ids == NULL) {
      dl_fail(dl, SAM_ENOMEM, "out of memory [identifiers]");
      return;
    }
    json_object_object_foreach(dl->unrec, k1, v1) {
      (void)v1;
      json_object_array_add(dl->unrec_ids, json_object_new_string(k1));
    }
    json_object_object_foreach(dl->unrec_seen, k2, v2) {
      (void)v2;
      if (!json_object_object_get_ex(dl->unrec, k2, NULL))
        json_object_array_add(dl->unrec_ids, json_object_new_string(k2));
    }
    dl->c.unrecognized = (uint64_t)json_object_object_length(dl->unrec_seen);
    dl->uidx = 0;
    dl->unrec_inactive = 0;
    free(dl->cursor);
    dl->cursor = NULL;
    dl->step = 1;
  }
  if (dl->step == 1) {
    if (dl->uidx >= json_object_array_length(dl->unrec_ids)) {
      dl->step = 2;
      dl->uidx = 0;
    } else {
      filter = json_object_new_object();
      if (filter == NULL) {
        dl_fail(dl, SAM_ENOMEM, "out of memory [filter]");
        return;
      }
      json_object_object_add(
          filter, "/subscription_identifier",
          json_object_get(json_object_array_get_idx(dl->unrec_ids, dl->uidx)));
      /* Still subscriptions: active, then inactive (removed and reclaimed
       * ones do not count). */
      json_object_object_add(
          filter, "/state",
          json_object_new_string(dl->unrec_inactive ? "inactive" : "active"));
      rc = dl_store_query(
          dl, dl->profile_id, SUB_TYPE,
          json_object_to_json_string_ext(filter, JSON_C_TO_STRING_PLAIN),
          dl->cursor, QUERY_LIMIT, on_unrec_count, NULL);
      json_object_put(filter);
      if (refused(dl, rc, "counting subscriptions of an identifier"))
        return;
      dl->busy = 1;
      return;
    }
  }
  if (dl->uidx < json_object_array_length(dl->unrec_ids)) {
    rc = unrec_write(dl);
    if (refused(dl, rc, "writing unrecognized identifiers"))
      return;
    dl->busy = 1;
    return;
  }
  candidates_hook(dl);
}
