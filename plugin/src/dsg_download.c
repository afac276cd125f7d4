/*
 * dsg_download.c: the Download subscriptions job: start and cancel, the
 * pump that drives its phases, and the exactly-once completion with the
 * job result (issue 6 items 1, 4 and 8).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsg_action.h"
#include "dsg_config.h"
#include "dsg_dates.h"
#include "dsg_download.h"
#include "dsg_download_int.h"
#include "dsg_download_work.h"
#include "dsg_log.h"
#include "dsg_token.h"

int64_t dl_now_ms(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return (int64_t)time(NULL) * 1000;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- freeing and completion ---- */

static void dl_free(dsg_dl *dl) {
  while (dl->reqs != NULL) {
    dl_req *r = dl->reqs;

    dl->reqs = r->next;
    dl_req_free(r);
  }
  dl_garbage_free(dl->garbage);
  free(dl->profile_id);
  free(dl->profile_json);
  free(dl->client_id);
  free(dl->account_id);
  free(dl->instance);
  free(dl->rest);
  free(dl->cursor);
  free(dl->next_cursor);
  free(dl->done_map);
  dl_cands_free(dl);
  json_object_put(dl->models);
  json_object_put(dl->unrec);
  json_object_put(dl->unrec_seen);
  json_object_put(dl->unrec_cnt);
  json_object_put(dl->unrec_ids);
  json_object_put(dl->excl_id);
  json_object_put(dl->excl_user);
  json_object_put(dl->acct);
  json_object_put(dl->plan);
  json_object_put(dl->charges);
  json_object_put(dl->cand_summary);
  dsg_exclusions_free(dl->excl);
  dsg_gov_free(dl->gov);
  dsg_idset_free(dl->seen);
  free(dl);
}

static char *result_json(dsg_dl *dl) {
  json_object *o = json_object_new_object();
  json_object *c = json_object_new_object();
  dsg_gov_stats gs;
  char *text = NULL;
  int partial = dl->status != SAM_OK || !dl->consistent;

  memset(&gs, 0, sizeof(gs));
  gs.rate_remaining = -1;
  if (dl->gov != NULL)
    dsg_gov_get_stats(dl->gov, &gs);
  if (o == NULL || c == NULL)
    goto done;
  json_object_object_add(c, "pages",
                         json_object_new_int64((int64_t)dl->c.pages));
  json_object_object_add(c, "api_calls",
                         json_object_new_int64((int64_t)dl->c.api_calls));
  json_object_object_add(c, "users_seen",
                         json_object_new_int64((int64_t)dl->c.users_seen));
  json_object_object_add(c, "created",
                         json_object_new_int64((int64_t)dl->c.created));
  json_object_object_add(c, "updated",
                         json_object_new_int64((int64_t)dl->c.updated));
  json_object_object_add(c, "unchanged",
                         json_object_new_int64((int64_t)dl->c.unchanged));
  json_object_object_add(c, "removed",
                         json_object_new_int64((int64_t)dl->c.removed));
  json_object_object_add(c, "unrecognized_identifiers",
                         json_object_new_int64((int64_t)dl->c.unrecognized));
  json_object_object_add(c, "excluded",
                         json_object_new_int64((int64_t)dl->c.excluded));
  json_object_object_add(c, "errors",
                         json_object_new_int64((int64_t)dl->c.errors));
  json_object_object_add(c, "verify_calls",
                         json_object_new_int64((int64_t)dl->c.verify_calls));
  json_object_object_add(
      c, "verified_present",
      json_object_new_int64((int64_t)dl->c.verified_present));
  json_object_object_add(o, "counts", c);
  c = NULL;
  json_object_object_add(
      o, "rate_limit_remaining",
      gs.rate_remaining >= 0 ? json_object_new_int64(gs.rate_remaining) : NULL);
  json_object_object_add(o, "limit_errors",
                         json_object_new_int64((int64_t)gs.limit_errors));
  json_object_object_add(o, "duration_ms",
                         json_object_new_int64(dl_now_ms() - dl->t0_ms));
  json_object_object_add(o, "partial", json_object_new_boolean(partial));
  if (dl->retry_after_s > 0)
    json_object_object_add(o, "retry_after_s",
                           json_object_new_int64(dl->retry_after_s));
  json_object_object_add(o, "swept", json_object_new_boolean(dl->swept));
  json_object_object_add(o, "resumed", json_object_new_boolean(dl->resumed));
  json_object_object_add(o, "run_id", json_object_new_string(dl->run_id));
  if (dl->cand_summary != NULL)
    json_object_object_add(o, "candidates", json_object_get(dl->cand_summary));
  json_object_object_add(o, "peak_pages_in_flight",
                         json_object_new_int64((int64_t)dl->peak_in_flight));
  text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
done:
  json_object_put(c);
  json_object_put(o);
  return text;
}

