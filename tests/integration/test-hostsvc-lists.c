/*
 * test-hostsvc-lists.c: jobs, related lists (paging 2,500 subscriptions
 * with filters), list edits (exclusions, unrecognized identifiers,
 * candidate transitions) and profile deletion, through sam_hostsvc_call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "test-hostsvc.h"

void test_jobs(void) {
  char path[200];
  char job_id[64];
  int i;

  snprintf(path, sizeof(path), "/api/v1/jobs/%s:reclaim/run", pid1);
  EXPECT_EQ_INT(409, call("POST", path, NULL, "{}"));
  EXPECT_CONTAINS(last.body, "confirm");
  EXPECT_EQ_INT(400, call("POST", path, NULL, "{\"bogus\":true}"));
  EXPECT_EQ_INT(202, call("POST", path, NULL, "{\"dry_run\":true}"));
  snprintf(job_id, sizeof(job_id), "%s", jstr(last.json, "job_id"));
  snprintf(path, sizeof(path), "/api/v1/job-results/%s", job_id);
  /* The result record appears once the run has finished. */
  for (i = 0; i < 1000; i++) {
    EXPECT_TRUE(call("GET", path, NULL, NULL) == 200 || last.http == 404);
    if (last.http == 200 && jstr(last.json, "outcome") != NULL &&
        strcmp(jstr(last.json, "outcome"), "running") != 0)
      break;
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  EXPECT_EQ_STR("success", jstr(last.json, "outcome"));
  EXPECT_EQ_INT(404,
                call("POST", "/api/v1/job-results/nope/cancel", NULL, NULL));
  EXPECT_EQ_INT(404,
                call("POST", "/api/v1/jobs/nope:download/run", NULL, NULL));
  EXPECT_EQ_INT(400, call("GET", "/api/v1/jobs", "limit=5x", NULL));
  EXPECT_CONTAINS(last.body, "limit=5x");
  EXPECT_EQ_INT(400, call("GET", "/api/v1/job-results", "limit=", NULL));
  EXPECT_EQ_INT(200, call("GET", "/api/v1/jobs", "limit=5", NULL));
  /* an unknown process: the message names the ones that exist */
  snprintf(path, sizeof(path), "/api/v1/jobs/%s:nosuch/run", pid1);
  EXPECT_EQ_INT(404, call("POST", path, NULL, NULL));
  EXPECT_CONTAINS(last.body, "no such job");
  EXPECT_CONTAINS(last.body, "download");
  EXPECT_CONTAINS(last.body, "reclaim");
}

static void put_subscriptions(const char *pid, int n) {
  sam_record *recs = calloc(500, sizeof(*recs));
  char **bufs = calloc(500, sizeof(char *));
  int i, b;

  for (b = 0; b < n; b += 500) {
    int m = n - b < 500 ? n - b : 500;

    for (i = 0; i < m; i++) {
      char key[32];

      bufs[i] = malloc(600);
      snprintf(key, sizeof(key), "u%06d", b + i);
      snprintf(bufs[i], 600,
               "{\"external_user_id\":\"%s\",\"user_principal_name\":"
               "\"%s@example.com\",\"subscription_identifier\":\"%s\","
               "\"software_model\":%s,\"state\":\"active\",\"active\":%s,"
               "\"first_seen_at\":\"2026-01-01T00:00:00Z\","
               "\"last_seen_at\":\"2026-01-01T00:00:00Z\"}",
               key, key, (b + i) % 2 ? "Weird" : "Pro Seat",
               (b + i) % 2 ? "null" : "\"Pro Seat\"",
               (b + i) % 5 ? "true" : "false");
      recs[i].struct_size = sizeof(recs[i]);
      recs[i].key = strdup(key);
      recs[i].json = bufs[i];
      recs[i].json_len = strlen(bufs[i]);
    }
    EXPECT_EQ_INT(0, raw_put_batch(pid, "sam_subscription", recs, (size_t)m));
    for (i = 0; i < m; i++) {
      free((char *)recs[i].key);
      free(bufs[i]);
    }
  }
  free(recs);
  free(bufs);
}

static int
count_pages(const char *pid, const char *filter, int limit, int *pages) {
  char path[200], q[400];
  char cursor[400] = "";
  int total = 0;

  *pages = 0;
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/subscriptions", pid);
  for (;;) {
    snprintf(q, sizeof(q), "limit=%d%s%s%s%s", limit, filter ? "&" : "",
             filter ? filter : "", cursor[0] ? "&cursor=" : "", cursor);
    EXPECT_EQ_INT(200, call("GET", path, q, NULL));
    total += (int)json_object_array_length(jget(last.json, "items"));
    (*pages)++;
    if (jstr(last.json, "next_cursor") == NULL)
      break;
    /* Cursors are opaque but URL-safe enough for this test's store. */
    snprintf(cursor, sizeof(cursor), "%s", jstr(last.json, "next_cursor"));
  }
  return total;
}

