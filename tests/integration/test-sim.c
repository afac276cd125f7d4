/*
 * test-sim.c: tools/docusign-sim REST against DOCUSIGN.md: paging edge cases,
 * the users A-rules (A1-A13), account and billing (A25-A27), envelopes (A28)
 * and account files. Runs the simulator as a child process on port 0.
 */
#include "sim/sim_t.h"

#include <dirent.h>

static void page_all(long n) {
  char nstr[16];
  const char *args[] = {"--users", nstr, "--seed", "3", NULL};
  long start = 0, seen = 0, pages = 0;

  snprintf(nstr, sizeof(nstr), "%ld", n);
  sim_start(args);
  for (;;) {
    json_object *o = rest("GET", NULL, 200, NULL,
                          "/users?count=100&start_position=%ld"
                          "&additional_info=true",
                          start);
    json_object *users = get(o, "users");
    long rs = atol(sim_jstr(o, "resultSetSize"));
    EXPECT_EQ_INT(n, atol(sim_jstr(o, "totalSetSize")));
    EXPECT_EQ_INT(start, atol(sim_jstr(o, "startPosition")));
    EXPECT_TRUE(sim_jstr(o, "endPosition") != NULL);
    pages++;
    if (rs == 0) {
      EXPECT_TRUE(users == NULL); /* A2: no users key past the end */
      EXPECT_TRUE(json_object_is_type(get(o, "nextUri"), json_type_null));
      json_object_put(o);
      break;
    }
    EXPECT_EQ_INT(rs, json_object_array_length(users));
    seen += rs;
    if (start == 0)
      EXPECT_TRUE(json_object_is_type(get(o, "previousUri"), json_type_null));
    else
      EXPECT_CONTAINS(sim_jstr(o, "previousUri"), "/users?");
    if (seen < n)
      EXPECT_CONTAINS(sim_jstr(o, "nextUri"), "/users?start_position=");
    else
      EXPECT_TRUE(json_object_is_type(get(o, "nextUri"), json_type_null));
    start += rs;
    json_object_put(o);
  }
  EXPECT_EQ_INT(n, seen);
  EXPECT_EQ_INT(n == 0 ? 1 : (n + 99) / 100 + 1, pages);
  stop();
}

static void test_paging(void) {
  json_object *o;

  page_all(0);
  page_all(1);
  page_all(100);
  page_all(101);
  {
    const char *args[] = {"--users", "620", NULL};
    sim_start(args);
  }
  /* A1: default 100, bad counts refused */
  o = rest("GET", NULL, 200, NULL, "/users");
  EXPECT_EQ_STR("100", sim_jstr(o, "resultSetSize"));
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/users?count=101");
  expect_error(o, "INVALID_REQUEST_PARAMETER");
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/users?count=0");
  expect_error(o, "INVALID_REQUEST_PARAMETER");
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/users?count=abc");
  expect_error(o, "INVALID_REQUEST_PARAMETER");
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/users?start_position=-1");
  expect_error(o, "INVALID_REQUEST_PARAMETER");
  json_object_put(o);
  /* the v2 list keeps pages of 500 */
  {
    char url[512];
    sim_resp r;
    snprintf(url, sizeof(url), "%s/restapi/v2/accounts/%s/users?count=500",
             S.http, S.external_id);
    sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
    EXPECT_EQ_INT(200, r.status);
    o = sim_resp_json(&r);
    EXPECT_EQ_STR("500", sim_jstr(o, "resultSetSize"));
    json_object_put(o);
    sim_resp_free(&r);
  }
  stop();
}

/* ---- users: A3-A13 ---- */

