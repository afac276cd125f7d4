/*
 * bench_dl_stacks.c: where the host's loop thread is when it stalls
 * (bench-download --stall-stacks MS). A watchdog thread watches the loop's
 * heartbeat (the stall monitor's 1 ms tick); when it is older than MS it
 * interrupts the loop thread with SIGUSR2, whose handler only copies the
 * thread's return addresses into a preallocated slot. At the end the
 * samples are grouped by their innermost frames and printed, most common
 * first: a stall spent in free() waiting for another thread's malloc
 * arena reads differently from one spent in epoll_wait (the loop thread
 * not scheduled) or in the plugin's own code.
 *
 * With cpu set (--cpu-stacks MS) the watchdog compares the loop thread's
 * CPU clock instead: it samples only turns in which the loop itself has
 * run for MS since the tick, i.e. the code that holds the loop, with
 * more frames per group to show which callback it was.
 *
 * Diagnostic only: glibc's backtrace() is warmed up before the handler
 * may run (its first call loads libgcc), after that it only walks the
 * stack. Frames of static functions print as module(+offset): resolve
 * them with `addr2line -f -e MODULE OFFSET`.
 */
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "bench_dl.h"

#define MAX_SAMPLES 4096
#define MAX_FRAMES 24
/* The handler's frame and the signal trampoline come first. */
#define SKIP_FRAMES 2
/* Frames that make a group: enough to tell the callers apart. */
#define KEY_FRAMES 6
#define KEY_FRAMES_CPU 12

typedef struct sample {
  int n;
  void *frames[MAX_FRAMES];
} sample;

static sample samples[MAX_SAMPLES];
static atomic_int n_samples;
static atomic_uint_fast64_t beat_ns;
static atomic_uint_fast64_t beat_cpu_ns; /* the loop's CPU clock at the beat */
static atomic_int stop;
static uint64_t limit_ns;
static int cpu_mode;
static clockid_t loop_clock;
static pthread_t loop_thread;
static pthread_t dog;
static int running;

static void on_sigusr2(int sig) {
  int i = atomic_fetch_add(&n_samples, 1);

  (void)sig;
  if (i < MAX_SAMPLES)
    samples[i].n = backtrace(samples[i].frames, MAX_FRAMES);
}

static uint64_t clock_ns(clockid_t c) {
  struct timespec ts;

  if (clock_gettime(c, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watch(void *arg) {
  uint64_t signalled = 0;

  (void)arg;
  while (!atomic_load(&stop)) {
    struct timespec ts = {0, 250000};
    uint64_t b = atomic_load(&beat_ns);
    uint64_t used;

    nanosleep(&ts, NULL);
    if (b == 0 || b == signalled)
      continue; /* one sample per stall: the heartbeat it is stuck on */
    used = cpu_mode ? clock_ns(loop_clock) - atomic_load(&beat_cpu_ns)
                    : uv_hrtime() - b;
    if (used > limit_ns && b == atomic_load(&beat_ns)) {
      signalled = b;
      pthread_kill(loop_thread, SIGUSR2);
    }
  }
  return NULL;
}

int bdl_stacks_start(uint32_t ms, int cpu) {
  struct sigaction sa;
  void *warm[4];

  if (ms == 0 || running)
    return 0;
  cpu_mode = cpu;
  if (pthread_getcpuclockid(pthread_self(), &loop_clock) != 0)
    return -1;
  (void)backtrace(warm, 4);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_sigusr2;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR2, &sa, NULL) != 0)
    return -1;
  limit_ns = (uint64_t)ms * 1000000u;
  loop_thread = pthread_self();
  atomic_store(&n_samples, 0);
  atomic_store(&beat_cpu_ns, clock_ns(CLOCK_THREAD_CPUTIME_ID));
  atomic_store(&beat_ns, uv_hrtime());
  atomic_store(&stop, 0);
  if (pthread_create(&dog, NULL, watch, NULL) != 0)
    return -1;
  running = 1;
  return 0;
}

void bdl_stacks_beat(void) {
  if (!running)
    return;
  if (cpu_mode)
    atomic_store(&beat_cpu_ns, clock_ns(CLOCK_THREAD_CPUTIME_ID));
  atomic_store(&beat_ns, uv_hrtime());
}

typedef struct group {
  char *key;
  int count;
} group;

static int by_count(const void *a, const void *b) {
  const group *x = a, *y = b;

  return y->count - x->count;
}

/* The sample's innermost frames as one line, absolute addresses dropped
 * (module+offset stays, so that equal places compare equal). */
static char *key_of(const sample *s) {
  int n = s->n - SKIP_FRAMES, i;
  char **names;
  char *key;
  size_t len = 0;

  if (n <= 0)
    return strdup("(no frames)");
  if (n > (cpu_mode ? KEY_FRAMES_CPU : KEY_FRAMES))
    n = cpu_mode ? KEY_FRAMES_CPU : KEY_FRAMES;
  names = backtrace_symbols(s->frames + SKIP_FRAMES, n);
  key = calloc(1, (size_t)n * 160 + 1);
  if (names == NULL || key == NULL) {
    free(names);
    free(key);
    return NULL;
  }
  for (i = 0; i < n; i++) {
    const char *nm = names[i];
    const char *paren = strchr(nm, '(');
    const char *q;
    const char *bracket;
    size_t k;

    for (q = names[i]; *q != '\0' && (paren == NULL || q < paren); q++)
      if (*q == '/')
        nm = q + 1; /* the module's file name, not its directory */
    bracket = strchr(nm, '[');
    k = bracket != NULL ? (size_t)(bracket - nm) : strlen(nm);
    if (k > 150)
      k = 150;
    len +=
        (size_t)snprintf(key + len, 160, "%s%.*s", i ? " < " : "", (int)k, nm);
  }
  free(names);
  return key;
}

void bdl_stacks_stop_and_report(FILE *out, int top) {
  int n, i, j, n_groups = 0;
  group *g;

  if (!running)
    return;
  atomic_store(&stop, 1);
  pthread_join(dog, NULL);
  running = 0;
  signal(SIGUSR2, SIG_DFL);
  n = atomic_load(&n_samples);
  if (n > MAX_SAMPLES)
    n = MAX_SAMPLES;
  fprintf(out,
          "  loop %s over %llu ms sampled: %d (innermost frame first; "
          "addr2line -f -e MODULE OFFSET names a +offset)\n",
          cpu_mode ? "turns that ran (loop CPU)" : "stalls",
          (unsigned long long)(limit_ns / 1000000u), n);
  g = calloc((size_t)n + 1, sizeof(*g));
  if (g == NULL)
    return;
  for (i = 0; i < n; i++) {
    char *k = key_of(&samples[i]);

    if (k == NULL)
      continue;
    for (j = 0; j < n_groups && strcmp(g[j].key, k) != 0; j++)
      ;
    if (j < n_groups) {
      g[j].count++;
      free(k);
    } else {
      g[n_groups].key = k;
      g[n_groups++].count = 1;
    }
  }
  qsort(g, (size_t)n_groups, sizeof(*g), by_count);
  for (i = 0; i < n_groups && i < top; i++)
    fprintf(out, "    %4d x %s\n", g[i].count, g[i].key);
  for (i = 0; i < n_groups; i++)
    free(g[i].key);
  free(g);
}