/* The timer's close callback: the job's last step. */
static void on_timer_closed(uv_handle_t *h) {
  dsg_dl *dl = h->data;
  dsg_ctx *ctx = dl->ctx;
  char *res = result_json(dl);
  char line[1024];
  int rc;

  if (dl->status == SAM_OK) {
    snprintf(
        line, sizeof(line),
        "downloaded [%llu] users in [%llu] pages: [%llu] created, "
        "[%llu] updated, [%llu] unchanged, [%llu] removed, [%llu] "
        "excluded, [%llu] unrecognized identifiers%s%s",
        (unsigned long long)dl->c.users_seen, (unsigned long long)dl->c.pages,
        (unsigned long long)dl->c.created, (unsigned long long)dl->c.updated,
        (unsigned long long)dl->c.unchanged, (unsigned long long)dl->c.removed,
        (unsigned long long)dl->c.excluded,
        (unsigned long long)dl->c.unrecognized, dl->msg[0] ? "; " : "",
        dl->msg);
  } else {
    snprintf(line, sizeof(line), "%s", dl->msg[0] ? dl->msg : "failed");
  }
  rc = ctx->api->job_complete(dl->job, dl->status, line, res,
                              res != NULL ? strlen(res) : 0);
  if (rc != 0)
    dsg_logf(ctx, NULL, SAM_LOG_ERROR, "download: job_complete failed [%s]",
             sam_err_name(rc));
  free(res);
  /* Untrack last of all on ctx: it may continue the shutdown (and free
   * ctx). The ref lives in dl, which is freed after it; dl_free touches
   * nothing of ctx. */
  dsg_job_untrack(ctx, &dl->ref);
  dl_free(dl);
}

static void maybe_complete(dsg_dl *dl) {
  if (!dl->finishing || dl->timer_closing || dl->n_ops > 0 || dl->cand_busy ||
      dl->n_works > 0)
    return;
  /* A cancelled or failed run records the pages it stored last, so that
   * the next run resumes after them (a tiny write). */
  if (dl_checkpoint_last(dl))
    return;
  dl_reqs_cancel(dl); /* nothing should be left; belt and braces */
  dl->timer_closing = 1;
  uv_timer_stop(&dl->timer);
  uv_close((uv_handle_t *)&dl->timer, on_timer_closed);
}

void dl_fail(dsg_dl *dl, int status, const char *fmt, ...) {
  va_list ap;

  if (dl->finishing)
    return;
  dl->finishing = 1;
  dl->status = status;
  va_start(ap, fmt);
  vsnprintf(dl->msg, sizeof(dl->msg), fmt, ap);
  va_end(ap);
  /* A pause before a rate-limit reset (retry_after_s set) is the plan
   * for a large account, not an error. */
  if (status != SAM_OK && status != SAM_ECANCELED &&
      !(status == SAM_EAGAIN && dl->retry_after_s > 0))
    dl->c.errors++;
  dl_reqs_cancel(dl);
  dl_ops_cancel(dl);
  dl_works_cancel(dl); /* their after callbacks still run, then the pump */
  dl_pump(dl);
}

/* ---- the pump and its timer ---- */

static void on_timer(uv_timer_t *t) {
  dsg_dl *dl = t->data;

  dl->wake_ms = INT64_MAX;
  dl->put_turn_n = 0; /* the timer fires once a turn at most: a new turn */
  dl_pump(dl);
}

void dl_wake_at(dsg_dl *dl, int64_t at_ms) {
  if (at_ms < dl->wake_ms)
    dl->wake_ms = at_ms;
}

static void arm_timer(dsg_dl *dl) {
  int64_t now = dl_now_ms();
  int64_t d;
  int rc;

  if (dl->timer_closing || dl->wake_ms == INT64_MAX)
    return;
  d = dl->wake_ms - now;
  if (d < 0)
    d = 0;
  rc = uv_timer_start(&dl->timer, on_timer, (uint64_t)d, 0);
  if (rc != 0)
    dl_fail(dl, dsg_status_from_uv(rc), "download: timer failed [%s]",
            uv_strerror(rc));
}

