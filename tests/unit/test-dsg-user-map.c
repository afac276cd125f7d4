/*
 * test-dsg-user-map.c: DocuSign userInformation -> sam_subscription, with
 * DocuSign-shaped users (its own example with isAdmin "False" and the
 * 0001-01-01 placeholder), unicode names, mixed-case e-mails, missing
 * fields, licenseType present and absent, Closed and Disabled users,
 * exclusions, model look-up, previous records and the changed test. Every
 * record produced is checked against schemas/sam-subscription.schema.json.
 */
#include <string.h>

#include "dlogic_schema.h"
#include "dsg_dates.h"
#include "dsg_exclusions.h"
#include "dsg_user_map.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

/* DocuSign's users-list example entry (additional_info=true). */
static const char *const DOCUSIGN_EXAMPLE =
    "{\"userName\":\"Tanya Cooper\",\"userId\":"
    "\"2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f\",\"userType\":\"CompanyUser\","
    "\"isAdmin\":\"False\",\"isNAREnabled\":\"false\",\"userStatus\":"
    "\"Active\",\"uri\":\"/users/2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f\","
    "\"email\":\"Tanya.Cooper@Example.COM\",\"createdDateTime\":"
    "\"2019-05-13T16:28:23.3900000Z\",\"userAddedToAccountDateTime\":"
    "\"0001-01-01T08:00:00.0000000Z\",\"firstName\":\"Tanya\",\"lastName\":"
    "\"Cooper\",\"jobTitle\":\"\",\"company\":\"Example\","
    "\"permissionProfileId\":\"12345678\",\"permissionProfileName\":"
    "\"DocuSign Sender\",\"lastLogin\":\"2026-11-27T08:00:00.0000000Z\","
    "\"groupList\":[{\"groupId\":\"8761234\",\"groupName\":\"Everyone\","
    "\"groupType\":\"everyoneGroup\"}]}";

static int64_t NOW;

static const char *lookup(const char *identifier, void *ud) {
  (void)ud;
  if (strcmp(identifier, "DocuSign Sender") == 0 ||
      strcmp(identifier, "Professional") == 0)
    return identifier;
  return NULL;
}

static json_object *
map_ok(const char *user_json, json_object *prev, const dsg_exclusions *ex) {
  json_object *user = dl_parse(user_json);
  json_object *rec = NULL;
  dsg_user_map_opts o;
  char err[256] = "";
  int rc;

  memset(&o, 0, sizeof(o));
  o.now = NOW;
  o.run_id = "run-1";
  o.model_lookup = lookup;
  o.exclusions = ex;
  rc = dsg_user_map(user, prev, &o, &rec, err, sizeof(err));
  if (rc != 0)
    SAM_T_FAIL("map failed [%s] [%s]", sam_err_name(rc), err);
  json_object_put(user);
  dl_expect_valid("sam-subscription.schema.json", rec);
  return rec;
}

static json_object *attrs(json_object *rec) {
  json_object *a = NULL;

  EXPECT_TRUE(json_object_object_get_ex(rec, "attributes", &a));
  return a;
}

static void test_docusign_example(void) {
  json_object *rec = map_ok(DOCUSIGN_EXAMPLE, NULL, NULL);

  EXPECT_EQ_STR("2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f",
                dl_str(rec, "external_user_id"));
  EXPECT_EQ_STR("Tanya.Cooper@Example.COM", dl_str(rec, "user_principal_name"));
  EXPECT_EQ_STR("tanya.cooper@example.com", dl_str(rec, "upn_lower"));
  EXPECT_EQ_STR("Tanya Cooper", dl_str(rec, "display_name"));
  EXPECT_EQ_STR("Active", dl_str(rec, "remote_status"));
  EXPECT_EQ_STR("active", dl_str(rec, "state"));
  EXPECT_TRUE(dl_bool(rec, "active"));
  EXPECT_TRUE(!dl_bool(rec, "is_admin")); /* "False" */
  EXPECT_EQ_STR("DocuSign Sender", dl_str(rec, "subscription_identifier"));
  EXPECT_EQ_STR("DocuSign Sender", dl_str(rec, "software_model"));
  /* the placeholder is no date: createdDateTime is used */
  EXPECT_EQ_STR("2019-05-13T16:28:23Z", dl_str(rec, "assigned_at"));
  EXPECT_EQ_STR("created", dl_str(rec, "assigned_source"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "first_seen_at"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "last_seen_at"));
  EXPECT_TRUE(!dl_bool(rec, "excluded"));
  EXPECT_TRUE(dl_is_null(rec, "exclusion_reason"));
  EXPECT_EQ_STR("run-1", dl_str(rec, "last_run_id"));
  /* lastLogin is never activity (A6) */
  EXPECT_TRUE(!dl_has(rec, "last_activity_at"));
  EXPECT_NOT_CONTAINS(json_object_to_json_string(rec), "lastLogin");
  EXPECT_EQ_STR("False", dl_str(attrs(rec), "isAdmin"));
  EXPECT_EQ_STR("12345678", dl_str(attrs(rec), "permissionProfileId"));
  EXPECT_EQ_STR("DocuSign Sender", dl_str(attrs(rec), "permissionProfileName"));
  EXPECT_EQ_STR("Tanya Cooper", dl_str(attrs(rec), "userName"));
  EXPECT_EQ_STR("Active", dl_str(attrs(rec), "userStatus"));
  EXPECT_TRUE(!dl_has(attrs(rec), "licenseType"));
  json_object_put(rec);
}

