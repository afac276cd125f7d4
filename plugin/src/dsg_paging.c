/*
 * dsg_paging.c: paging arithmetic and A2's stop rules.
 */
#include "dsg_paging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_dates.h"
#include "sam/sam_plugin.h"

static uint32_t norm(uint32_t page_size) {
  return page_size == 0 || page_size > DSG_PAGE_SIZE ? DSG_PAGE_SIZE
                                                     : page_size;
}

uint64_t dsg_paging_pages(uint64_t total, uint32_t page_size) {
  uint32_t ps = page_size == 0 ? DSG_PAGE_SIZE : page_size;

  return total / ps + (total % ps != 0);
}

uint64_t dsg_paging_offset(uint64_t index, uint32_t page_size) {
  return index * (page_size == 0 ? DSG_PAGE_SIZE : page_size);
}

uint64_t dsg_paging_cap(uint64_t total, uint32_t page_size) {
  return dsg_paging_pages(total, page_size) + 1;
}

void dsg_paging_init(dsg_paging *p, uint32_t page_size) {
  memset(p, 0, sizeof(*p));
  p->page_size = norm(page_size);
  p->pages_planned = 1; /* the first page, whatever the total */
  p->cap = 1;
}

int dsg_paging_next(dsg_paging *p, uint64_t *index, uint64_t *offset) {
  if (p->next_index >= p->pages_planned || p->next_index >= p->cap)
    return 0;
  if (!p->started && p->next_index > 0)
    return 0;
  *index = p->next_index++;
  *offset = dsg_paging_offset(*index, p->page_size);
  return 1;
}

/* Re-plans for `total`, never beyond the cap; notes when the cap cut it. */
static void plan(dsg_paging *p, uint64_t total) {
  uint64_t want = dsg_paging_pages(total, p->page_size);

  if (want == 0)
    want = 1; /* the first page itself, even for an empty account */
  if (want > p->cap) {
    want = p->cap;
    p->cap_reached = 1;
  }
  if (want > p->pages_planned || !p->started)
    p->pages_planned = want;
}

dsg_paging_stop dsg_paging_page_done(dsg_paging *p,
                                     uint64_t offset,
                                     uint64_t result_set_size,
                                     uint64_t total_set_size,
                                     int has_next_uri) {
  uint64_t index = offset / p->page_size;
  uint64_t next_offset = offset + result_set_size;
  dsg_paging_stop stop = DSG_PAGING_MORE;

  if (!p->started) {
    p->first_total = total_set_size;
    p->total = total_set_size;
    p->cap = dsg_paging_cap(total_set_size, p->page_size);
    plan(p, total_set_size);
    p->started = 1;
  } else if (total_set_size != p->first_total) {
    p->total_changed = 1;
    if (total_set_size > p->total) {
      p->total = total_set_size;
      plan(p, total_set_size);
    }
  }
  p->pages_done++;
  p->users_in_pages += result_set_size;

  if (result_set_size == 0)
    stop = DSG_PAGING_EMPTY_PAGE;
  else if (next_offset >= total_set_size)
    stop = DSG_PAGING_PAST_TOTAL;
  else if (!has_next_uri)
    stop = DSG_PAGING_NO_NEXT_URI;
  else if (index + 1 >= p->cap)
    stop = DSG_PAGING_CAP_REACHED;

  if (stop == DSG_PAGING_MORE && result_set_size < p->page_size)
    p->short_page = 1; /* a page in the middle came back short */
  if (stop != DSG_PAGING_MORE && index + 1 < p->pages_planned) {
    /* The server says this is the end before the plan's end: cut the plan
     * (pages already handed out still complete and are counted). */
    p->stopped_early = 1;
    p->pages_planned = index + 1 > p->next_index ? index + 1 : p->next_index;
  }
  if (stop == DSG_PAGING_CAP_REACHED)
    p->cap_reached = 1;
  return stop;
}

int dsg_paging_complete(const dsg_paging *p) {
  return p->started && p->pages_done >= p->pages_planned &&
         p->next_index >= p->pages_planned;
}

int dsg_paging_consistent(const dsg_paging *p) {
  return dsg_paging_complete(p) && !p->total_changed && !p->short_page &&
         !p->cap_reached && !p->stopped_early &&
         p->users_in_pages == p->first_total;
}

int dsg_paging_consistent_ids(const dsg_paging *p, uint64_t distinct_ids) {
  return dsg_paging_consistent(p) && distinct_ids == p->first_total;
}

const char *dsg_paging_stop_name(dsg_paging_stop s) {
  switch (s) {
  case DSG_PAGING_MORE:
    return "more pages";
  case DSG_PAGING_NO_NEXT_URI:
    return "no nextUri";
  case DSG_PAGING_EMPTY_PAGE:
    return "empty page";
  case DSG_PAGING_PAST_TOTAL:
    return "offset reached totalSetSize";
  case DSG_PAGING_CAP_REACHED:
    return "page cap reached";
  }
  return "unknown";
}

