/*
 * dsg_download_work.c: the download's CPU-heavy steps on libuv's thread
 * pool (ABI.md 9.1, C5): the tracked uv_queue_work requests of a job,
 * the parse of a users page and the mapping of its users into its batch.
 * Run functions touch only their own work, and the mapping also the page
 * request the loop leaves alone while it is RQ_MAPPING (plus the run's
 * read-only model tables and exclusion matcher); everything else of the
 * job happens in the after callbacks, on the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "dsg_download_int.h"
#include "dsg_download_work.h"
#include "dsg_http.h"

/* ---- tracked works ---- */

static void work_cb(uv_work_t *req) {
  dl_work *w = req->data;

  /* the written batches the pool made: freed here, off the loop */
  dl_garbage_free(w->garbage);
  w->garbage = NULL;
  w->run(w);
}

static void after_cb(uv_work_t *req, int status);

/* Hands w to libuv's pool; 0 or the libuv error. */
static int submit(dsg_dl *dl, dl_work *w) {
  int rc = uv_queue_work(dl->ctx->loop, &w->req, work_cb, after_cb);

  if (rc == 0) {
    w->submitted = 1;
    dl->n_works_pool++;
  }
  return rc;
}

static void untrack(dsg_dl *dl, dl_work *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    dl->works = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  dl->n_works--;
}

/* The oldest waiting work goes to the pool; when libuv refuses it, its
 * after runs at once with the error (we are in a loop callback). */
static void submit_held(dsg_dl *dl) {
  while (dl->held_head != NULL && dl->n_works_pool < DL_MAX_WORKS) {
    dl_work *w = dl->held_head;
    int rc;

    dl->held_head = w->held_next;
    if (dl->held_head == NULL)
      dl->held_tail = NULL;
    rc = submit(dl, w);
    if (rc != 0) {
      untrack(dl, w);
      dl_garbage_free(w->garbage);
      w->garbage = NULL;
      w->after(w, rc); /* frees w */
    }
  }
}

static void after_cb(uv_work_t *req, int status) {
  dl_work *w = req->data;
  dsg_dl *dl = w->dl;

  untrack(dl, w);
  dl->n_works_pool--;
  dl_garbage_free(w->garbage); /* cancelled before it ran: on the loop */
  w->garbage = NULL;
  w->after(w, status); /* frees w */
  submit_held(dl);
  if (dl->finishing)
    dl_works_cancel(dl); /* what just went to the pool */
  /* The job completes from the pump once n_works is 0 (maybe_complete). */
  dl_pump(dl);
}

int dl_work_queue(dsg_dl *dl,
                  dl_work *w,
                  dl_work_run_fn run,
                  dl_work_after_fn after) {
  int rc;

  if (dl->finishing)
    return SAM_EBUSY;
  memset(&w->req, 0, sizeof(w->req));
  w->req.data = w;
  w->dl = dl;
  w->run = run;
  w->after = after;
  w->held_next = NULL;
  w->submitted = 0;
  /* set before the pool can see w; a refused work gives it back */
  w->garbage = dl->garbage;
  dl->garbage = NULL;
  if (dl->n_works_pool < DL_MAX_WORKS) {
    rc = submit(dl, w);
    if (rc != 0) {
      dl->garbage = w->garbage;
      w->garbage = NULL;
      return dsg_status_from_uv(rc);
    }
  } else {
    if (dl->held_tail != NULL)
      dl->held_tail->held_next = w;
    else
      dl->held_head = w;
    dl->held_tail = w;
  }
  w->prev = NULL;
  w->next = dl->works;
  if (dl->works != NULL)
    dl->works->prev = w;
  dl->works = w;
  dl->n_works++;
  return 0;
}

void dl_works_cancel(dsg_dl *dl) {
  dl_work *w;

  /* Waiting works go to the pool only to be cancelled there: their after
   * then comes with UV_ECANCELED on a later turn, as for the others. */
  while (dl->held_head != NULL) {
    w = dl->held_head;
    dl->held_head = w->held_next;
    if (dl->held_head == NULL)
      dl->held_tail = NULL;
    if (submit(dl, w) != 0) {
      /* not even queued: leave it to the next after_cb (it retries) */
      w->held_next = dl->held_head;
      dl->held_head = w;
      if (dl->held_tail == NULL)
        dl->held_tail = w;
      break;
    }
  }
  /* UV_EBUSY for a work already running or done: its after still comes. */
  for (w = dl->works; w != NULL; w = w->next)
    if (w->submitted)
      (void)uv_cancel((uv_req_t *)&w->req);
}

