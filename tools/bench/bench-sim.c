/*
 * bench-sim.c: docusign-sim users-list pages per second on loopback with
 * keep-alive clients (curl multi, several concurrent transfers), printed
 * next to a baseline measured in the same run: the same client against a
 * trivial static h2o handler (forked child, libuv) returning a body of the
 * same size. No thresholds.
 *
 * usage: bench-sim [--seconds S] [--conns C] [--users N] [--sim PATH]
 */
#include "sim/sim_child.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <h2o.h>

#ifndef SIM_EXE
#define SIM_EXE "docusign-sim"
#endif

typedef struct run {
  long done;
  long failed;
  double bytes;
  double secs;
} run;

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t count_bytes(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  *(double *)ud += (double)(size * n);
  return size * n;
}

/* Keeps `conns` transfers in flight for `secs` seconds; `url_of(i)` gives
 * the i-th URL. Reuses connections (keep-alive). */
static run drive(int conns,
                 double secs,
                 const char *auth,
                 void (*url_of)(long i, char *out, size_t n, void *ud),
                 void *ud) {
  CURLM *m = curl_multi_init();
  CURL **e = calloc((size_t)conns, sizeof(*e));
  struct curl_slist *h = auth ? curl_slist_append(NULL, auth) : NULL;
  run r = {0, 0, 0, 0};
  long issued = 0;
  double t0 = now_s(), end = t0 + secs;
  int running = 0, i;
  char url[512];

  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
  for (i = 0; i < conns; i++) {
    e[i] = curl_easy_init();
    curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(e[i], CURLOPT_WRITEDATA, &r.bytes);
    curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e[i], CURLOPT_TCP_NODELAY, 1L);
    url_of(issued++, url, sizeof(url), ud);
    curl_easy_setopt(e[i], CURLOPT_URL, url);
    curl_multi_add_handle(m, e[i]);
  }
  for (;;) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      CURL *done = msg->easy_handle;
      CURLcode rc = msg->data.result;
      long st = 0;
      curl_easy_getinfo(done, CURLINFO_RESPONSE_CODE, &st);
      if (rc == CURLE_OK && st == 200)
        r.done++;
      else
        r.failed++;
      curl_multi_remove_handle(m, done);
      if (now_s() < end) {
        url_of(issued++, url, sizeof(url), ud);
        curl_easy_setopt(done, CURLOPT_URL, url);
        curl_multi_add_handle(m, done); /* same handle: same connection */
        running++;
      }
    }
    if (running == 0 && now_s() >= end)
      break;
    curl_multi_poll(m, NULL, 0, 50, NULL);
  }
  r.secs = now_s() - t0;
  for (i = 0; i < conns; i++)
    curl_easy_cleanup(e[i]);
  free(e);
  curl_slist_free_all(h);
  curl_multi_cleanup(m);
  return r;
}

/* ---- the simulator's pages ---- */

typedef struct sim_urls {
  const char *rest;
  long users;
} sim_urls;

static void sim_url(long i, char *out, size_t n, void *ud) {
  sim_urls *u = ud;
  long pages = u->users / 100 > 0 ? u->users / 100 : 1;

  snprintf(out, n,
           "%s/users?count=100&start_position=%ld&additional_info=true"
           "&include_license=true",
           u->rest, (i % pages) * 100);
}

/* ---- the baseline: static h2o, same body size, in a forked child ---- */

static h2o_iovec_t static_body;

static int static_handler(h2o_handler_t *self, h2o_req_t *req) {
  (void)self;
  req->res.status = 200;
  req->res.reason = "OK";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                 H2O_STRLIT("application/json; charset=utf-8"));
  req->res.content_length = static_body.len;
  h2o_send_inline(req, static_body.base, static_body.len);
  return 0;
}

static h2o_accept_ctx_t accept_ctx;

static void on_accept(uv_stream_t *listener, int status) {
  uv_tcp_t *conn;

  if (status != 0)
    return;
  conn = malloc(sizeof(*conn));
  if (conn == NULL || uv_tcp_init(listener->loop, conn) != 0) {
    free(conn);
    return;
  }
  if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
    uv_close((uv_handle_t *)conn, (uv_close_cb)free);
    return;
  }
  h2o_accept(&accept_ctx,
             h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free));
}