void test_lists(void) {
  char path[200];
  int pages = 0;

  put_subscriptions(pid2, 2500);
  EXPECT_EQ_INT(2500, count_pages(pid2, NULL, 500, &pages));
  EXPECT_TRUE(pages >= 5 && pages <= 6);
  EXPECT_EQ_INT(
      1250, count_pages(pid2, "filter.software_model=Pro+Seat", 500, &pages));
  EXPECT_EQ_INT(2000, count_pages(pid2, "filter.active=true", 500, &pages));
  EXPECT_EQ_INT(0, count_pages(pid1, NULL, 100, &pages));

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/subscriptions", pid2);
  EXPECT_EQ_INT(400, call("GET", path, "limit=501", NULL));
  EXPECT_EQ_INT(400, call("GET", path, "filter.display_name=x", NULL));
  EXPECT_CONTAINS(last.body, "not indexed");
  EXPECT_EQ_INT(400, call("GET", path, "sort=display_name", NULL));
  EXPECT_EQ_INT(200, call("GET", path, "sort=external_user_id&limit=1", NULL));
  EXPECT_EQ_STR("u000000", jstr(last.json, "items.0.external_user_id"));
  /* a cursor that is not this list's: 400 naming the field and the value
   * (which cursors a store refuses is the backend's: test-backend-sqlite) */
  EXPECT_EQ_INT(400, call("GET", path, "cursor=garbage", NULL));
  EXPECT_CONTAINS(last.body, "cursor=garbage");
  EXPECT_EQ_STR("/cursor", jstr(last.json, "errors.0.pointer"));
  /* one meaning per parameter */
  EXPECT_EQ_INT(
      400, call("GET", path, "filter.state=active&filter.state=removed", NULL));
  EXPECT_CONTAINS(last.body, "[filter.state] given twice");
  EXPECT_EQ_INT(400, call("GET", path, "filter.state=active%00x", NULL));
  EXPECT_CONTAINS(last.body, "NUL byte");
  EXPECT_EQ_INT(200, call("GET", path, "filter.state=active%41&limit=1", NULL));
  EXPECT_EQ_INT(400, call("GET", "/api/v1/jobs", "cursor=garbage", NULL));
  EXPECT_CONTAINS(last.body, "cursor=garbage");
  EXPECT_EQ_INT(400, call("GET", "/api/v1/profiles", "cursor=garbage", NULL));
  EXPECT_CONTAINS(last.body, "cursor=garbage");
  EXPECT_EQ_INT(
      404, call("GET", "/api/v1/profiles/x/lists/subscriptions", NULL, NULL));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/nope", pid2);
  EXPECT_EQ_INT(404, call("GET", path, NULL, NULL));
}

