/*
 * test-dsg-reclaim-check.c: the pure decisions of the Reclaim process
 * (dsg_reclaim_check.c): the re-check of a live DocuSign user against the
 * stored subscription, and the reading of a DELETE users reply (A9, A10),
 * including the ugly cases: errorDetails, a user missing from the reply,
 * no users array, garbage.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dsg_candidates.h"
#include "dsg_exclusions.h"
#include "dsg_reclaim_check.h"
#include "dsg_reclaim_util.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

#define UID "7e57a000-0000-4000-8000-000000000003"

static json_object *sub(void) {
  return json_tokener_parse(
      "{\"external_user_id\":\"" UID "\",\"user_principal_name\":"
      "\"Quiet.Sender@Reclaim.Example.com\",\"subscription_identifier\":"
      "\"Professional\",\"state\":\"active\",\"active\":true}");
}

/* A live user: Active Professional sender added 200 days before `now`. */
static json_object *user(const char *extra_key, const char *extra_val) {
  json_object *u = json_tokener_parse(
      "{\"userId\":\"" UID "\",\"email\":\"quiet.sender@reclaim.example.com\","
      "\"userStatus\":\"Active\",\"isAdmin\":\"False\",\"licenseType\":"
      "\"Professional\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"userAddedToAccountDateTime\":\"2026-05-12T10:00:00.0000000Z\"}");

  if (extra_key != NULL)
    json_object_object_add(u, extra_key, json_object_new_string(extra_val));
  return u;
}

static dsg_recheck check(json_object *u,
                         const dsg_exclusions *ex,
                         int64_t now,
                         char *why,
                         size_t len) {
  dsg_rule_view rule;
  json_object *s = sub();
  dsg_recheck v;

  memset(&rule, 0, sizeof(rule));
  rule.rule_id = "r1";
  rule.active = 1;
  rule.threshold_days = 60;
  v = dsg_reclaim_recheck(u, s, &rule, "integ-user", ex, now, why, len);
  printf("  %d %s\n", (int)v, why);
  json_object_put(s);
  json_object_put(u);
  return v;
}