/* The child serves forever (killed by the parent); the port goes up `fd`. */
static void baseline_child(int fd, size_t body_len) {
  static h2o_globalconf_t config;
  static h2o_context_t ctx;
  uv_loop_t loop;
  uv_tcp_t listener;
  struct sockaddr_in sa;
  struct sockaddr_storage ss;
  int len = sizeof(ss), port;
  h2o_pathconf_t *pc;
  h2o_handler_t *h;
  char *body = malloc(body_len);

  memset(body, 'x', body_len);
  static_body = h2o_iovec_init(body, body_len);
  h2o_config_init(&config);
  pc = h2o_config_register_path(
      h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")),
                               65535),
      "/", 0);
  h = h2o_create_handler(pc, sizeof(*h));
  h->on_req = static_handler;
  uv_loop_init(&loop);
  h2o_context_init(&ctx, &loop, &config);
  accept_ctx.ctx = &ctx;
  accept_ctx.hosts = config.hosts;
  uv_tcp_init(&loop, &listener);
  uv_ip4_addr("127.0.0.1", 0, &sa);
  if (uv_tcp_bind(&listener, (struct sockaddr *)&sa, 0) != 0 ||
      uv_listen((uv_stream_t *)&listener, 511, on_accept) != 0 ||
      uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &len) != 0)
    _exit(1);
  port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (write(fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
    _exit(1);
  close(fd);
  uv_run(&loop, UV_RUN_DEFAULT);
  _exit(0);
}

typedef struct base_url {
  int port;
} base_url;

static void static_url(long i, char *out, size_t n, void *ud) {
  base_url *b = ud;

  snprintf(out, n, "http://127.0.0.1:%d/users?start_position=%ld", b->port,
           i % 100);
}

/* CPU seconds (user + system) a process has used so far, from /proc. */
static double cpu_secs(pid_t pid) {
  char path[64], buf[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (f == NULL)
    return 0;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')'); /* the command name may contain spaces */
  if (p == NULL ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
             &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void report(const char *what, run r) {
  printf("%-48s %9.0f req/s  %7.1f MB/s  (%ld ok, %ld failed, %.2f s)\n", what,
         (double)r.done / r.secs, r.bytes / r.secs / 1e6, r.done, r.failed,
         r.secs);
}

int main(int argc, char **argv) {
  double secs = 3.0;
  int conns = 8, i, fds[2];
  long users = 10000;
  const char *exe = SIM_EXE;
  char nusers[32], at[256], rt[256], auth[320], url[512];
  const char *args[8];
  sim_child s;
  sim_urls su;
  base_url bu;
  sim_resp page;
  run rs, rb;
  pid_t child;
  double cpu0, cpu1;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--seconds") == 0)
      secs = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--conns") == 0)
      conns = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--users") == 0)
      users = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--sim") == 0)
      exe = argv[i + 1];
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  snprintf(nusers, sizeof(nusers), "%ld", users);
  args[0] = "--users";
  args[1] = nusers;
  args[2] = "--no-limits";
  args[3] = "--auto-consent";
  args[4] = "--redirect-uri";
  args[5] = "http://127.0.0.1:9/cb";
  args[6] = NULL;
  if (sim_child_start(&s, exe, args) != 0 ||
      sim_child_login(s.http, "sim-integration-key", "sim-secret",
                      "http://127.0.0.1:9/cb", NULL, at, sizeof(at), rt,
                      sizeof(rt)) != 0) {
    fprintf(stderr, "bench-sim: cannot start or log in to [%s]\n", exe);
    return 1;
  }
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", at);
  /* one page to size the baseline's body */
  snprintf(url, sizeof(url),
           "%s/users?count=100&start_position=0&additional_info=true"
           "&include_license=true",
           s.rest);
  sim_http("GET", url, auth + strlen("Authorization: "), NULL, NULL, NULL,
           &page);
  su.rest = s.rest;
  su.users = users;
  cpu0 = cpu_secs(s.pid);
  rs = drive(conns, secs, auth, sim_url, &su);
  cpu1 = cpu_secs(s.pid);
  (void)sim_child_stop(&s);

  if (pipe(fds) != 0)
    return 1;
  child = fork();
  if (child == 0) {
    close(fds[0]);
    baseline_child(fds[1], page.len);
  }
  close(fds[1]);
  if (read(fds[0], &bu.port, sizeof(bu.port)) != (ssize_t)sizeof(bu.port))
    return 1;
  close(fds[0]);
  rb = drive(conns, secs, NULL, static_url, &bu);
  kill(child, SIGTERM);
  waitpid(child, NULL, 0);

  printf("bench-sim: %ld users, %d keep-alive connections, page of 100 "
         "users = %zu bytes\n",
         users, conns, page.len);
  report("docusign-sim GET users (100, additional_info)", rs);
  report("baseline: static h2o handler, same body size", rb);
  printf("ratio simulator/baseline: %.2f\n",
         rb.done > 0 ? ((double)rs.done / rs.secs) / ((double)rb.done / rb.secs)
                     : 0.0);
  if (rs.done > 0 && cpu1 > cpu0)
    printf("simulator CPU: %.1f us per page, i.e. %.0f pages/s per busy "
           "core (the machine's load shares the cores with this run)\n",
           (cpu1 - cpu0) * 1e6 / (double)rs.done,
           (double)rs.done / (cpu1 - cpu0));
  sim_resp_free(&page);
  curl_global_cleanup();
  return rs.failed == 0 && rb.failed == 0 ? 0 : 1;
}