static void test_users_rules(void) {
  const char *args[] = {"--users", "300", "--seed", "11", NULL};
  json_object *o, *users;
  size_t i, n;
  int closed = 0, placeholder = 0, lic = 0, nolic = 0, admins = 0;
  char closed_id[64] = "", active_id[64] = "", email[256] = "";

  sim_start(args);
  /* A4: without additional_info, no profile, isAdmin, groups, added date */
  o = rest("GET", NULL, 200, NULL, "/users?count=100");
  users = get(o, "users");
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    EXPECT_TRUE(get(u, "permissionProfileName") == NULL);
    EXPECT_TRUE(get(u, "isAdmin") == NULL);
    EXPECT_TRUE(get(u, "groupList") == NULL);
    EXPECT_TRUE(get(u, "userAddedToAccountDateTime") == NULL);
    EXPECT_TRUE(get(u, "licenseType") == NULL); /* A5: only when asked */
    EXPECT_TRUE(get(u, "lastLogin") == NULL);   /* A6 */
  }
  json_object_put(o);
  for (long s = 0; s < 300; s += 100) {
    o = rest("GET", NULL, 200, NULL,
             "/users?count=100&start_position=%ld&additional_info=true"
             "&include_license=true",
             s);
    users = get(o, "users");
    n = json_object_array_length(users);
    for (i = 0; i < n; i++) {
      json_object *u = json_object_array_get_idx(users, i);
      const char *st = sim_jstr(u, "userStatus");
      const char *added = sim_jstr(u, "userAddedToAccountDateTime");
      const char *adm = sim_jstr(u, "isAdmin");
      EXPECT_TRUE(strcmp(adm, "True") == 0 || strcmp(adm, "False") == 0);
      if (strcmp(adm, "True") == 0) {
        admins++;
        EXPECT_EQ_STR("Account Administrator",
                      sim_jstr(u, "permissionProfileName"));
      }
      EXPECT_TRUE(sim_jstr(u, "permissionProfileId") != NULL);
      if (added != NULL) {
        expect_date(added);
        if (strcmp(added, "0001-01-01T08:00:00.0000000Z") == 0)
          placeholder++;
      }
      if (sim_jstr(u, "createdDateTime"))
        expect_date(sim_jstr(u, "createdDateTime"));
      if (sim_jstr(u, "licenseType") != NULL) {
        lic++;
        EXPECT_TRUE(sim_jstr(u, "licenseStatus") != NULL);
      } else {
        nolic++;
      }
      if (strcmp(st, "Closed") == 0 && !closed_id[0])
        snprintf(closed_id, sizeof(closed_id), "%s", sim_jstr(u, "userId"));
      if (strcmp(st, "Closed") == 0)
        closed++; /* A3: closed users are in the unfiltered list */
      if (strcmp(st, "Active") == 0 && strcmp(adm, "False") == 0 &&
          !active_id[0]) {
        snprintf(active_id, sizeof(active_id), "%s", sim_jstr(u, "userId"));
        snprintf(email, sizeof(email), "%s", sim_jstr(u, "email"));
      }
    }
    json_object_put(o);
  }
  EXPECT_TRUE(closed > 0);
  EXPECT_TRUE(placeholder > 0);
  EXPECT_TRUE(lic > 0 && nolic > 0);
  EXPECT_TRUE(admins > 0);
  /* status comma list */
  o = rest("GET", NULL, 200, NULL, "/users?status=Closed,Disabled&count=100");
  users = get(o, "users");
  for (i = 0; i < json_object_array_length(users); i++) {
    const char *st =
        sim_jstr(json_object_array_get_idx(users, i), "userStatus");
    EXPECT_TRUE(strcmp(st, "Closed") == 0 || strcmp(st, "Disabled") == 0);
  }
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/users?status=Sleeping");
  expect_error(o, "INVALID_REQUEST_PARAMETER");
  json_object_put(o);
  /* email: exact, case-insensitive; email_substring */
  {
    char up[256], esc[600];
    CURL *e = curl_easy_init();
    char *x;
    for (i = 0; email[i]; i++)
      up[i] = (char)((email[i] >= 'a' && email[i] <= 'z') ? email[i] - 32
                                                          : email[i]);
    up[i] = '\0';
    x = curl_easy_escape(e, up, 0);
    snprintf(esc, sizeof(esc), "%s", x);
    curl_free(x);
    o = rest("GET", NULL, 200, NULL, "/users?email=%s", esc);
    EXPECT_EQ_STR("1", sim_jstr(o, "resultSetSize"));
    json_object_put(o);
    x = curl_easy_escape(e, email + 2, 5);
    o = rest("GET", NULL, 200, NULL, "/users?email_substring=%s", x);
    EXPECT_TRUE(atol(sim_jstr(o, "resultSetSize")) >= 1);
    json_object_put(o);
    curl_free(x);
    curl_easy_cleanup(e);
  }
  /* A13: get any user */
  o = rest("GET", NULL, 200, NULL, "/users/%s", active_id);
  EXPECT_EQ_STR(active_id, sim_jstr(o, "userId"));
  EXPECT_TRUE(get(o, "permissionProfileName") != NULL);
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL,
           "/users/00000000-0000-4000-8000-000000000000");
  expect_error(o, "USER_DOES_NOT_EXIST_IN_ACCOUNT");
  json_object_put(o);
  /* A9/A10: close; unknown id gets its own errorDetails */
  {
    char body[512];
    json_object *e0, *e1;
    snprintf(body, sizeof(body),
             "{\"users\":[{\"userId\":\"%s\"},{\"userId\":\"%s\"},"
             "{\"userId\":\"00000000-0000-4000-8000-000000000000\"}]}",
             active_id, closed_id);
    o = rest("DELETE", body, 200, NULL, "/users");
    users = get(o, "users");
    EXPECT_EQ_INT(3, json_object_array_length(users));
    e0 = json_object_array_get_idx(users, 0);
    e1 = json_object_array_get_idx(users, 1);
    EXPECT_EQ_STR("Closed", sim_jstr(e0, "userStatus"));
    EXPECT_EQ_STR("Closed", sim_jstr(e1, "userStatus"));
    EXPECT_TRUE(get(e1, "errorDetails") == NULL);
    expect_error(get(json_object_array_get_idx(users, 2), "errorDetails"),
                 "USER_DOES_NOT_EXIST_IN_ACCOUNT");
    json_object_put(o);
  }
  o = rest("DELETE", "{\"users\":[]}", 400, NULL, "/users");
  expect_error(o, "INVALID_REQUEST_BODY");
  json_object_put(o);
  o = rest("DELETE", "{\"users\":[{\"userId\":", 400, NULL, "/users");
  expect_error(o, "INVALID_REQUEST_BODY");
  json_object_put(o);
  o = rest("DELETE", NULL, 400, NULL, "/users");
  expect_error(o, "INVALID_REQUEST_BODY");
  json_object_put(o);
  {
    char big[8192];
    size_t len = 0;
    len += (size_t)snprintf(big + len, sizeof(big) - len, "{\"users\":[");
    for (i = 0; i < 101; i++)
      len += (size_t)snprintf(big + len, sizeof(big) - len,
                              "%s{\"userId\":\"%s\"}", i ? "," : "", active_id);
    snprintf(big + len, sizeof(big) - len, "]}");
    o = rest("DELETE", big, 400, NULL, "/users");
    expect_error(o, "INVALID_REQUEST_BODY");
    json_object_put(o);
  }
  /* A12: reopen -> ActivationSent, profile kept; the click -> Active */
  {
    char body[256], path[128];
    json_object *before = rest("GET", NULL, 200, NULL, "/users/%s", active_id);
    snprintf(body, sizeof(body),
             "{\"users\":[{\"userId\":\"%s\",\"sendActivationEmail\":"
             "\"send\"}]}",
             active_id);
    o = rest("PUT", body, 200, NULL, "/users");
    json_object_put(o);
    o = rest("GET", NULL, 200, NULL, "/users/%s", active_id);
    EXPECT_EQ_STR("ActivationSent", sim_jstr(o, "userStatus"));
    EXPECT_EQ_STR(sim_jstr(before, "permissionProfileId"),
                  sim_jstr(o, "permissionProfileId"));
    json_object_put(o);
    json_object_put(before);
    snprintf(path, sizeof(path), "users/%s/activate", active_id);
    EXPECT_EQ_INT(200, sim_control(&S, path, "{}"));
    o = rest("GET", NULL, 200, NULL, "/users/%s", active_id);
    EXPECT_EQ_STR("Active", sim_jstr(o, "userStatus"));
    json_object_put(o);
    /* permission profile change (a downgrade) by name */
    snprintf(body, sizeof(body),
             "{\"users\":[{\"userId\":\"%s\",\"permissionProfileName\":"
             "\"DocuSign Viewer\"}]}",
             active_id);
    o = rest("PUT", body, 200, NULL, "/users");
    json_object_put(o);
    o = rest("GET", NULL, 200, NULL, "/users/%s", active_id);
    EXPECT_EQ_STR("DocuSign Viewer", sim_jstr(o, "permissionProfileName"));
    json_object_put(o);
  }
  stop();
}

