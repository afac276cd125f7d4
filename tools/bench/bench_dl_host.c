/*
 * bench_dl_host.c: the host side of bench-download, in the bench process
 * itself so that its CPU and memory are this process's: the reference
 * host's runtime on the SQLite backend (as `samhost serve` composes it,
 * minus HTTP and the scheduler), the real plugin loaded from its manifest,
 * and a 1 ms timer that measures the loop's stalls while a job runs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_loader.h"
#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "sam_backend_memory.h"
#include "sam_backend_sqlite.h"
#include "sam_core.h"
#include "sam_hostsvc.h"
#include "sam_seal.h"

#include "bench_dl.h"

#define CLIENT_ID "sim-integration-key"
#define CLIENT_SECRET "sim-secret"
#define PROFILE "p1"
#define LOG_TAIL 4096
/* Stall histogram: 50 us bins up to 200 ms, the rest in the last bin. */
#define BIN_US 50
#define N_BINS 4000

struct bdl_host {
  uv_loop_t loop;
  int loop_open;
  sam__keyring *kr;
  sam_runtime *rt;
  sam_hostsvc *svc;
  char db[400];
  char ca[300];
  char redirect[256];
  char profile[1024];
  int verbose;
  uint32_t stall_stacks_ms;
  int stacks_cpu;
  char tail[LOG_TAIL]; /* the last log lines, oldest dropped */
  size_t tail_len;
};

/* ---- log ---- */

static void on_log(void *ud,
                   int32_t level,
                   const char *plugin,
                   const char *job_id,
                   const char *line) {
  bdl_host *h = ud;
  char buf[600];
  size_t n;

  (void)job_id;
  n = (size_t)snprintf(buf, sizeof(buf), "[%d] [%s] %.500s\n", (int)level,
                       plugin != NULL ? plugin : "host", line);
  if (n >= sizeof(buf))
    n = sizeof(buf) - 1;
  if (h->verbose)
    fputs(buf, stderr);
  if (h->tail_len + n + 1 > LOG_TAIL) {
    size_t drop = h->tail_len + n + 1 - LOG_TAIL;
    if (drop > h->tail_len)
      drop = h->tail_len;
    memmove(h->tail, h->tail + drop, h->tail_len - drop);
    h->tail_len -= drop;
  }
  memcpy(h->tail + h->tail_len, buf, n);
  h->tail_len += n;
  h->tail[h->tail_len] = '\0';
}

const char *bdl_host_log_tail(bdl_host *h) {
  return h != NULL ? h->tail : "";
}

/* ---- open ---- */

static void on_status(int status, void *ud) {
  int *st = ud;

  *st = status;
}

