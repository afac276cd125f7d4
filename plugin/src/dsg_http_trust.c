/*
 * dsg_http_trust.c: see dsg_http_trust.h.
 *
 * One load at a time, in libuv's thread pool. The store in use belongs to
 * the loop thread; a load builds a new one on its own thread and the
 * after-work callback swaps it in, so the loop never decodes a
 * certificate file. OpenSSL counts the store's references: connections
 * already set up keep the old one until they close.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "sam/sam_plugin.h"

#include "dsg_http.h"
#include "dsg_http_trust.h"

/* After a failed reload (a store still in use), the next try waits this
 * long: a corrupt bundle must not be decoded again at every request. */
#define RETRY_AFTER_FAILURE_MS 60000u

struct dsg_trust {
  uv_loop_t *loop;
  uv_thread_t loop_thread;
  char *ca_file; /* configured; NULL: curl's default */
  char source[300];
  int source_is_dir;
  uint64_t max_age_ms;
  void (*ready)(void *ud);
  void *ud;

  X509_STORE *store; /* in use (loop thread) */
  uint64_t loaded_at;
  uint64_t failed_at;
  char error[512]; /* the last load's failure; "" after a success */
  unsigned loads;
  unsigned failures;
  int off_loop;

  /* the load in flight; its fields are the work's until after-work */
  int loading;
  uv_work_t work;
  X509_STORE *fresh;
  char fresh_error[512];
  int fresh_off_loop;

  int closing;
  void (*closed)(void *ud);
  void *closed_ud;
};

/* curl's own default, so that the store trusts what curl would have. */
static void default_source(dsg_trust *t) {
  const char *file = NULL, *dir = NULL;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO/CAPATH: 7.84.0 */
  CURL *e = curl_easy_init();

  if (e != NULL) {
    char *p = NULL;

    if (curl_easy_getinfo(e, CURLINFO_CAINFO, &p) == CURLE_OK && p != NULL &&
        p[0] != '\0')
      snprintf(t->source, sizeof(t->source), "%s", p);
    else if (p = NULL, curl_easy_getinfo(e, CURLINFO_CAPATH, &p) == CURLE_OK &&
                           p != NULL && p[0] != '\0') {
      snprintf(t->source, sizeof(t->source), "%s", p);
      t->source_is_dir = 1;
    }
    curl_easy_cleanup(e);
    if (t->source[0] != '\0')
      return;
  }
#endif
  file = X509_get_default_cert_file();
  dir = X509_get_default_cert_dir();
  if (file != NULL && file[0] != '\0') {
    snprintf(t->source, sizeof(t->source), "%s", file);
  } else if (dir != NULL) {
    snprintf(t->source, sizeof(t->source), "%s", dir);
    t->source_is_dir = 1;
  }
}

/* ---- the load (thread pool) ---- */

static void load_into(dsg_trust *t) {
  uv_thread_t self = uv_thread_self();
  X509_STORE *s = X509_STORE_new();
  unsigned long e;
  int ok;

  t->fresh_off_loop = !uv_thread_equal(&self, &t->loop_thread);
  t->fresh = NULL;
  t->fresh_error[0] = '\0';
  if (s == NULL) {
    snprintf(t->fresh_error, sizeof(t->fresh_error), "out of memory");
    return;
  }
  if (!t->source_is_dir) {
    /* OpenSSL says only "system lib" for a file it cannot open */
    FILE *f = fopen(t->source, "rb");

    if (f == NULL) {
      snprintf(t->fresh_error, sizeof(t->fresh_error),
               "cannot read the trusted CAs [ca_file=%s] [%s]", t->source,
               strerror(errno));
      X509_STORE_free(s);
      return;
    }
    fclose(f);
  }
  ERR_clear_error();
  ok = t->source_is_dir ? X509_STORE_load_locations(s, NULL, t->source)
                        : X509_STORE_load_locations(s, t->source, NULL);
  if (ok != 1) {
    const char *why = NULL;

    e = ERR_peek_last_error();
    if (e != 0)
      why = ERR_reason_error_string(e);
    snprintf(t->fresh_error, sizeof(t->fresh_error),
             "cannot load the trusted CAs [%s=%s] [%s]",
             t->source_is_dir ? "ca_path" : "ca_file", t->source,
             why != NULL ? why : "no certificate found");
    ERR_clear_error();
    X509_STORE_free(s);
    return;
  }
  /* as curl sets up the stores it loads itself (OpenSSL backend) */
  (void)X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST |
                                    X509_V_FLAG_PARTIAL_CHAIN);
  t->fresh = s;
}

static void load_work(uv_work_t *w) {
  load_into(w->data);
  /* OpenSSL's per-thread state (its error queue) would live as long as
   * the pool thread, i.e. the process: free it now, it is made again on
   * the next use */
  OPENSSL_thread_stop();
}

static void finish_close(dsg_trust *t) {
  void (*cb)(void *) = t->closed;
  void *ud = t->closed_ud;

  X509_STORE_free(t->store);
  free(t->ca_file);
  free(t);
  if (cb != NULL)
    cb(ud);
}

