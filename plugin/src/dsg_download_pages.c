/*
 * dsg_download_pages.c: the download's DocuSign side: the users pages,
 * then account, billing plan and charges, concurrently within the
 * rate-limit governor and the backpressure bound (issue 6 items 1, 2, 5
 * and 9). Limit errors wait until the reset, 5xx/resets/timeouts and
 * malformed pages retry with bounded exponential backoff and jitter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsg_action.h"
#include "dsg_consumption.h"
#include "dsg_download_int.h"
#include "dsg_download_work.h"
#include "dsg_log.h"

/* ---- requests ---- */

static const char *kind_name(dl_req_kind k) {
  switch (k) {
  case DL_REQ_ACCOUNT:
    return "account information";
  case DL_REQ_PLAN:
    return "billing plan";
  case DL_REQ_CHARGES:
    return "billing charges";
  case DL_REQ_VERIFY:
    return "user verification";
  default:
    return "users page";
  }
}

/* Frees each of v's n strings, then v (NULL: nothing). */
static void free_strs(char **v, size_t n) {
  size_t i;

  if (v != NULL)
    for (i = 0; i < n; i++)
      free(v[i]);
  free(v);
}

void dl_req_free(dl_req *r) {
  if (r == NULL)
    return;
  free_strs(r->prev_texts, r->n_users);
  free_strs(r->texts, r->n_recs);
  free_strs(r->keys, r->n_recs);
  free_strs(r->idents, r->n_recs);
  free_strs(r->skips, r->n_skips);
  free_strs(r->unw, r->n_unw);
  free(r->users);
  free(r->recs);
  free(r->gb);
  dsg_page_free(&r->page);
  free(r);
}

void dl_garbage_free(dl_garbage *g) {
  while (g != NULL) {
    dl_garbage *next = g->next;

    free_strs(g->texts, g->n_recs);
    free_strs(g->keys, g->n_recs);
    free_strs(g->idents, g->n_recs);
    free_strs(g->skips, g->n_skips);
    free_strs(g->unw, g->n_unw);
    free(g->recs);
    free(g);
    g = next;
  }
}

void dl_req_release(dsg_dl *dl, dl_req *r) {
  dl_garbage *g = r->gb;

  if (g != NULL) {
    g->recs = r->recs;
    g->texts = r->texts;
    g->keys = r->keys;
    g->idents = r->idents;
    g->skips = r->skips;
    g->unw = r->unw;
    g->n_recs = r->n_recs;
    g->n_skips = r->n_skips;
    g->n_unw = r->n_unw;
    g->next = dl->garbage;
    dl->garbage = g;
    r->gb = NULL;
    r->recs = NULL;
    r->texts = r->keys = r->idents = r->skips = r->unw = NULL;
    r->n_recs = r->n_skips = r->n_unw = 0;
  }
  dl_req_free(r);
}

static dl_req *req_new(dsg_dl *dl, dl_req_kind kind, uint64_t idx) {
  dl_req *r = calloc(1, sizeof(*r));

  if (r == NULL)
    return NULL;
  r->dl = dl;
  r->kind = kind;
  r->index = idx;
  r->offset = idx * DSG_PAGE_SIZE;
  r->state = RQ_READY;
  r->next = dl->reqs;
  if (dl->reqs != NULL)
    dl->reqs->prev = r;
  dl->reqs = r;
  dl->n_reqs++;
  return r;
}

static void req_drop(dsg_dl *dl, dl_req *r) {
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    dl->reqs = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  dl->n_reqs--;
  dl_req_free(r);
}

void dl_reqs_cancel(dsg_dl *dl) {
  dl_req *r;

  for (r = dl->reqs; r != NULL; r = r->next) {
    if (r->call != NULL) {
      dsg_api_cancel(r->call);
      r->call = NULL;
      dl->http_in_flight--;
      dsg_gov_finished(dl->gov, dl_now_ms(), NULL);
    }
    if (r->state == RQ_SENDING)
      r->state = RQ_READY;
  }
}