int bdl_host_open(const bdl_host_opts *o, bdl_host **out, char *err, size_t n) {
  bdl_host *h = calloc(1, sizeof(*h));
  sam__runtime_config cfg;
  sam_hostsvc_config hc;
  sam_load_result res;
  sam__backend be;
  sam__sqlite_opts sq;
  char config[600];
  int st = 1;

  *out = NULL;
  if (h == NULL) {
    snprintf(err, n, "out of memory");
    return -1;
  }
  *out = h;
  h->verbose = o->verbose;
  h->stall_stacks_ms = o->stall_stacks_ms;
  h->stacks_cpu = o->stacks_cpu;
  snprintf(h->redirect, sizeof(h->redirect), "%s", o->redirect);
  snprintf(h->ca, sizeof(h->ca), "%s", o->ca_file != NULL ? o->ca_file : "");
  snprintf(h->db, sizeof(h->db), "%s/bench-download.db", o->dir);
  snprintf(h->profile, sizeof(h->profile),
           "{\"display_name\":\"DocuSign bench\","
           "\"integration_type\":\"account_level\",\"client_id\":\"%s\","
           "\"account_id\":\"%s\",\"instance_url\":\"%s\","
           "\"download_enabled\":true,\"reclaim_enabled\":false}",
           CLIENT_ID, o->account_id, o->instance);
  if (uv_loop_init(&h->loop) != 0) {
    snprintf(err, n, "uv_loop_init failed");
    return -1;
  }
  h->loop_open = 1;
  if (sam__keyring_new_ephemeral(&h->kr) != 0) {
    snprintf(err, n, "cannot make an ephemeral keyring");
    return -1;
  }
  memset(&sq, 0, sizeof(sq));
  sq.cache_mib = o->cache_mib; /* as samhost serve --sqlite-cache-mib */
  if (o->memory_store) {
    if (sam__backend_memory_new(&h->loop, 0, &be) != 0) {
      snprintf(err, n, "cannot create the memory backend");
      return -1;
    }
  } else if (sam__backend_sqlite_open(&h->loop, h->db, &sq, &be, err, n) != 0)
    return -1;
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = &h->loop;
  cfg.backend = be;
  cfg.keyring = h->kr;
  cfg.log_fn = on_log;
  cfg.log_ud = h;
  cfg.test_mode = 0; /* production: only what the record types ask for */
  if (sam__runtime_new(&cfg, &h->rt) != 0) {
    be.vt->close(be.self, NULL, NULL);
    snprintf(err, n, "cannot create the runtime");
    return -1;
  }
  /* test_mode lets the plugin accept the simulator's loopback URL; it
   * also validates the plugin's own record types on write. */
  if (o->ca_file != NULL)
    snprintf(config, sizeof(config), "{\"ca_file\":\"%s\",\"test_mode\":true}",
             o->ca_file);
  else
    snprintf(config, sizeof(config), "{\"test_mode\":true}");
  memset(&res, 0, sizeof(res));
  if (sam_loader_load(h->rt, o->manifest, config, &res, NULL) != 0) {
    snprintf(err, n, "plugin load failed [%s] [manifest=%s]", res.message,
             o->manifest);
    return -1;
  }
  memset(&hc, 0, sizeof(hc));
  hc.rt = h->rt;
  hc.public_url = "https://127.0.0.1:1";
  if (sam_hostsvc_new(&hc, &h->svc, err, n) != 0)
    return -1;
  if (sam_runtime_set_form_secret(h->rt, PROFILE, "client_secret",
                                  CLIENT_SECRET, strlen(CLIENT_SECRET),
                                  on_status, &st) != 0) {
    snprintf(err, n, "cannot set the client secret");
    return -1;
  }
  while (st == 1)
    uv_run(&h->loop, UV_RUN_ONCE);
  if (st != 0) {
    snprintf(err, n, "setting the client secret failed [%s]", sam_err_name(st));
    return -1;
  }
  return 0;
}

/* ---- jobs ---- */

typedef struct waiter {
  int done;
  int status;
  char message[512];
  char result[2048];
  uint64_t progress_n;
  int verbose;
} waiter;

static void on_done(const sam_job_outcome *o, void *ud) {
  waiter *w = ud;
  size_t len = o->result_json != NULL ? o->result_len : 0;

  w->done = 1;
  w->status = o->status;
  snprintf(w->message, sizeof(w->message), "%s",
           o->message != NULL ? o->message : "");
  if (len >= sizeof(w->result))
    len = sizeof(w->result) - 1;
  if (len > 0)
    memcpy(w->result, o->result_json, len);
  w->result[len] = '\0';
}

static void on_progress(const char *job_id,
                        uint64_t done,
                        uint64_t total,
                        const char *msg,
                        void *ud) {
  waiter *w = ud;

  (void)job_id;
  w->progress_n++;
  if (w->verbose)
    fprintf(stderr, "progress %llu/%llu %s\n", (unsigned long long)done,
            (unsigned long long)total, msg != NULL ? msg : "");
}

static int start_job(bdl_host *h,
                     int kind,
                     const char *id,
                     const char *state,
                     const char *code,
                     waiter *w) {
  sam_job_request req;

  memset(w, 0, sizeof(*w));
  w->verbose = h->verbose;
  memset(&req, 0, sizeof(req));
  req.kind = kind;
  req.id = id;
  req.profile_id = PROFILE;
  req.profile_json = h->profile;
  req.profile_len = strlen(h->profile);
  req.redirect_uri = h->redirect;
  req.oauth_state = state;
  req.oauth_code = code;
  /* A large account at the default hourly limit takes hours (issue 6
   * item 9); the bench never wants the host's deadline to end it. */
  req.timeout_ms = kind == SAM_JOB_PROCESS ? 24ull * 3600 * 1000 : 0;
  req.done = on_done;
  req.progress = on_progress;
  req.ud = w;
  return sam_runtime_job_start(h->rt, &req, NULL);
}