/* ---- errors: A18, A19 ---- */

static long count_seats(void) {
  long start = 0, seats = 0;

  for (;;) {
    json_object *o = rest("GET", NULL, 200, NULL,
                          "/users?count=100&start_position=%ld", start);
    json_object *users = get(o, "users");
    size_t i, n = users ? json_object_array_length(users) : 0;
    for (i = 0; i < n; i++) {
      const char *st =
          sim_jstr(json_object_array_get_idx(users, i), "userStatus");
      if (strcmp(st, "Active") == 0 || strcmp(st, "ActivationSent") == 0 ||
          strcmp(st, "ActivationRequired") == 0)
        seats++;
    }
    json_object_put(o);
    if (n == 0)
      break;
    start += (long)n;
  }
  return seats;
}

static void test_account(void) {
  const char *args[] = {"--users", "150", NULL};
  const char *rargs[] = {"--users", "10", "--reseller", NULL};
  json_object *o, *items, *plan;
  long seats;

  sim_start(args);
  seats = count_seats();
  o = rest("GET", NULL, 200, NULL, "");
  EXPECT_EQ_STR(S.account_id, sim_jstr(o, "accountIdGuid"));
  EXPECT_EQ_INT(seats, atol(sim_jstr(o, "seatsInUse"))); /* A27 */
  EXPECT_EQ_STR("unlimited", sim_jstr(o, "billingPeriodEnvelopesAllowed"));
  EXPECT_TRUE(sim_jstr(o, "billingPeriodEnvelopesSent") != NULL);
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/billing_charges");
  items = get(o, "billingChargeItems");
  EXPECT_TRUE(json_object_array_length(items) >= 1);
  EXPECT_EQ_STR("seats",
                sim_jstr(json_object_array_get_idx(items, 0), "chargeName"));
  EXPECT_EQ_INT(seats, atol(sim_jstr(json_object_array_get_idx(items, 0),
                                     "usedQuantity")));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/billing_plan");
  plan = get(o, "billingPlan");
  EXPECT_EQ_STR("456.0000", sim_jstr(plan, "perSeatPrice"));
  EXPECT_TRUE(get(plan, "renewalStatus") == NULL);
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/billing_plan?include_metadata=true");
  EXPECT_EQ_STR("auto", sim_jstr(get(o, "billingPlan"), "renewalStatus"));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/permission_profiles?include=user_count");
  items = get(o, "permissionProfiles");
  EXPECT_TRUE(json_object_array_length(items) >= 3);
  EXPECT_TRUE(sim_jstr(json_object_array_get_idx(items, 0), "userCount"));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/groups");
  EXPECT_EQ_INT(5, json_object_array_length(get(o, "groups")));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/groups?group_type=CustomGroup&count=2");
  EXPECT_EQ_STR("2", sim_jstr(o, "resultSetSize"));
  EXPECT_EQ_STR("3", sim_jstr(o, "totalSetSize"));
  EXPECT_CONTAINS(sim_jstr(o, "nextUri"), "/groups?start_position=2");
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/groups?search_text=admin");
  EXPECT_EQ_STR(
      "Administrators",
      sim_jstr(json_object_array_get_idx(get(o, "groups"), 0), "groupName"));
  json_object_put(o);
  stop();
  /* A25: reseller */
  sim_start(rargs);
  o = rest("GET", NULL, 200, NULL, "/billing_charges");
  EXPECT_EQ_INT(0, json_object_array_length(get(o, "billingChargeItems")));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/billing_plan");
  plan = get(o, "billingPlan");
  EXPECT_EQ_INT(2, json_object_object_length(plan));
  EXPECT_TRUE(sim_jstr(plan, "planId") && sim_jstr(plan, "planName"));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "");
  EXPECT_TRUE(get(o, "billingPeriodEnvelopesAllowed") == NULL);
  EXPECT_TRUE(get(o, "billingPeriodEnvelopesSent") == NULL);
  json_object_put(o);
  stop();
}

