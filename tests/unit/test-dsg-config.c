/*
 * test-dsg-config.c: the plugin's config_json parsing and the Instance URL
 * check, including the ugly cases (garbage, wrong types, unknown fields).
 */
#include <string.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#include "dsg_config.h"

static int parse(const char *json, dsg_config *cfg, char *err, size_t n) {
  err[0] = '\0';
  return dsg_config_parse(json, json != NULL ? strlen(json) : 0, cfg, err, n);
}

static void test_defaults(void) {
  dsg_config cfg;
  char err[256];

  EXPECT_EQ_INT(0, parse(NULL, &cfg, err, sizeof(err)));
  EXPECT_TRUE(cfg.ca_file == NULL);
  EXPECT_EQ_INT(0, cfg.http_debug);
  EXPECT_EQ_INT(0, cfg.test_mode);
  EXPECT_EQ_U64(10000, cfg.connect_timeout_ms);
  EXPECT_EQ_U64(60000, cfg.request_timeout_ms);
  EXPECT_EQ_U64(16u * 1024u * 1024u, cfg.max_response_bytes);
  EXPECT_EQ_INT(6, cfg.max_host_connections);
  dsg_config_free(&cfg);
  EXPECT_EQ_INT(0, parse("", &cfg, err, sizeof(err)));
  dsg_config_free(&cfg);
  EXPECT_EQ_INT(0, parse("  {}\n", &cfg, err, sizeof(err)));
  dsg_config_free(&cfg);
}

static void test_all_fields(void) {
  dsg_config cfg;
  char err[256];

  EXPECT_EQ_INT(0, parse("{\"ca_file\":\"/tmp/ca.pem\",\"http_debug\":true,"
                         "\"test_mode\":true,\"connect_timeout_ms\":5,"
                         "\"request_timeout_ms\":700,"
                         "\"max_response_bytes\":2048,"
                         "\"max_host_connections\":2}",
                         &cfg, err, sizeof(err)));
  EXPECT_EQ_STR("/tmp/ca.pem", cfg.ca_file);
  EXPECT_EQ_INT(1, cfg.http_debug);
  EXPECT_EQ_INT(1, cfg.test_mode);
  EXPECT_EQ_U64(5, cfg.connect_timeout_ms);
  EXPECT_EQ_U64(700, cfg.request_timeout_ms);
  EXPECT_EQ_U64(2048, cfg.max_response_bytes);
  EXPECT_EQ_INT(2, cfg.max_host_connections);
  dsg_config_free(&cfg);
  dsg_config_free(&cfg); /* idempotent */
}

/* Each bad config fails with SAM_EINVAL and a message naming the field and
 * the bracketed value. */
static void expect_bad(const char *json, const char *frag1, const char *frag2) {
  dsg_config cfg;
  char err[256];

  EXPECT_EQ_INT(SAM_EINVAL, parse(json, &cfg, err, sizeof(err)));
  EXPECT_CONTAINS(err, frag1);
  if (frag2 != NULL)
    EXPECT_CONTAINS(err, frag2);
  dsg_config_free(&cfg);
}

static void test_errors(void) {
  expect_bad("{", "not valid JSON", NULL);
  expect_bad("{\"test_mode\":true} x", "not valid JSON", "trailing");
  expect_bad("[1,2]", "must be a JSON object", "[array]");
  expect_bad("{\"tets_mode\":true}", "unknown config field [tets_mode]", NULL);
  expect_bad("{\"test_mode\":\"yes\"}", "[test_mode]", "[\"yes\"]");
  expect_bad("{\"http_debug\":1}", "[http_debug]", "[1]");
  expect_bad("{\"connect_timeout_ms\":0}", "[connect_timeout_ms]", "[0]");
  expect_bad("{\"connect_timeout_ms\":\"10\"}", "[connect_timeout_ms]",
             "[\"10\"]");
  expect_bad("{\"request_timeout_ms\":1.5}", "[request_timeout_ms]", "[1.5]");
  expect_bad("{\"max_response_bytes\":10}", "[max_response_bytes]", "[10]");
  expect_bad("{\"max_host_connections\":65}", "[max_host_connections]", "[65]");
  expect_bad("{\"max_host_connections\":-1}", "[max_host_connections]", "[-1]");
  expect_bad("{\"ca_file\":\"\"}", "[ca_file]", "[\"\"]");
  expect_bad("{\"ca_file\":42}", "[ca_file]", "[42]");
}

/* A ca_file set twice, then an error: no leak (ASan checks), no crash. */
static void test_error_after_string(void) {
  expect_bad("{\"ca_file\":\"/a\",\"ca_file\":\"/b\",\"bogus\":1}", "[bogus]",
             NULL);
}

static void test_instance_url(void) {
  char err[256];

  EXPECT_EQ_INT(0, dsg_check_instance_url("https://account.docusign.com", 0,
                                          err, sizeof(err)));
  EXPECT_EQ_INT(0, dsg_check_instance_url("https://account-d.docusign.com/", 0,
                                          err, sizeof(err)));
  EXPECT_EQ_INT(
      0, dsg_check_instance_url("http://127.0.0.1:8443", 1, err, sizeof(err)));
  EXPECT_EQ_INT(
      0, dsg_check_instance_url("https://localhost:1", 1, err, sizeof(err)));
  EXPECT_EQ_INT(0,
                dsg_check_instance_url("http://[::1]:80", 1, err, sizeof(err)));

  EXPECT_EQ_INT(SAM_EINVAL, dsg_check_instance_url("http://127.0.0.1:8443", 0,
                                                   err, sizeof(err)));
  EXPECT_CONTAINS(err, "instance_url");
  EXPECT_CONTAINS(err, "test mode");
  EXPECT_CONTAINS(err, "[http://127.0.0.1:8443]");
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_check_instance_url("http://account.docusign.com", 1, err,
                                       sizeof(err)));
  EXPECT_CONTAINS(err, "must use https");
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_check_instance_url("ftp://x", 1, err, sizeof(err)));
  EXPECT_CONTAINS(err, "instance_url");
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_check_instance_url("https://account.docusign.com/oauth", 0,
                                       err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_check_instance_url("https://u@account.docusign.com", 0, err,
                                       sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_check_instance_url("https://account.docusign.com?x=1", 0,
                                       err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_check_instance_url("", 0, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_check_instance_url(NULL, 0, err, sizeof(err)));
  EXPECT_CONTAINS(err, "instance_url is required");
  /* 127.0.0.10 is not loopback by name: https needed, so http fails. */
  EXPECT_EQ_INT(SAM_EINVAL, dsg_check_instance_url("http://127.0.0.10:1", 1,
                                                   err, sizeof(err)));
}

int main(void) {
  SAM_T_RUN(test_defaults);
  SAM_T_RUN(test_all_fields);
  SAM_T_RUN(test_errors);
  SAM_T_RUN(test_error_after_string);
  SAM_T_RUN(test_instance_url);
  return 0;
}
