/*
 * sam-plugin-probe: loads one plugin in a throw-away process, so that a
 * plugin crashing in init takes down only this process (ABI.md 8.5).
 *
 *   sam-plugin-probe <manifest> [config_json]
 *
 * It loads the plugin into a private test-host runtime (in-memory store,
 * ephemeral key) on a private loop, runs init, then the async shutdown,
 * and prints ONE JSON line on stdout:
 *
 *   {"status":-12,"step":16,"step_name":"init","signal":0,"message":"..."}
 *
 * Anything the plugin itself writes to stdout is sent to stderr, so the
 * line is the only thing the parent (sam_loader_probe) reads. Exit status:
 * 0 when a result was printed, 2 for a usage error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam/sam_loader.h"
#include "sam_test_host.h"

#if defined(__SANITIZE_ADDRESS__)
#define PROBE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROBE_ASAN 1
#endif
#endif

#ifdef PROBE_ASAN
/* Under ASan, its own SEGV handler would turn a crash into a report and
 * exit(1) (or abort with abort_on_error=1): the parent must see the real
 * signal, as in a normal build. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0";
}
#endif

/* Writes the whole result line to fd; 0 or -1. */
static int write_result(int fd, const sam_load_result *res) {
  json_object *o = json_object_new_object();
  const char *text;
  size_t len;
  size_t off = 0;
  int rc = -1;

  if (o == NULL)
    return -1;
  if (json_object_object_add(o, "status", json_object_new_int(res->status)) ||
      json_object_object_add(o, "step", json_object_new_int(res->step)) ||
      json_object_object_add(
          o, "step_name",
          json_object_new_string(sam_load_step_name(res->step))) ||
      json_object_object_add(o, "signal", json_object_new_int(res->signal)) ||
      json_object_object_add(o, "message",
                             json_object_new_string(res->message)))
    goto done;
  text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  if (text == NULL)
    goto done;
  len = strlen(text);
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n <= 0)
      goto done;
    off += (size_t)n;
  }
  if (write(fd, "\n", 1) != 1)
    goto done;
  rc = 0;

done:
  json_object_put(o);
  return rc;
}

int main(int argc, char **argv) {
  sam_load_result res;
  sam_test_host *th = NULL;
  uv_loop_t loop;
  int result_fd;
  int rc;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: sam-plugin-probe <manifest> [config_json]\n");
    return 2;
  }
  /* Keep our stdout for the result; the plugin's prints go to stderr. */
  result_fd = dup(STDOUT_FILENO);
  if (result_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    perror("sam-plugin-probe: dup");
    return 2;
  }

  memset(&res, 0, sizeof(res));
  rc = uv_loop_init(&loop);
  if (rc != 0) {
    res.status = SAM_EIO;
    snprintf(res.message, sizeof(res.message),
             "probe: cannot create a loop [%s]", uv_strerror(rc));
    return write_result(result_fd, &res) == 0 ? 0 : 1;
  }
  rc = sam_test_host_new(&loop, NULL, &th);
  if (rc != 0) {
    res.status = rc;
    snprintf(res.message, sizeof(res.message),
             "probe: cannot create the test host [%s]", sam_err_name(rc));
  } else {
    rc = sam_test_host_load(th, argv[1], argc > 2 ? argv[2] : NULL, &res);
    /* Shut down in every case: it also closes the store and the handles. */
    int src = sam_test_host_shutdown(th);
    if (rc == 0 && src != 0) {
      res.status = src;
      snprintf(res.message, sizeof(res.message),
               "probe: the plugin loaded but its shutdown failed [%s]; see "
               "the log above",
               sam_err_name(src));
    }
    /* The runtime's log, for whoever reads the probe's stderr. */
    if (res.status != 0)
      fputs(sam_test_host_log(th), stderr);
    sam_test_host_free(th);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    fprintf(stderr, "sam-plugin-probe: loop not empty at exit\n");
  return write_result(result_fd, &res) == 0 ? 0 : 1;
}
