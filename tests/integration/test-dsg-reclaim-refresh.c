/*
 * test-dsg-reclaim-refresh.c: the candidates the download opens and
 * closes for the reclaim, against the DocuSign simulator (harness:
 * test-dsg-reclaim-common.h): which users qualify (the 60-day boundary
 * included), candidates closed Skipped when users change, kept on approval,
 * and a rule that notifies users. One ctest per case:
 * test-dsg-reclaim-<case>.
 *
 *   refresh  the candidate refresh after each download: candidates only for
 *            qualifying users, none twice; promoted, excluded and removed
 *            users' candidates close Skipped; kept on approval: not
 *            flagged again until another threshold period has passed
 *   boundary assigned exactly 60 days ago qualifies, 59 not, 61 yes; the
 *            placeholder date falls back to the created date
 *   notify   a rule that notifies users: Attention Required (no user
 *            directory here), not acted on by the reclaim
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam/sam_runtime.h"
#include "sam_test.h"
#include "test-dsg-reclaim-common.h"

/* ---- cases ---- */

/* A rule that notifies users: this host has no user directory, so its
 * candidates open in Attention Required with a message saying so, and the
 * reclaim does not act on them. */
static void test_notify(void) {
  dh_run r;
  json_object *rule, *all;
  char j[2000];
  size_t i;
  int att = 0;

  rh_start();
  rule = dh_get(&rh_d, "p1", "sam_reclamation_rule",
                "docusign_assigned_60d_professional");
  EXPECT_TRUE(rule != NULL);
  json_object_object_add(rule, "notify_user", json_object_new_boolean(1));
  json_object_object_add(rule, "days_before_auto_reclamation",
                         json_object_new_int(7));
  snprintf(j, sizeof(j), "%s", json_object_to_json_string(rule));
  json_object_put(rule);
  EXPECT_EQ_INT(0, dh_put(&rh_d, "p1", "sam_reclamation_rule",
                          "docusign_assigned_60d_professional", j));
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  dh_run_free(&r);
  all = dh_records(&rh_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);

    if (strcmp(rh_js(c, "rule_id"), "docusign_assigned_60d_professional") !=
        0) {
      EXPECT_EQ_STR("ready", rh_js(c, "state"));
      continue;
    }
    att++;
    EXPECT_EQ_STR("attention_required", rh_js(c, "state"));
    EXPECT_CONTAINS(rh_js(c, "error_message"), "no user directory");
  }
  EXPECT_TRUE(att >= 2);
  json_object_put(all);
  /* The reclaim acts on the Ready ones only. */
  oh_stats_reset(&rh_d.h);
  rh_reclaim(SAM_JOB_DRY_RUN, "{\"cap\":10}", &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_EQ_INT(5 - att, rh_count(&r, "considered"));
  dh_run_free(&r);
  dh_finish(&rh_d);
}

/* Threshold boundaries through the simulator (relative dates of an
 * account file written here): assigned exactly 60 days ago qualifies, 59
 * does not, 61 does; a placeholder added date falls back to the created
 * date on both sides of the boundary. Days are whole UTC calendar days
 * (the unit tests cover explicit offsets). */
