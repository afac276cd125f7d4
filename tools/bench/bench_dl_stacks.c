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
 * In stall mode each sample also lists the threads of the whole machine
 * that were runnable or running at that moment (state R in
 * /proc/PID/task/TID/stat), by command name and nice value: a stall in
 * epoll_wait is the loop waiting for a CPU, and this says who had them.
 *
 * Diagnostic only: glibc's backtrace() is warmed up before the handler
 * may run (its first call loads libgcc), after that it only walks the
 * stack. Frames of static functions print as module(+offset): resolve
 * them with `addr2line -f -e MODULE OFFSET`.
 */
#define _DEFAULT_SOURCE /* syscall(SYS_gettid): the watchdog skips itself */
#include <dirent.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

/* Who was runnable at the stall samples: "comm (nice N)" and how often. */
#define MAX_RUNNERS 64
typedef struct runner {
  char name[96];
  int count;
} runner;
static runner runners[MAX_RUNNERS];
static int n_runners;
static pid_t dog_tid;
static pid_t loop_tid;
static int dog_fifo; /* the watchdog runs SCHED_FIFO */

static void runner_add(const char *name) {
  int i;

  for (i = 0; i < n_runners && strcmp(runners[i].name, name) != 0; i++)
    ;
  if (i == n_runners) {
    if (n_runners == MAX_RUNNERS)
      return;
    snprintf(runners[n_runners++].name, sizeof(runners[0].name), "%s", name);
  }
  runners[i].count++;
}

/* Every thread of the machine in state R now, but the watchdog itself. */
static void snapshot_runnable(void) {
  DIR *procs = opendir("/proc");
  struct dirent *p;

  if (procs == NULL)
    return;
  while ((p = readdir(procs)) != NULL) {
    char path[600];
    DIR *tasks;
    struct dirent *t;

    if (p->d_name[0] < '0' || p->d_name[0] > '9')
      continue;
    snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
    if ((tasks = opendir(path)) == NULL)
      continue;
    while ((t = readdir(tasks)) != NULL) {
      char buf[512], name[96], comm[32];
      const char *close_paren;
      FILE *f;
      size_t n;
      char state;
      long nice = 0;
      int field;
      char *q;

      if (t->d_name[0] < '0' || t->d_name[0] > '9' ||
          atoi(t->d_name) == dog_tid)
        continue;
      snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", p->d_name,
               t->d_name);
      if ((f = fopen(path, "r")) == NULL)
        continue;
      n = fread(buf, 1, sizeof(buf) - 1, f);
      fclose(f);
      buf[n] = '\0';
      /* pid (comm) state ... the 19th field is nice */
      close_paren = strrchr(buf, ')');
      q = strchr(buf, '(');
      if (close_paren == NULL || q == NULL || close_paren[1] == '\0')
        continue;
      snprintf(comm, sizeof(comm), "%.*s", (int)(close_paren - q - 1), q + 1);
      state = close_paren[2];
      if (state != 'R')
        continue;
      q = (char *)close_paren + 2;
      for (field = 3; field < 19 && q != NULL; field++)
        q = strchr(q + 1, ' ');
      if (q != NULL)
        nice = strtol(q + 1, NULL, 10);
      snprintf(name, sizeof(name), "%s%s (nice %ld)", comm,
               atoi(t->d_name) == loop_tid   ? " [the loop]"
               : atoi(p->d_name) == getpid() ? " [this process]"
                                             : "",
               nice);
      runner_add(name);
    }
    closedir(tasks);
  }
  closedir(procs);
}

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
  dog_tid = (pid_t)syscall(SYS_gettid);
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
      if (!cpu_mode)
        snapshot_runnable();
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
  loop_tid = (pid_t)syscall(SYS_gettid);
  atomic_store(&n_samples, 0);
  n_runners = 0;
  atomic_store(&beat_cpu_ns, clock_ns(CLOCK_THREAD_CPUTIME_ID));
  atomic_store(&beat_ns, uv_hrtime());
  atomic_store(&stop, 0);
  if (pthread_create(&dog, NULL, watch, NULL) != 0)
    return -1;
  /* Above every thread of the machine where allowed (root): otherwise the
   * watchdog waits for a CPU with the loop, and looks only after the
   * threads that held the CPUs are gone. */
  {
    struct sched_param sp;

    memset(&sp, 0, sizeof(sp));
    sp.sched_priority = 1;
    dog_fifo = pthread_setschedparam(dog, SCHED_FIFO, &sp) == 0;
  }
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

static int by_runner_count(const void *a, const void *b) {
  const runner *x = a, *y = b;

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
  if (cpu_mode || n == 0)
    return;
  qsort(runners, (size_t)n_runners, sizeof(runners[0]), by_runner_count);
  fprintf(out,
          "  threads in state R at those samples, by how many samples "
          "(the watchdog %s):\n",
          dog_fifo ? "ran SCHED_FIFO"
                   : "could not run SCHED_FIFO, so it saw them late");
  for (i = 0; i < n_runners && i < top; i++)
    fprintf(out, "    %4d x %s\n", runners[i].count, runners[i].name);
  if (n_runners == 0)
    fprintf(out, "    none\n");
}