static void test_recheck(void) {
  /* 2026-11-28T12:00:00Z */
  int64_t now = 1795867200;
  char why[700];
  json_object *ids, *urs;
  dsg_exclusions *ex = NULL;

  EXPECT_EQ_INT(DSG_RECHECK_CLOSE,
                check(user(NULL, NULL), NULL, now, why, sizeof(why)));
  EXPECT_EQ_INT(DSG_RECHECK_CLOSE, check(user("userStatus", "ActivationSent"),
                                         NULL, now, why, sizeof(why)));
  EXPECT_EQ_INT(DSG_RECHECK_ALREADY_CLOSED, check(user("userStatus", "Closed"),
                                                  NULL, now, why, sizeof(why)));
  EXPECT_EQ_INT(DSG_RECHECK_SKIP, check(user("userStatus", "Disabled"), NULL,
                                        now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "[userStatus=Disabled]");
  /* A8: any case of "true" */
  EXPECT_EQ_INT(DSG_RECHECK_SKIP,
                check(user("isAdmin", "true"), NULL, now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "administrator");
  EXPECT_EQ_INT(DSG_RECHECK_SKIP,
                check(user("userId", "7e57a000-0000-4000-8000-000000000009"),
                      NULL, now, why, sizeof(why)));
  EXPECT_EQ_INT(DSG_RECHECK_SKIP, check(user("licenseType", "Viewer"), NULL,
                                        now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "[was=Professional] [now=Viewer]");
  EXPECT_EQ_INT(DSG_RECHECK_SKIP, check(user("email", "someone@else.example"),
                                        NULL, now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "e-mail changed");
  /* The integration user, compared case-insensitively. */
  {
    dsg_rule_view rule;
    json_object *s = sub();
    json_object *u = user(NULL, NULL);

    memset(&rule, 0, sizeof(rule));
    rule.threshold_days = 60;
    EXPECT_EQ_INT(DSG_RECHECK_SKIP,
                  dsg_reclaim_recheck(u, s, &rule,
                                      "7E57A000-0000-4000-8000-"
                                      "000000000003",
                                      NULL, now, why, sizeof(why)));
    EXPECT_CONTAINS(why, "integration");
    json_object_put(s);
    json_object_put(u);
  }
  /* Fresh start: added again 59 days ago cancels; exactly 60 closes. */
  EXPECT_EQ_INT(DSG_RECHECK_CANCEL, check(user("userAddedToAccountDateTime",
                                               "2026-09-30T23:59:59.0000000Z"),
                                          NULL, now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "59 days ago, threshold 60");
  EXPECT_EQ_INT(DSG_RECHECK_CLOSE, check(user("userAddedToAccountDateTime",
                                              "2026-09-29T00:00:00.0000000Z"),
                                         NULL, now, why, sizeof(why)));
  /* The placeholder date means unknown: no fresh start. */
  EXPECT_EQ_INT(DSG_RECHECK_CLOSE, check(user("userAddedToAccountDateTime",
                                              "0001-01-01T08:00:00.0000000Z"),
                                         NULL, now, why, sizeof(why)));
  /* An exclusion added after the download. */
  ids = json_object_new_array();
  urs = json_tokener_parse("[{\"rule_id\":\"x1\",\"domain\":"
                           "\"reclaim.example.com\",\"active\":true}]");
  EXPECT_EQ_INT(0, dsg_exclusions_new("docusign_subscription", ids, urs, &ex,
                                      NULL, why, sizeof(why)));
  EXPECT_EQ_INT(DSG_RECHECK_SKIP,
                check(user(NULL, NULL), ex, now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "x1");
  dsg_exclusions_free(ex);
  json_object_put(ids);
  json_object_put(urs);
}

static void test_close_reply(void) {
  json_object *reply = json_tokener_parse(
      "{\"users\":[{\"userId\":\"A\",\"userStatus\":\"Closed\"},"
      "{\"userId\":\"b\",\"errorDetails\":{\"errorCode\":"
      "\"USER_DOES_NOT_EXIST_IN_ACCOUNT\",\"message\":\"This user does not "
      "exist in this account.\"}},{\"userId\":\"C\"}],"
      "\"resultSetSize\":\"3\"}");
  char code[120], msg[500];

  EXPECT_EQ_INT(1, dsg_reclaim_close_outcome(reply, "a", code, sizeof(code),
                                             msg, sizeof(msg)));
  EXPECT_EQ_INT(0, dsg_reclaim_close_outcome(reply, "B", code, sizeof(code),
                                             msg, sizeof(msg)));
  EXPECT_EQ_STR("USER_DOES_NOT_EXIST_IN_ACCOUNT", code);
  EXPECT_CONTAINS(msg, "does not exist");
  /* A9: an echo without errorDetails is a success */
  EXPECT_EQ_INT(1, dsg_reclaim_close_outcome(reply, "C", code, sizeof(code),
                                             msg, sizeof(msg)));
  EXPECT_EQ_STR("", code);
  /* A10: missing from the reply */
  EXPECT_EQ_INT(-1, dsg_reclaim_close_outcome(reply, "D", code, sizeof(code),
                                              msg, sizeof(msg)));
  json_object_put(reply);
  /* No users array, not an object, NULL. */
  reply = json_tokener_parse("{\"errorCode\":\"INVALID_REQUEST_BODY\"}");
  EXPECT_EQ_INT(-1, dsg_reclaim_close_outcome(reply, "A", code, sizeof(code),
                                              msg, sizeof(msg)));
  json_object_put(reply);
  reply = json_tokener_parse("[1,2]");
  EXPECT_EQ_INT(-1, dsg_reclaim_close_outcome(reply, "A", code, sizeof(code),
                                              msg, sizeof(msg)));
  json_object_put(reply);
  EXPECT_EQ_INT(-1, dsg_reclaim_close_outcome(NULL, "A", code, sizeof(code),
                                              msg, sizeof(msg)));
}

static void test_candidate_key(void) {
  char a[80], b[80], c[80];

  dsg_candidate_key("p1", UID, 0, a, sizeof(a));
  dsg_candidate_key("p1", UID, 0, b, sizeof(b));
  EXPECT_EQ_STR(a, b); /* deterministic: a re-run finds the same key */
  dsg_candidate_key("p1", UID, 1, c, sizeof(c));
  EXPECT_TRUE(strcmp(a, c) != 0);
  dsg_candidate_key("p2", UID, 0, c, sizeof(c));
  EXPECT_TRUE(strcmp(a, c) != 0);
  EXPECT_EQ_INT(20, (int)strlen(a)); /* "c-" 16 hex "-0" */
  EXPECT_TRUE(strncmp(a, "c-", 2) == 0);
}

int main(void) {
  SAM_T_RUN(test_recheck);
  SAM_T_RUN(test_close_reply);
  SAM_T_RUN(test_candidate_key);
  return 0;
}
