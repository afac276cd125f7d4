/*
 * dsg_plugin.c: the plugin's init, its context and its asynchronous
 * shutdown (ABI.md 13.2 and 13.3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "sam/sam_plugin.h"

#include "dsg_ctx.h"
#include "dsg_log.h"
#include "dsg_plugin.h"
#include "dsg_register.h"
#include "dsg_token.h"

/* ---- context ---- */

/* Frees ctx and, if our init made it, ends libcurl's global state. No uv
 * handle may be open. Returns nothing; ctx is dead after it. */
static void ctx_free(dsg_ctx *ctx) {
  int curl_inited = ctx->curl_inited;

  dsg_token_free_all(ctx);
  dsg_config_free(&ctx->cfg);
  free(ctx);
  /* Only at the very end, and only if our curl_global_init succeeded
   * (ABI.md 13.4). OPENSSL_cleanup is never called. */
  if (curl_inited)
    curl_global_cleanup();
}

static void http_log(void *log_ud, int level, const char *line) {
  dsg_logf(log_ud, NULL, level, "http: %s", line);
}

/* After a failed init: the HTTP client's last close callback. */
static void on_http_closed_after_failed_init(void *ud) {
  ctx_free(ud);
}

/* Releases a context whose init failed: at once when it has no uv handles,
 * else from the last close callback (the host keeps running the loop and
 * keeps the library mapped). NULL-safe. */
static void ctx_release(dsg_ctx *ctx) {
  if (ctx == NULL)
    return;
  if (ctx->http != NULL) {
    dsg_http_close(ctx->http, on_http_closed_after_failed_init, ctx);
    return;
  }
  ctx_free(ctx);
}

/* ---- shutdown ---- */

static void on_http_closed(void *ud) {
  dsg_ctx *ctx = ud;
  const sam_host_api *api = ctx->api;
  sam_done *done = ctx->done;

  ctx->http = NULL;
  ctx_free(ctx);
  api->shutdown_done(done); /* the last call into the host */
}

/* Called after shutdown starts and after every job or op completion while
 * stopping: once nothing is open, closes the HTTP client, whose last close
 * callback frees ctx and signals the host. */
static void maybe_finish(dsg_ctx *ctx) {
  if (!ctx->finish_armed || ctx->http_closing || ctx->jobs != NULL ||
      ctx->pending_ops > 0)
    return;
  ctx->http_closing = 1;
  if (ctx->http != NULL) {
    dsg_http_close(ctx->http, on_http_closed, ctx);
    return;
  }
  on_http_closed(ctx);
}

static void dsg_shutdown(void *plugin_ud, sam_done *done) {
  dsg_ctx *ctx = plugin_ud;
  dsg_job_ref *j;
  dsg_job_ref *jn;
  dsg_op_ref *o;
  int rc;

  ctx->done = done;
  ctx->stopping = 1;
  /* 1. Every open job completes with SAM_ECANCELED (now or later). */
  for (j = ctx->jobs; j != NULL; j = jn) {
    jn = j->next;
    j->abort(j);
  }
  /* 2. Store and secret callbacks still arrive after op_cancel (C4); wait
   *    for them through pending_ops. */
  for (o = ctx->host_ops; o != NULL; o = o->next) {
    if (o->op != NULL) {
      rc = ctx->api->op_cancel(o->op);
      if (rc != 0)
        dsg_logf(ctx, NULL, SAM_LOG_WARN, "op_cancel failed [%s]",
                 sam_err_name(rc));
    }
  }
  /* 3-5. The HTTP client closes once nothing is open. Armed only now, so
   *      that a synchronous completion above cannot free ctx under us. */
  ctx->finish_armed = 1;
  maybe_finish(ctx);
}

void dsg_job_track(dsg_ctx *ctx, dsg_job_ref *ref) {
  ref->prev = NULL;
  ref->next = ctx->jobs;
  if (ctx->jobs != NULL)
    ctx->jobs->prev = ref;
  ctx->jobs = ref;
}

void dsg_job_untrack(dsg_ctx *ctx, dsg_job_ref *ref) {
  if (ref->prev != NULL)
    ref->prev->next = ref->next;
  else if (ctx->jobs == ref)
    ctx->jobs = ref->next;
  if (ref->next != NULL)
    ref->next->prev = ref->prev;
  ref->next = ref->prev = NULL;
  maybe_finish(ctx);
}

void dsg_op_track(dsg_ctx *ctx, dsg_op_ref *ref) {
  ref->prev = NULL;
  ref->next = ctx->host_ops;
  if (ctx->host_ops != NULL)
    ctx->host_ops->prev = ref;
  ctx->host_ops = ref;
  ctx->pending_ops++;
}

void dsg_op_untrack(dsg_ctx *ctx, dsg_op_ref *ref) {
  if (ref->prev != NULL)
    ref->prev->next = ref->next;
  else if (ctx->host_ops == ref)
    ctx->host_ops = ref->next;
  if (ref->next != NULL)
    ref->next->prev = ref->prev;
  ref->next = ref->prev = NULL;
  ref->op = NULL;
  ctx->pending_ops--;
  maybe_finish(ctx);
}

