/*
 * bench_dl.h: the parts of bench-download (tools/bench/README.md): the
 * in-process host that runs the plugin's Download subscriptions job
 * (bench_dl_host.c) and the measuring helpers around it (bench_dl_util.c):
 * CPU and memory read-outs, the simulator's stats, the limits' floor and
 * the Node.js SDK baseline.
 */
#ifndef BENCH_DL_H
#define BENCH_DL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim/sim_child.h"

/* ---- bench_dl_host.c: the host side, in the bench process ---- */

typedef struct bdl_host bdl_host;

typedef struct bdl_host_opts {
  const char *manifest;     /* the plugin's built manifest */
  const char *dir;          /* a private directory for the SQLite file */
  const char *ca_file;      /* the simulator's CA, or NULL for plain http */
  const char *instance;     /* the simulator's base URL (the OAuth host) */
  const char *account_id;   /* the simulator's account GUID */
  const char *redirect;     /* registered with the simulator */
  int verbose;              /* copy the runtime's log lines to stderr */
  uint32_t cache_mib;       /* SQLite page cache; 0 = the store's default */
  int memory_store;         /* the host's in-memory backend instead of SQLite */
  uint32_t stall_stacks_ms; /* sample the loop's stack on stalls over it */
  int stacks_cpu; /* ... on turns that ran that long instead (loop CPU) */
} bdl_host_opts;

/* The loop's stalls while the job ran: the gaps between the ticks of a
 * 1 ms repeating uv_timer, less the 1 ms period (wall clock), and the loop
 * thread's CPU time between two ticks (immune to the OS preempting the
 * thread on a busy machine). */
typedef struct bdl_stalls {
  uint64_t ticks;
  uint64_t over_5ms;  /* ticks more than 5 ms late (wall clock) */
  uint64_t over_50ms; /* ticks more than 50 ms late (wall clock) */
  double max_ms;
  double p99_ms;
  double max_cpu_ms;
  double p99_cpu_ms;
  /* The ticks over 5 ms, split by the loop thread's schedstat: the time it
   * was runnable but waiting for a CPU (run queue), and its CPU time; the
   * rest it slept (in epoll_wait or a blocking call). -1 when the kernel
   * has no schedstat. */
  double over_5ms_wall_ms;
  double over_5ms_span_ms; /* their whole tick intervals (stall + 1 ms) */
  double over_5ms_runq_ms;
  double over_5ms_cpu_ms;
  double max_runq_ms; /* of the longest stall */
} bdl_stalls;

/* One download job's figures. */
typedef struct bdl_run {
  int status;          /* the job's status (SAM_OK on success) */
  char message[512];   /* the job's message (redacted) */
  char result[2048];   /* the job's result JSON (truncated to fit) */
  double wall_s;       /* job start to completion */
  double cpu_s;        /* user + system CPU of this process meanwhile */
  double start_epoch;  /* wall clock (s) when the job started */
  long rss_before_kb;  /* VmRSS just before the job */
  long hwm_kb;         /* VmHWM (peak RSS) when the job ended */
  long sqlite_peak_kb; /* SQLite's own allocations at their peak during
                          the job (mostly its page cache) */
  uint64_t progress_n; /* progress callbacks seen */
  bdl_stalls stalls;
} bdl_run;

/*
 * Creates a loop, an ephemeral keyring, the SQLite backend in o->dir, a
 * runtime (production mode: host record types validated as samhost does),
 * loads the plugin, registers the host's record types (sam_hostsvc, no
 * scheduler) and seals the simulator's client secret for profile "p1".
 *
 * Thread:    the caller's; runs its own loop until each step is done.
 * Ownership: o is copied; *out is freed by bdl_host_close.
 * Returns:   0, or -1 with the reason in err.
 */
int bdl_host_open(const bdl_host_opts *o, bdl_host **out, char *err, size_t n);

/*
 * Connects profile "p1" as an admin would: Get OAuth Token, the consent
 * (the simulator auto-consents), and the OAuth callback with the code.
 * Returns 0, or -1 with the reason in err.
 */
int bdl_host_connect(bdl_host *h, char *err, size_t n);

/*
 * Copies the access token the plugin stored for "p1" (its oauth_tokens
 * secret, read through the host) into out. Returns 0 or -1.
 */
int bdl_host_token(bdl_host *h, char *out, size_t n);

/*
 * Runs one Download subscriptions job to completion and measures it; with
 * `stalls` set, a 1 ms timer on the loop records the stalls meanwhile.
 * Returns 0 when the job ran (whatever its status, in out->status), -1
 * when it could not be started.
 */
int bdl_host_download(bdl_host *h, int stalls, bdl_run *out);