/* ---- pages done ---- */

void dsg_ranges_init(dsg_page_ranges *rs) {
  memset(rs, 0, sizeof(*rs));
}

void dsg_ranges_free(dsg_page_ranges *rs) {
  if (rs == NULL)
    return;
  free(rs->r);
  memset(rs, 0, sizeof(*rs));
}

/* Index of the first range whose `to` >= page (n when none). */
static size_t lower(const dsg_page_ranges *rs, uint64_t page) {
  size_t lo = 0, hi = rs->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (rs->r[mid].to < page)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int dsg_ranges_contains(const dsg_page_ranges *rs, uint64_t page) {
  size_t i = lower(rs, page);

  return i < rs->n && rs->r[i].from <= page;
}

int dsg_ranges_add(dsg_page_ranges *rs, uint64_t page) {
  size_t i = lower(rs, page);
  int join_prev, join_next;

  if (i < rs->n && rs->r[i].from <= page)
    return 0;
  join_prev = i > 0 && rs->r[i - 1].to + 1 == page;
  join_next = i < rs->n && page != UINT64_MAX && rs->r[i].from == page + 1;
  if (join_prev && join_next) {
    rs->r[i - 1].to = rs->r[i].to;
    memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(*rs->r));
    rs->n--;
    return 1;
  }
  if (join_prev) {
    rs->r[i - 1].to = page;
    return 1;
  }
  if (join_next) {
    rs->r[i].from = page;
    return 1;
  }
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 8;
    dsg_page_range *nr = realloc(rs->r, cap * sizeof(*nr));

    if (nr == NULL)
      return SAM_ENOMEM;
    rs->r = nr;
    rs->cap = cap;
  }
  memmove(&rs->r[i + 1], &rs->r[i], (rs->n - i) * sizeof(*rs->r));
  rs->r[i].from = rs->r[i].to = page;
  rs->n++;
  return 1;
}

uint64_t dsg_ranges_count(const dsg_page_ranges *rs) {
  uint64_t c = 0;
  size_t i;

  for (i = 0; i < rs->n; i++)
    c += rs->r[i].to - rs->r[i].from + 1;
  return c;
}

uint64_t dsg_ranges_first_missing(const dsg_page_ranges *rs, uint64_t from) {
  size_t i = lower(rs, from);

  if (i < rs->n && rs->r[i].from <= from)
    return rs->r[i].to + 1;
  return from;
}

/* ---- docusign_download_state ---- */

static int add(json_object *o, const char *key, json_object *v) {
  if (v == NULL || json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return SAM_ENOMEM;
  }
  return 0;
}

static int add_time(json_object *o, const char *key, int64_t t) {
  char buf[DSG_DATE_BUF];

  if (t == DSG_TIME_UNKNOWN)
    return 0;
  if (dsg_date_format(t, buf, sizeof(buf)) != 0)
    return SAM_EINVAL;
  return add(o, key, json_object_new_string(buf));
}

static int add_count(json_object *o, const char *key, int64_t n) {
  return n < 0 ? 0 : add(o, key, json_object_new_int64(n));
}

static const char *const STATUSES[] = {"running", "complete", "partial",
                                       "failed", "canceled"};