/* ---- init ---- */

/* Checks libcurl and initialises its global state once (ABI.md 13.2 step
 * 2): without an asynchronous resolver, DNS would block the host's loop. */
static int curl_check_and_init(dsg_ctx *ctx, char *err, size_t err_len) {
  curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  CURLcode cc;

  if (v == NULL || !(v->features & CURL_VERSION_ASYNCHDNS)) {
    snprintf(err, err_len,
             "libcurl lacks an asynchronous resolver [libcurl=%s]; DNS would "
             "block the host's loop: install a libcurl built with the "
             "threaded resolver or c-ares",
             v != NULL ? v->version : "unknown");
    return SAM_ENOTSUP;
  }
  if (!(v->features & CURL_VERSION_SSL)) {
    snprintf(err, err_len, "libcurl lacks TLS support [libcurl=%s]",
             v->version);
    return SAM_ENOTSUP;
  }
  cc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (cc != CURLE_OK) {
    snprintf(err, err_len, "curl_global_init failed [%s]",
             curl_easy_strerror(cc));
    return SAM_ENOTSUP;
  }
  ctx->curl_inited = 1;
  return 0;
}

int dsg_init(const sam_host_api *api,
             sam_host *host,
             const sam_init_args *args,
             const sam_plugin_ops **ops_out,
             char *err,
             size_t err_len) {
  dsg_ctx *ctx = NULL;
  dsg_http_config hc;
  unsigned int uv_major = uv_version() >> 16;
  int rc;

  /* 1. The table and the running libuv. */
  if (api == NULL || api->struct_size < SAM_HOST_API_V1_0_SIZE ||
      api->abi_major != SAM_ABI_MAJOR) {
    snprintf(err, err_len,
             "host table too old [struct_size=%u] [major=%u] plugin needs "
             "[struct_size>=%u] [major=%u]",
             api != NULL ? (unsigned)api->struct_size : 0u,
             api != NULL ? (unsigned)api->abi_major : 0u,
             (unsigned)SAM_HOST_API_V1_0_SIZE, (unsigned)SAM_ABI_MAJOR);
    return SAM_EVERSION;
  }
  if (uv_major != UV_VERSION_MAJOR) {
    snprintf(err, err_len, "libuv major differs host [%u] plugin [%u]",
             uv_major, (unsigned)UV_VERSION_MAJOR);
    return SAM_EVERSION;
  }
  if (ops_out == NULL || host == NULL) {
    snprintf(err, err_len, "init called without ops_out or host");
    return SAM_EINVAL;
  }
  /* 3a. The context (before curl, so curl's state is owned by it). */
  ctx = calloc(1, sizeof(*ctx));
  if (ctx == NULL) {
    snprintf(err, err_len, "out of memory [context]");
    return SAM_ENOMEM;
  }
  ctx->api = api;
  ctx->host = host;
  /* 2. libcurl. */
  rc = curl_check_and_init(ctx, err, err_len);
  if (rc != 0)
    goto fail;
  /* 3b. Settings, then every registration: fallible, no loop needed. */
  rc = dsg_config_parse(
      args != NULL ? args->config_json : NULL,
      args != NULL && args->config_json != NULL ? args->config_len : 0,
      &ctx->cfg, err, err_len);
  if (rc != 0)
    goto fail;
  rc = dsg_register_all(ctx, err, err_len);
  if (rc != 0)
    goto fail;
  /* 4. uv handles last. */
  ctx->loop = api->get_loop(host);
  if (ctx->loop == NULL) {
    snprintf(err, err_len, "host returned no loop");
    rc = SAM_EINVAL;
    goto fail;
  }
  memset(&hc, 0, sizeof(hc));
  hc.ca_file = ctx->cfg.ca_file;
  hc.connect_timeout_ms = ctx->cfg.connect_timeout_ms;
  hc.request_timeout_ms = ctx->cfg.request_timeout_ms;
  hc.max_response_bytes = (size_t)ctx->cfg.max_response_bytes;
  hc.max_host_connections = ctx->cfg.max_host_connections;
  hc.debug = ctx->cfg.http_debug;
  /* Plain http only in test mode (the simulator on loopback). */
  hc.allow_plain_http = ctx->cfg.test_mode;
  hc.log = http_log;
  hc.log_ud = ctx;
  rc = dsg_http_start(ctx->loop, &hc, &ctx->http);
  if (rc != 0) {
    snprintf(err, err_len, "http setup failed [%s]", sam_err_name(rc));
    goto fail;
  }
  ctx->ops.struct_size = sizeof(ctx->ops);
  ctx->ops.plugin_ud = ctx;
  ctx->ops.shutdown = dsg_shutdown;
  *ops_out = &ctx->ops;
  return SAM_OK;

fail:
  /* NULL-safe; frees now or from the last close callback. The host rolls
   * back the registrations. */
  ctx_release(ctx);
  return rc;
}
