/*
 * test-dsg-http-common.h: what the HTTP client's tests over a private loop
 * share (test-dsg-http-tls, test-dsg-http-dns): closing a client and
 * proving the loop empty afterwards.
 */
#ifndef TEST_DSG_HTTP_COMMON_H
#define TEST_DSG_HTTP_COMMON_H

#include <uv.h>

#include "dsg_http.h"
#include "sam_test.h"

static inline void th_count_closed(void *ud) {
  (*(int *)ud)++;
}

/* Closes the client, runs the loop empty and closes it; the client's
 * closed callback must have run exactly once. */
static inline void th_client_close(uv_loop_t *loop, dsg_http *http) {
  int closed = 0;

  dsg_http_close(http, th_count_closed, &closed);
  EXPECT_EQ_INT(0, uv_run(loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(1, closed);
  EXPECT_EQ_INT(0, uv_loop_close(loop));
}

#endif /* TEST_DSG_HTTP_COMMON_H */