/*
 * Where the loop thread is when it stalls (bench_dl_stacks.c). start: on
 * the loop thread, a watchdog samples this thread's stack whenever the
 * heartbeat is older than ms (0: off). beat: from the loop's tick. stop:
 * on the loop thread, prints the most common stacks (at most top groups).
 */
int bdl_stacks_start(uint32_t ms, int cpu);
void bdl_stacks_beat(void);
void bdl_stacks_stop_and_report(FILE *out, int top);

/*
 * Closes the runtime (plugin shutdown), the service and the loop, removes
 * the SQLite files and frees h. NULL-safe.
 * Returns: 0, or -1 when the loop did not close empty or the runtime
 *          recorded contract violations (printed to stderr).
 */
int bdl_host_close(bdl_host *h);

/* The last runtime log lines (for a failed job's report). */
const char *bdl_host_log_tail(bdl_host *h);

/* ---- bench_dl_util.c: measuring helpers ---- */

/* Monotonic seconds. */
double bdl_now(void);
/* Wall-clock seconds since the epoch. */
double bdl_epoch(void);
/* User + system CPU seconds of this process (all its threads). */
double bdl_cpu_self(void);
/* User + system CPU seconds a live process has used (/proc/PID/stat). */
double bdl_cpu_of(pid_t pid);
/* A "VmRSS"/"VmHWM" field of /proc/self/status in kB, or -1. */
long bdl_vm_kb(const char *field);
/* "nproc 2, loadavg 1.95 2.64 2.43" into out. */
void bdl_machine(char *out, size_t n);

/* What the simulator counted (GET /_sim/stats), excluding control calls. */
typedef struct bdl_sim_stats {
  long total;      /* every request, by the endpoint counts */
  long rest;       /* REST calls: what DocuSign's limits count */
  long oauth;      /* /oauth/ calls (token, userinfo) */
  long users_list; /* GET users */
  long s429;       /* replies with status 429 */
  long s400;       /* replies with status 400 */
  long s5xx;
  long peak_conc;        /* the simulator's peak concurrent requests */
  char by_endpoint[512]; /* "GET /v2.1/users 200 x1000, ..." */
} bdl_sim_stats;

/* Reads the stats; 0 or -1. */
int bdl_sim_stats_get(const sim_child *s, bdl_sim_stats *out);
/* POSTs /_sim/stats/reset and /_sim/limits {"reset": true}; 0 or -1. */
int bdl_sim_fresh(const sim_child *s);

/* The floor's inputs (README.md, "The floor"). */
typedef struct bdl_floor_in {
  long calls;         /* requests the run made */
  long burst;         /* calls per burst window */
  double burst_win_s; /* 30 */
  long hourly;        /* calls per hourly window */
  double reserve;     /* share of the hourly budget kept for others (0.10) */
  double hour_s;      /* 3600 */
  double start_epoch; /* when the first call went out (windows are fixed) */
  long conc;          /* requests in flight at most; 0 = unbounded */
  double lat_s;       /* mean latency of one call */
} bdl_floor_in;

/*
 * The shortest wall time in which an ideal client makes `calls` calls: one
 * call first (the first users page gives totalSetSize), then every other
 * call as early as the in-flight bound and the fixed burst and hourly
 * windows (the hourly budget less the reserve) allow, each taking lat_s.
 * Returns seconds.
 */
double bdl_floor_s(const bdl_floor_in *in);

/* The Node.js SDK baseline's figures. */
typedef struct bdl_base {
  int ran;       /* 1 when the script printed its figures */
  char why[256]; /* when not: the reason */
  char sdk[64];  /* "docusign-esign 10.0.0" */
  long pages;    /* pages fetched */
  long users;    /* users read */
  long total;    /* totalSetSize */
  int complete;  /* every page was fetched */
  double secs;   /* paging time, measured inside node */
  double cpu_s;  /* node's user + system CPU, whole process */
  long rss_kb;   /* node's peak RSS */
} bdl_base;

typedef struct bdl_base_opts {
  const char *node;      /* the node executable ("node": PATH) */
  const char *script;    /* download-baseline.mjs */
  const char *rest_base; /* {base}/restapi */
  const char *account_id;
  const char *token; /* the Bearer token (passed in the environment) */
  const char *ca;    /* NODE_EXTRA_CA_CERTS, or NULL */
  long pages_limit;  /* 0 = all pages */
} bdl_base_opts;

/*
 * Runs the baseline script as a child process and waits for it (blocking:
 * call it with no loop running). Returns 0 with out->ran set, or 0 with
 * out->ran 0 and the reason (node or the SDK missing), or -1 when the
 * script failed.
 */
int bdl_baseline_run(const bdl_base_opts *o, bdl_base *out);

#endif /* BENCH_DL_H */