static void test_license_and_admin(void) {
  json_object *rec = map_ok(
      "{\"userId\":\"u-1\",\"userName\":\"Ann Admin\",\"email\":"
      "\"ann@example.com\",\"userStatus\":\"ActivationSent\",\"isAdmin\":"
      "\"True\",\"permissionProfileName\":\"Account Administrator\","
      "\"licenseType\":\"Professional\",\"licenseStatus\":\"active\","
      "\"userAddedToAccountDateTime\":\"2026-07-02T10:00:00.1234567Z\","
      "\"createdDateTime\":\"2020-01-01T00:00:00Z\"}",
      NULL, NULL);

  EXPECT_TRUE(dl_bool(rec, "is_admin"));
  EXPECT_TRUE(dl_bool(rec, "active")); /* ActivationSent holds a seat */
  EXPECT_EQ_STR("Professional", dl_str(rec, "subscription_identifier"));
  EXPECT_EQ_STR("Professional", dl_str(rec, "software_model"));
  EXPECT_EQ_STR("2026-07-02T10:00:00Z", dl_str(rec, "assigned_at"));
  EXPECT_EQ_STR("added_to_account", dl_str(rec, "assigned_source"));
  EXPECT_EQ_STR("Professional", dl_str(attrs(rec), "licenseType"));
  EXPECT_EQ_STR("active", dl_str(attrs(rec), "licenseStatus"));
  json_object_put(rec);

  /* isAdmin in any case; anything but "true" is false (A8) */
  rec = map_ok("{\"userId\":\"u-2\",\"isAdmin\":\"TRUE\",\"userStatus\":"
               "\"ActivationRequired\"}",
               NULL, NULL);
  EXPECT_TRUE(dl_bool(rec, "is_admin"));
  EXPECT_TRUE(dl_bool(rec, "active"));
  json_object_put(rec);
  rec = map_ok("{\"userId\":\"u-3\",\"isAdmin\":\"yes\"}", NULL, NULL);
  EXPECT_TRUE(!dl_bool(rec, "is_admin"));
  json_object_put(rec);
  /* not DocuSign's format, but never fail open on the admin protection */
  rec = map_ok("{\"userId\":\"u-3\",\"isAdmin\":true}", NULL, NULL);
  EXPECT_TRUE(dl_bool(rec, "is_admin"));
  json_object_put(rec);

  /* an empty licenseType falls back to the profile name; an unknown one
   * is copied verbatim and has no model */
  rec = map_ok("{\"userId\":\"u-4\",\"licenseType\":\"\","
               "\"permissionProfileName\":\"DocuSign Viewer\"}",
               NULL, NULL);
  EXPECT_EQ_STR("DocuSign Viewer", dl_str(rec, "subscription_identifier"));
  EXPECT_TRUE(dl_is_null(rec, "software_model"));
  json_object_put(rec);
  rec = map_ok("{\"userId\":\"u-5\",\"licenseType\":\"  eSign: Pro/2025 \","
               "\"permissionProfileName\":\"DocuSign Viewer\"}",
               NULL, NULL);
  EXPECT_EQ_STR("  eSign: Pro/2025 ", dl_str(rec, "subscription_identifier"));
  json_object_put(rec);
}