/* ---- a users page parsed off the loop ---- */

typedef struct parse_work {
  dl_work w; /* first */
  dl_req *r; /* the loop's: never touched by run */
  char *body;
  size_t body_len;
  uint64_t expected_start;
  dsg_page page;
  int rc;
  char err[400];
} parse_work;

static void parse_run(dl_work *w) {
  parse_work *p = (parse_work *)w;

  p->rc = dsg_page_parse(p->body, p->body_len, p->expected_start, &p->page,
                         p->err, sizeof(p->err));
  /* The body is the loop's (dl_page_parse_queue): parse_after frees it.
   * Freed here, a pool thread took the loop's malloc arena lock for it,
   * and the loop's own malloc waited whenever that thread was preempted. */
}

static void parse_after(dl_work *w, int status) {
  parse_work *p = (parse_work *)w;
  dsg_dl *dl = w->dl;

  if (status != 0 || dl->finishing) {
    /* Cancelled (UV_ECANCELED) or the job ends anyway: nothing to carry
     * on with. r stays in dl->reqs; the job frees it. A cancel without a
     * finishing job cannot happen (only dl_fail cancels); fetch again. */
    if (!dl->finishing)
      p->r->state = RQ_READY;
  } else {
    /* Hands the page to r (dl_page_parsed takes it over, also on error). */
    dl_page_parsed(dl, p->r, p->rc, &p->page, p->err);
  }
  dsg_page_free(&p->page);
  free(p->body);
  free(p);
}

int dl_page_parse_queue(dsg_dl *dl,
                        dl_req *r,
                        const char *body,
                        size_t body_len) {
  parse_work *p = calloc(1, sizeof(*p));
  int rc;

  if (p == NULL)
    return SAM_ENOMEM;
  p->body = malloc(body_len + 1);
  if (p->body == NULL) {
    free(p);
    return SAM_ENOMEM;
  }
  memcpy(p->body, body, body_len);
  p->body[body_len] = '\0';
  p->body_len = body_len;
  p->r = r;
  p->expected_start = r->offset;
  rc = dl_work_queue(dl, &p->w, parse_run, parse_after);
  if (rc != 0) {
    free(p->body);
    free(p);
    return rc;
  }
  r->state = RQ_PARSING;
  return 0;
}

/* ---- a page's batch built off the loop ---- */

typedef struct batch_work {
  dl_work w; /* first */
  dl_req *r; /* the loop leaves it alone while RQ_MAPPING */
  dl_model_tables tables;
  dsg_user_map_opts mo; /* mo.model_ud = &tables */
  int rc;
} batch_work;

static void batch_run(dl_work *w) {
  batch_work *b = (batch_work *)w;

  b->rc = dl_batch_map(b->r, &b->mo);
}

static void batch_after(dl_work *w, int status) {
  batch_work *b = (batch_work *)w;
  dsg_dl *dl = w->dl;
  dl_req *r = b->r;

  if (status != 0 || dl->finishing) {
    /* r stays RQ_MAPPING: dl_free frees it with whatever was built. */
  } else if (b->rc != 0) {
    dl_fail(dl, b->rc, "mapping page [%llu] failed [%s]",
            (unsigned long long)r->index, sam_err_name(b->rc));
  } else {
    dl_batch_mapped(dl, r);
  }
  free(b);
}

int dl_batch_queue(dsg_dl *dl, dl_req *r) {
  batch_work *b = calloc(1, sizeof(*b));
  int rc;

  if (b == NULL)
    return SAM_ENOMEM;
  b->r = r;
  dl_batch_opts(dl, &b->tables, &b->mo);
  rc = dl_work_queue(dl, &b->w, batch_run, batch_after);
  if (rc != 0) {
    free(b);
    return rc;
  }
  r->state = RQ_MAPPING;
  return 0;
}
