/*
 * registry_plugin.c: plugin instances and their phases (ABI.md 8.4 and
 * 13): create, run init with staged registrations, publish at post_init,
 * roll back, shutdown_done, and the host-owned user data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h"
#include "sam_copy_in.h"

#ifndef SAM_HOST_VERSION
#define SAM_HOST_VERSION "0"
#endif

static uint32_t desc_size(const void *d) {
  uint32_t s = 0;

  if (d != NULL)
    memcpy(&s, d, sizeof(s));
  return s;
}

/* ---- ud ownership ---- */

static void free_list_uds(sam__reg_list *l) {
  size_t i;

  for (i = l->n; i > 0; i--) {
    sam__reg *r = l->v[i - 1];
    sam_free_fn fn = r->ud_free;

    if (fn == NULL)
      continue;
    /* Cleared first: each ud_free runs exactly once. */
    r->ud_free = NULL;
    fn(r->ud);
  }
}

void sam__registry_free_uds(sam_host *h) {
  h->uds_pending = 0;
  h->uds_freed = 1;
  free_list_uds(&h->late);
  free_list_uds(&h->regs);
}

static void free_list(sam__reg_list *l) {
  size_t i;

  for (i = 0; i < l->n; i++)
    sam__reg_free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

void sam__registry_free_all(sam_runtime *rt) {
  sam_host *h;

  for (h = rt->plugins; h != NULL; h = h->next) {
    /* A runtime freed without close: the uds are still the host's. */
    free_list_uds(&h->late);
    free_list_uds(&h->regs);
    free_list(&h->late);
    free_list(&h->regs);
  }
  free_list(&rt->host_types);
}

/* ---- plugin instances ---- */

static void after_shutdown(sam__task *t) {
  sam_host *h = t->owner;

  if (h->uds_pending)
    sam__registry_free_uds(h);
}

int sam__plugin_create(sam_runtime *rt,
                       const char *name,
                       const char *version,
                       const char *manifest_path,
                       sam_host **out) {
  sam_host *h;

  *out = NULL;
  if (rt == NULL || name == NULL)
    return SAM_EINVAL;
  if (rt->stopping)
    return SAM_EBUSY;
  /* One instance per name: registrations, secrets and redaction are keyed by
   * the plugin's name. Failed loads stay as STOPPED tombstones and do not
   * count. */
  for (h = rt->plugins; h != NULL; h = h->next)
    if (h->phase != SAM__PHASE_STOPPED && strcmp(h->name, name) == 0)
      return SAM_EEXIST;
  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return SAM_ENOMEM;
  h->magic = SAM__MAGIC_HOST;
  h->rt = rt;
  h->phase = SAM__PHASE_LOADING;
  h->name = sam__strdup(name);
  h->version = sam__strdup(version ? version : "");
  h->manifest_path = sam__strdup(manifest_path ? manifest_path : "");
  h->done.magic = SAM__MAGIC_DONE;
  h->done.host = h;
  h->after_shutdown.fn = after_shutdown;
  h->after_shutdown.owner = h;
  if (h->name == NULL || h->version == NULL || h->manifest_path == NULL) {
    free(h->name);
    free(h->version);
    free(h->manifest_path);
    free(h);
    return SAM_ENOMEM;
  }
  *rt->plugins_tail = h;
  rt->plugins_tail = &h->next;
  *out = h;
  return 0;
}

/* Redacts err in place (it is plugin text). */
static void redact_err(sam_runtime *rt, char *err, size_t err_len) {
  char *red;

  if (err == NULL || err_len == 0)
    return;
  err[err_len - 1] = '\0';
  red = sam__redact(rt, err, strlen(err));
  if (red == NULL) {
    snprintf(err, err_len, "[redacted]");
    return;
  }
  snprintf(err, err_len, "%s", red);
  free(red);
}

int sam__plugin_run_init(sam_host *h,
                         sam_plugin_init_fn init,
                         const char *config_json,
                         char *err,
                         size_t err_len) {
  sam_init_args args;
  const sam_plugin_ops *ops = NULL;
  int rc;

  if (err != NULL && err_len > 0)
    err[0] = '\0';
  if (h == NULL || init == NULL)
    return SAM_EINVAL;
  if (h->phase != SAM__PHASE_LOADING)
    return SAM_EBUSY;
  memset(&args, 0, sizeof(args));
  args.struct_size = sizeof(args);
  args.host_name = "samhost";
  args.host_version = SAM_HOST_VERSION;
  args.config_json = config_json;
  args.config_len = config_json != NULL ? strlen(config_json) : 0;
  h->phase = SAM__PHASE_INIT;
  h->in_init = 1;
  rc = init(sam__host_api(), h, &args, &ops, err, err_len);
  h->in_init = 0;
  redact_err(h->rt, err, err_len);
  if (rc > 0) {
    sam__violation(h->rt, h->name, "init returned a positive value [rc=%d]",
                   rc);
    rc = SAM_EINVAL;
  }
  if (rc == 0 && ops != NULL) {
    int crc =
        sam__copy_in(&h->ops, sizeof(h->ops), SAM_PLUGIN_OPS_V1_0_SIZE, ops);

    if (crc == 0)
      crc = sam__reserved_zero(&h->ops, offsetof(sam_plugin_ops, reserved0),
                               sizeof(uint32_t));
    if (crc == 0) {
      h->has_ops = 1;
    } else {
      uint32_t size = desc_size(ops);

      memset(&h->ops, 0, sizeof(h->ops));
      if (h->n_failed_regs++ == 0)
        snprintf(h->reg_err, sizeof(h->reg_err),
                 "ops rejected [struct_size=%u] [%s]", (unsigned)size,
                 sam_err_name(crc));
    }
  }
  return rc;
}

int sam__plugin_post_init(sam_host *h, char *err, size_t err_len) {
  char buf[300];
  size_t i;

  buf[0] = '\0';
  if (h == NULL || h->phase != SAM__PHASE_INIT) {
    snprintf(buf, sizeof(buf), "plugin not in init [phase=%d]",
             h ? h->phase : -1);
  } else if (h->n_failed_regs > 0) {
    snprintf(buf, sizeof(buf), "a registration failed [count=%d]: %s",
             h->n_failed_regs, h->reg_err);
  } else if (!h->has_ops) {
    snprintf(buf, sizeof(buf),
             "init returned no ops (ops_out NULL or struct_size below v1.0)");
  } else if (h->ops.shutdown == NULL) {
    snprintf(buf, sizeof(buf), "ops.shutdown is required");
  } else if (h->n_profile_types != 1) {
    snprintf(buf, sizeof(buf),
             "exactly one profile type must be registered [count=%d]",
             h->n_profile_types);
  }
  if (buf[0] == '\0') {
    h->published = 1;
    h->phase = SAM__PHASE_RUNNING;
    for (i = 0; i < h->regs.n; i++) {
      sam__reg *r = h->regs.v[i];
      size_t k;

      for (k = 0; r->kind == SAM__REG_PROFILE_TYPE && k < r->n_secret_fields;
           k++)
        sam__redact_add_key(h->rt, r->secret_fields[k]);
    }
    if (err != NULL && err_len > 0)
      err[0] = '\0';
    return 0;
  }
  if (err != NULL && err_len > 0)
    snprintf(err, err_len, "%s", buf);
  if (h == NULL || h->phase != SAM__PHASE_INIT)
    return SAM_EINVAL;
  sam__log(h->rt, SAM_LOG_ERROR, h->name, NULL, "post_init failed: %s", buf);
  if (h->has_ops && h->ops.shutdown != NULL) {
    /* The plugin built its state in init; let it tear it down before its
     * user data is freed (after shutdown_done). */
    h->phase = SAM__PHASE_STOPPING;
    h->shutdown_called = 1;
    h->ops.shutdown(h->ops.plugin_ud, &h->done);
  }
  sam__plugin_rollback(h);
  return SAM_EINVAL;
}

void sam__plugin_rollback(sam_host *h) {
  if (h == NULL || h->uds_freed || h->uds_pending)
    return;
  h->published = 0;
  h->phase = SAM__PHASE_STOPPED;
  if (h->shutdown_called && !h->shutdown_finished)
    h->uds_pending = 1; /* freed by after_shutdown or at close */
  else
    sam__registry_free_uds(h);
}

void sam__api_shutdown_done(sam_done *done) {
  sam_host *h;

  if (done == NULL || done->magic != SAM__MAGIC_DONE)
    return;
  h = done->host;
  if (sam__on_loop(h->rt, "shutdown_done") != 0)
    return;
  if (done->used || !h->shutdown_called) {
    sam__violation(h->rt, h->name, "shutdown_done called %s [plugin=%s]",
                   done->used ? "twice" : "before shutdown", h->name);
    return;
  }
  done->used = 1;
  h->shutdown_finished = 1;
  h->phase = SAM__PHASE_STOPPED;
  /* ud_frees are plugin code: never from inside this call (C4). */
  if (h->uds_pending)
    sam__defer(h->rt, &h->after_shutdown);
  sam__runtime_kick_close(h->rt);
}

int sam__plugin_phase(const sam_host *h) {
  return h->phase;
}

const char *sam__plugin_name(const sam_host *h) {
  return h->name;
}

const char *sam__plugin_last_error(const sam_host *h) {
  return h->reg_err;
}

int sam__plugin_degraded(const sam_host *h) {
  return h->degraded;
}