static void test_unicode_and_missing(void) {
  json_object *rec;

  /* no userName: first + last; Unicode kept; e-mail folded where we can */
  rec = map_ok("{\"userId\":\"u-6\",\"firstName\":\"Zoë\",\"lastName\":"
               "\"Ångström-Жуков\",\"email\":\"ZOË.Ångström@Exämple.ORG\","
               "\"userStatus\":\"Active\"}",
               NULL, NULL);
  EXPECT_EQ_STR("Zoë Ångström-Жуков", dl_str(rec, "display_name"));
  EXPECT_EQ_STR("ZOË.Ångström@Exämple.ORG", dl_str(rec, "user_principal_name"));
  EXPECT_EQ_STR("zoë.ångström@exämple.org", dl_str(rec, "upn_lower"));
  /* nothing to assign from: the first-seen date */
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "assigned_at"));
  EXPECT_EQ_STR("first_seen", dl_str(rec, "assigned_source"));
  /* no permission profile, no license: an empty identifier, no model */
  EXPECT_EQ_STR("", dl_str(rec, "subscription_identifier"));
  json_object_put(rec);

  /* only a last name; no e-mail at all; unparseable dates */
  rec = map_ok("{\"userId\":\"u-7\",\"lastName\":\"東京\",\"userStatus\":"
               "\"Disabled\",\"userAddedToAccountDateTime\":\"\","
               "\"createdDateTime\":\"yesterday\"}",
               NULL, NULL);
  EXPECT_EQ_STR("東京", dl_str(rec, "display_name"));
  EXPECT_EQ_STR("", dl_str(rec, "user_principal_name"));
  EXPECT_EQ_STR("inactive", dl_str(rec, "state"));
  EXPECT_TRUE(!dl_bool(rec, "active"));
  EXPECT_EQ_STR("first_seen", dl_str(rec, "assigned_source"));
  json_object_put(rec);

  /* no name of any kind: no display_name; unknown status is inactive */
  rec = map_ok("{\"userId\":\"u-8\",\"userStatus\":\"Suspended\"}", NULL, NULL);
  EXPECT_TRUE(!dl_has(rec, "display_name"));
  EXPECT_TRUE(!dl_bool(rec, "active"));
  EXPECT_EQ_STR("inactive", dl_str(rec, "state"));
  json_object_put(rec);

  /* a 400-character name is cut to the schema's 300 characters */
  {
    char big[1400], js[1600];
    size_t i;

    for (i = 0; i < 400; i++)
      memcpy(big + i * 3, "\xe6\x9d\xb1", 3); /* 東 */
    big[1200] = '\0';
    snprintf(js, sizeof(js), "{\"userId\":\"u-9\",\"userName\":\"%s\"}", big);
    rec = map_ok(js, NULL, NULL);
    EXPECT_EQ_INT(900, strlen(dl_str(rec, "display_name")));
    json_object_put(rec);
  }
}

