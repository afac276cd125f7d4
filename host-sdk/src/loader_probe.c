/*
 * loader_probe.c: sam_loader_probe(), the parent side of the crash probe
 * (ABI.md 8.5). The whole load runs in the `sam-plugin-probe` helper
 * (host-sdk/probe/), spawned with posix_spawn rather than fork, because the
 * host is multi-threaded. The child prints one JSON line with the
 * sam_load_result on its stdout; a child killed by a signal is reported as
 * "plugin crashed [signal=SIGSEGV]" at the init step.
 *
 * Statuses beyond the child's own result: a crash is SAM_EINVAL with
 * res->signal set; a child still running after 30 s is killed and gives
 * SAM_ETIMEDOUT; a helper that cannot run, or exits without a result line,
 * gives SAM_EIO. All of these are reported at the init step.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "loader_internal.h"

extern char **environ;

/* The child's whole run (load, init, async shutdown) must end within
 * this; the host's own shutdown deadline is 10 s, so 30 s is generous.
 * $SAM_PROBE_TIMEOUT_MS overrides it (tests of a hanging plugin). */
#define PROBE_TIMEOUT_MS 30000
/* The result line is a few hundred bytes; more is not a result. */
#define PROBE_OUT_MAX 8192

static int64_t now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t probe_timeout_ms(void) {
  const char *env = getenv("SAM_PROBE_TIMEOUT_MS");
  char *end = NULL;
  long long v;

  if (env == NULL || env[0] == '\0')
    return PROBE_TIMEOUT_MS;
  v = strtoll(env, &end, 10);
  return end != NULL && *end == '\0' && v > 0 ? (int64_t)v : PROBE_TIMEOUT_MS;
}

static const char *signal_name(int sig, char *buf, size_t len) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV";
  case SIGABRT:
    return "SIGABRT";
  case SIGBUS:
    return "SIGBUS";
  case SIGILL:
    return "SIGILL";
  case SIGFPE:
    return "SIGFPE";
  case SIGKILL:
    return "SIGKILL";
  case SIGTERM:
    return "SIGTERM";
  case SIGTRAP:
    return "SIGTRAP";
  case SIGSYS:
    return "SIGSYS";
  case SIGPIPE:
    return "SIGPIPE";
  }
  snprintf(buf, len, "%d", sig);
  return buf;
}

/* Spawns the probe with its stdout on a pipe; *rfd is the read end. */
static int
spawn_probe(const char *exe, const char *manifest, pid_t *pid, int *rfd) {
  posix_spawn_file_actions_t fa;
  char *argv[3];
  int fds[2] = {-1, -1};
  int rc;

  if (pipe(fds) != 0)
    return errno;
  /* Neither end may leak into processes other threads spawn meanwhile, nor
   * stay open in the child beyond its stdout. */
  if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
    rc = errno;
    goto fail;
  }
  rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0)
    goto fail;
  rc = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  if (rc == 0) {
    argv[0] = (char *)exe;
    argv[1] = (char *)manifest;
    argv[2] = NULL;
    rc = posix_spawn(pid, exe, &fa, NULL, argv, environ);
  }
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    goto fail;
  close(fds[1]);
  *rfd = fds[0];
  return 0;

fail:
  close(fds[0]);
  close(fds[1]);
  return rc;
}

/* Reads the child's stdout until EOF or the deadline. 0, or ETIMEDOUT. */
static int
read_until_eof(int fd, int64_t deadline, char *buf, size_t cap, size_t *len) {
  char scratch[512];

  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int64_t left = deadline - now_ms();
    ssize_t n;
    int pr;

    if (left <= 0)
      return ETIMEDOUT;
    pr = poll(&p, 1, (int)left);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr < 0)
      return errno;
    if (pr == 0)
      return ETIMEDOUT;
    if (*len + 1 < cap)
      n = read(fd, buf + *len, cap - 1 - *len);
    else
      n = read(fd, scratch, sizeof(scratch)); /* drain, keep nothing */
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      break;
    if (*len + 1 < cap)
      *len += (size_t)n;
  }
  buf[*len] = '\0';
  return 0;
}

