/*
 * dsg_http_easy.c: one request of the HTTP client: checking the caller's
 * options, building the easy handle (TLS verification always on), the
 * write/header/debug callbacks, and the response handed to the caller.
 * libcurl only; the multi handle and the loop are dsg_http.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "sam/sam_plugin.h"

#include "dsg_http_int.h"

/* ---- helpers ---- */

void dsg_http_logf(const dsg_http_settings *set,
                   int level,
                   const char *fmt,
                   ...) {
  char line[512];
  va_list ap;

  if (set->log == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  set->log(set->log_ud, level, line);
}

/* Wipes a buffer in a way the compiler may not elide. */
static void wipe(void *p, size_t n) {
  if (p != NULL && n > 0)
    OPENSSL_cleanse(p, n);
}

void dsg_http_req_free(dsg_http_req *req) {
  struct curl_slist *h;

  if (req == NULL)
    return;
  if (req->easy != NULL)
    curl_easy_cleanup(req->easy);
  /* The Authorization line lives in this list: wipe before freeing. */
  for (h = req->headers; h != NULL; h = h->next)
    wipe(h->data, strlen(h->data));
  curl_slist_free_all(req->headers);
  wipe(req->body, req->body_len);
  free(req->body);
  wipe(req->resp, req->resp_len);
  free(req->resp);
  free(req);
}


/* ---- easy callbacks: tiny, never call curl (STYLE.md pitfall 8) ---- */

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
  dsg_http_req *req = userdata;
  size_t n = size * nmemb;
  size_t cap;
  char *p;

  if (req->resp_len + n > req->set->max_response) {
    req->too_big = 1;
    return 0; /* aborts this transfer only: CURLE_WRITE_ERROR */
  }
  if (req->resp_len + n + 1 > req->resp_cap) {
    cap = req->resp_cap != 0 ? req->resp_cap : 4096;
    while (cap < req->resp_len + n + 1)
      cap *= 2;
    p = malloc(cap);
    if (p == NULL) {
      req->local_status = SAM_ENOMEM;
      return 0;
    }
    /* A fresh buffer rather than realloc, so a token in the old one can be
     * wiped instead of left behind in freed memory. */
    if (req->resp != NULL) {
      memcpy(p, req->resp, req->resp_len);
      wipe(req->resp, req->resp_len);
      free(req->resp);
    }
    req->resp = p;
    req->resp_cap = cap;
  }
  memcpy(req->resp + req->resp_len, ptr, n);
  req->resp_len += n;
  req->resp[req->resp_len] = '\0';
  return n;
}

static int64_t parse_int_value(const char *v, size_t len) {
  int64_t x = 0;
  size_t i;

  if (len == 0 || len > 18)
    return -1;
  for (i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    x = x * 10 + (v[i] - '0');
  }
  return x;
}

static int64_t parse_retry_after(const char *v, size_t len) {
  char date[DSG_HTTP_HEADER_VALUE_MAX];
  time_t when;
  time_t now;
  int64_t secs = parse_int_value(v, len);

  if (secs >= 0 || len >= sizeof(date))
    return secs;
  memcpy(date, v, len);
  date[len] = '\0';
  when = curl_getdate(date, NULL); /* pure parsing, no I/O */
  if (when == (time_t)-1)
    return -1;
  now = time(NULL);
  return when > now ? (int64_t)(when - now) : 0;
}

/* Whether the transfer's connection resumed a TLS session (the share in
 * dsg_http_settings); 0 for plain HTTP or another TLS backend. Only valid
 * while the transfer holds its connection: read from the header callback. */