/* ---- responses ---- */

static void headers_of(const dsg_http_resp *resp, dsg_gov_headers *h) {
  h->rate_limit = resp->ratelimit_limit;
  h->rate_remaining = resp->ratelimit_remaining;
  h->rate_reset = resp->ratelimit_reset;
  h->burst_limit = resp->burstlimit_limit;
  h->burst_remaining = resp->burstlimit_remaining;
}

static void retry_or_give_up(dsg_dl *dl, dl_req *r, const char *why);

/* ---- the sweep's verification pass ---- */

/* Records what DocuSign said of a candidate and drops the request. */
static void
verify_verdict(dsg_dl *dl, dl_req *r, dl_verdict v, const char *why) {
  dl_cand *c = &dl->cands[r->index];

  c->verdict = v;
  dl->verify_done++;
  if (v == DL_V_PRESENT) {
    dl->c.verified_present++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: user [%s] seen by the verification pass, missed by "
             "paging: the account changed during the run; its subscription "
             "is kept",
             c->key);
  } else if (v == DL_V_FAILED) {
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: user [%s] not seen and its verification failed (%s); "
             "its subscription is kept, the next run checks again",
             c->key, why);
  }
  req_drop(dl, r);
}

/* 1 when an error reply says the user is not in the account (404, or
 * USER_DOES_NOT_EXIST_IN_ACCOUNT at the top or in errorDetails). */
static int user_unknown(long http, json_object *body) {
  json_object *ed = NULL;
  const char *code = dsg_json_str(body, "errorCode");

  if (http == 404)
    return 1;
  if (code == NULL && json_object_object_get_ex(body, "errorDetails", &ed))
    code = dsg_json_str(ed, "errorCode");
  return code != NULL && strcmp(code, "USER_DOES_NOT_EXIST_IN_ACCOUNT") == 0;
}

static void verify_arrived(dsg_dl *dl, dl_req *r, const dsg_http_resp *resp) {
  json_object *o = dsg_json_parse(resp->body, resp->body_len);
  const char *st = dsg_json_str(o, "userStatus");

  if (o == NULL || !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    retry_or_give_up(dl, r, "the reply is not a JSON object");
    return;
  }
  if (user_unknown(0, o))
    verify_verdict(dl, r, DL_V_GONE, NULL);
  else if (st != NULL && strcasecmp(st, "closed") == 0)
    verify_verdict(dl, r, DL_V_GONE, NULL);
  else
    verify_verdict(dl, r, DL_V_PRESENT, NULL);
  json_object_put(o);
}

void dl_cands_free(dsg_dl *dl) {
  size_t i;

  for (i = 0; i < dl->n_cands; i++) {
    free(dl->cands[i].key);
    free(dl->cands[i].json);
  }
  free(dl->cands);
  dl->cands = NULL;
  dl->n_cands = 0;
  dl->cands_cap = 0;
}

/* A transient failure: retry with backoff, or give up after the
 * governor's max_retries. */
static void retry_or_give_up(dsg_dl *dl, dl_req *r, const char *why) {
  int64_t d = dsg_gov_backoff_ms(dl->gov, ++r->attempt);

  if (r->kind == DL_REQ_VERIFY)
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: %s [%s] attempt [%u] failed: %s", kind_name(r->kind),
             dl->cands[r->index].key, r->attempt, why);
  else
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
             "download: %s [start_position=%llu] attempt [%u] failed: %s",
             kind_name(r->kind), (unsigned long long)r->offset, r->attempt,
             why);
  if (d >= 0) {
    r->state = RQ_RETRY;
    r->retry_at_ms = dl_now_ms() + d;
    return;
  }
  if (r->kind == DL_REQ_VERIFY) {
    verify_verdict(dl, r, DL_V_FAILED, why);
    return;
  }
  if (r->kind == DL_REQ_PAGE) {
    dl_fail(dl, SAM_EREMOTE,
            "users page [%llu] (start_position [%llu]) failed after [%u] "
            "attempts: %s",
            (unsigned long long)r->index, (unsigned long long)r->offset,
            r->attempt, why);
    return;
  }
  dl->c.errors++;
  if (r->kind == DL_REQ_CHARGES)
    dl->charges_status = 0;
  req_drop(dl, r);
}