static void test_envelopes(void) {
  const char *args[] = {
      "--account", SAM_SOURCE_DIR "/tests/fixtures/accounts/small.json", NULL};
  json_object *o, *envs;
  const char *sender = "5b7e1a2c-3d4f-4a5b-8c6d-7e8f9a0b1c2d";

  sim_start(args);
  /* A28: with user_id, that user's envelopes, sent in the window */
  o = rest("GET", NULL, 200, NULL,
           "/envelopes?from_date=2000-01-01T00:00:00Z&user_id=%s"
           "&from_to_status=sent&order_by=sent&order=desc&count=1",
           sender);
  EXPECT_EQ_STR("1", sim_jstr(o, "resultSetSize"));
  EXPECT_EQ_STR("3", sim_jstr(o, "totalSetSize"));
  envs = get(o, "envelopes");
  EXPECT_EQ_STR(
      sender,
      sim_jstr(get(json_object_array_get_idx(envs, 0), "sender"), "userId"));
  EXPECT_EQ_STR("e0000000-0000-4000-8000-000000000001",
                sim_jstr(json_object_array_get_idx(envs, 0), "envelopeId"));
  EXPECT_TRUE(get(o, "nextUri") == NULL);
  json_object_put(o);
  /* a window that starts after the newest send */
  o = rest("GET", NULL, 200, NULL,
           "/envelopes?from_date=2099-01-01&user_id=%s&from_to_status=sent",
           sender);
  EXPECT_EQ_STR("0", sim_jstr(o, "resultSetSize"));
  json_object_put(o);
  /* no user_id: the caller's own (the integration user sent none) */
  o = rest("GET", NULL, 200, NULL, "/envelopes?from_date=2000-01-01");
  EXPECT_EQ_STR("0", sim_jstr(o, "totalSetSize"));
  json_object_put(o);
  o = rest("GET", NULL, 400, NULL, "/envelopes");
  expect_error(o, "INVALID_REQUEST_PARAMETER");
  json_object_put(o);
  stop();
}

