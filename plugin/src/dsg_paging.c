/*
 * dsg_paging.c: paging arithmetic and A2's stop rules.
 */
#include "dsg_paging.h"

#include <string.h>

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