static void page_arrived(dsg_dl *dl, dl_req *r, const dsg_http_resp *resp) {
  char err[400];
  dsg_page page;
  int rc;

  /* Parsing ~74 KB of JSON is the heaviest step of a page: off the loop
   * (ABI.md 9.1, C5); dl_page_parsed continues on the loop. */
  rc = dl_page_parse_queue(dl, r, resp->body, resp->body_len);
  if (rc == 0 || dl->finishing)
    return;
  /* The pool refused (out of memory): parse here, as before. */
  rc = dsg_page_parse(resp->body, resp->body_len, r->offset, &page, err,
                      sizeof(err));
  dl_page_parsed(dl, r, rc, &page, err);
  dsg_page_free(&page);
}

void dl_page_parsed(
    dsg_dl *dl, dl_req *r, int rc, dsg_page *page, const char *err) {
  size_t i;

  if (rc != 0) {
    r->state = RQ_READY;
    retry_or_give_up(dl, r, err);
    return;
  }
  r->page = *page;
  memset(page, 0, sizeof(*page));
  if (!dl->paging.started) {
    uint64_t cap = dsg_paging_cap(r->page.total_set_size, DSG_PAGE_SIZE);

    if (dl->resumed && dl->ck_total != r->page.total_set_size) {
      /* The account changed since the checkpoint: fetch every page again
       * (same run id, so nothing is counted twice). */
      memset(dl->done_map, 0, (size_t)dl->done_cap);
      dl->ck_users = 0;
    }
    if (cap > dl->done_cap) {
      uint8_t *m = realloc(dl->done_map, (size_t)cap);

      if (m == NULL) {
        dl_fail(dl, SAM_ENOMEM, "out of memory [page map]");
        return;
      }
      memset(m + dl->done_cap, 0, (size_t)(cap - dl->done_cap));
      dl->done_map = m;
      dl->done_cap = cap;
    }
    if (dsg_idset_new((size_t)r->page.total_set_size + 16, &dl->seen) != 0) {
      dl_fail(dl, SAM_ENOMEM, "out of memory [userId set]");
      return;
    }
    dl->c.users_seen += dl->ck_users;
  }
  dsg_paging_page_done(&dl->paging, r->offset, r->page.result_set_size,
                       r->page.total_set_size, r->page.has_next_uri);
  dl->c.pages++;
  if (dl_page_done_before(dl, r->index)) {
    req_drop(dl, r); /* page 0 of a resumed run: read for its total only */
    return;
  }
  r->users = calloc(r->page.n_users + 1, sizeof(*r->users));
  r->prev_texts = calloc(r->page.n_users + 1, sizeof(*r->prev_texts));
  if (r->users == NULL || r->prev_texts == NULL) {
    dl_fail(dl, SAM_ENOMEM, "out of memory [page]");
    return;
  }
  for (i = 0; i < r->page.n_users; i++) {
    json_object *u = dsg_page_user(&r->page, i);
    const char *id = dsg_json_str(u, "userId");

    rc = dsg_idset_add(dl->seen, id);
    if (rc == 0)
      continue; /* on an earlier page already (A2) */
    if (rc < 0) {
      dl->c.errors++;
      dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
               "download: a user without a usable userId on page [%llu] "
               "was skipped [%s]",
               (unsigned long long)r->index, sam_err_name(rc));
      continue;
    }
    dl->c.users_seen++;
    r->users[r->n_users++] = u;
  }
  r->state = RQ_READING;
}

