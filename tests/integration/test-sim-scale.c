/*
 * test-sim-scale.c: a million generated users. Prints the load time and
 * resident memory the simulator reports (no timing is asserted), checks the
 * memory stays under 1 GB and that the last page is served.
 */
#include "sam_test.h"
#include "sim/sim_child.h"

#include <curl/curl.h>

int main(void) {
  const char *args[] = {"--users",
                        "1000000",
                        "--seed",
                        "5",
                        "--auto-consent",
                        "--redirect-uri",
                        "http://127.0.0.1:9/cb",
                        NULL};
  sim_child s;
  char at[256], rt[256], bearer[300], url[512];
  sim_resp r;
  json_object *o;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  EXPECT_EQ_INT(0, sim_child_start(&s, SIM_EXE, args));
  printf("docusign-sim: 1000000 users loaded in %.1f ms, rss %.1f MB\n",
         s.load_ms, (double)s.rss_kb / 1024.0);
  EXPECT_EQ_INT(1000000, s.users);
  EXPECT_TRUE(s.rss_kb < 1024L * 1024L);
  EXPECT_EQ_INT(0, sim_child_login(s.http, "sim-integration-key", "sim-secret",
                                   "http://127.0.0.1:9/cb", NULL, at,
                                   sizeof(at), rt, sizeof(rt)));
  snprintf(bearer, sizeof(bearer), "Bearer %s", at);
  snprintf(url, sizeof(url),
           "%s/users?count=100&start_position=999950&additional_info=true",
           s.rest);
  sim_http("GET", url, bearer, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(200, r.status);
  o = sim_resp_json(&r);
  EXPECT_EQ_STR("50", sim_jstr(o, "resultSetSize"));
  EXPECT_EQ_STR("1000000", sim_jstr(o, "totalSetSize"));
  json_object_put(o);
  sim_resp_free(&r);
  EXPECT_EQ_INT(0, sim_child_stop(&s));
  curl_global_cleanup();
  printf("ok test-sim-scale\n");
  return 0;
}
