/*
 * bench_dl_util.c: measuring helpers of bench-download: clocks, CPU and
 * memory read-outs from /proc, the simulator's stats, the floor the limits
 * allow, and the Node.js SDK baseline run as a child process.
 */
#define _DEFAULT_SOURCE /* wait4: the baseline's CPU and peak RSS */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench_dl.h"

/* ---- clocks, CPU, memory ---- */

double bdl_now(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bdl_epoch(void) {
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

double bdl_cpu_self(void) {
  struct rusage ru;

  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

double bdl_cpu_of(pid_t pid) {
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

long bdl_vm_kb(const char *field) {
  char line[256];
  size_t fl = strlen(field);
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");

  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
      kb = strtol(line + fl + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

void bdl_machine(char *out, size_t n) {
  char load[128] = "?";
  FILE *f = fopen("/proc/loadavg", "r");

  if (f != NULL) {
    if (fgets(load, sizeof(load), f) == NULL)
      snprintf(load, sizeof(load), "?");
    fclose(f);
  }
  load[strcspn(load, "\n")] = '\0';
  snprintf(out, n, "nproc %ld, loadavg %s", sysconf(_SC_NPROCESSORS_ONLN),
           load);
}

/* ---- the simulator ---- */

static long jint(json_object *o, const char *k) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v))
    return 0;
  return (long)json_object_get_int64(v);
}

int bdl_sim_stats_get(const sim_child *s, bdl_sim_stats *out) {
  char url[256];
  sim_resp r;
  json_object *o, *eps = NULL;
  size_t i, used = 0;

  memset(out, 0, sizeof(*out));
  snprintf(url, sizeof(url), "%s/_sim/stats", s->http);
  if (sim_http("GET", url, NULL, NULL, NULL, NULL, &r) != 0 ||
      r.status != 200) {
    sim_resp_free(&r);
    return -1;
  }
  o = sim_resp_json(&r);
  sim_resp_free(&r);
  if (o == NULL)
    return -1;
  out->users_list = jint(o, "users_list_calls");
  out->peak_conc = jint(o, "peak_concurrent");
  if (json_object_object_get_ex(o, "endpoints", &eps)) {
    for (i = 0; i < json_object_array_length(eps); i++) {
      json_object *e = json_object_array_get_idx(eps, i);
      long st = jint(e, "status"), c = jint(e, "count");
      const char *name = sim_jstr(e, "endpoint");
      int w;

      /* total_requests would count this control call too: add up the
       * endpoints, which leave control calls out. */
      out->total += c;
      if (name != NULL && strstr(name, "/oauth/") != NULL)
        out->oauth += c;
      else
        out->rest += c;
      if (st == 429)
        out->s429 += c;
      else if (st == 400)
        out->s400 += c;
      else if (st >= 500)
        out->s5xx += c;
      if (used < sizeof(out->by_endpoint)) {
        w = snprintf(out->by_endpoint + used, sizeof(out->by_endpoint) - used,
                     "%s%s %ld x%ld", used > 0 ? ", " : "",
                     name != NULL ? name : "?", st, c);
        used += w > 0 ? (size_t)w : 0;
      }
    }
  }
  json_object_put(o);
  return 0;
}

int bdl_sim_fresh(const sim_child *s) {
  if (sim_control(s, "limits", "{\"reset\":true}") != 200)
    return -1;
  return sim_control(s, "stats/reset", "{}") == 200 ? 0 : -1;
}

/* ---- the floor ---- */

double bdl_floor_s(const bdl_floor_in *in) {
  long conc = in->conc > 0 && in->conc < in->calls ? in->conc : in->calls;
  long usable = (long)floor((double)in->hourly * (1.0 - in->reserve));
  double *ends, t = 0, last = 0;
  long i, bw = -1, bcount = 0, hw = -1, hcount = 0;

  if (in->calls <= 0)
    return 0;
  if (conc < 1)
    conc = 1;
  if (usable < 1)
    usable = 1;
  ends = calloc((size_t)conc, sizeof(*ends));
  if (ends == NULL)
    return -1;
  for (i = 0; i < in->calls; i++) {
    /* Every call after the first needs the first page's totalSetSize,
     * and a free slot: the end of the call `conc` places earlier. */
    if (i == 1)
      t = in->lat_s;
    if (i >= conc && ends[i % conc] > t)
      t = ends[i % conc];
    for (;;) {
      double abs_t = in->start_epoch + t;
      long b = (long)floor(abs_t / in->burst_win_s);
      long hr = (long)floor(abs_t / in->hour_s);

      if (b != bw) {
        bw = b;
        bcount = 0;
      }
      if (hr != hw) {
        hw = hr;
        hcount = 0;
      }
      if (bcount >= in->burst) {
        t = (double)(b + 1) * in->burst_win_s - in->start_epoch;
        continue;
      }
      if (hcount >= usable) {
        t = (double)(hr + 1) * in->hour_s - in->start_epoch;
        continue;
      }
      break;
    }
    bcount++;
    hcount++;
    ends[i % conc] = t + in->lat_s;
    if (ends[i % conc] > last)
      last = ends[i % conc];
  }
  free(ends);
  return last;
}

/* ---- the Node.js SDK baseline ---- */

static double jdbl(json_object *o, const char *k) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v))
    return 0;
  return json_object_get_double(v);
}

