/*
 * test-review-core.c: regression tests for bugs found in review of the host
 * core, with the in-test plugin "tp" (test-core-common.c) on the test host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-core-common.h"

#define ACCESS "eyJ0eXAi.access-AAAA-1111"
#define REFRESH "rt-BBBB-2222-refresh"

/* ABI.md 9.7 lets a plugin keep its tokens as ONE secret, a JSON document.
 * Redaction knew only the whole document, so a token copied out of it was
 * not a known value and reached the logs in clear. The credential members
 * are known values too; other members (state, scope) stay readable. */
static void test_tokens_inside_json_secret(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_runtime *rt;
  char err[256];
  const char *in;
  char *out;

  tp_setup(&loop, &th, NULL);
  EXPECT_EQ_INT(0, tp_load(th, NULL, 0, err, sizeof(err)));
  rt = sam_test_host_runtime(th);
  EXPECT_EQ_INT(0, sam_test_host_set_secret(
                       th, "p1", "oauth_tokens",
                       "{\"access_token\":\"" ACCESS
                       "\",\"refresh_token\":\"" REFRESH
                       "\",\"expires_at\":1,\"scope\":\"signature extended\","
                       "\"state\":\"state-value-123\"}"));
  in = "token " ACCESS " then " REFRESH
       " end; scope signature extended state-value-123";
  out = sam_runtime_redact(rt, in, strlen(in));
  EXPECT_TRUE(out != NULL);
  EXPECT_NOT_CONTAINS(out, "access-AAAA");
  EXPECT_NOT_CONTAINS(out, "BBBB-2222");
  EXPECT_CONTAINS(out, "token [redacted] then [redacted] end");
  EXPECT_CONTAINS(out, "signature extended state-value-123");
  free(out);
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(test_tokens_inside_json_secret);
  return 0;
}