static void load_done(uv_work_t *w, int status) {
  dsg_trust *t = w->data;

  t->loading = 0;
  if (t->closing) {
    X509_STORE_free(t->fresh);
    finish_close(t);
    return;
  }
  t->loads++;
  t->off_loop = t->off_loop && t->fresh_off_loop;
  if (status == 0 && t->fresh != NULL) {
    X509_STORE_free(t->store);
    t->store = t->fresh;
    t->loaded_at = uv_now(t->loop);
    t->error[0] = '\0';
  } else {
    t->failures++;
    t->failed_at = uv_now(t->loop);
    snprintf(t->error, sizeof(t->error), "%s",
             status != 0 ? "the CA load was cancelled" : t->fresh_error);
  }
  t->fresh = NULL;
  t->ready(t->ud);
}

static int load_start(dsg_trust *t) {
  int rc;

  if (t->loading)
    return 0;
  memset(&t->work, 0, sizeof(t->work));
  t->work.data = t;
  rc = uv_queue_work(t->loop, &t->work, load_work, load_done);
  if (rc != 0) {
    snprintf(t->error, sizeof(t->error), "cannot queue the CA load [%s]",
             uv_strerror(rc));
    t->failed_at = uv_now(t->loop);
    return dsg_status_from_uv(rc);
  }
  t->loading = 1;
  return 0;
}

/* ---- the loop side ---- */

int dsg_trust_start(uv_loop_t *loop,
                    const char *ca_file,
                    uint64_t max_age_ms,
                    void (*ready)(void *ud),
                    void *ud,
                    dsg_trust **out) {
  dsg_trust *t;
  int rc;

  *out = NULL;
  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return SAM_ENOMEM;
  t->loop = loop;
  t->loop_thread = uv_thread_self();
  t->max_age_ms = max_age_ms;
  t->ready = ready;
  t->ud = ud;
  t->off_loop = 1;
  if (ca_file != NULL) {
    t->ca_file = strdup(ca_file);
    if (t->ca_file == NULL) {
      free(t);
      return SAM_ENOMEM;
    }
    snprintf(t->source, sizeof(t->source), "%s", ca_file);
  } else {
    default_source(t);
  }
  rc = load_start(t);
  if (rc != 0) {
    free(t->ca_file);
    free(t);
    return rc;
  }
  *out = t;
  return 0;
}

int dsg_trust_want(dsg_trust *t, const char **why) {
  uint64_t now = uv_now(t->loop);

  *why = NULL;
  if (t->store != NULL) {
    /* stale: reload in the background; this store serves meanwhile */
    if (!t->loading && now - t->loaded_at >= t->max_age_ms &&
        (t->error[0] == '\0' || now - t->failed_at >= RETRY_AFTER_FAILURE_MS))
      (void)load_start(t);
    return 1;
  }
  if (t->loading)
    return 0;
  /* the last load failed: its requests fail, the next ones try again */
  *why = t->error;
  (void)load_start(t);
  return -1;
}

static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *parm) {
  dsg_trust *t = parm;

  (void)easy;
  if (t == NULL || t->store == NULL)
    return CURLE_SSL_CACERT_BADFILE; /* never verify against nothing */
  SSL_CTX_set1_cert_store((SSL_CTX *)ssl_ctx, t->store);
  return CURLE_OK;
}

CURLcode dsg_trust_apply(dsg_trust *t, CURL *easy) {
  CURLcode c;

  c = curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
  if (c == CURLE_OK)
    c = curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, (void *)t);
  /* no CA file or directory of curl's own: the store is the only trust */
  if (c == CURLE_OK)
    c = curl_easy_setopt(easy, CURLOPT_CAINFO, (char *)NULL);
  if (c == CURLE_OK)
    c = curl_easy_setopt(easy, CURLOPT_CAPATH, (char *)NULL);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0 */
  /* curl runs the SSL_CTX callback before its own store set-up, and its
   * CA cache would keep the first store it saw there (ours, at the time)
   * for every later connection for 24 h: a reloaded store never served
   * (test-dsg-http-tls "reloads") */
  if (c == CURLE_OK)
    c = curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
  return c;
}

void dsg_trust_get_info(const dsg_trust *t, dsg_trust_info *out) {
  memset(out, 0, sizeof(*out));
  if (t == NULL)
    return;
  out->ready = t->store != NULL;
  out->loads = t->loads;
  out->failures = t->failures;
  out->off_loop = t->off_loop;
  snprintf(out->source, sizeof(out->source), "%s", t->source);
  snprintf(out->error, sizeof(out->error), "%s", t->error);
}

void dsg_trust_close(dsg_trust *t, void (*done)(void *ud), void *ud) {
  if (t == NULL || t->closing)
    return;
  t->closing = 1;
  t->closed = done;
  t->closed_ud = ud;
  /* a queued load is cancelled (load_done then runs with UV_ECANCELED);
   * a running one finishes first */
  if (t->loading) {
    (void)uv_cancel((uv_req_t *)&t->work);
    return;
  }
  finish_close(t);
}
