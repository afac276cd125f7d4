/*
 * dsg_http_int.h: what dsg_http.c (the multi handle on the loop) and
 * dsg_http_easy.c (one request's easy handle) share. Not for other files.
 */
#ifndef DSG_HTTP_INT_H
#define DSG_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "dsg_http.h"
#include "dsg_http_trust.h"

#define DSG_HTTP_HEADER_VALUE_MAX 128

/* The client's settings every request reads. Owned by the client. */
typedef struct dsg_http_settings {
  char user_agent[128];
  char *ca_file; /* NULL: the system trust store */
  /* The trusted CAs, loaded off the loop (dsg_http_trust.h); NULL when the
   * TLS backend takes no store, and curl loads ca_file itself. */
  dsg_trust *trust;
  uint64_t connect_timeout_ms;
  uint64_t request_timeout_ms;
  size_t max_response;
  int debug;
  int allow_plain_http;
  dsg_http_log_fn log;
  void *log_ud;
  /* TLS sessions shared by every request of the client: a new connection
   * resumes one (no certificate chain to decode and verify on the loop;
   * OpenSSL 3.0 spent milliseconds a handshake there). NULL: none. */
  CURLSH *share;
} dsg_http_settings;

/* Where a request is: on exactly one of the client's lists. */
typedef enum {
  DSG_REQ_NEW = 0, /* being built */
  DSG_REQ_QUEUED,  /* accepted, not yet in the multi handle */
  DSG_REQ_ACTIVE,  /* in the multi handle */
  DSG_REQ_DONE     /* finished; its callback not yet delivered */
} dsg_http_req_state;

struct dsg_http_req {
  dsg_http_req *next;
  dsg_http_req *prev;
  dsg_http *http;
  const dsg_http_settings *set; /* the client's; outlives the request */
  dsg_http_req_state state;
  CURL *easy;
  struct curl_slist *headers;
  char *body; /* request body copy, wiped on free */
  size_t body_len;
  dsg_http_done_cb cb;
  void *ud;
  int status;       /* SAM_E* once done */
  int local_status; /* failure noted inside a curl callback, acted on later */
  long http_status;
  int tls_resumed; /* the connection's TLS session was a resumed one */
  char *resp;      /* response body */
  size_t resp_len;
  size_t resp_cap;
  int too_big;
  char content_type[DSG_HTTP_HEADER_VALUE_MAX];
  int64_t rl_limit;
  int64_t rl_remaining;
  int64_t rl_reset;
  int64_t bl_limit;
  int64_t bl_remaining;
  int64_t retry_after;
  char errbuf[CURL_ERROR_SIZE];
};


/*
 * Logs one line through the client's log function (bounded to 512 bytes).
 * Thread: loop thread. Never pass header values or bodies.
 */
void dsg_http_logf(const dsg_http_settings *set,
                   int level,
                   const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

/*
 * Builds a request and its easy handle (every option checked), in state
 * DSG_REQ_NEW, not yet on any list.
 *
 * Thread:    loop thread; libcurl only, no uv call.
 * Ownership: opts is copied (the body and credentials into buffers wiped on
 *            free); *out is freed with dsg_http_req_free.
 * Returns:   0, SAM_EINVAL for bad options, SAM_ENOMEM, or a curl option
 *            failure as SAM_E*.
 */
int dsg_http_req_new(dsg_http *http,
                     const dsg_http_settings *set,
                     const dsg_http_req_opts *opts,
                     dsg_http_done_cb cb,
                     void *ud,
                     dsg_http_req **out);

/* Cleans up the easy handle (if any) and wipes and frees everything.
 * NULL-safe. The request must not be in the multi handle. */
void dsg_http_req_free(dsg_http_req *req);

/* Fills `resp` from a finished request; resp borrows req's buffers. */
void dsg_http_req_response(const dsg_http_req *req, dsg_http_resp *resp);

#endif /* DSG_HTTP_INT_H */