static void other_arrived(dsg_dl *dl, dl_req *r, const dsg_http_resp *resp) {
  json_object *o = dsg_json_parse(resp->body, resp->body_len);

  if (r->kind != DL_REQ_CHARGES &&
      (o == NULL || !json_object_is_type(o, json_type_object))) {
    json_object_put(o);
    retry_or_give_up(dl, r, "the reply is not a JSON object");
    return;
  }
  if (r->kind == DL_REQ_ACCOUNT) {
    dl->acct = o;
  } else if (r->kind == DL_REQ_PLAN) {
    dl->plan = o;
  } else {
    dl->charges = o;
    dl->charges_status = (int)resp->http_status;
  }
  req_drop(dl, r);
}

static void on_api(int status,
                   const dsg_http_resp *resp,
                   const char *msg,
                   int64_t retry_after_s,
                   void *ud) {
  dl_req *r = ud;
  dsg_dl *dl = r->dl;
  int64_t now = dl_now_ms();
  dsg_gov_headers h;
  json_object *body;
  dsg_gov_class cls;
  int unknown;
  long http;

  (void)retry_after_s;
  r->call = NULL;
  r->sync_done = 1;
  dl->http_in_flight--;
  if (resp != NULL && resp->status == SAM_OK) {
    headers_of(resp, &h);
    dsg_gov_finished(dl->gov, now, &h);
  } else {
    dsg_gov_finished(dl->gov, now, NULL);
  }
  r->state = RQ_READY;
  if (resp == NULL) {
    /* No request was sent: no token (needs consent, refresh refused). */
    dl_fail(dl, status, "%s", msg);
    dl_pump(dl);
    return;
  }
  if (status == SAM_OK) {
    if (r->kind == DL_REQ_PAGE)
      page_arrived(dl, r, resp);
    else if (r->kind == DL_REQ_VERIFY)
      verify_arrived(dl, r, resp);
    else
      other_arrived(dl, r, resp);
    dl_pump(dl);
    return;
  }
  http = resp->status == SAM_OK ? resp->http_status : 0;
  body = dsg_json_parse(resp->body, resp->body_len);
  cls = dsg_gov_classify((int)http, dsg_json_str(body, "errorCode"));
  unknown = r->kind == DL_REQ_VERIFY && user_unknown(http, body);
  json_object_put(body);
  if (cls == DSG_GOV_LIMIT_HOURLY || cls == DSG_GOV_LIMIT_BURST) {
    r->state = RQ_RETRY;
    r->retry_at_ms =
        dsg_gov_limit_error(dl->gov, now, cls, resp->retry_after_s);
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN, "download: %s", msg);
  } else if (unknown) {
    verify_verdict(dl, r, DL_V_GONE, NULL);
  } else if (cls == DSG_GOV_RETRY && status != SAM_EAUTH) {
    retry_or_give_up(dl, r, msg);
  } else if (r->kind == DL_REQ_VERIFY) {
    verify_verdict(dl, r, DL_V_FAILED, msg);
  } else if (r->kind == DL_REQ_PAGE) {
    /* A page that cannot be read (A18 second 401, A19) ends the run. */
    dl_fail(dl, status, "%s: %s", kind_name(r->kind), msg);
  } else {
    /* Account and billing come after the pages and feed only the
     * consumption record: they fail without failing the run (A25). */
    dl->c.errors++;
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN, "download: %s: %s",
             kind_name(r->kind), msg);
    if (r->kind == DL_REQ_CHARGES) {
      dl->charges_status = (int)http;
      dl->charges = dsg_json_parse(resp->body, resp->body_len);
    }
    req_drop(dl, r);
  }
  dl_pump(dl);
}