static int run_action(bdl_host *h,
                      const char *id,
                      const char *state,
                      const char *code,
                      waiter *w) {
  if (start_job(h, SAM_JOB_ACTION, id, state, code, w) != 0)
    return -1;
  while (!w->done)
    uv_run(&h->loop, UV_RUN_ONCE);
  return w->status == SAM_OK ? 0 : -1;
}

/* The value of query parameter k of URL loc into out; 1 or 0. */
static int url_param(const char *loc, const char *k, char *out, size_t n) {
  size_t kl = strlen(k);
  const char *p;

  for (p = strchr(loc, '?'); p != NULL; p = strchr(p + 1, '&')) {
    if (strncmp(p + 1, k, kl) == 0 && p[1 + kl] == '=') {
      size_t len = strcspn(p + 2 + kl, "&#");
      if (len >= n)
        return 0;
      memcpy(out, p + 2 + kl, len);
      out[len] = '\0';
      return 1;
    }
  }
  return 0;
}

int bdl_host_connect(bdl_host *h, char *err, size_t n) {
  waiter w;
  json_object *o = NULL;
  json_object *v = NULL;
  sim_resp r;
  char loc[2048], code[256], state[] = "bench-state-1";
  int rc = -1;

  memset(&r, 0, sizeof(r));
  if (run_action(h, "get_oauth_token", state, NULL, &w) != 0) {
    snprintf(err, n, "get_oauth_token failed [%s] [%s]", sam_err_name(w.status),
             w.message);
    goto done;
  }
  o = json_tokener_parse(w.result);
  if (o == NULL || !json_object_object_get_ex(o, "redirect_url", &v)) {
    snprintf(err, n, "get_oauth_token gave no redirect_url [%s]", w.result);
    goto done;
  }
  /* Blocking on purpose: no job runs now, and this is the admin's browser.
   * The simulator runs with --auto-consent: the reply is the redirect. */
  sim_http("GET", json_object_get_string(v), NULL, NULL, NULL,
           h->ca[0] != '\0' ? h->ca : NULL, &r);
  if (r.status != 302 || !sim_resp_header(&r, "location", loc, sizeof(loc)) ||
      !url_param(loc, "code", code, sizeof(code))) {
    snprintf(err, n, "the consent gave no code [http=%ld]", r.status);
    goto done;
  }
  if (run_action(h, "oauth_callback", state, code, &w) != 0) {
    snprintf(err, n, "oauth_callback failed [%s] [%s]", sam_err_name(w.status),
             w.message);
    goto done;
  }
  rc = 0;

done:
  sim_resp_free(&r);
  json_object_put(o);
  return rc;
}

typedef struct sget {
  int done;
  int status;
  char *value;
} sget;

static void on_secret(int status, const char *value, size_t len, void *ud) {
  sget *g = ud;

  g->done = 1;
  g->status = status;
  if (status == 0)
    g->value = strndup(value, len);
}

int bdl_host_token(bdl_host *h, char *out, size_t n) {
  sam_host *hh = sam_runtime_host_handle(h->rt);
  json_object *o = NULL;
  json_object *v = NULL;
  sget g;
  int rc = -1;

  memset(&g, 0, sizeof(g));
  if (hh == NULL || sam__host_api()->secret_get(hh, PROFILE, "oauth_tokens",
                                                on_secret, &g, NULL) != 0)
    return -1;
  while (!g.done)
    uv_run(&h->loop, UV_RUN_ONCE);
  if (g.status == 0 && (o = json_tokener_parse(g.value)) != NULL &&
      json_object_object_get_ex(o, "access_token", &v) &&
      (size_t)snprintf(out, n, "%s", json_object_get_string(v)) < n)
    rc = 0;
  json_object_put(o);
  free(g.value);
  return rc;
}

/* ---- the stall monitor ---- */