static void test_account_file(void) {
  const char *args[] = {
      "--account", SAM_SOURCE_DIR "/tests/fixtures/accounts/small.json", NULL};
  json_object *o, *users;
  size_t i;
  int saw_placeholder = 0, saw_missing = 0;

  sim_start(args);
  EXPECT_EQ_STR("a1b2c3d4-0000-4000-8000-00000000acc1", S.account_id);
  EXPECT_EQ_STR("9a8b7c6d-1111-4222-8333-444455556666", S.integ);
  o = rest("GET", NULL, 200, NULL,
           "/users?additional_info=true&include_license=true");
  users = get(o, "users");
  EXPECT_EQ_STR("6", sim_jstr(o, "totalSetSize"));
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    const char *added = sim_jstr(u, "userAddedToAccountDateTime");
    if (added == NULL)
      saw_missing++;
    else if (strcmp(added, "0001-01-01T08:00:00.0000000Z") == 0)
      saw_placeholder++;
    else
      expect_date(added); /* "-61d" became a date */
  }
  EXPECT_TRUE(saw_placeholder == 1 && saw_missing >= 1);
  EXPECT_EQ_STR("Zoë Müller",
                sim_jstr(json_object_array_get_idx(users, 1), "userName"));
  EXPECT_EQ_STR("Professional",
                sim_jstr(json_object_array_get_idx(users, 1), "licenseType"));
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "");
  EXPECT_EQ_STR("Small Test Account", sim_jstr(o, "accountName"));
  EXPECT_EQ_STR("4", sim_jstr(o, "seatsInUse"));
  json_object_put(o);
  stop();
}