void test_edits(void) {
  char path[240], base[200];

  /* Exclusions. */
  snprintf(base, sizeof(base), "/api/v1/profiles/%s/lists/", pid2);
  snprintf(path, sizeof(path), "%sidentifier-exclusions", base);
  EXPECT_EQ_INT(201, call("POST", path, NULL,
                          "{\"subscription_identifier\":\"Pro Seat\"}"));
  EXPECT_EQ_STR("hsfx_account", jstr(last.json, "profile_type"));
  EXPECT_EQ_STR("tester", jstr(last.json, "created_by"));
  EXPECT_EQ_INT(400, call("POST", path, NULL, "{\"rule_id\":\"x\"}"));
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  snprintf(path, sizeof(path), "%suser-exclusions", base);
  EXPECT_EQ_INT(201, call("POST", path, NULL,
                          "{\"user_principal_name\":\"Bob@Example.COM\"}"));
  EXPECT_EQ_STR("bob@example.com", jstr(last.json, "user_principal_name"));
  {
    char item[300];

    snprintf(item, sizeof(item), "%s/%s", path, jstr(last.json, "rule_id"));
    EXPECT_EQ_INT(200, call("PATCH", item, NULL, "{\"active\":false}"));
    EXPECT_EQ_INT(200, call("DELETE", item, NULL, NULL));
    EXPECT_EQ_INT(404, call("GET", item, NULL, NULL));
  }
  EXPECT_EQ_INT(400, call("POST", path, NULL,
                          "{\"user_principal_name\":\"a@b.c\","
                          "\"domain\":\"b.c\"}"));

  /* Unrecognized identifiers: map to an existing model only. */
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_unrecognized_identifier", "Weird",
                           "{\"identifier\":\"Weird\","
                           "\"subscription_count\":1250}"));
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_software_model", "Pro Seat",
                           "{\"identifier\":\"Pro Seat\",\"publisher\":\"E\","
                           "\"product\":\"P\",\"source\":\"admin\"}"));
  snprintf(path, sizeof(path), "%sunrecognized/Weird", base);
  EXPECT_EQ_INT(400,
                call("PATCH", path, NULL, "{\"software_model\":\"Nope\"}"));
  EXPECT_TRUE(has_error_at("/software_model"));
  EXPECT_EQ_INT(200,
                call("PATCH", path, NULL, "{\"software_model\":\"Pro Seat\"}"));
  EXPECT_EQ_STR("Pro Seat", jstr(last.json, "software_model"));

  /* Candidates: only the transitions of SAM-MODEL.md 10, with history. */
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_candidate", "c1",
                           "{\"candidate_id\":\"c1\",\"external_user_id\":"
                           "\"u000001\",\"rule_id\":\"r\",\"state\":\"ready\","
                           "\"open\":true,\"opened_at\":"
                           "\"2026-01-01T00:00:00Z\",\"history\":[]}"));
  snprintf(path, sizeof(path), "%scandidates/c1", base);
  EXPECT_EQ_INT(409,
                call("PATCH", path, NULL, "{\"state\":\"closed_complete\"}"));
  EXPECT_EQ_INT(400, call("PATCH", path, NULL, "{\"state\":\"gone\"}"));
  EXPECT_EQ_INT(200, call("PATCH", path, NULL,
                          "{\"state\":\"awaiting_revocation\","
                          "\"reason\":\"no answer\"}"));
  EXPECT_EQ_STR("tester", jstr(last.json, "history.0.actor"));
  EXPECT_EQ_STR("ready", jstr(last.json, "history.0.from"));
  EXPECT_EQ_STR("no answer", jstr(last.json, "history.0.reason"));
  EXPECT_EQ_INT(409, call("PATCH", path, NULL, "{\"state\":\"ready\"}"));
  EXPECT_EQ_INT(200,
                call("PATCH", path, NULL, "{\"state\":\"closed_complete\"}"));
  EXPECT_TRUE(!json_object_get_boolean(jget(last.json, "open")));
  EXPECT_TRUE(jstr(last.json, "closed_at") != NULL);
  EXPECT_EQ_INT(409,
                call("PATCH", path, NULL, "{\"state\":\"closed_skipped\"}"));
  snprintf(path, sizeof(path), "%scandidates", base);
  EXPECT_EQ_INT(400, call("POST", path, NULL, "{}"));
}

void test_delete(void) {
  char path[200], *rec, *all;

  EXPECT_EQ_INT(0, raw_put(pid2, "sam_candidate", "c2",
                           "{\"candidate_id\":\"c2\",\"external_user_id\":"
                           "\"u000002\",\"rule_id\":\"r\",\"state\":"
                           "\"awaiting_user\",\"open\":true,\"opened_at\":"
                           "\"2026-01-01T00:00:00Z\",\"history\":[]}"));
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_reclamation_rule", "r",
                           "{\"rule_id\":\"r\",\"name\":\"R\",\"basis\":"
                           "\"subscription_assigned_date\","
                           "\"last_activity_threshold_days\":60,"
                           "\"active\":true}"));
  /* A plugin's own record (only its handle may write it). */
  EXPECT_EQ_INT(0, raw_put_as(sam__hs_plugin_handle(svc, "hsfx"), pid2,
                              "hsfx_consumption", "k", "{\"id\":\"k\"}"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid2);
  EXPECT_EQ_INT(200, call("DELETE", path, NULL, NULL));
  EXPECT_EQ_INT(404, call("GET", path, NULL, NULL));

  rec = raw_get(pid2, "sam_candidate", "c2");
  EXPECT_CONTAINS(rec, "\"state\":\"closed_skipped\"");
  EXPECT_CONTAINS(rec, "profile deleted");
  EXPECT_CONTAINS(rec, "\"actor\":\"tester\"");
  free(rec);
  rec = raw_get(pid2, "sam_candidate", "c1"); /* closed before: unchanged */
  EXPECT_CONTAINS(rec, "closed_complete");
  free(rec);
  rec = raw_get(pid2, "sam_reclamation_rule", "r"); /* rules are kept */
  EXPECT_TRUE(rec != NULL);
  free(rec);
  all = raw_all(pid2, "sam_subscription");
  EXPECT_EQ_STR("", all);
  free(all);
  all = raw_all(pid2, "hsfx_consumption");
  EXPECT_EQ_STR("", all);
  free(all);
  EXPECT_EQ_INT(SAM_ENOENT, raw_secret_status(pid2, "client_secret"));

  /* The display name (and the account) may be reused. */
  EXPECT_EQ_INT(
      201, call("POST", "/api/v1/profiles", NULL, create_body("43", "Other")));
}