typedef struct stall_mon {
  uv_timer_t timer;
  uint64_t last_ns;
  uint64_t last_cpu_ns;
  uint64_t ticks;
  uint64_t over_5ms;
  uint64_t over_50ms;
  uint64_t max_gap_ns;
  uint64_t max_cpu_ns;
  uint32_t gap_bins[N_BINS];
  uint32_t cpu_bins[N_BINS];
  int schedstat_fd; /* the loop thread's /proc/thread-self/schedstat */
  uint64_t last_runq_ns;
  uint64_t over_wall_ns, over_span_ns, over_runq_ns, over_cpu_ns, max_runq_ns;
} stall_mon;

/* The calling thread's time spent runnable on a run queue, waiting for a
 * CPU (schedstat's second field), or 0 when unknown. pread on a file kept
 * open: about a microsecond a tick. */
static uint64_t runq_ns(int fd) {
  char buf[96];
  unsigned long long run = 0, wait = 0;
  ssize_t n;

  if (fd < 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
    return 0;
  buf[n] = '\0';
  if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
    return 0;
  return (uint64_t)wait;
}

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bin_add(uint32_t *bins, uint64_t ns) {
  uint64_t b = ns / 1000 / BIN_US;

  bins[b < N_BINS ? b : N_BINS - 1]++;
}

/* The upper edge (ms) of the bin holding the p-th quantile. */
static double bin_quantile(const uint32_t *bins, uint64_t total, double p) {
  uint64_t want = (uint64_t)((double)total * p), seen = 0;
  size_t i;

  for (i = 0; i < N_BINS; i++) {
    seen += bins[i];
    if (seen > want)
      break;
  }
  if (i == N_BINS)
    i = N_BINS - 1;
  return (double)((i + 1) * BIN_US) / 1000.0;
}

/* Every 1 ms: the time since the previous tick beyond the period is how
 * long the loop could not run its timers, i.e. a stall. */
static void on_tick(uv_timer_t *t) {
  stall_mon *m = t->data;
  uint64_t now = uv_hrtime(), cpu = thread_cpu_ns();
  uint64_t runq = runq_ns(m->schedstat_fd);
  uint64_t gap = now - m->last_ns, busy = cpu - m->last_cpu_ns;
  uint64_t waited = runq - m->last_runq_ns, span = gap;

  bdl_stacks_beat();
  gap = gap > 1000000u ? gap - 1000000u : 0;
  m->ticks++;
  m->over_5ms += gap > 5000000u;
  m->over_50ms += gap > 50000000u;
  if (gap > 5000000u) {
    m->over_wall_ns += gap;
    m->over_span_ns += span; /* the basis of busy and waited */
    m->over_runq_ns += waited;
    m->over_cpu_ns += busy;
  }
  if (gap > m->max_gap_ns) {
    m->max_gap_ns = gap;
    m->max_runq_ns = waited;
  }
  if (busy > m->max_cpu_ns)
    m->max_cpu_ns = busy;
  bin_add(m->gap_bins, gap);
  bin_add(m->cpu_bins, busy);
  m->last_ns = now;
  m->last_cpu_ns = cpu;
  m->last_runq_ns = runq;
}

/* ---- the download ---- */

int bdl_host_download(bdl_host *h, int stalls, bdl_run *out) {
  stall_mon *m = NULL;
  waiter w;
  double t0, c0;

  memset(out, 0, sizeof(*out));
  if (stalls) {
    m = calloc(1, sizeof(*m));
    if (m == NULL || uv_timer_init(&h->loop, &m->timer) != 0) {
      free(m);
      return -1;
    }
    m->timer.data = m;
    m->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  }
  out->rss_before_kb = bdl_vm_kb("VmRSS");
  /* SQLite's allocator statistics (on by default): the peak from now. */
  (void)sqlite3_memory_highwater(1);
  out->start_epoch = bdl_epoch();
  t0 = bdl_now();
  c0 = bdl_cpu_self();
  if (m != NULL) {
    m->last_ns = uv_hrtime();
    m->last_cpu_ns = thread_cpu_ns();
    m->last_runq_ns = runq_ns(m->schedstat_fd);
    if (uv_timer_start(&m->timer, on_tick, 1, 1) != 0) {
      uv_close((uv_handle_t *)&m->timer, NULL);
      uv_run(&h->loop, UV_RUN_NOWAIT);
      if (m->schedstat_fd >= 0)
        close(m->schedstat_fd);
      free(m);
      return -1;
    }
  }
  if (start_job(h, SAM_JOB_PROCESS, "download", NULL, NULL, &w) != 0) {
    if (m != NULL) {
      uv_close((uv_handle_t *)&m->timer, NULL);
      uv_run(&h->loop, UV_RUN_NOWAIT);
      if (m->schedstat_fd >= 0)
        close(m->schedstat_fd);
      free(m);
    }
    return -1;
  }
  if (m != NULL && bdl_stacks_start(h->stall_stacks_ms, h->stacks_cpu) != 0)
    fprintf(stderr, "bench-download: cannot sample stall stacks\n");
  while (!w.done)
    uv_run(&h->loop, UV_RUN_ONCE);
  bdl_stacks_stop_and_report(stdout, 12);
  out->wall_s = bdl_now() - t0;
  out->cpu_s = bdl_cpu_self() - c0;
  out->hwm_kb = bdl_vm_kb("VmHWM");
  out->sqlite_peak_kb = (long)(sqlite3_memory_highwater(0) / 1024);
  out->status = w.status;
  out->progress_n = w.progress_n;
  snprintf(out->message, sizeof(out->message), "%s", w.message);
  snprintf(out->result, sizeof(out->result), "%s", w.result);
  if (m != NULL) {
    out->stalls.ticks = m->ticks;
    out->stalls.over_5ms = m->over_5ms;
    out->stalls.over_50ms = m->over_50ms;
    out->stalls.max_ms = (double)m->max_gap_ns / 1e6;
    out->stalls.p99_ms = bin_quantile(m->gap_bins, m->ticks, 0.99);
    out->stalls.max_cpu_ms = (double)m->max_cpu_ns / 1e6;
    out->stalls.p99_cpu_ms = bin_quantile(m->cpu_bins, m->ticks, 0.99);
    out->stalls.over_5ms_wall_ms = (double)m->over_wall_ns / 1e6;
    out->stalls.over_5ms_span_ms = (double)m->over_span_ns / 1e6;
    out->stalls.over_5ms_cpu_ms = (double)m->over_cpu_ns / 1e6;
    out->stalls.over_5ms_runq_ms =
        m->schedstat_fd >= 0 ? (double)m->over_runq_ns / 1e6 : -1;
    out->stalls.max_runq_ms =
        m->schedstat_fd >= 0 ? (double)m->max_runq_ns / 1e6 : -1;
    if (m->schedstat_fd >= 0)
      close(m->schedstat_fd);
    /* One turn runs the closing phase; the memory is ours again after. */
    uv_close((uv_handle_t *)&m->timer, NULL);
    uv_run(&h->loop, UV_RUN_NOWAIT);
    free(m);
  }
  return 0;
}

/* ---- close ---- */

static void on_flag(void *ud) {
  *(int *)ud = 1;
}

int bdl_host_close(bdl_host *h) {
  int rc = 0, done = 0;
  char p[420];

  if (h == NULL)
    return 0;
  if (h->svc != NULL) {
    sam_hostsvc_close(h->svc, on_flag, &done);
    while (!done)
      uv_run(&h->loop, UV_RUN_ONCE);
    sam_hostsvc_free(h->svc);
  }
  if (h->rt != NULL) {
    const char *v;

    done = 0;
    sam_runtime_close(h->rt, on_flag, &done);
    while (!done)
      uv_run(&h->loop, UV_RUN_ONCE);
    v = sam__runtime_violations(h->rt);
    if (v != NULL && v[0] != '\0') {
      fprintf(stderr, "bench-download: contract violations [%s]\n", v);
      rc = -1;
    }
    sam_runtime_free(h->rt);
  }
  if (h->loop_open) {
    uv_run(&h->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&h->loop) != 0) {
      fprintf(stderr, "bench-download: the loop did not close empty\n");
      rc = -1;
    }
  }
  sam__keyring_free(h->kr);
  if (h->db[0] != '\0') {
    unlink(h->db);
    snprintf(p, sizeof(p), "%s-wal", h->db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", h->db);
    unlink(p);
  }
  free(h);
  return rc;
}