static void send_req(dsg_dl *dl, dl_req *r) {
  char url[1024];
  dsg_token_args ta;
  dsg_api_call *call = NULL;
  int rc;

  switch (r->kind) {
  case DL_REQ_ACCOUNT:
    snprintf(url, sizeof(url), "%s", dl->rest);
    break;
  case DL_REQ_PLAN:
    snprintf(url, sizeof(url), "%s/billing_plan", dl->rest);
    break;
  case DL_REQ_CHARGES:
    snprintf(url, sizeof(url), "%s/billing_charges", dl->rest);
    break;
  case DL_REQ_VERIFY:
    /* DOCUSIGN.md 4.2: one user, by userId. */
    snprintf(url, sizeof(url), "%s/users/%s", dl->rest,
             dl->cands[r->index].key);
    break;
  default:
    /* A1, A4, A5: always count, start_position, additional_info and
     * include_license. */
    snprintf(url, sizeof(url),
             "%s/users?count=%d&start_position=%llu&additional_info=true&"
             "include_license=true",
             dl->rest, DSG_PAGE_SIZE, (unsigned long long)r->offset);
    break;
  }
  ta.profile_id = dl->profile_id;
  ta.client_id = dl->client_id;
  ta.instance = dl->instance;
  dsg_gov_started(dl->gov, dl_now_ms());
  r->state = RQ_SENDING;
  r->sync_done = 0;
  dl->http_in_flight++;
  if (r->kind == DL_REQ_PAGE) {
    size_t pages = 0;
    dl_req *q;

    for (q = dl->reqs; q != NULL; q = q->next)
      pages += q->kind == DL_REQ_PAGE && q->state == RQ_SENDING;
    if (pages > dl->peak_in_flight)
      dl->peak_in_flight = pages;
  }
  /* The verification pass counts apart: api_calls stays pages + 3. */
  if (r->kind == DL_REQ_VERIFY)
    dl->c.verify_calls++;
  else
    dl->c.api_calls++;
  rc = dsg_api_get(dl->ctx, &ta, url, on_api, r, &call);
  if (rc != 0) {
    dl->http_in_flight--;
    dsg_gov_finished(dl->gov, dl_now_ms(), NULL);
    r->state = RQ_READY;
    dl_fail(dl, rc, "cannot start the %s request [%s]", kind_name(r->kind),
            sam_err_name(rc));
    return;
  }
  if (!r->sync_done)
    r->call = call;
}

/* ---- the pump of the DocuSign side ---- */

static void wait_progress(dsg_dl *dl, const dsg_gov_advice *adv) {
  char m[400];
  char w[300];

  if (adv->why != DSG_GOV_WAIT_HOURLY && adv->why != DSG_GOV_WAIT_LIMITED)
    return;
  if (dl->deadline != 0 &&
      uv_now(dl->ctx->loop) + (uint64_t)(adv->next_at_ms - dl_now_ms()) + 1000 >
          dl->deadline) {
    /* A21: the reset comes after the host's deadline: end partial; the
     * checkpoint stays, so the next run resumes where this stopped. */
    if (dsg_gov_describe_wait(dl->gov, adv->why, adv->next_at_ms, w,
                              sizeof(w)) != 0)
      snprintf(w, sizeof(w), "the rate limit resets after the deadline");
    dl->retry_after_s = (adv->next_at_ms - dl_now_ms()) / 1000 + 1;
    if (dl->phase != DL_PAGES) {
      dl_fail(dl, SAM_EAGAIN,
              "paused after [%llu/%llu] pages, %s; the run's deadline comes "
              "first: the next run resumes from the checkpoint",
              (unsigned long long)dl->paging.pages_done,
              (unsigned long long)dl->paging.pages_planned, w);
      return;
    }
    /* DocuSign counted the pages in flight against the hour already:
     * they land and are stored, rather than asked again after the reset. */
    if (!dl->draining) {
      dl->draining = 1;
      snprintf(dl->drain_wait, sizeof(dl->drain_wait), "%s", w);
      dsg_logf(dl->ctx, dl->job, SAM_LOG_INFO,
               "download: %s; the run's deadline comes first: it ends once "
               "the pages asked for are stored",
               w);
      dl->pump_again = 1; /* nothing in flight may be left to wake us */
    }
    return;
  }
  if (adv->next_at_ms - dl_now_ms() < 1000)
    return; /* a short wait is not worth telling */
  if (dsg_gov_describe_wait(dl->gov, adv->why, adv->next_at_ms, w, sizeof(w)) !=
      0)
    snprintf(w, sizeof(w), "waiting for the rate-limit reset");
  snprintf(m, sizeof(m), "pages [%llu/%llu]: %s",
           (unsigned long long)dl->paging.pages_done,
           (unsigned long long)dl->paging.pages_planned, w);
  if (!dl->waiting_limit)
    dsg_logf(dl->ctx, dl->job, SAM_LOG_INFO, "download: %s", m);
  dl->waiting_limit = 1;
  dl->ctx->api->job_progress(dl->job, dl->paging.pages_done,
                             dl->paging.pages_planned, m);
}