static void test_closed_and_prev(void) {
  json_object *prev, *rec;

  prev = dl_parse(
      "{\"external_user_id\":\"u-10\",\"user_principal_name\":\"a@b.c\","
      "\"subscription_identifier\":\"DocuSign Sender\",\"state\":\"active\","
      "\"active\":true,\"first_seen_at\":\"2026-01-05T03:00:00Z\","
      "\"last_seen_at\":\"2026-11-27T09:00:00Z\",\"last_activity_at\":"
      "\"2026-10-01T00:00:00Z\"}");
  rec = map_ok("{\"userId\":\"u-10\",\"email\":\"a@b.c\",\"userStatus\":"
               "\"Closed\",\"permissionProfileName\":\"DocuSign Sender\"}",
               prev, NULL);
  EXPECT_EQ_STR("removed", dl_str(rec, "state"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "removed_at"));
  EXPECT_TRUE(!dl_bool(rec, "active"));
  /* first seen is kept; with no dates it is also the assigned date */
  EXPECT_EQ_STR("2026-01-05T03:00:00Z", dl_str(rec, "first_seen_at"));
  EXPECT_EQ_STR("2026-01-05T03:00:00Z", dl_str(rec, "assigned_at"));
  EXPECT_EQ_STR("first_seen", dl_str(rec, "assigned_source"));
  EXPECT_EQ_STR("2026-10-01T00:00:00Z", dl_str(rec, "last_activity_at"));
  EXPECT_EQ_INT(DSG_USER_CLOSED, dsg_user_status_kind("Closed"));
  json_object_put(rec);
  json_object_put(prev);

  /* a user our reclaim closed stays reclaimed, with its time */
  prev = dl_parse(
      "{\"external_user_id\":\"u-11\",\"user_principal_name\":\"a@b.c\","
      "\"subscription_identifier\":\"DocuSign Sender\",\"state\":"
      "\"reclaimed\",\"active\":false,\"reclaimed_at\":"
      "\"2026-11-20T12:00:00Z\",\"first_seen_at\":\"2026-01-05T03:00:00Z\","
      "\"last_seen_at\":\"2026-11-27T09:00:00Z\"}");
  rec = map_ok("{\"userId\":\"u-11\",\"userStatus\":\"Closed\"}", prev, NULL);
  EXPECT_EQ_STR("reclaimed", dl_str(rec, "state"));
  EXPECT_EQ_STR("2026-11-20T12:00:00Z", dl_str(rec, "reclaimed_at"));
  json_object_put(rec);
  /* ... and active again when reopened */
  rec = map_ok("{\"userId\":\"u-11\",\"userStatus\":\"ActivationSent\"}", prev,
               NULL);
  EXPECT_EQ_STR("active", dl_str(rec, "state"));
  EXPECT_TRUE(!dl_has(rec, "reclaimed_at"));
  json_object_put(rec);
  json_object_put(prev);
}

static void test_changed(void) {
  const char *u = "{\"userId\":\"u-12\",\"email\":\"x@y.z\",\"userStatus\":"
                  "\"Active\",\"permissionProfileName\":\"DocuSign Sender\","
                  "\"createdDateTime\":\"2020-01-01T00:00:00Z\"}";
  json_object *first = map_ok(u, NULL, NULL), *again, *moved;

  EXPECT_EQ_INT(1, dsg_user_record_changed(NULL, first));
  NOW += 86400; /* next day's run: only last_seen_at moves */
  again = map_ok(u, first, NULL);
  EXPECT_EQ_STR("2026-11-29T09:00:00Z", dl_str(again, "last_seen_at"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(again, "first_seen_at"));
  EXPECT_EQ_INT(0, dsg_user_record_changed(first, again));
  moved = map_ok("{\"userId\":\"u-12\",\"email\":\"x@y.z\",\"userStatus\":"
                 "\"Active\",\"permissionProfileName\":\"DocuSign Viewer\","
                 "\"createdDateTime\":\"2020-01-01T00:00:00Z\"}",
                 again, NULL);
  EXPECT_EQ_INT(1, dsg_user_record_changed(again, moved));
  /* a key only in prev is a change too */
  json_object_object_add(again, "removed_at", json_object_new_string("x"));
  EXPECT_EQ_INT(1, dsg_user_record_changed(again, first));
  NOW -= 86400;
  json_object_put(first);
  json_object_put(again);
  json_object_put(moved);
}

static void test_exclusions(void) {
  json_object *idr = dl_parse(
      "[{\"rule_id\":\"ix-1\",\"subscription_identifier\":\"DocuSign "
      "Viewer\",\"profile_type\":\"docusign_subscription\",\"active\":true}]");
  json_object *ur = dl_parse("[{\"rule_id\":\"ux-1\",\"domain\":"
                             "\"Contractor.Example\",\"active\":true}]");
  dsg_exclusions *ex = NULL;
  json_object *rec;
  char err[128];

  EXPECT_EQ_INT(0, dsg_exclusions_new("docusign_subscription", idr, ur, &ex,
                                      NULL, err, sizeof(err)));
  rec = map_ok("{\"userId\":\"u-13\",\"email\":\"Bob@CONTRACTOR.example\","
               "\"permissionProfileName\":\"DocuSign Sender\"}",
               NULL, ex);
  EXPECT_TRUE(dl_bool(rec, "excluded"));
  EXPECT_CONTAINS(dl_str(rec, "exclusion_reason"), "[ux-1]");
  json_object_put(rec);
  rec = map_ok("{\"userId\":\"u-14\",\"email\":\"v@example.com\","
               "\"permissionProfileName\":\"DocuSign Viewer\"}",
               NULL, ex);
  EXPECT_TRUE(dl_bool(rec, "excluded"));
  EXPECT_CONTAINS(dl_str(rec, "exclusion_reason"), "[ix-1]");
  json_object_put(rec);
  dsg_exclusions_free(ex);
  json_object_put(idr);
  json_object_put(ur);
}

static void test_bad_users(void) {
  const char *bad[] = {
      "{}",    "{\"userId\":\"\"}", "{\"userId\":42}", "{\"userId\":null}",
      "[1,2]", "\"user\""};
  size_t i;
  dsg_user_map_opts o;

  memset(&o, 0, sizeof(o));
  o.now = NOW;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_object *u = dl_parse(bad[i]), *rec = (json_object *)1;
    char err[256] = "";

    EXPECT_EQ_INT(SAM_EPROTO,
                  dsg_user_map(u, NULL, &o, &rec, err, sizeof(err)));
    EXPECT_TRUE(rec == NULL);
    EXPECT_TRUE(err[0] != '\0');
    json_object_put(u);
  }
  {
    char js[400], err[256] = "";
    json_object *u, *rec = NULL;

    memset(js, 0, sizeof(js));
    strcpy(js, "{\"userId\":\"");
    memset(js + strlen(js), 'a', 201);
    strcat(js, "\"}");
    u = dl_parse(js);
    EXPECT_EQ_INT(SAM_EPROTO,
                  dsg_user_map(u, NULL, &o, &rec, err, sizeof(err)));
    EXPECT_CONTAINS(err, "userId");
    json_object_put(u);
  }
}

