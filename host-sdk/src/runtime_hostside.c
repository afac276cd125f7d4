/*
 * runtime_hostside.c: the host's pseudo-plugin handle (sam_runtime.h), so
 * host code uses the plugins' async store API. It is an ordinary plugin
 * instance of the runtime, made without a loader: no manifest, no ops, no
 * registrations, never published (hence absent from the registry JSON and
 * skipped by the shutdown sequence, which only calls plugins with ops);
 * sam_runtime_free frees it with the other instances.
 */
#include <string.h>

#include "runtime_int.h"

#define HOST_HANDLE_NAME "host"

/* The handle is the instance named "host" without a manifest path: a
 * loaded plugin always has one. */
static int is_host_handle(const sam_host *h) {
  return h->magic == SAM__MAGIC_HOST && h->name != NULL &&
         strcmp(h->name, HOST_HANDLE_NAME) == 0 && h->manifest_path != NULL &&
         h->manifest_path[0] == '\0' && !h->has_ops;
}

sam_host *sam_runtime_host_handle(sam_runtime *rt) {
  sam_host *h;

  if (rt == NULL || sam__on_loop(rt, "sam_runtime_host_handle") != 0)
    return NULL;
  for (h = rt->plugins; h != NULL; h = h->next) {
    if (is_host_handle(h))
      return h;
  }
  if (sam__plugin_create(rt, HOST_HANDLE_NAME, "", "", &h) != 0)
    return NULL;
  h->phase = SAM__PHASE_RUNNING;
  h->published = 0;
  return h;
}
