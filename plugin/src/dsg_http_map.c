/*
 * dsg_http_map.c: translation at the edge (STYLE.md "Errors and cleanup").
 * Every libcurl, libuv and HTTP status becomes a SAM_E* here and nowhere
 * else, and the curl debug trace is redacted here.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sam/sam_plugin.h"

#include "dsg_http.h"

/* ---- status translation ---- */

int dsg_status_from_curl(CURLcode code) {
  switch (code) {
  case CURLE_OK:
    return SAM_OK;
  case CURLE_OUT_OF_MEMORY:
    return SAM_ENOMEM;
  case CURLE_OPERATION_TIMEDOUT:
    return SAM_ETIMEDOUT;
  case CURLE_ABORTED_BY_CALLBACK:
    return SAM_ECANCELED;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_BAD_FUNCTION_ARGUMENT:
  case CURLE_UNKNOWN_OPTION:
    return SAM_EINVAL;
  case CURLE_NOT_BUILT_IN:
  case CURLE_FUNCTION_NOT_FOUND:
    return SAM_ENOTSUP;
  /* Transient network trouble: the caller may retry later. */
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
    return SAM_EAGAIN;
  /* The peer answered something that is not a complete HTTP response. */
  case CURLE_PARTIAL_FILE:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_BAD_CONTENT_ENCODING:
  case CURLE_TOO_MANY_REDIRECTS:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return SAM_EPROTO;
  case CURLE_WRITE_ERROR:
  case CURLE_READ_ERROR:
    return SAM_EIO;
  /* TLS: certificate or handshake failures are not retried blindly. */
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return SAM_EREMOTE;
  default:
    return SAM_EREMOTE;
  }
}

int dsg_status_from_curlm(CURLMcode code) {
  switch (code) {
  case CURLM_OK:
    return SAM_OK;
  case CURLM_OUT_OF_MEMORY:
    return SAM_ENOMEM;
  case CURLM_BAD_HANDLE:
  case CURLM_BAD_EASY_HANDLE:
  case CURLM_BAD_SOCKET:
  case CURLM_UNKNOWN_OPTION:
  case CURLM_ADDED_ALREADY:
    return SAM_EINVAL;
  case CURLM_RECURSIVE_API_CALL:
    return SAM_EBUSY;
  default:
    return SAM_EIO;
  }
}

int dsg_status_from_uv(int uv_err) {
  if (uv_err >= 0)
    return SAM_OK;
  switch (uv_err) {
  case UV_ENOMEM:
  case UV_ENOBUFS:
    return SAM_ENOMEM;
  case UV_EINVAL:
  case UV_EBADF:
    return SAM_EINVAL;
  case UV_ECANCELED:
    return SAM_ECANCELED;
  case UV_ETIMEDOUT:
    return SAM_ETIMEDOUT;
  case UV_EBUSY:
  case UV_EEXIST:
    return SAM_EBUSY;
  case UV_EAGAIN:
  case UV_ECONNREFUSED:
  case UV_ECONNRESET:
  case UV_ECONNABORTED:
  case UV_EPIPE:
  case UV_ENETUNREACH:
  case UV_EHOSTUNREACH:
  case UV_EAI_AGAIN:
    return SAM_EAGAIN;
  case UV_ENOTSUP:
  case UV_ENOSYS:
    return SAM_ENOTSUP;
  case UV_ENOENT:
    return SAM_ENOENT;
  default:
    return SAM_EIO;
  }
}

int dsg_status_from_http(long http_status) {
  if (http_status >= 200 && http_status <= 299)
    return SAM_OK;
  switch (http_status) {
  case 401:
  case 403:
    return SAM_EAUTH;
  case 404:
    return SAM_ENOENT;
  case 408:
  case 504:
    return SAM_ETIMEDOUT;
  case 409:
    return SAM_ECONFLICT;
  case 429:
  case 503:
    return SAM_EAGAIN;
  default:
    break;
  }
  if (http_status >= 400 && http_status <= 599)
    return SAM_EREMOTE;
  return SAM_EPROTO; /* 1xx left over, 3xx (never followed), nonsense */
}

/* ---- debug trace redaction ---- */

/* Case-insensitive search for `needle` in data[0..size). */
static const char *find_ci(const char *data, size_t size, const char *needle) {
  size_t n = strlen(needle);
  size_t i;
  size_t j;

  if (n == 0 || size < n)
    return NULL;
  for (i = 0; i + n <= size; i++) {
    for (j = 0; j < n; j++) {
      if (tolower((unsigned char)data[i + j]) !=
          tolower((unsigned char)needle[j]))
        break;
    }
    if (j == n)
      return data + i;
  }
  return NULL;
}

/* Copies one text chunk into out, cutting it at the first credential
 * marker, and replaces control characters so a line stays one line. */
static size_t
format_text(const char *data, size_t size, char *out, size_t out_len) {
  static const char *const markers[] = {
      "authorization", "bearer ",       "basic ",       "access_token",
      "refresh_token", "client_secret", "code_verifier"};
  size_t keep = size;
  size_t i;
  size_t w = 0;
  int cut = 0;

  for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
    const char *m = find_ci(data, size, markers[i]);
    if (m != NULL && (size_t)(m - data) < keep) {
      keep = (size_t)(m - data) + strlen(markers[i]);
      cut = 1;
    }
  }
  while (keep > 0 && (data[keep - 1] == '\n' || data[keep - 1] == '\r'))
    keep--;
  for (i = 0; i < keep && w + 1 < out_len; i++) {
    unsigned char c = (unsigned char)data[i];
    out[w++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
  }
  if (cut) {
    static const char red[] = " [redacted]";
    for (i = 0; red[i] != '\0' && w + 1 < out_len; i++)
      out[w++] = red[i];
  }
  out[w] = '\0';
  return w;
}

size_t dsg_http_trace_format(curl_infotype type,
                             const char *data,
                             size_t size,
                             char *out,
                             size_t out_len) {
  int n;

  if (out == NULL || out_len == 0)
    return 0;
  out[0] = '\0';
  switch (type) {
  case CURLINFO_TEXT:
    if (data == NULL || size == 0)
      return 0;
    return format_text(data, size, out, out_len);
  /* Headers carry Authorization and cookies; bodies carry tokens. Only the
   * size is worth a trace line. */
  case CURLINFO_HEADER_IN:
    n = snprintf(out, out_len, "< header data dropped [%zu bytes]", size);
    break;
  case CURLINFO_HEADER_OUT:
    n = snprintf(out, out_len, "> header data dropped [%zu bytes]", size);
    break;
  case CURLINFO_DATA_IN:
    n = snprintf(out, out_len, "< body data dropped [%zu bytes]", size);
    break;
  case CURLINFO_DATA_OUT:
    n = snprintf(out, out_len, "> body data dropped [%zu bytes]", size);
    break;
  default: /* TLS records: nothing useful and nothing safe */
    return 0;
  }
  if (n < 0)
    return 0;
  return (size_t)n < out_len ? (size_t)n : out_len - 1;
}