static void test_boundary(void) {
  static const char *const acct =
      "{\"integrationUser\":\"b0000000-0000-4000-8000-000000000001\","
      "\"users\":["
      "{\"userId\":\"b0000000-0000-4000-8000-000000000001\",\"email\":"
      "\"integ@b.example\",\"userStatus\":\"Active\",\"isAdmin\":\"True\","
      "\"permissionProfileName\":\"Account Administrator\","
      "\"createdDateTime\":\"-900d\",\"userAddedToAccountDateTime\":\"-900d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000060\",\"email\":"
      "\"sixty@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-300d\",\"userAddedToAccountDateTime\":\"-60d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000059\",\"email\":"
      "\"fiftynine@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-300d\",\"userAddedToAccountDateTime\":\"-59d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000061\",\"email\":"
      "\"sixtyone@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-300d\",\"userAddedToAccountDateTime\":\"-61d\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000159\",\"email\":"
      "\"ph59@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-59d\",\"userAddedToAccountDateTime\":"
      "\"0001-01-01T08:00:00.0000000Z\"},"
      "{\"userId\":\"b0000000-0000-4000-8000-000000000160\",\"email\":"
      "\"ph60@b.example\",\"userStatus\":\"Active\",\"licenseType\":"
      "\"Sender\",\"permissionProfileName\":\"DocuSign Sender\","
      "\"createdDateTime\":\"-60d\",\"userAddedToAccountDateTime\":"
      "\"0001-01-01T08:00:00.0000000Z\"}]}";
  char file[128];
  const char *args[] = {"--account", file, NULL};
  dh_run r;
  json_object *all;
  FILE *f;
  size_t i;
  int hits = 0;

  snprintf(file, sizeof(file), "/tmp/test-dsg-reclaim-boundary-%ld.json",
           (long)getpid());
  f = fopen(file, "w");
  EXPECT_TRUE(f != NULL);
  EXPECT_TRUE(fputs(acct, f) >= 0);
  EXPECT_EQ_INT(0, fclose(f));
  dh_start(&rh_d, args, NULL);
  unlink(file);
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  dh_run_free(&r);
  all = dh_records(&rh_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);
    const char *uid = rh_js(c, "external_user_id");

    printf("  candidate %s %s\n", uid, rh_js(c, "reason"));
    if (strcmp(uid, "b0000000-0000-4000-8000-000000000060") == 0) {
      EXPECT_CONTAINS(rh_js(c, "reason"), "60 days ago, threshold 60");
      hits++;
    } else if (strcmp(uid, "b0000000-0000-4000-8000-000000000061") == 0) {
      EXPECT_CONTAINS(rh_js(c, "reason"), "61 days ago, threshold 60");
      hits++;
    } else if (strcmp(uid, "b0000000-0000-4000-8000-000000000160") == 0) {
      EXPECT_CONTAINS(rh_js(c, "reason"), "60 days ago, threshold 60");
      hits++;
    } else {
      SAM_T_FAIL("unexpected candidate [%s]", uid);
    }
  }
  EXPECT_EQ_INT(3, hits);
  json_object_put(all);
  dh_finish(&rh_d);
}

/* Closes uid's open candidate as kept on approval (Awaiting Approval ->
 * Closed Skipped) `days_ago` days ago, as the approval flow would. */
static void keep_on_approval(const char *uid, int days_ago) {
  json_object *all = dh_records(&rh_d, "p1", "sam_candidate");
  json_object *h = NULL, *e;
  char at[32];
  size_t i;
  int done = 0;

  rh_iso_days_ago(days_ago, at, sizeof(at));
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);

    if (strcmp(rh_js(c, "external_user_id"), uid) != 0 ||
        strcmp(rh_js(c, "open"), "true") != 0)
      continue;
    json_object_object_add(c, "state",
                           json_object_new_string("closed_skipped"));
    json_object_object_add(c, "open", json_object_new_boolean(0));
    json_object_object_add(c, "closed_at", json_object_new_string(at));
    EXPECT_TRUE(json_object_object_get_ex(c, "history", &h));
    e = json_object_new_object();
    json_object_object_add(e, "at", json_object_new_string(at));
    json_object_object_add(e, "from",
                           json_object_new_string("awaiting_approval"));
    json_object_object_add(e, "to", json_object_new_string("closed_skipped"));
    json_object_object_add(e, "actor", json_object_new_string("approver"));
    json_object_object_add(e, "reason", json_object_new_string("kept"));
    json_object_array_add(h, e);
    EXPECT_EQ_INT(0,
                  dh_put(&rh_d, "p1", "sam_candidate", rh_js(c, "candidate_id"),
                         json_object_to_json_string(c)));
    done = 1;
  }
  EXPECT_TRUE(done);
  json_object_put(all);
}