/* A11: the delete query strips memberships as documented */
static void test_delete_query(void) {
  const char *args[] = {"--users", "30", NULL};
  json_object *o, *users;
  char body[256], id[64] = "";
  size_t i;

  sim_start(args);
  o = rest("GET", NULL, 200, NULL, "/users?additional_info=true");
  users = get(o, "users");
  for (i = 1; i < json_object_array_length(users); i++) {
    json_object *u = json_object_array_get_idx(users, i);
    if (json_object_array_length(get(u, "groupList")) > 0 &&
        strcmp(sim_jstr(u, "userStatus"), "Closed") != 0) {
      snprintf(id, sizeof(id), "%s", sim_jstr(u, "userId"));
      break;
    }
  }
  json_object_put(o);
  EXPECT_TRUE(id[0] != '\0');
  snprintf(body, sizeof(body), "{\"users\":[{\"userId\":\"%s\"}]}", id);
  o = rest("DELETE", body, 200, NULL, "/users?delete=Groups");
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/users/%s", id);
  EXPECT_EQ_STR("Closed", sim_jstr(o, "userStatus"));
  EXPECT_EQ_INT(0, json_object_array_length(get(o, "groupList")));
  EXPECT_TRUE(sim_jstr(o, "permissionProfileName") != NULL); /* kept */
  json_object_put(o);
  stop();
}

/* A16 (a challenge needs its verifier), A29 (extra parameters ignored) and
 * A14's lifetimes: without `extended` a refreshed token keeps the first
 * expiry; with it each refresh starts a full lifetime. */
