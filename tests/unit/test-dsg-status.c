/*
 * test-dsg-status.c: translation at the edge (curl, curl multi, libuv and
 * HTTP status to SAM_E*), redaction of the curl debug trace, and bounded log
 * formatting.
 */
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#include "dsg_http.h"
#include "dsg_log.h"

static void test_curl(void) {
  EXPECT_EQ_INT(SAM_OK, dsg_status_from_curl(CURLE_OK));
  EXPECT_EQ_INT(SAM_ETIMEDOUT, dsg_status_from_curl(CURLE_OPERATION_TIMEDOUT));
  EXPECT_EQ_INT(SAM_ENOMEM, dsg_status_from_curl(CURLE_OUT_OF_MEMORY));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_curl(CURLE_COULDNT_CONNECT));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_curl(CURLE_COULDNT_RESOLVE_HOST));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_curl(CURLE_RECV_ERROR));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_curl(CURLE_GOT_NOTHING));
  EXPECT_EQ_INT(SAM_EPROTO, dsg_status_from_curl(CURLE_PARTIAL_FILE));
  EXPECT_EQ_INT(SAM_EPROTO, dsg_status_from_curl(CURLE_WEIRD_SERVER_REPLY));
  EXPECT_EQ_INT(SAM_EREMOTE,
                dsg_status_from_curl(CURLE_PEER_FAILED_VERIFICATION));
  EXPECT_EQ_INT(SAM_EREMOTE, dsg_status_from_curl(CURLE_SSL_CONNECT_ERROR));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_status_from_curl(CURLE_URL_MALFORMAT));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_status_from_curl(CURLE_UNSUPPORTED_PROTOCOL));
  EXPECT_EQ_INT(SAM_ECANCELED, dsg_status_from_curl(CURLE_ABORTED_BY_CALLBACK));
  EXPECT_EQ_INT(SAM_EIO, dsg_status_from_curl(CURLE_WRITE_ERROR));
  EXPECT_EQ_INT(SAM_EREMOTE, dsg_status_from_curl((CURLcode)9999));
}

static void test_curlm(void) {
  EXPECT_EQ_INT(SAM_OK, dsg_status_from_curlm(CURLM_OK));
  EXPECT_EQ_INT(SAM_ENOMEM, dsg_status_from_curlm(CURLM_OUT_OF_MEMORY));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_status_from_curlm(CURLM_BAD_EASY_HANDLE));
  EXPECT_EQ_INT(SAM_EBUSY, dsg_status_from_curlm(CURLM_RECURSIVE_API_CALL));
  EXPECT_EQ_INT(SAM_EIO, dsg_status_from_curlm(CURLM_INTERNAL_ERROR));
}

static void test_uv(void) {
  EXPECT_EQ_INT(SAM_OK, dsg_status_from_uv(0));
  EXPECT_EQ_INT(SAM_ENOMEM, dsg_status_from_uv(UV_ENOMEM));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_status_from_uv(UV_EINVAL));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_status_from_uv(UV_EBADF));
  EXPECT_EQ_INT(SAM_ECANCELED, dsg_status_from_uv(UV_ECANCELED));
  EXPECT_EQ_INT(SAM_ETIMEDOUT, dsg_status_from_uv(UV_ETIMEDOUT));
  EXPECT_EQ_INT(SAM_EBUSY, dsg_status_from_uv(UV_EEXIST));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_uv(UV_ECONNRESET));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_uv(UV_ECONNREFUSED));
  EXPECT_EQ_INT(SAM_ENOTSUP, dsg_status_from_uv(UV_ENOSYS));
  EXPECT_EQ_INT(SAM_ENOENT, dsg_status_from_uv(UV_ENOENT));
  EXPECT_EQ_INT(SAM_EIO, dsg_status_from_uv(UV_EIO));
}

