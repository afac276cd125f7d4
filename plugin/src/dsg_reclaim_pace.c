/*
 * dsg_reclaim_pace.c: the pacing of a Reclaim run's DocuSign calls (issue
 * 7; DOCUSIGN.md 7, A20-A22). Every REST call of the run (re-check GETs,
 * the A13 list by e-mail, DELETE users, reconciliation GETs) goes through
 * one governor per run (dsg_governor.h), so normal operation stays under
 * the hourly limit less the 10 % reserve and under the burst limit. A
 * limit error still met means DocuSign refused the request (nothing was
 * done): the run waits until the reset and sends the same request again.
 * One call is in flight at a time. See dsg_reclaim_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsg_dates.h"
#include "dsg_governor.h"
#include "dsg_log.h"
#include "dsg_reclaim_int.h"

/* Limit errors in a row for one request before it is given up. */
#define MAX_LIMITS 20
/* A wait at least this long may outlive the server's keep-alive: the
 * connection curl keeps can be dead, and a write sent on it fails with an
 * unknown outcome ("Send failure: Broken pipe", seen with tools/demo
 * --limits). So after such a wait one cheap GET of the account goes first:
 * it meets the dead connection (its outcome is only fed to the governor)
 * and the request itself then gets a live one. */
#define WARM_AFTER_MS 5000