/* Sends what the governor allows; returns 1 when it said wait. */
static int send_ready(dsg_dl *dl) {
  int64_t now = dl_now_ms();
  dsg_gov_advice adv;
  dl_req *r;

  for (r = dl->reqs; r != NULL; r = r->next) {
    if (r->state == RQ_RETRY) {
      if (r->retry_at_ms <= now)
        r->state = RQ_READY;
      else
        dl_wake_at(dl, r->retry_at_ms);
    }
  }
  for (r = dl->reqs; r != NULL && !dl->finishing; r = r->next) {
    if (r->state != RQ_READY)
      continue;
    dsg_gov_advise(dl->gov, dl_now_ms(), &adv);
    if (adv.may_start == 0) {
      if (adv.next_at_ms != INT64_MAX)
        dl_wake_at(dl, adv.next_at_ms);
      wait_progress(dl, &adv);
      return 1;
    }
    dl->waiting_limit = 0;
    send_req(dl, r);
  }
  return 0;
}

/* Opens new pages while the backpressure bound and the governor allow. */
static void open_pages(dsg_dl *dl) {
  dsg_gov_advice adv;
  uint64_t idx;
  uint64_t off;

  while (!dl->finishing && dl->n_reqs < DL_MAX_OPEN_PAGES) {
    dsg_paging peek = dl->paging;

    /* Nothing left to open (or page 0 still in the parse work): no
     * governor wait, which could otherwise pause a run that needs no more
     * calls. */
    if (!dsg_paging_next(&peek, &idx, &off))
      return;
    dsg_gov_advise(dl->gov, dl_now_ms(), &adv);
    if (adv.may_start == 0) {
      /* Wake up when the governor allows again (a reply wakes us for
       * DSG_GOV_WAIT_IN_FLIGHT). */
      if (adv.next_at_ms != INT64_MAX)
        dl_wake_at(dl, adv.next_at_ms);
      wait_progress(dl, &adv);
      return;
    }
    if (!dsg_paging_next(&dl->paging, &idx, &off))
      return;
    if (dl->paging.started && dl_page_done_before(dl, idx)) {
      /* Stored by the run being resumed: counted, not fetched again. */
      uint64_t total = dl->paging.first_total;
      uint64_t n = total > off ? total - off : 0;

      if (n > DSG_PAGE_SIZE)
        n = DSG_PAGE_SIZE;
      dsg_paging_page_done(&dl->paging, off, n, total, off + n < total);
      continue;
    }
    if (req_new(dl, DL_REQ_PAGE, idx) == NULL) {
      dl_fail(dl, SAM_ENOMEM, "out of memory [page request]");
      return;
    }
    if (send_ready(dl))
      return;
  }
}