static void test_removed_record(void) {
  json_object *cur = map_ok(DOCUSIGN_EXAMPLE, NULL, NULL), *gone = NULL,
              *again = NULL;

  EXPECT_EQ_INT(0, dsg_user_removed_record(cur, NOW + 86400, &gone));
  dl_expect_valid("sam-subscription.schema.json", gone);
  EXPECT_EQ_STR("removed", dl_str(gone, "state"));
  EXPECT_TRUE(!dl_bool(gone, "active"));
  EXPECT_EQ_STR("2026-11-29T09:00:00Z", dl_str(gone, "removed_at"));
  EXPECT_EQ_STR("Tanya.Cooper@Example.COM",
                dl_str(gone, "user_principal_name"));
  EXPECT_EQ_STR("active", dl_str(cur, "state")); /* prev untouched */
  EXPECT_EQ_INT(1, dsg_user_record_changed(cur, gone));
  /* sweeping again changes nothing */
  EXPECT_EQ_INT(0, dsg_user_removed_record(gone, NOW + 2 * 86400, &again));
  EXPECT_EQ_STR("2026-11-29T09:00:00Z", dl_str(again, "removed_at"));
  EXPECT_EQ_INT(0, dsg_user_record_changed(gone, again));
  json_object_put(again);
  EXPECT_EQ_INT(SAM_EINVAL, dsg_user_removed_record(NULL, NOW, &again));
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_user_removed_record(cur, DSG_TIME_UNKNOWN, &again));
  json_object_put(gone);
  json_object_put(cur);
}

