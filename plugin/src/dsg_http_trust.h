/*
 * dsg_http_trust.h: the HTTP client's trusted CAs, loaded off the loop.
 *
 * libcurl loads its CA file when it sets up a connection, on the loop:
 * with OpenSSL 3.0 the system bundle (about 140 certificates) took 26 ms
 * of decoding each time, at a client's first connection and again each
 * day when curl's CA cache expired, besides reading the file. Here a
 * thread-pool work builds an X509_STORE; connections take it through
 * CURLOPT_SSL_CTX_FUNCTION, and curl loads no CA file of its own.
 *
 * Everything below runs on the loop thread, except the load itself.
 */
#ifndef DSG_HTTP_TRUST_H
#define DSG_HTTP_TRUST_H

#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

typedef struct dsg_trust dsg_trust;

/* What a load left, for logs and tests. */
typedef struct dsg_trust_info {
  int ready;         /* a store is in use */
  unsigned loads;    /* loads finished (successful or not) */
  unsigned failures; /* of which failed */
  int off_loop;      /* every load ran on a thread other than the loop */
  char source[300];  /* the file or directory loaded */
  char error[512];   /* the last failure, "" when none */
} dsg_trust_info;

/*
 * Starts loading `ca_file` (NULL: libcurl's built-in CA file, or its CA
 * directory when it has no file). `ready(ud)` runs on the loop after each
 * load finishes, successful or not. A store older than max_age_ms is
 * reloaded in the background at the next dsg_trust_want; the old one
 * serves until the new one is in.
 *
 * Thread: loop thread. Returns 0, SAM_ENOMEM, or a libuv error as SAM_E*.
 * Ownership: ca_file is copied; *out is released with dsg_trust_close.
 */
int dsg_trust_start(uv_loop_t *loop,
                    const char *ca_file,
                    uint64_t max_age_ms,
                    void (*ready)(void *ud),
                    void *ud,
                    dsg_trust **out);

/*
 * Whether connections can start now: 1 when a store is in (a stale one
 * starts a reload), 0 while the first load runs (the caller waits for
 * ready), -1 when the last load failed (a new load starts; *why, the
 * failure, stays valid until the next call).
 */
int dsg_trust_want(dsg_trust *t, const char **why);

/*
 * Sets up one easy handle to use the store: CURLOPT_SSL_CTX_FUNCTION, and
 * no CA file, directory or CA cache of curl's own. CURLE_OK, or curl's
 * code (the request then fails: dsg_http uses a trust only with the
 * OpenSSL backend, which takes a store).
 */
CURLcode dsg_trust_apply(dsg_trust *t, CURL *easy);

void dsg_trust_get_info(const dsg_trust *t, dsg_trust_info *out);

/*
 * Stops: a queued load is cancelled, a running one finishes on its thread
 * and is dropped; done(ud) runs once nothing of the store remains: inside
 * this call when no load is in flight, else from the load's after-work
 * callback. Connections still holding the store keep their reference.
 */
void dsg_trust_close(dsg_trust *t, void (*done)(void *ud), void *ud);

#endif /* DSG_HTTP_TRUST_H */