/* A userId fit for a URL path (DocuSign's are GUIDs). */
static int key_ok(const char *k) {
  size_t i;

  for (i = 0; k[i] != '\0'; i++)
    if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'z') ||
          (k[i] >= 'A' && k[i] <= 'Z') || k[i] == '-'))
      return 0;
  return i > 0 && i <= 64;
}

void dl_verify_pump(dsg_dl *dl) {
  dsg_gov_advice adv;
  dl_req *r;

  if (send_ready(dl))
    return;
  while (!dl->finishing && dl->n_reqs < DL_MAX_VERIFY &&
         dl->verify_next < dl->n_cands) {
    dsg_gov_advise(dl->gov, dl_now_ms(), &adv);
    if (adv.may_start == 0) {
      if (adv.next_at_ms != INT64_MAX)
        dl_wake_at(dl, adv.next_at_ms);
      wait_progress(dl, &adv);
      return;
    }
    r = req_new(dl, DL_REQ_VERIFY, dl->verify_next);
    if (r == NULL) {
      dl_fail(dl, SAM_ENOMEM, "out of memory [verification request]");
      return;
    }
    dl->verify_next++;
    if (!key_ok(dl->cands[r->index].key)) {
      verify_verdict(dl, r, DL_V_FAILED, "the key is not a userId");
      continue;
    }
    if (send_ready(dl))
      return;
  }
}

static void pages_finished(dsg_dl *dl) {
  const dsg_paging *p = &dl->paging;
  uint64_t cap;

  /* Page sizes and totals alone cannot prove the run saw everyone: a user
   * added and another removed mid-run keep every count but shift the list,
   * so one user is listed twice and another never. The distinct userIds
   * must add up to the total too. Even then a shift can hide (one user
   * missed, a newcomer filling in): the sweep confirms every removal with
   * DocuSign first (dl_verify_pump). A resumed run lacks the earlier run's
   * ids: it sweeps on consistent page counts, every removal verified, and
   * stays partial. */
  dl->consistent = !dl->resumed && dsg_paging_complete(p) &&
                   dsg_paging_consistent_ids(p, dsg_idset_count(dl->seen));
  dl->do_sweep =
      dl->consistent || (dl->resumed && dsg_paging_consistent(p) != 0);
  cap = p->first_total * DL_VERIFY_PERCENT / 100;
  dl->verify_cap = cap > DL_VERIFY_MIN ? (size_t)cap : DL_VERIFY_MIN;
  if (!dl->consistent && dl->do_sweep) {
    snprintf(dl->msg, sizeof(dl->msg),
             "a resumed run: each subscription not seen is removed only "
             "when DocuSign confirms the user is closed or gone");
    dsg_logf(dl->ctx, dl->job, SAM_LOG_INFO, "download: %s", dl->msg);
  } else if (!dl->consistent && dl->resumed && dsg_paging_complete(p)) {
    snprintf(dl->msg, sizeof(dl->msg),
             "removal skipped: a resumed run cannot prove it saw every user; "
             "the next complete run removes what is gone");
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN, "download: %s", dl->msg);
  } else if (!dl->consistent) {
    snprintf(dl->msg, sizeof(dl->msg),
             "removal skipped: the account changed during the run "
             "(totalSetSize [%llu] at the first page, [%llu] at most, [%llu] "
             "users in [%llu] pages, [%zu] distinct); the next consistent run "
             "removes what is gone",
             (unsigned long long)p->first_total, (unsigned long long)p->total,
             (unsigned long long)p->users_in_pages,
             (unsigned long long)p->pages_done, dsg_idset_count(dl->seen));
    dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN, "download: %s", dl->msg);
  }
  dl->phase = dl->do_sweep ? DL_SWEEP : DL_UNREC;
  dl->step = 0;
  dl->busy = 0;
  dl->pump_again = 1;
  dl->acct_started = 1;
  if (req_new(dl, DL_REQ_ACCOUNT, 0) == NULL ||
      req_new(dl, DL_REQ_PLAN, 0) == NULL ||
      req_new(dl, DL_REQ_CHARGES, 0) == NULL)
    dl_fail(dl, SAM_ENOMEM, "out of memory [requests]");
}