static void test_ident_tally(void) {
  dsg_ident_tally *t = NULL;
  const char *id, *model;
  uint64_t count;
  char name[64];
  size_t i;

  EXPECT_EQ_INT(0, dsg_ident_tally_new(&t));
  for (i = 0; i < 1000; i++) {
    EXPECT_EQ_INT(0,
                  dsg_ident_tally_add(t, "DocuSign Sender", "DocuSign Sender"));
    if (i % 10 == 0)
      EXPECT_EQ_INT(0, dsg_ident_tally_add(t, "Custom Profile ✓", NULL));
  }
  EXPECT_EQ_INT(0, dsg_ident_tally_add(t, "docusign sender", NULL));
  /* an admin mapped it during the run: the model is kept */
  EXPECT_EQ_INT(0, dsg_ident_tally_add(t, "Custom Profile ✓", "Sender"));
  /* many identifiers: the table grows */
  for (i = 0; i < 300; i++) {
    snprintf(name, sizeof(name), "profile-%zu", i);
    EXPECT_EQ_INT(0, dsg_ident_tally_add(t, name, NULL));
    EXPECT_EQ_INT(0, dsg_ident_tally_add(t, name, NULL));
  }
  EXPECT_EQ_INT(303, dsg_ident_tally_size(t));
  EXPECT_EQ_INT(0, dsg_ident_tally_get(t, 0, &id, &count, &model));
  EXPECT_EQ_STR("DocuSign Sender", id);
  EXPECT_EQ_U64(1000, count);
  EXPECT_EQ_STR("DocuSign Sender", model);
  EXPECT_EQ_INT(0, dsg_ident_tally_get(t, 1, &id, &count, &model));
  EXPECT_EQ_STR("Custom Profile ✓", id);
  EXPECT_EQ_U64(101, count);
  EXPECT_EQ_STR("Sender", model);
  EXPECT_EQ_INT(0, dsg_ident_tally_get(t, 2, &id, &count, &model));
  EXPECT_EQ_STR("docusign sender", id); /* verbatim: another identifier */
  EXPECT_TRUE(model == NULL);
  EXPECT_EQ_INT(0, dsg_ident_tally_get(t, 302, &id, &count, &model));
  EXPECT_EQ_STR("profile-299", id);
  EXPECT_EQ_U64(2, count);
  EXPECT_EQ_INT(SAM_EINVAL, dsg_ident_tally_get(t, 303, &id, &count, &model));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_ident_tally_add(t, "", NULL));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_ident_tally_add(t, NULL, NULL));
  dsg_ident_tally_free(t);
  dsg_ident_tally_free(NULL);
}

static void test_unrecognized_record(void) {
  json_object *rec = NULL, *prev;
  char err[128], big[300];

  EXPECT_EQ_INT(0, dsg_unrecognized_record("Custom Profile ✓", 101, NULL, NOW,
                                           &rec, err, sizeof(err)));
  dl_expect_valid("sam-unrecognized-identifier.schema.json", rec);
  EXPECT_EQ_STR("Custom Profile ✓", dl_str(rec, "identifier"));
  EXPECT_EQ_STR("101", dl_str(rec, "subscription_count"));
  EXPECT_TRUE(dl_is_null(rec, "software_model"));
  EXPECT_TRUE(!dl_bool(rec, "exclude_from_content_service"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "first_seen_at"));
  json_object_put(rec);
  /* the admin's mapping and flags survive the next run */
  prev = dl_parse("{\"identifier\":\"Custom Profile ✓\",\"subscription_count\":"
                  "90,\"software_model\":\"DocuSign Sender\","
                  "\"exclude_from_content_service\":true,\"first_seen_at\":"
                  "\"2026-03-01T00:00:00Z\",\"last_seen_at\":"
                  "\"2026-11-27T09:00:00Z\"}");
  EXPECT_EQ_INT(0, dsg_unrecognized_record("Custom Profile ✓", 0, prev, NOW,
                                           &rec, err, sizeof(err)));
  dl_expect_valid("sam-unrecognized-identifier.schema.json", rec);
  EXPECT_EQ_STR("DocuSign Sender", dl_str(rec, "software_model"));
  EXPECT_TRUE(dl_bool(rec, "exclude_from_content_service"));
  EXPECT_EQ_STR("2026-03-01T00:00:00Z", dl_str(rec, "first_seen_at"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "last_seen_at"));
  EXPECT_EQ_STR("0", dl_str(rec, "subscription_count"));
  json_object_put(rec);
  json_object_put(prev);
  EXPECT_EQ_INT(SAM_EINVAL, dsg_unrecognized_record("", 1, NULL, NOW, &rec, err,
                                                    sizeof(err)));
  memset(big, 'x', 201);
  big[201] = '\0';
  EXPECT_EQ_INT(SAM_EINVAL, dsg_unrecognized_record(big, 1, NULL, NOW, &rec,
                                                    err, sizeof(err)));
  EXPECT_TRUE(rec == NULL);
}

int main(void) {
  EXPECT_EQ_INT(0, dsg_date_parse("2026-11-28T09:00:00Z", &NOW));
  SAM_T_RUN(test_docusign_example);
  SAM_T_RUN(test_license_and_admin);
  SAM_T_RUN(test_unicode_and_missing);
  SAM_T_RUN(test_closed_and_prev);
  SAM_T_RUN(test_changed);
  SAM_T_RUN(test_exclusions);
  SAM_T_RUN(test_bad_users);
  SAM_T_RUN(test_removed_record);
  SAM_T_RUN(test_ident_tally);
  SAM_T_RUN(test_unrecognized_record);
  return 0;
}