/* Waits for the child until the deadline; kills it past that. Returns 0
 * with *status set, or ETIMEDOUT (the child was killed and reaped). */
static int wait_child(pid_t pid, int64_t deadline, int *status) {
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    struct timespec ts = {0, 10 * 1000 * 1000};

    if (r == pid)
      return 0;
    if (r < 0 && errno != EINTR)
      return errno;
    if (now_ms() >= deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
      return ETIMEDOUT;
    }
    nanosleep(&ts, NULL);
  }
}

/* Fills res from the child's JSON line. 0, or -1 when it is not one. */
static int parse_result(const char *line, sam_load_result *res) {
  json_object *root = json_tokener_parse(line);
  json_object *v = NULL;
  int rc = -1;

  if (root == NULL || !json_object_is_type(root, json_type_object))
    goto done;
  if (!json_object_object_get_ex(root, "status", &v) ||
      !json_object_is_type(v, json_type_int))
    goto done;
  res->status = json_object_get_int(v);
  if (json_object_object_get_ex(root, "step", &v) &&
      json_object_is_type(v, json_type_int))
    res->step = json_object_get_int(v);
  if (json_object_object_get_ex(root, "signal", &v) &&
      json_object_is_type(v, json_type_int))
    res->signal = json_object_get_int(v);
  if (json_object_object_get_ex(root, "message", &v) &&
      json_object_is_type(v, json_type_string))
    snprintf(res->message, sizeof(res->message), "%s",
             json_object_get_string(v));
  rc = 0;

done:
  json_object_put(root);
  return rc;
}

int sam_loader_probe(const char *probe_exe,
                     const char *manifest_path,
                     sam_load_result *res) {
  char who[SAM__LOADER_STR_MAX];
  char sig[16];
  char out[PROBE_OUT_MAX];
  size_t out_len = 0;
  int64_t timeout = probe_timeout_ms();
  int64_t deadline = now_ms() + timeout;
  pid_t pid = -1;
  int fd = -1;
  int status = 0;
  int rc;

  memset(res, 0, sizeof(*res));
  if (probe_exe == NULL || manifest_path == NULL)
    return sam__load_fail(res, manifest_path ? manifest_path : "",
                          SAM_LOAD_STEP_INIT, SAM_EINVAL,
                          "probe needs the helper and a manifest path");
  /* The child may die before it can name the plugin: read the name here,
   * the same way the loader does before step 2 (the path when unusable). */
  sam__loader_manifest_name(manifest_path, who, sizeof(who));

  rc = spawn_probe(probe_exe, manifest_path, &pid, &fd);
  if (rc != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_INIT, SAM_EIO,
                          "cannot run the probe [%s] [%s]", probe_exe,
                          strerror(rc));
  rc = read_until_eof(fd, deadline, out, sizeof(out), &out_len);
  close(fd);
  if (rc == ETIMEDOUT)
    deadline = now_ms(); /* kill it now */
  rc = wait_child(pid, deadline, &status);
  if (rc == ETIMEDOUT)
    return sam__load_fail(res, who, SAM_LOAD_STEP_INIT, SAM_ETIMEDOUT,
                          "probe did not finish [timeout_ms=%lld]; the plugin "
                          "hangs in init or shutdown",
                          (long long)timeout);
  if (rc != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_INIT, SAM_EIO,
                          "cannot wait for the probe [%s]", strerror(rc));
  if (WIFSIGNALED(status)) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_INIT, SAM_EINVAL,
                        "plugin crashed [signal=%s]",
                        signal_name(WTERMSIG(status), sig, sizeof(sig)));
    res->signal = WTERMSIG(status);
    return rc;
  }
  /* A result line counts even with a non-zero exit (a leak report of a
   * sanitizer build, say): the load itself is what was asked about. */
  if (parse_result(out, res) != 0) {
    memset(res, 0, sizeof(*res));
    return sam__load_fail(res, who, SAM_LOAD_STEP_INIT, SAM_EIO,
                          "probe gave no result [exit=%d]; see its stderr",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return res->status;
}