static int tls_resumed(CURL *easy) {
  struct curl_tlssessioninfo *ti = NULL;

  if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK ||
      ti == NULL || ti->backend != CURLSSLBACKEND_OPENSSL ||
      ti->internals == NULL)
    return 0;
  return SSL_session_reused((SSL *)ti->internals) == 1;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud) {
  dsg_http_req *req = ud;
  size_t n = size * nitems;
  size_t name_len;
  const char *colon;
  const char *v;
  size_t vlen;

  /* A new status line (after a 100 Continue) starts a fresh header set. */
  if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
    req->tls_resumed = tls_resumed(req->easy);
    req->content_type[0] = '\0';
    req->rl_limit = req->rl_remaining = req->rl_reset = -1;
    req->bl_limit = req->bl_remaining = req->retry_after = -1;
    return n;
  }
  colon = memchr(buf, ':', n);
  if (colon == NULL)
    return n;
  name_len = (size_t)(colon - buf);
  v = colon + 1;
  vlen = n - name_len - 1;
  while (vlen > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    vlen--;
  }
  while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
                      v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
    vlen--;
#define HDR_IS(lit)                                                            \
  (name_len == sizeof(lit) - 1 && strncasecmp(buf, lit, name_len) == 0)
  if (HDR_IS("Content-Type")) {
    if (vlen >= sizeof(req->content_type))
      vlen = sizeof(req->content_type) - 1;
    memcpy(req->content_type, v, vlen);
    req->content_type[vlen] = '\0';
  } else if (HDR_IS("X-RateLimit-Limit")) {
    req->rl_limit = parse_int_value(v, vlen);
  } else if (HDR_IS("X-RateLimit-Remaining")) {
    req->rl_remaining = parse_int_value(v, vlen);
  } else if (HDR_IS("X-RateLimit-Reset")) {
    req->rl_reset = parse_int_value(v, vlen);
  } else if (HDR_IS("X-BurstLimit-Limit")) {
    req->bl_limit = parse_int_value(v, vlen);
  } else if (HDR_IS("X-BurstLimit-Remaining")) {
    req->bl_remaining = parse_int_value(v, vlen);
  } else if (HDR_IS("Retry-After")) {
    req->retry_after = parse_retry_after(v, vlen);
  }
#undef HDR_IS
  return n;
}

static int
on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *ud) {
  dsg_http_req *req = ud;
  char line[256];

  (void)easy;
  if (dsg_http_trace_format(type, data, size, line, sizeof(line)) > 0)
    dsg_http_logf(req->set, SAM_LOG_DEBUG, "curl: %s", line);
  return 0;
}


/* ---- building a request ---- */