static void test_refresh(void) {
  static const char *const want[] = {U("02"), U("03"), U("04"), U("06"),
                                     U("12")};
  dh_run r;
  json_object *all;
  char path[200];
  size_t i, k;
  int found = 0;

  rh_start();
  /* a price for one model: its candidates carry the potential savings */
  EXPECT_EQ_INT(0, dh_put(&rh_d, "p1", "sam_entitlement", "e1",
                          "{\"entitlement_id\":\"e1\",\"software_model\":"
                          "\"Professional\",\"seats\":10,\"unit_cost\":456,"
                          "\"currency\":\"USD\"}"));
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":5,");
  dh_run_free(&r);
  all = dh_records(&rh_d, "p1", "sam_candidate");
  /* Only users assigned >= 60 days ago; never the integration user, the
   * admins, new users, Closed/Disabled ones, a custom (unrecognized)
   * identifier or a user whose dates are all unknown. The placeholder
   * added date falls back to the created date (500 days). */
  EXPECT_EQ_INT(5, json_object_array_length(all));
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);
    const char *uid = rh_js(c, "external_user_id");

    printf("  candidate %s %s %s\n", uid, rh_js(c, "state"),
           rh_js(c, "reason"));
    for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
      found += strcmp(uid, want[k]) == 0;
    EXPECT_EQ_STR("ready", rh_js(c, "state"));
    EXPECT_EQ_STR("Low Usage", rh_js(c, "justification"));
    EXPECT_CONTAINS(rh_js(c, "reason"), "days ago, threshold 60");
    if (strcmp(rh_js(c, "software_model"), "Professional") == 0) {
      EXPECT_EQ_STR("456.0", rh_js(c, "potential_savings"));
      EXPECT_EQ_STR("USD", rh_js(c, "currency"));
    } else {
      EXPECT_TRUE(rh_js(c, "potential_savings") == NULL); /* null */
    }
  }
  EXPECT_EQ_INT(5, found);
  json_object_put(all);

  /* A second download opens no second candidate. */
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":0,"
                            "\"closed_skipped\":0,\"open_total\":5}");
  dh_run_free(&r);

  /* Then Quiet Sender is promoted, Never Sent excluded, Only Viewer
   * removed: their open candidates close Skipped with the reason. */
  snprintf(path, sizeof(path), "users/%s", QUIET);
  rh_sim_post(path, "{\"isAdmin\":\"True\"}");
  rh_sim_post("users/remove", "{\"userIds\":[\"" VIEWER "\"]}");
  EXPECT_EQ_INT(0, dh_put(&rh_d, "_host", "sam_exclusion_user", "x1",
                          "{\"rule_id\":\"x1\",\"user_principal_name\":"
                          "\"never.sent@reclaim.example.com\","
                          "\"active\":true}"));
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":0,"
                            "\"closed_skipped\":3,\"open_total\":2}");
  dh_run_free(&r);
  all = dh_records(&rh_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);
    const char *uid = rh_js(c, "external_user_id");
    const char *h = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);

    if (strcmp(uid, QUIET) == 0) {
      EXPECT_EQ_STR("closed_skipped", rh_js(c, "state"));
      EXPECT_CONTAINS(h, "administrator");
      EXPECT_CONTAINS(h, "\"actor\":\"download\"");
    } else if (strcmp(uid, NEVER) == 0) {
      EXPECT_EQ_STR("closed_skipped", rh_js(c, "state"));
      EXPECT_CONTAINS(h, "x1");
    } else if (strcmp(uid, VIEWER) == 0) {
      EXPECT_EQ_STR("closed_skipped", rh_js(c, "state"));
    } else {
      EXPECT_EQ_STR("ready", rh_js(c, "state"));
    }
  }
  json_object_put(all);

  /* Kept on approval: today (not flagged again) and 61 days ago (another
   * threshold period passed: flagged again, a new generation). */
  keep_on_approval(U("02"), 0);
  keep_on_approval(U("12"), 61);
  dh_download(&rh_d, NULL, NULL, &r);
  EXPECT_CONTAINS(r.result, "\"candidates\":{\"created\":1,"
                            "\"closed_skipped\":0,\"open_total\":1}");
  dh_run_free(&r);
  all = dh_records(&rh_d, "p1", "sam_candidate");
  for (i = 0; i < json_object_array_length(all); i++) {
    json_object *c = json_object_array_get_idx(all, i);

    if (strcmp(rh_js(c, "open"), "true") != 0)
      continue;
    EXPECT_EQ_STR(U("12"), rh_js(c, "external_user_id"));
    EXPECT_TRUE(strstr(rh_js(c, "candidate_id"), "-1") != NULL);
  }
  json_object_put(all);
  dh_finish(&rh_d);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "refresh";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "notify") == 0)
    SAM_T_RUN(test_notify);
  else if (strcmp(c, "boundary") == 0)
    SAM_T_RUN(test_boundary);
  else if (strcmp(c, "refresh") == 0)
    SAM_T_RUN(test_refresh);
  else
    SAM_T_FAIL("unknown case [%s]", c);
  return 0;
}