static int is_account_kind(dl_req_kind k) {
  return k == DL_REQ_ACCOUNT || k == DL_REQ_PLAN || k == DL_REQ_CHARGES;
}

size_t dl_account_pump(dsg_dl *dl) {
  int64_t now = dl_now_ms();
  dsg_gov_advice adv;
  size_t left = 0;
  dl_req *r;
  dl_req *next;

  for (r = dl->reqs; r != NULL; r = r->next) {
    if (!is_account_kind(r->kind))
      continue;
    left++;
    if (r->state == RQ_RETRY) {
      if (r->retry_at_ms <= now)
        r->state = RQ_READY;
      else
        dl_wake_at(dl, r->retry_at_ms);
    }
  }
  for (r = dl->reqs; r != NULL && !dl->finishing; r = next) {
    next = r->next;
    if (!is_account_kind(r->kind) || r->state != RQ_READY)
      continue;
    dsg_gov_advise(dl->gov, dl_now_ms(), &adv);
    if (adv.may_start > 0) {
      send_req(dl, r);
      continue;
    }
    if (adv.next_at_ms == INT64_MAX)
      break; /* in flight: a reply pumps again */
    if (dl->deadline != 0 && uv_now(dl->ctx->loop) +
                                     (uint64_t)(adv.next_at_ms - dl_now_ms()) +
                                     1000 >
                                 dl->deadline) {
      /* The users are all in: a rate-limit reset past the deadline costs
       * this run's consumption update, never a paused run. */
      dl->c.errors++;
      dsg_logf(dl->ctx, dl->job, SAM_LOG_WARN,
               "download: %s not asked: the rate limit resets after the "
               "run's deadline; consumption not updated",
               kind_name(r->kind));
      if (dl->msg[0] == '\0')
        snprintf(dl->msg, sizeof(dl->msg),
                 "account and billing not asked: the rate limit resets after "
                 "the run's deadline; consumption not updated");
      left--;
      req_drop(dl, r);
      continue;
    }
    dl_wake_at(dl, adv.next_at_ms);
    break;
  }
  return left;
}

/* A pausing run: pages not sent yet (or waiting to be retried) are left
 * to the next run; it ends once every other page is stored. */
static void drain_pages(dsg_dl *dl) {
  dl_req *r;
  dl_req *next;

  for (r = dl->reqs; r != NULL; r = next) {
    next = r->next;
    if (r->kind == DL_REQ_PAGE &&
        (r->state == RQ_READY || r->state == RQ_RETRY) && r->call == NULL)
      req_drop(dl, r);
  }
  if (dl->n_reqs > 0)
    return;
  dl_fail(dl, SAM_EAGAIN,
          "paused after [%llu/%llu] pages, %s; the run's deadline comes "
          "first: the next run resumes from the checkpoint",
          (unsigned long long)dl->paging.pages_done,
          (unsigned long long)dl->paging.pages_planned, dl->drain_wait);
}

void dl_pages_pump(dsg_dl *dl) {
  dl_req *r;
  dl_req *next;

  /* The store side of parsed pages first (it frees room). */
  for (r = dl->reqs; r != NULL && !dl->finishing; r = next) {
    next = r->next;
    if (r->state == RQ_READING || r->state == RQ_WRITING)
      dl_page_store_pump(dl, r);
  }
  if (dl->finishing)
    return;
  if (dl->draining) {
    drain_pages(dl);
    return;
  }
  send_ready(dl);
  open_pages(dl);
  if (dl->n_reqs == 0 && dl->paging.started &&
      (dl->paging.next_index >= dl->paging.pages_planned ||
       dl->paging.next_index >= dl->paging.cap))
    pages_finished(dl);
}