static void progress(dsg_dl *dl) {
  char m[320];
  uint64_t total = dl->paging.pages_planned;

  if (dl->finishing)
    return;
  snprintf(m, sizeof(m), "pages [%llu/%llu]",
           (unsigned long long)dl->paging.pages_done,
           (unsigned long long)total);
  dl->ctx->api->job_progress(dl->job, dl->paging.pages_done, total, m);
}

void dl_pump(dsg_dl *dl) {
  if (dl->in_pump) {
    dl->pump_again = 1;
    return;
  }
  dl->in_pump = 1;
  do {
    dl->pump_again = 0;
    if (dl->finishing) {
      maybe_complete(dl);
      break;
    }
    switch (dl->phase) {
    case DL_SETUP:
      dl_setup_pump(dl);
      break;
    case DL_PAGES:
      dl_pages_pump(dl);
      break;
    case DL_SWEEP:
      dl_sweep_pump(dl);
      break;
    case DL_UNREC:
      dl_unrec_pump(dl);
      break;
    case DL_FINAL:
      dl_final_pump(dl);
      break;
    case DL_DONE:
      if (!dl->finishing) {
        dl->finishing = 1;
        dl->status = SAM_OK;
      }
      dl->pump_again = 1;
      break;
    }
    /* The account calls go on beside the sweep and the rules; DL_FINAL
     * waits for them. */
    if (dl->acct_started && !dl->acct_written && !dl->finishing &&
        (dl->phase == DL_SWEEP || dl->phase == DL_UNREC))
      (void)dl_account_pump(dl);
    if (dl->paging.pages_done != dl->reported) {
      dl->reported = dl->paging.pages_done;
      progress(dl);
    }
  } while (dl->pump_again);
  if (!dl->timer_closing)
    arm_timer(dl);
  dl->in_pump = 0;
}

/* ---- start and cancel ---- */

static void dl_abort(dsg_job_ref *ref) {
  dl_fail((dsg_dl *)ref, SAM_ECANCELED,
          "download cancelled: the host is shutting down; the next run "
          "resumes from the checkpoint");
}

static int copy_field(json_object *p, const char *k, char **out) {
  const char *v = dsg_json_str(p, k);

  *out = NULL;
  if (v == NULL || v[0] == '\0')
    return SAM_ENOENT;
  *out = strdup(v);
  return *out != NULL ? 0 : SAM_ENOMEM;
}

/* The REST base: the profile's base_uri (from userinfo at connect), else
 * the token layer's cached one. */
static int make_rest(dsg_dl *dl, json_object *p, char *err, size_t len) {
  const char *base = dsg_json_str(p, "base_uri");
  size_t n;

  if (base == NULL || base[0] == '\0')
    base = dsg_token_base_uri(dl->ctx, dl->profile_id);
  if (base == NULL || base[0] == '\0') {
    snprintf(err, len,
             "the profile has no base_uri: run Get OAuth Token or Validate "
             "Connection first");
    return SAM_EINVAL;
  }
  n = strlen(base) + strlen(dl->account_id) + 40;
  dl->rest = malloc(n);
  if (dl->rest == NULL)
    return SAM_ENOMEM;
  snprintf(dl->rest, n, "%.*s/restapi/v2.1/accounts/%s",
           (int)(strlen(base) - (base[strlen(base) - 1] == '/')), base,
           dl->account_id);
  return 0;
}