int bdl_baseline_run(const bdl_base_opts *o, bdl_base *out) {
  int fds[2], st = 0;
  pid_t pid;
  char buf[4096], limit[32];
  size_t len = 0;
  struct rusage ru;
  json_object *j;
  const char *line;

  memset(out, 0, sizeof(*out));
  if (access(o->script, R_OK) != 0) {
    snprintf(out->why, sizeof(out->why), "no script [%s]", o->script);
    return 0;
  }
  snprintf(limit, sizeof(limit), "%ld", o->pages_limit);
  if (pipe(fds) != 0)
    return -1;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM); /* not past the bench */
    setenv("BENCH_TOKEN", o->token, 1);
    if (o->ca != NULL)
      setenv("NODE_EXTRA_CA_CERTS", o->ca, 1);
    execlp(o->node, o->node, o->script, "--base", o->rest_base, "--account",
           o->account_id, "--pages-limit", limit, (char *)NULL);
    printf("{\"skip\":\"cannot run [%s]: %s\"}\n", o->node, strerror(errno));
    fflush(stdout);
    _exit(77);
  }
  close(fds[1]);
  for (;;) {
    ssize_t r = read(fds[0], buf + len, sizeof(buf) - 1 - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
    if (len == sizeof(buf) - 1)
      len = 0; /* only the last line matters */
  }
  buf[len] = '\0';
  close(fds[0]);
  memset(&ru, 0, sizeof(ru));
  while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
    ;
  out->cpu_s = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
  out->rss_kb = ru.ru_maxrss;
  /* The figures are the script's last line. */
  while (len > 0 && buf[len - 1] == '\n')
    buf[--len] = '\0';
  line = strrchr(buf, '\n');
  line = line != NULL ? line + 1 : buf;
  j = json_tokener_parse(line);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
    snprintf(out->why, sizeof(out->why), "%.200s",
             sim_jstr(j, "skip") != NULL ? sim_jstr(j, "skip") : line);
    json_object_put(j);
    return 0;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || j == NULL) {
    snprintf(out->why, sizeof(out->why), "baseline failed [exit=%d] [%.200s]",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1, line);
    json_object_put(j);
    return -1;
  }
  out->ran = 1;
  snprintf(out->sdk, sizeof(out->sdk), "%s",
           sim_jstr(j, "sdk") != NULL ? sim_jstr(j, "sdk") : "?");
  out->pages = jint(j, "pages");
  out->users = jint(j, "users");
  out->total = jint(j, "total_set_size");
  {
    json_object *c = NULL;
    out->complete = json_object_object_get_ex(j, "complete", &c) &&
                    json_object_get_boolean(c);
  }
  out->secs = jdbl(j, "ms") / 1000.0;
  json_object_put(j);
  return 0;
}
