/*
 * post.c: the only thread-safe host call (ABI.md 9.1). A mutex-protected
 * queue and one uv_async_t; at most SAM__POST_BATCH items run per wake-up,
 * then the async re-arms itself so a flood cannot starve the loop.
 */
#include <stdlib.h>

#include "runtime_int.h"

int sam__api_post(sam_host *host, sam_post_fn fn, void *ud) {
  sam__post_item *it;
  sam_runtime *rt;

  /* No loop-thread check: any thread may call this. The host object is
   * never freed while the runtime lives, and rt is immutable. */
  if (host == NULL || host->magic != SAM__MAGIC_HOST || fn == NULL)
    return SAM_EINVAL;
  rt = host->rt;
  it = malloc(sizeof(*it));
  if (it == NULL)
    return SAM_ENOMEM;
  it->next = NULL;
  it->fn = fn;
  it->ud = ud;
  uv_mutex_lock(&rt->post_mu);
  if (rt->post_closed) {
    uv_mutex_unlock(&rt->post_mu);
    free(it);
    return SAM_EBUSY;
  }
  if (rt->post_tail != NULL)
    rt->post_tail->next = it;
  else
    rt->post_head = it;
  rt->post_tail = it;
  /* Sent under the lock: the loop closes the async only after it set
   * post_closed under the same lock, so no send can race the close. */
  uv_async_send(&rt->post_async);
  uv_mutex_unlock(&rt->post_mu);
  return 0;
}

void sam__post_close(sam_runtime *rt) {
  uv_mutex_lock(&rt->post_mu);
  rt->post_closed = 1;
  uv_mutex_unlock(&rt->post_mu);
}

void sam__post_run(sam_runtime *rt, int all) {
  sam__post_item *batch = NULL, *tail = NULL, *it;
  int n = 0, more;

  uv_mutex_lock(&rt->post_mu);
  while (rt->post_head != NULL && (all || n < SAM__POST_BATCH)) {
    it = rt->post_head;
    rt->post_head = it->next;
    if (rt->post_head == NULL)
      rt->post_tail = NULL;
    it->next = NULL;
    if (tail != NULL)
      tail->next = it;
    else
      batch = it;
    tail = it;
    n++;
  }
  more = rt->post_head != NULL;
  if (more && !rt->closed)
    uv_async_send(&rt->post_async);
  uv_mutex_unlock(&rt->post_mu);
  while (batch != NULL) {
    it = batch;
    batch = it->next;
    it->fn(it->ud);
    free(it);
  }
}