static int dl_new(dsg_ctx *ctx,
                  sam_job *job,
                  const sam_job_input *in,
                  dsg_dl **out,
                  char *err,
                  size_t len) {
  dsg_dl *dl = calloc(1, sizeof(*dl));
  json_object *p = NULL;
  dsg_gov_config gc;
  int rc = SAM_ENOMEM;
  size_t n;

  *out = NULL;
  if (dl == NULL)
    goto fail;
  dl->ctx = ctx;
  dl->job = job;
  dl->wake_ms = INT64_MAX;
  if (in == NULL || in->profile_id == NULL || in->profile_json == NULL) {
    snprintf(err, len, "the job has no profile");
    rc = SAM_EINVAL;
    goto fail;
  }
  p = dsg_json_parse(in->profile_json, in->profile_len);
  if (p == NULL || !json_object_is_type(p, json_type_object)) {
    snprintf(err, len, "the profile is not a JSON object");
    rc = SAM_EINVAL;
    goto fail;
  }
  dl->profile_id = strdup(in->profile_id);
  dl->profile_json = strndup(in->profile_json, in->profile_len);
  if (dl->profile_id == NULL || dl->profile_json == NULL)
    goto fail;
  if (copy_field(p, "client_id", &dl->client_id) != 0 ||
      copy_field(p, "account_id", &dl->account_id) != 0) {
    snprintf(err, len,
             "client_id and account_id are required: complete the profile");
    rc = SAM_EINVAL;
    goto fail;
  }
  rc = dsg_check_instance_url(dsg_json_str(p, "instance_url"),
                              ctx->cfg.test_mode, err, len);
  if (rc != 0)
    goto fail;
  rc = SAM_ENOMEM;
  dl->instance = strdup(dsg_json_str(p, "instance_url"));
  if (dl->instance == NULL)
    goto fail;
  n = strlen(dl->instance);
  if (n > 0 && dl->instance[n - 1] == '/')
    dl->instance[n - 1] = '\0';
  rc = make_rest(dl, p, err, len);
  if (rc != 0)
    goto fail;
  rc = SAM_ENOMEM;
  dsg_gov_config_init(&gc);
  if (dsg_gov_new(&gc, &dl->gov) != 0)
    goto fail;
  dl->models = json_object_new_object();
  dl->unrec = json_object_new_object();
  dl->unrec_seen = json_object_new_object();
  dl->unrec_cnt = json_object_new_object();
  dl->excl_id = json_object_new_array();
  dl->excl_user = json_object_new_array();
  if (dl->models == NULL || dl->unrec == NULL || dl->unrec_seen == NULL ||
      dl->unrec_cnt == NULL || dl->excl_id == NULL || dl->excl_user == NULL)
    goto fail;
  dsg_paging_init(&dl->paging, DSG_PAGE_SIZE);
  dl->t0_ms = dl_now_ms();
  dl->now_s = dl->t0_ms / 1000;
  dl->uv_t0 = uv_now(ctx->loop);
  dl->deadline = in->deadline_ms;
  if (dsg_date_format(dl->now_s, dl->started_at, sizeof(dl->started_at)) != 0)
    snprintf(dl->started_at, sizeof(dl->started_at), "1970-01-01T00:00:00Z");
  /* A fresh run id; a resumed run takes the checkpoint's (setup). */
  snprintf(dl->run_id, sizeof(dl->run_id), "%.40s",
           in->job_id != NULL ? in->job_id : "run");
  rc = uv_timer_init(ctx->loop, &dl->timer);
  if (rc != 0) {
    snprintf(err, len, "timer init failed [%s]", uv_strerror(rc));
    rc = dsg_status_from_uv(rc);
    goto fail;
  }
  dl->timer.data = dl;
  json_object_put(p);
  *out = dl;
  return 0;

fail:
  if (rc == SAM_ENOMEM)
    snprintf(err, len, "out of memory");
  json_object_put(p);
  if (dl != NULL)
    dl_free(dl);
  return rc;
}

int dsg_download_start(sam_job *job, const sam_job_input *in, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_dl *dl = NULL;
  char err[512];
  int rc;

  if (ctx->stopping)
    return SAM_EBUSY;
  rc = dl_new(ctx, job, in, &dl, err, sizeof(err));
  if (rc != 0) {
    char m[600];

    snprintf(m, sizeof(m), "download: %s", err);
    rc = ctx->api->job_complete(job, rc, m, NULL, 0);
    if (rc != 0)
      dsg_logf(ctx, NULL, SAM_LOG_ERROR, "job_complete failed [%s]",
               sam_err_name(rc));
    return SAM_OK;
  }
  dl->ref.job = job;
  dl->ref.abort = dl_abort;
  dsg_job_track(ctx, &dl->ref);
  /* Start from a loop callback, not inside start (C4 spirit). */
  dl_wake_at(dl, 0);
  arm_timer(dl);
  return SAM_OK;
}

void dsg_download_cancel(sam_job *job, void *ud) {
  dsg_ctx *ctx = ud;
  dsg_job_ref *r;

  for (r = ctx->jobs; r != NULL; r = r->next) {
    if (r->job == job && r->abort == dl_abort) {
      dl_fail((dsg_dl *)r, SAM_ECANCELED,
              "download cancelled; existing subscriptions were left as they "
              "were and the next run resumes from the checkpoint");
      return;
    }
  }
}
