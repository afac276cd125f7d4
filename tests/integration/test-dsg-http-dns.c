/*
 * test-dsg-http-dns.c: a request whose name resolution hangs (a DNS server
 * that does not answer) must not hold the host's loop when it ends early.
 *
 * libcurl resolves names on a thread of its own. Ending a transfer that
 * is still resolving (a cancel, the request's timeout, the client's close)
 * used to wait for that thread, i.e. for getaddrinfo to give up, on the
 * loop: seconds to tens of seconds with a dead DNS server.
 *
 * This file defines getaddrinfo: libcurl's calls come here (the executable's
 * definition interposes libc's). Names under ".hang.test" block until the
 * test releases them; the others go to libc's. No network traffic leaves
 * the machine: the hanging names never reach a resolver.
 *
 * The checks are orderings, not timings: each request's callback must
 * arrive while its resolution is still blocked.
 */
#define _GNU_SOURCE /* dlsym(RTLD_NEXT) */
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#include "dsg_http.h"
#include "test-dsg-http-common.h"

static atomic_int blocked;  /* resolutions inside the hang now */
static atomic_int released; /* the test lets them go */
static atomic_int finished; /* resolutions that came out of the hang */
static int only_case;       /* one case runs alone: its count starts at 0 */

int getaddrinfo(const char *node,
                const char *service,
                const struct addrinfo *hints,
                struct addrinfo **res) {
  static int (*real)(const char *, const char *, const struct addrinfo *,
                     struct addrinfo **);
  size_t n = node != NULL ? strlen(node) : 0;

  if (n > 10 && strcmp(node + n - 10, ".hang.test") == 0) {
    int waited_ms = 0;

    atomic_fetch_add(&blocked, 1);
    /* 3 s at most: a client that waits for the resolution then fails its
     * check instead of hanging the test */
    while (!atomic_load(&released) && waited_ms < 3000) {
      struct timespec ts = {0, 5 * 1000 * 1000};

      nanosleep(&ts, NULL);
      waited_ms += 5;
    }
    atomic_fetch_sub(&blocked, 1);
    atomic_fetch_add(&finished, 1);
    return EAI_NONAME;
  }
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
  return real(node, service, hints, res);
}

typedef struct rec {
  int calls;
  int status;
  int blocked_at_callback; /* resolutions still blocked when it came */
  char error[CURL_ERROR_SIZE];
} rec;

static void on_done(const dsg_http_resp *resp, void *ud) {
  rec *r = ud;

  r->calls++;
  r->status = resp->status;
  r->blocked_at_callback = atomic_load(&blocked);
  snprintf(r->error, sizeof(r->error), "%s", resp->error);
}

/* Prints how the request ended (before checking, so a failure says it),
 * then checks it ended once, with `want`, while its lookup still hung. */
static void check_ended(const char *what, const rec *r, int want) {
  printf("%s -> [%s] [%s], resolutions still blocked: %d\n", what,
         sam_err_name(r->status), r->error, r->blocked_at_callback);
  EXPECT_EQ_INT(1, r->calls);
  EXPECT_EQ_INT(want, r->status);
  EXPECT_EQ_INT(1, r->blocked_at_callback);
}


static dsg_http *client(uv_loop_t *loop) {
  dsg_http *http = NULL;
  dsg_http_config cfg;

  EXPECT_EQ_INT(0, uv_loop_init(loop));
  memset(&cfg, 0, sizeof(cfg));
  EXPECT_EQ_INT(0, dsg_http_start(loop, &cfg, &http));
  return http;
}


/* Runs the loop until a resolution is blocked in the hang. */
static void until_blocked(uv_loop_t *loop, int n) {
  while (atomic_load(&blocked) < n)
    uv_run(loop, UV_RUN_NOWAIT);
}

/* Lets the hanging resolutions go and waits for their threads to leave
 * getaddrinfo, so that nothing of them outlives the case. */
static void release_all(int expect_finished) {
  atomic_store(&released, 1);
  while (atomic_load(&finished) < expect_finished) {
    struct timespec ts = {0, 1000 * 1000};

    nanosleep(&ts, NULL);
  }
  atomic_store(&released, 0);
}

/* dsg_http_cancel while the name resolves. */
static void test_cancel_while_resolving(void) {
  uv_loop_t loop;
  dsg_http *http = client(&loop);
  dsg_http_req_opts o;
  dsg_http_req *req = NULL;
  rec r;

  memset(&o, 0, sizeof(o));
  memset(&r, 0, sizeof(r));
  o.url = "https://api.hang.test/restapi/v2.1/accounts";
  EXPECT_EQ_INT(0, dsg_http_request(http, &o, on_done, &r, &req));
  until_blocked(&loop, 1);
  dsg_http_cancel(req);
  while (r.calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
  check_ended("cancel", &r, SAM_ECANCELED);
  th_client_close(&loop, http);
  release_all(1);
}

/* The request's own timeout while the name resolves. */
static void test_timeout_while_resolving(void) {
  uv_loop_t loop;
  dsg_http *http = client(&loop);
  dsg_http_req_opts o;
  rec r;

  memset(&o, 0, sizeof(o));
  memset(&r, 0, sizeof(r));
  o.url = "https://login.hang.test/oauth/token";
  o.timeout_ms = 200;
  EXPECT_EQ_INT(0, dsg_http_request(http, &o, on_done, &r, NULL));
  while (r.calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
  check_ended("timeout", &r, SAM_ETIMEDOUT);
  th_client_close(&loop, http);
  release_all(only_case ? 1 : 2);
}

/* The client closed (plugin shutdown) while a name resolves. */
static void test_close_while_resolving(void) {
  uv_loop_t loop;
  dsg_http *http = client(&loop);
  dsg_http_req_opts o;
  rec r;
  int closed = 0;

  memset(&o, 0, sizeof(o));
  memset(&r, 0, sizeof(r));
  o.url = "https://eu.hang.test/restapi/v2.1/accounts";
  EXPECT_EQ_INT(0, dsg_http_request(http, &o, on_done, &r, NULL));
  until_blocked(&loop, 1);
  dsg_http_close(http, th_count_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  check_ended("close", &r, SAM_ECANCELED);
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  release_all(only_case ? 1 : 3);
}

/* No argument: every case; else only the one named (cancel, timeout,
 * close). */
int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;

  only_case = only != NULL;
  EXPECT_EQ_INT(CURLE_OK, curl_global_init(CURL_GLOBAL_DEFAULT));
  if (only == NULL || strcmp(only, "cancel") == 0)
    SAM_T_RUN(test_cancel_while_resolving);
  if (only == NULL || strcmp(only, "timeout") == 0)
    SAM_T_RUN(test_timeout_while_resolving);
  if (only == NULL || strcmp(only, "close") == 0)
    SAM_T_RUN(test_close_while_resolving);
  curl_global_cleanup();
  return 0;
}