static int64_t now_ms(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return (int64_t)time(NULL) * 1000;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_timer_closed(uv_handle_t *h) {
  free(h);
}

int dsg_rc_pace_init(rc_run *r) {
  r->pc_timer = calloc(1, sizeof(*r->pc_timer));
  if (r->pc_timer == NULL)
    return SAM_ENOMEM;
  if (uv_timer_init(r->ctx->loop, r->pc_timer) != 0) {
    free(r->pc_timer);
    r->pc_timer = NULL;
    return SAM_ENOMEM;
  }
  r->pc_timer->data = r;
  if (dsg_gov_new(NULL, &r->gov) != 0)
    return SAM_ENOMEM;
  return 0;
}

void dsg_rc_pace_free(rc_run *r) {
  if (r->pc_timer != NULL) {
    uv_timer_stop(r->pc_timer);
    r->pc_timer->data = NULL;
    uv_close((uv_handle_t *)r->pc_timer, on_timer_closed);
    r->pc_timer = NULL;
  }
  dsg_gov_free(r->gov);
  r->gov = NULL;
  free(r->pc_method);
  free(r->pc_url);
  free(r->pc_body);
  r->pc_method = r->pc_url = r->pc_body = NULL;
}

void dsg_rc_progress(rc_run *r, const char *msg) {
  uint64_t done =
      (uint64_t)(r->closed + r->skipped + r->failed + r->attention) +
      (r->dry ? (uint64_t)r->sent : 0);

  if (done > r->n_items)
    done = r->n_items;
  (void)r->ctx->api->job_progress(r->a->job, done, r->n_items, msg);
}

/* Hands the outcome to the caller's callback and forgets the request. */
static void deliver(rc_run *r,
                    int status,
                    const dsg_http_resp *resp,
                    const char *msg,
                    int64_t retry_after_s) {
  dsg_api_cb cb = r->pc_cb;

  r->pc_cb = NULL;
  r->pc_limits = 0;
  cb(status, resp, msg, retry_after_s, r);
}

static void pump(rc_run *r);

/* Feeds the governor a reply; returns its class (DSG_GOV_OK for 2xx). */
static dsg_gov_class
feed(rc_run *r, int status, const dsg_http_resp *resp, int64_t now) {
  dsg_gov_headers h;
  dsg_gov_class cls = DSG_GOV_OK;
  json_object *body;

  if (resp == NULL || resp->status != SAM_OK) {
    dsg_gov_finished(r->gov, now, NULL);
    return status == SAM_OK ? DSG_GOV_OK : DSG_GOV_RETRY;
  }
  h.rate_limit = resp->ratelimit_limit;
  h.rate_remaining = resp->ratelimit_remaining;
  h.rate_reset = resp->ratelimit_reset;
  h.burst_limit = resp->burstlimit_limit;
  h.burst_remaining = resp->burstlimit_remaining;
  dsg_gov_finished(r->gov, now, &h);
  if (status != SAM_OK) {
    body = dsg_json_parse(resp->body, resp->body_len);
    cls =
        dsg_gov_classify((int)resp->http_status, dsg_ru_str(body, "errorCode"));
    json_object_put(body);
  }
  return cls;
}

static void on_warm(int status,
                    const dsg_http_resp *resp,
                    const char *msg,
                    int64_t retry_after_s,
                    void *ud) {
  rc_run *r = ud;
  int64_t now = now_ms();
  dsg_gov_class cls = feed(r, status, resp, now);

  (void)msg;
  (void)retry_after_s;
  r->call = NULL;
  if (r->pc_cb == NULL)
    return;
  if (cls == DSG_GOV_LIMIT_HOURLY || cls == DSG_GOV_LIMIT_BURST) {
    r->limit_errors++;
    (void)dsg_gov_limit_error(r->gov, now, cls, resp->retry_after_s);
  }
  pump(r);
}

static void on_timer(uv_timer_t *t) {
  rc_run *r = t->data;

  if (r == NULL || r->pc_cb == NULL)
    return;
  pump(r);
}

static void on_resp(int status,
                    const dsg_http_resp *resp,
                    const char *msg,
                    int64_t retry_after_s,
                    void *ud) {
  rc_run *r = ud;
  int64_t now = now_ms();
  dsg_gov_class cls = feed(r, status, resp, now);

  r->call = NULL;
  if ((cls == DSG_GOV_LIMIT_HOURLY || cls == DSG_GOV_LIMIT_BURST) &&
      r->pc_limits < MAX_LIMITS && !r->aborting) {
    /* A20/A21: refused, nothing done: wait for the reset, send again. */
    r->pc_limits++;
    r->limit_errors++;
    (void)dsg_gov_limit_error(r->gov, now, cls, resp->retry_after_s);
    dsg_logf(r->ctx, r->a->job, SAM_LOG_WARN,
             "reclaim: DocuSign refused a request for its rate limit, nothing "
             "was done; it is sent again after the reset [method=%s]: %s",
             r->pc_method != NULL ? r->pc_method : "GET", msg);
    pump(r);
    return;
  }
  deliver(r, status, resp, msg, retry_after_s);
}

/* Waits for the governor, or sends the request. */
static void pump(rc_run *r) {
  dsg_gov_advice adv;
  int64_t now = now_ms();
  int64_t wait_ms;
  char w[300];
  char m[500];
  int rc;

  dsg_gov_advise(r->gov, now, &adv);
  if (adv.may_start > 0 && r->pc_warm && r->rest != NULL) {
    r->pc_warm = 0;
    dsg_gov_started(r->gov, now);
    rc = dsg_api_get(
        r->ctx,
        &(dsg_token_args){r->a->profile_id, r->a->client_id, r->a->instance},
        r->rest, on_warm, r, &r->call);
    if (rc == 0)
      return;
    dsg_gov_finished(r->gov, now_ms(), NULL);
  }
  if (adv.may_start > 0) {
    dsg_gov_started(r->gov, now);
    rc = dsg_api_send(
        r->ctx,
        &(dsg_token_args){r->a->profile_id, r->a->client_id, r->a->instance},
        r->pc_method, r->pc_url, r->pc_body, on_resp, r, &r->call);
    if (rc != 0) {
      dsg_gov_finished(r->gov, now_ms(), NULL);
      snprintf(m, sizeof(m), "cannot start the request [%s]", sam_err_name(rc));
      deliver(r, rc, NULL, m, -1);
    }
    return;
  }
  wait_ms = adv.why == DSG_GOV_WAIT_IN_FLIGHT || adv.next_at_ms <= now
                ? 50
                : adv.next_at_ms - now;
  if (r->deadline != 0 &&
      uv_now(r->ctx->loop) + (uint64_t)wait_ms + 1000 > r->deadline) {
    /* A21: the reset comes after the deadline: end partial, not sent. */
    if (dsg_gov_describe_wait(r->gov, adv.why, adv.next_at_ms, w, sizeof(w)) !=
        0)
      snprintf(w, sizeof(w), "the rate limit resets after the deadline");
    r->retry_after_s = wait_ms / 1000 + 1;
    snprintf(m, sizeof(m),
             "rate limited: %s; the run's deadline comes first, so the "
             "request was not sent [retry_after_s=%lld]",
             w, (long long)r->retry_after_s);
    deliver(r, SAM_EAGAIN, NULL, m, r->retry_after_s);
    return;
  }
  if (wait_ms >= 1000) {
    char when[DSG_DATE_BUF];

    dsg_date_format(adv.next_at_ms / 1000, when, sizeof(when));
    if (dsg_gov_describe_wait(r->gov, adv.why, adv.next_at_ms, w, sizeof(w)) !=
        0)
      w[0] = '\0';
    snprintf(m, sizeof(m), "waiting for the rate-limit reset until %s (%.250s)",
             when, w);
    r->limit_waits++;
    dsg_logf(r->ctx, r->a->job, SAM_LOG_INFO, "reclaim: %s", m);
    dsg_rc_progress(r, m);
  }
  if (wait_ms >= WARM_AFTER_MS)
    r->pc_warm = 1;
  uv_timer_start(r->pc_timer, on_timer, (uint64_t)wait_ms, 0);
}

int dsg_rc_api(rc_run *r,
               const char *method,
               const char *url,
               const char *body,
               dsg_api_cb cb) {
  free(r->pc_method);
  free(r->pc_url);
  free(r->pc_body);
  r->pc_method = method != NULL ? strdup(method) : NULL;
  r->pc_url = strdup(url);
  r->pc_body = body != NULL ? strdup(body) : NULL;
  if (r->pc_url == NULL || (method != NULL && r->pc_method == NULL) ||
      (body != NULL && r->pc_body == NULL))
    return SAM_ENOMEM;
  r->pc_cb = cb;
  r->pc_limits = 0;
  pump(r);
  return 0;
}