int dsg_download_state_record(const dsg_download_state *st,
                              json_object **out,
                              char *err,
                              size_t errlen) {
  json_object *rec = NULL, *arr = NULL;
  size_t i, ok = 0;
  int rc = SAM_EINVAL;

  *out = NULL;
  for (i = 0; st->status != NULL && i < 5; i++)
    ok |= strcmp(st->status, STATUSES[i]) == 0;
  if (st->run_id == NULL || st->run_id[0] == '\0' || strlen(st->run_id) > 64 ||
      !ok || st->started_at == DSG_TIME_UNKNOWN || st->page_size < 1 ||
      st->page_size > DSG_PAGE_SIZE ||
      (st->job_id != NULL && strlen(st->job_id) > 64)) {
    snprintf(err, errlen,
             "download state needs run_id, a known status, started_at and a "
             "page_size of 1..100 [run_id=%.64s] [status=%.16s] "
             "[page_size=%u]",
             st->run_id ? st->run_id : "", st->status ? st->status : "",
             st->page_size);
    return SAM_EINVAL;
  }
  rc = SAM_ENOMEM;
  rec = json_object_new_object();
  arr = json_object_new_array();
  if (rec == NULL || arr == NULL)
    goto fail;
  for (i = 0; i < st->pages_done.n; i++) {
    json_object *r = json_object_new_object();

    if (r == NULL ||
        add(r, "from",
            json_object_new_int64((int64_t)st->pages_done.r[i].from)) != 0 ||
        add(r, "to", json_object_new_int64((int64_t)st->pages_done.r[i].to)) !=
            0 ||
        json_object_array_add(arr, r) != 0) {
      json_object_put(r);
      goto fail;
    }
  }
  if (add(rec, "run_id", json_object_new_string(st->run_id)) != 0 ||
      (st->job_id != NULL &&
       add(rec, "job_id", json_object_new_string(st->job_id)) != 0) ||
      add(rec, "status", json_object_new_string(st->status)) != 0 ||
      add(rec, "page_size", json_object_new_int((int)st->page_size)) != 0)
    goto fail;
  rc = add_time(rec, "started_at", st->started_at);
  if (rc == 0)
    rc = add_time(rec, "updated_at", st->updated_at);
  if (rc == 0)
    rc = add_time(rec, "finished_at", st->finished_at);
  if (rc != 0) {
    if (rc == SAM_EINVAL)
      snprintf(err, errlen, "download state: a time is out of range");
    goto fail_rc;
  }
  rc = SAM_ENOMEM;
  if (add_count(rec, "total_set_size", st->total_set_size) != 0 ||
      add_count(rec, "pages_total", st->pages_total) != 0 ||
      add_count(rec, "users_seen", st->users_seen) != 0)
    goto fail;
  if (st->message != NULL) {
    size_t n = 0, chars = 0;

    while (st->message[n] != '\0' && chars < 500) {
      n++;
      while ((st->message[n] & 0xC0) == 0x80)
        n++;
      chars++;
    }
    if (add(rec, "message", json_object_new_string_len(st->message, (int)n)))
      goto fail;
  }
  if (add(rec, "pages_done", arr) != 0) {
    arr = NULL;
    goto fail;
  }
  *out = rec;
  return 0;

fail:
  snprintf(err, errlen, "download state: out of memory");
fail_rc:
  json_object_put(arr);
  json_object_put(rec);
  return rc;
}

static const char *str_member(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static int64_t int_member(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
    return -1;
  return json_object_get_int64(v);
}

static int64_t time_member(json_object *o, const char *key) {
  int64_t t;

  if (dsg_date_parse(str_member(o, key), &t) != 0)
    return DSG_TIME_UNKNOWN;
  return t;
}

int dsg_download_state_parse(json_object *rec,
                             dsg_download_state *st,
                             char *err,
                             size_t errlen) {
  json_object *arr = NULL;
  int64_t ps;
  size_t i, n;

  memset(st, 0, sizeof(*st));
  st->run_id = str_member(rec, "run_id");
  st->job_id = str_member(rec, "job_id");
  st->status = str_member(rec, "status");
  st->message = str_member(rec, "message");
  st->started_at = time_member(rec, "started_at");
  st->updated_at = time_member(rec, "updated_at");
  st->finished_at = time_member(rec, "finished_at");
  st->total_set_size = int_member(rec, "total_set_size");
  st->pages_total = int_member(rec, "pages_total");
  st->users_seen = int_member(rec, "users_seen");
  ps = int_member(rec, "page_size");
  if (st->run_id == NULL || st->status == NULL ||
      st->started_at == DSG_TIME_UNKNOWN || ps < 1 || ps > DSG_PAGE_SIZE ||
      !json_object_object_get_ex(rec, "pages_done", &arr) ||
      !json_object_is_type(arr, json_type_array)) {
    snprintf(err, errlen,
             "download state lacks run_id, status, started_at, page_size or "
             "pages_done [run_id=%.64s]",
             st->run_id ? st->run_id : "");
    return SAM_EPROTO;
  }
  st->page_size = (uint32_t)ps;
  n = json_object_array_length(arr);
  for (i = 0; i < n; i++) {
    json_object *r = json_object_array_get_idx(arr, i);
    int64_t from = int_member(r, "from"), to = int_member(r, "to");
    dsg_page_ranges *rs = &st->pages_done;

    if (from < 0 || to < from ||
        (rs->n > 0 && (uint64_t)from <= rs->r[rs->n - 1].to)) {
      snprintf(err, errlen,
               "download state [%s]: pages_done[%zu] is malformed, "
               "overlapping or out of order [from=%lld] [to=%lld]",
               st->run_id, i, (long long)from, (long long)to);
      return SAM_EPROTO;
    }
    if (rs->n > 0 && (uint64_t)from == rs->r[rs->n - 1].to + 1) {
      rs->r[rs->n - 1].to = (uint64_t)to; /* adjacent: merge */
      continue;
    }
    if (rs->n == rs->cap) {
      size_t cap = rs->cap ? rs->cap * 2 : 8;
      dsg_page_range *nr = realloc(rs->r, cap * sizeof(*nr));

      if (nr == NULL) {
        snprintf(err, errlen, "download state: out of memory");
        return SAM_ENOMEM;
      }
      rs->r = nr;
      rs->cap = cap;
    }
    rs->r[rs->n].from = (uint64_t)from;
    rs->r[rs->n].to = (uint64_t)to;
    rs->n++;
  }
  return 0;
}