static void test_http(void) {
  EXPECT_EQ_INT(SAM_OK, dsg_status_from_http(200));
  EXPECT_EQ_INT(SAM_OK, dsg_status_from_http(204));
  EXPECT_EQ_INT(SAM_EAUTH, dsg_status_from_http(401));
  EXPECT_EQ_INT(SAM_EAUTH, dsg_status_from_http(403));
  EXPECT_EQ_INT(SAM_ENOENT, dsg_status_from_http(404));
  EXPECT_EQ_INT(SAM_ETIMEDOUT, dsg_status_from_http(408));
  EXPECT_EQ_INT(SAM_ECONFLICT, dsg_status_from_http(409));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_http(429));
  EXPECT_EQ_INT(SAM_EAGAIN, dsg_status_from_http(503));
  EXPECT_EQ_INT(SAM_ETIMEDOUT, dsg_status_from_http(504));
  EXPECT_EQ_INT(SAM_EREMOTE, dsg_status_from_http(400));
  EXPECT_EQ_INT(SAM_EREMOTE, dsg_status_from_http(500));
  EXPECT_EQ_INT(SAM_EPROTO, dsg_status_from_http(302));
  EXPECT_EQ_INT(SAM_EPROTO, dsg_status_from_http(0));
  EXPECT_EQ_INT(SAM_EPROTO, dsg_status_from_http(999));
}

#define TOKEN "eyJ0eXAiOiJNVCJ9.secret-token-value"

static const char *trace(curl_infotype t, const char *data) {
  static char out[256];
  size_t n = dsg_http_trace_format(t, data, strlen(data), out, sizeof(out));

  return n > 0 ? out : NULL;
}

static void test_trace_redaction(void) {
  const char *hdr = "GET /restapi HTTP/1.1\r\nHost: x\r\n"
                    "Authorization: Bearer " TOKEN "\r\n\r\n";
  const char *line;

  /* Header and body data never appear: only their size. */
  line = trace(CURLINFO_HEADER_OUT, hdr);
  EXPECT_TRUE(line != NULL);
  EXPECT_NOT_CONTAINS(line, TOKEN);
  EXPECT_NOT_CONTAINS(line, "Bearer");
  EXPECT_CONTAINS(line, "header data dropped");
  line = trace(CURLINFO_HEADER_IN, "Set-Cookie: s=" TOKEN "\r\n");
  EXPECT_NOT_CONTAINS(line, TOKEN);
  line = trace(CURLINFO_DATA_IN, "{\"access_token\":\"" TOKEN "\"}");
  EXPECT_NOT_CONTAINS(line, TOKEN);
  EXPECT_CONTAINS(line, "body data dropped");
  line =
      trace(CURLINFO_DATA_OUT, "grant_type=refresh_token&refresh_token=" TOKEN);
  EXPECT_NOT_CONTAINS(line, TOKEN);
  EXPECT_TRUE(trace(CURLINFO_SSL_DATA_IN, TOKEN) == NULL);
  EXPECT_TRUE(trace(CURLINFO_SSL_DATA_OUT, TOKEN) == NULL);

  /* Text lines are kept, but cut at any credential marker. */
  line = trace(CURLINFO_TEXT, "Connected to 127.0.0.1 port 80\n");
  EXPECT_EQ_STR("Connected to 127.0.0.1 port 80", line);
  line = trace(CURLINFO_TEXT, "Server auth using Basic with user 'x'\n");
  EXPECT_NOT_CONTAINS(line, "user 'x'");
  EXPECT_CONTAINS(line, "[redacted]");
  line = trace(CURLINFO_TEXT, "header: AUTHORIZATION: bearer " TOKEN "\n");
  EXPECT_NOT_CONTAINS(line, TOKEN);
  EXPECT_CONTAINS(line, "[redacted]");
  line = trace(CURLINFO_TEXT, "x\r\ny\n");
  EXPECT_EQ_STR("x  y", line); /* one line stays one line */

  /* A tiny buffer is never overrun. */
  {
    char small[8];
    size_t n = dsg_http_trace_format(CURLINFO_HEADER_OUT, hdr, strlen(hdr),
                                     small, sizeof(small));
    EXPECT_TRUE(n < sizeof(small));
    EXPECT_EQ_INT(strlen(small), n);
  }
}

static void test_log_format(void) {
  char buf[16];
  size_t n;

  n = dsg_log_format(buf, sizeof(buf), "a [%d]", 5);
  EXPECT_EQ_STR("a [5]", buf);
  EXPECT_EQ_INT(5, n);
  n = dsg_log_format(buf, sizeof(buf), "%s", "0123456789abcdefghij");
  EXPECT_EQ_STR("0123456789ab...", buf);
  EXPECT_EQ_INT(15, n);
}

int main(void) {
  SAM_T_RUN(test_curl);
  SAM_T_RUN(test_curlm);
  SAM_T_RUN(test_uv);
  SAM_T_RUN(test_http);
  SAM_T_RUN(test_trace_redaction);
  SAM_T_RUN(test_log_format);
  return 0;
}