static int has_crlf(const char *s) {
  return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* Appends a copy of `line` to the list; the list owns its copy. */
static int append_header(struct curl_slist **list, const char *line) {
  struct curl_slist *n = curl_slist_append(*list, line);

  if (n == NULL)
    return SAM_ENOMEM;
  *list = n;
  return 0;
}

/* Builds "Authorization: ..." from the caller's token or Basic pair. The
 * temporary text is wiped; the copy in the header list is wiped in
 * req_free. */
static int append_auth(dsg_http_req *req, const dsg_http_req_opts *o) {
  char *pair = NULL;
  unsigned char *b64 = NULL;
  char *line = NULL;
  size_t pair_len = 0;
  size_t line_len = 0;
  int rc = SAM_ENOMEM;

  if (o->bearer_token != NULL) {
    line_len = strlen(o->bearer_token) + sizeof("Authorization: Bearer ");
    line = malloc(line_len);
    if (line == NULL)
      goto done;
    snprintf(line, line_len, "Authorization: Bearer %s", o->bearer_token);
  } else {
    pair_len = strlen(o->basic_user) + strlen(o->basic_password) + 1;
    pair = malloc(pair_len + 1);
    b64 = malloc(4 * ((pair_len + 2) / 3) + 1);
    if (pair == NULL || b64 == NULL)
      goto done;
    snprintf(pair, pair_len + 1, "%s:%s", o->basic_user, o->basic_password);
    if (EVP_EncodeBlock(b64, (const unsigned char *)pair, (int)pair_len) < 0) {
      rc = SAM_EINVAL;
      goto done;
    }
    line_len = strlen((const char *)b64) + sizeof("Authorization: Basic ");
    line = malloc(line_len);
    if (line == NULL)
      goto done;
    snprintf(line, line_len, "Authorization: Basic %s", (const char *)b64);
  }
  rc = append_header(&req->headers, line);

done:
  if (pair != NULL) {
    wipe(pair, pair_len);
    free(pair);
  }
  if (b64 != NULL) {
    wipe(b64, strlen((const char *)b64));
    free(b64);
  }
  if (line != NULL) {
    wipe(line, strlen(line));
    free(line);
  }
  return rc;
}

static int check_opts(const dsg_http_settings *set,
                      const dsg_http_req_opts *o) {
  const char *const *h;

  if (o == NULL || o->url == NULL || has_crlf(o->url))
    return SAM_EINVAL;
  /* Plain http only where the client allows it (tests on loopback). */
  if (strncmp(o->url, "https://", 8) != 0 &&
      !(set->allow_plain_http && strncmp(o->url, "http://", 7) == 0))
    return SAM_EINVAL;
  if (o->method != NULL && strcmp(o->method, "GET") != 0 &&
      strcmp(o->method, "POST") != 0 && strcmp(o->method, "PUT") != 0 &&
      strcmp(o->method, "DELETE") != 0)
    return SAM_EINVAL;
  if (o->body == NULL && o->body_len != 0)
    return SAM_EINVAL;
  if (o->bearer_token != NULL && (o->basic_user || o->basic_password))
    return SAM_EINVAL;
  if ((o->basic_user == NULL) != (o->basic_password == NULL))
    return SAM_EINVAL;
  if (has_crlf(o->bearer_token) || has_crlf(o->basic_user) ||
      has_crlf(o->basic_password))
    return SAM_EINVAL;
  for (h = o->headers; h != NULL && *h != NULL; h++) {
    /* Credentials only through bearer_token/basic_*, so they are always
     * known to be secret and wiped. */
    if (strncasecmp(*h, "Authorization", 13) == 0 || has_crlf(*h) ||
        strchr(*h, ':') == NULL)
      return SAM_EINVAL;
  }
  return 0;
}

#define SETOPT(opt, val)                                                       \
  do {                                                                         \
    CURLcode c_ = curl_easy_setopt(easy, (opt), (val));                        \
    if (c_ != CURLE_OK) {                                                      \
      rc = dsg_status_from_curl(c_);                                           \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

#define SETOPT_RC(call)                                                        \
  do {                                                                         \
    CURLcode c_ = (call);                                                      \
    if (c_ != CURLE_OK) {                                                      \
      rc = dsg_status_from_curl(c_);                                           \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

static int easy_setup(dsg_http_req *req, const dsg_http_req_opts *o) {
  const dsg_http_settings *set = req->set;
  CURL *easy = req->easy;
  const char *method = o->method != NULL ? o->method : "GET";
  uint64_t timeout =
      o->timeout_ms != 0 ? o->timeout_ms : set->request_timeout_ms;
  int rc = 0;

  SETOPT(CURLOPT_URL, o->url);
  SETOPT(CURLOPT_PRIVATE, (void *)req);
  SETOPT(CURLOPT_ERRORBUFFER, req->errbuf);
  SETOPT(CURLOPT_WRITEFUNCTION, on_write);
  SETOPT(CURLOPT_WRITEDATA, (void *)req);
  SETOPT(CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(CURLOPT_HEADERDATA, (void *)req);
  SETOPT(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0 */
  /* A transfer ended while its name still resolves (cancel, timeout,
   * close) would wait on the loop for curl's resolver thread, i.e. for
   * getaddrinfo to give up: seconds with a dead DNS server. With this the
   * thread is left to finish and free itself (test-dsg-http-dns). */
  SETOPT(CURLOPT_QUICK_EXIT, 1L);
#endif
  /* TLS verification is never turned off; a private CA is added instead. */
  SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
  if (set->trust != NULL)
    SETOPT_RC(dsg_trust_apply(set->trust, easy));
  else if (set->ca_file != NULL)
    SETOPT(CURLOPT_CAINFO, set->ca_file);
  if (set->share != NULL)
    SETOPT(CURLOPT_SHARE, set->share);
  SETOPT(CURLOPT_PROTOCOLS_STR, set->allow_plain_http ? "http,https" : "https");
  SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
  SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)set->connect_timeout_ms);
  SETOPT(CURLOPT_TIMEOUT_MS, (long)timeout);
  SETOPT(CURLOPT_USERAGENT, set->user_agent);
  if (strcmp(method, "GET") == 0) {
    SETOPT(CURLOPT_HTTPGET, 1L);
  } else {
    if (strcmp(method, "POST") == 0)
      SETOPT(CURLOPT_POST, 1L);
    else
      SETOPT(CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0 || req->body_len > 0) {
      /* Our own copy, wiped on free (COPYPOSTFIELDS could not be wiped). */
      SETOPT(CURLOPT_POSTFIELDS, req->body);
      SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
  }
  SETOPT(CURLOPT_HTTPHEADER, req->headers);
  if (set->debug) {
    /* The debug callback only fires with CURLOPT_VERBOSE; it is set only
     * together with our redacting callback, never alone (ABI.md 9.8). */
    SETOPT(CURLOPT_DEBUGFUNCTION, on_debug);
    SETOPT(CURLOPT_DEBUGDATA, (void *)req);
    SETOPT(CURLOPT_VERBOSE, 1L);
  }
  return 0;

fail:
  return rc;
}

#undef SETOPT
#undef SETOPT_RC

int dsg_http_req_new(dsg_http *http,
                     const dsg_http_settings *set,
                     const dsg_http_req_opts *opts,
                     dsg_http_done_cb cb,
                     void *ud,
                     dsg_http_req **out) {
  dsg_http_req *req = NULL;
  const char *const *h;
  int rc;

  *out = NULL;
  rc = check_opts(set, opts);
  if (rc != 0)
    return rc;
  rc = SAM_ENOMEM;
  req = calloc(1, sizeof(*req));
  if (req == NULL)
    goto fail;
  req->http = http;
  req->set = set;
  req->cb = cb;
  req->ud = ud;
  req->rl_limit = req->rl_remaining = req->rl_reset = -1;
  req->bl_limit = req->bl_remaining = req->retry_after = -1;
  req->body_len = opts->body_len;
  req->body = malloc(opts->body_len + 1);
  if (req->body == NULL)
    goto fail;
  if (opts->body_len > 0)
    memcpy(req->body, opts->body, opts->body_len);
  req->body[opts->body_len] = '\0';
  for (h = opts->headers; h != NULL && *h != NULL; h++) {
    rc = append_header(&req->headers, *h);
    if (rc != 0)
      goto fail;
  }
  /* No "Expect: 100-continue" round trip on POST bodies. */
  rc = append_header(&req->headers, "Expect:");
  if (rc != 0)
    goto fail;
  if (opts->bearer_token != NULL || opts->basic_user != NULL) {
    rc = append_auth(req, opts);
    if (rc != 0)
      goto fail;
  }
  rc = SAM_ENOMEM;
  req->easy = curl_easy_init();
  if (req->easy == NULL)
    goto fail;
  rc = easy_setup(req, opts);
  if (rc != 0)
    goto fail;
  *out = req;
  return 0;

fail:
  dsg_http_req_free(req);
  return rc;
}

void dsg_http_req_response(const dsg_http_req *req, dsg_http_resp *resp) {
  memset(resp, 0, sizeof(*resp));
  resp->status = req->status;
  resp->http_status = req->status == SAM_OK ? req->http_status : 0;
  resp->body = req->resp != NULL ? req->resp : "";
  resp->body_len = req->resp_len;
  resp->content_type = req->content_type;
  resp->ratelimit_limit = req->rl_limit;
  resp->ratelimit_remaining = req->rl_remaining;
  resp->ratelimit_reset = req->rl_reset;
  resp->burstlimit_limit = req->bl_limit;
  resp->burstlimit_remaining = req->bl_remaining;
  resp->retry_after_s = req->retry_after;
  resp->tls_resumed = req->tls_resumed;
  resp->error = req->errbuf;
}