/* the quirks: variants a client must tolerate, all off by default */
static void test_quirks(void) {
  const char *args[] = {"--users", "3", NULL};
  json_object *o, *u;
  char url[512];
  sim_resp r;

  sim_start(args);
  EXPECT_EQ_INT(200, sim_control(&S, "quirks",
                                 "{\"users_empty_array\":true,"
                                 "\"omit_null_uris\":true,"
                                 "\"isadmin_lower\":true,"
                                 "\"date_style\":\"millis\","
                                 "\"token_scope\":true,"
                                 "\"auth_error_code\":"
                                 "\"USER_AUTHENTICATION_FAILED\"}"));
  o = rest("GET", NULL, 200, NULL, "/users?start_position=10");
  EXPECT_EQ_INT(0, json_object_array_length(get(o, "users")));
  EXPECT_TRUE(get(o, "nextUri") == NULL);
  EXPECT_TRUE(get(o, "previousUri") != NULL);
  json_object_put(o);
  o = rest("GET", NULL, 200, NULL, "/users/%s", S.integ);
  EXPECT_EQ_STR("true", sim_jstr(o, "isAdmin"));
  EXPECT_EQ_INT(24, strlen(sim_jstr(o, "createdDateTime")));
  json_object_put(o);
  EXPECT_EQ_INT(200, sim_control(&S, "quirks", "{\"date_style\":\"offset\"}"));
  o = rest("GET", NULL, 200, NULL, "/users/%s", S.integ);
  EXPECT_CONTAINS(sim_jstr(o, "createdDateTime"), "+00:00");
  json_object_put(o);
  snprintf(url, sizeof(url), "%s/users", S.rest);
  sim_http("GET", url, "Bearer nope", NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(401, r.status);
  u = sim_resp_json(&r);
  expect_error(u, "USER_AUTHENTICATION_FAILED");
  json_object_put(u);
  sim_resp_free(&r);
  EXPECT_EQ_INT(400, sim_control(&S, "quirks", "{\"date_style\":\"x\"}"));
  stop();
}

/* every account file in tests/fixtures/accounts loads and pages */
static void test_fixtures(void) {
  const char *dir = SAM_SOURCE_DIR "/tests/fixtures/accounts";
  DIR *d = opendir(dir);
  struct dirent *de;
  int files = 0;

  EXPECT_TRUE(d != NULL);
  while ((de = readdir(d)) != NULL) {
    char path[1024];
    const char *args[] = {"--account", path, NULL};
    size_t n = strlen(de->d_name);
    json_object *o;
    if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    sim_start(args);
    o = rest("GET", NULL, 200, NULL,
             "/users?count=100&additional_info=true&include_license=true");
    EXPECT_TRUE(atol(sim_jstr(o, "totalSetSize")) >= 1);
    json_object_put(o);
    o = rest("GET", NULL, 200, NULL, "/users/%s", S.integ);
    EXPECT_EQ_STR("True", sim_jstr(o, "isAdmin"));
    json_object_put(o);
    o = rest("GET", NULL, 200, NULL, "/billing_charges");
    json_object_put(o);
    stop();
    files++;
  }
  closedir(d);
  EXPECT_TRUE(files >= 3);
}

/* ugly inputs: the simulator refuses to start, with a message */
static void test_bad_inputs(void) {
  static const char *const files[][2] = {
      {"missing", NULL},
      {"garbage", "{\"users\": [ {\"userId\": "},
      {"no-users", "{\"account\": {}}"},
      {"bad-id", "{\"users\": [{\"userId\": \"zz\"}]}"},
      {"bad-status", "{\"users\": [{\"userStatus\": \"Sleeping\"}]}"},
      {"bad-integ", "{\"integrationUser\": "
                    "\"00000000-0000-4000-8000-000000000009\", \"users\": []}"},
  };
  char dir[] = "/tmp/sim-bad-XXXXXX";
  size_t i;
  sim_child c;

  EXPECT_TRUE(mkdtemp(dir) != NULL);
  for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    char path[256];
    const char *args[] = {"--account", path, NULL};
    snprintf(path, sizeof(path), "%s/%s.json", dir, files[i][0]);
    if (files[i][1] != NULL) {
      FILE *f = fopen(path, "w");
      EXPECT_TRUE(f != NULL);
      fputs(files[i][1], f);
      fclose(f);
    }
    EXPECT_EQ_INT(-1, sim_child_start(&c, SIM_EXE, args));
    unlink(path);
  }
  {
    const char *args[] = {"--cert", "/nonexistent.pem", "--key",
                          "/nonexistent.key", NULL};
    EXPECT_EQ_INT(-1, sim_child_start(&c, SIM_EXE, args));
  }
  {
    const char *args[] = {"--users", "-3", NULL};
    EXPECT_EQ_INT(-1, sim_child_start(&c, SIM_EXE, args));
  }
  rmdir(dir);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SAM_T_RUN(test_paging);
  SAM_T_RUN(test_users_rules);
  SAM_T_RUN(test_account);
  SAM_T_RUN(test_envelopes);
  SAM_T_RUN(test_account_file);
  SAM_T_RUN(test_delete_query);
  SAM_T_RUN(test_quirks);
  SAM_T_RUN(test_fixtures);
  SAM_T_RUN(test_bad_inputs);
  curl_global_cleanup();
  return 0;
}
