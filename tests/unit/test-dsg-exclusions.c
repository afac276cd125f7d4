/*
 * test-dsg-exclusions.c: identifier and user exclusion rules compiled into
 * a matcher: exact identifiers per profile type, exact UPNs compared
 * case-insensitively, domains after the last '@', inactive and foreign
 * rules, readable reasons naming the rule, and lower-casing of UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dsg_exclusions.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

#define PT "docusign_subscription"

static json_object *parse(const char *s) {
  json_object *o = json_tokener_parse(s);

  if (o == NULL)
    SAM_T_FAIL("bad test JSON [%s]", s);
  return o;
}

static dsg_exclusions *
compile(const char *ids, const char *users, size_t *skipped) {
  json_object *a = ids ? parse(ids) : NULL, *b = users ? parse(users) : NULL;
  dsg_exclusions *m = NULL;
  char err[128] = "";

  EXPECT_EQ_INT(0, dsg_exclusions_new(PT, a, b, &m, skipped, err, sizeof(err)));
  json_object_put(a);
  json_object_put(b);
  return m;
}

static void lower_is(const char *in, const char *want) {
  char *s = dsg_str_lower(in);

  EXPECT_EQ_STR(want, s);
  free(s);
}

static void test_lower(void) {
  lower_is("Tanya.Cooper@Example.COM", "tanya.cooper@example.com");
  lower_is("ÀÉÎÕÜÞ×", "àéîõüþ×"); /* U+00D7 has no lower case */
  lower_is("ΑΒΓΣΩ", "αβγσω");
  lower_is("ЖУКОВ ЁЖ", "жуков ёж");
  lower_is("İSTANBUL", "İstanbul"); /* three-byte forms stay as they are */
  lower_is("東京@EXAMPLE.JP", "東京@example.jp");
  lower_is("\xc3", "\xc3"); /* truncated UTF-8 is copied */
  lower_is("", "");
  lower_is(NULL, "");
}

static void test_identifier_rules(void) {
  size_t skipped = 0;
  char why[301];
  dsg_exclusions *m = compile(
      "[{\"rule_id\":\"ix-1\",\"subscription_identifier\":\"DocuSign "
      "Viewer\",\"profile_type\":\"" PT "\",\"active\":true},"
      "{\"rule_id\":\"ix-2\",\"subscription_identifier\":\"Sender\","
      "\"profile_type\":\"" PT "\",\"domain\":\"@Partner.example\","
      "\"active\":true},"
      "{\"rule_id\":\"ix-off\",\"subscription_identifier\":\"Professional\","
      "\"profile_type\":\"" PT "\",\"active\":false},"
      "{\"rule_id\":\"ix-zoom\",\"subscription_identifier\":\"Professional\","
      "\"profile_type\":\"zoom_subscription\",\"active\":true},"
      "{\"subscription_identifier\":\"x\",\"active\":true},"
      "42]",
      NULL, &skipped);

  EXPECT_EQ_INT(2, dsg_exclusions_count(m));
  EXPECT_EQ_INT(4, skipped);
  EXPECT_EQ_INT(
      1, dsg_exclusions_match(m, "DocuSign Viewer", "a@b.c", why, sizeof(why)));
  EXPECT_CONTAINS(why, "identifier exclusion rule [ix-1]");
  EXPECT_CONTAINS(why, "[DocuSign Viewer]");
  /* identifiers are verbatim: case and spaces matter */
  EXPECT_EQ_INT(
      0, dsg_exclusions_match(m, "docusign viewer", "a@b.c", why, sizeof(why)));
  EXPECT_EQ_STR("", why);
  EXPECT_EQ_INT(0,
                dsg_exclusions_match(m, "DocuSign Viewer ", "a@b.c", NULL, 0));
  /* a rule with a domain needs that domain */
  EXPECT_EQ_INT(1, dsg_exclusions_match(m, "Sender", "Eve@PARTNER.example", why,
                                        sizeof(why)));
  EXPECT_CONTAINS(why, "[ix-2]");
  EXPECT_CONTAINS(why, "domain [partner.example]");
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, "Sender", "eve@example", NULL, 0));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, "Sender", NULL, NULL, 0));
  /* inactive and other profile types never match */
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, "Professional", "a@b.c", NULL, 0));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, NULL, "a@b.c", NULL, 0));
  dsg_exclusions_free(m);
}

static void test_user_rules(void) {
  size_t skipped = 0;
  char why[301];
  dsg_exclusions *m = compile(
      NULL,
      "[{\"rule_id\":\"ux-upn\",\"user_principal_name\":"
      "\"Break.Glass@Example.COM\",\"active\":true},"
      "{\"rule_id\":\"ux-dom\",\"domain\":\"Contractor.example\","
      "\"profile_type\":null,\"active\":true},"
      "{\"rule_id\":\"ux-pt\",\"domain\":\"ours.example\",\"profile_type\":"
      "\"" PT "\",\"active\":true},"
      "{\"rule_id\":\"ux-zoom\",\"domain\":\"zoom.example\",\"profile_type\":"
      "\"zoom_subscription\",\"active\":true},"
      "{\"rule_id\":\"ux-off\",\"domain\":\"off.example\",\"active\":false},"
      "{\"rule_id\":\"ux-empty\",\"user_principal_name\":\"\",\"domain\":"
      "null,\"active\":true}]",
      &skipped);

  EXPECT_EQ_INT(3, dsg_exclusions_count(m));
  EXPECT_EQ_INT(3, skipped);
  EXPECT_EQ_INT(1, dsg_exclusions_match(m, "DocuSign Sender",
                                        "break.glass@example.com", why,
                                        sizeof(why)));
  EXPECT_EQ_STR("excluded by user exclusion rule [ux-upn]: user "
                "[break.glass@example.com]",
                why);
  EXPECT_EQ_INT(
      1, dsg_exclusions_match(m, NULL, "BREAK.GLASS@EXAMPLE.COM", NULL, 0));
  /* exact: no prefix or suffix matches */
  EXPECT_EQ_INT(
      0, dsg_exclusions_match(m, NULL, "break.glass@example.com.au", NULL, 0));
  EXPECT_EQ_INT(
      0, dsg_exclusions_match(m, NULL, "xbreak.glass@example.com", NULL, 0));
  /* domain: the part after the LAST '@', case-insensitive, no subdomains */
  EXPECT_EQ_INT(1, dsg_exclusions_match(m, NULL, "Bob@CONTRACTOR.Example", why,
                                        sizeof(why)));
  EXPECT_EQ_STR(
      "excluded by user exclusion rule [ux-dom]: domain [contractor.example]",
      why);
  EXPECT_EQ_INT(1, dsg_exclusions_match(
                       m, NULL, "\"odd@name\"@contractor.example", NULL, 0));
  EXPECT_EQ_INT(
      0, dsg_exclusions_match(m, NULL, "bob@sub.contractor.example", NULL, 0));
  EXPECT_EQ_INT(
      0, dsg_exclusions_match(m, NULL, "contractor.example@other.io", NULL, 0));
  EXPECT_EQ_INT(0,
                dsg_exclusions_match(m, NULL, "contractor.example", NULL, 0));
  EXPECT_EQ_INT(1, dsg_exclusions_match(m, NULL, "a@ours.example", NULL, 0));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, NULL, "a@zoom.example", NULL, 0));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, NULL, "a@off.example", NULL, 0));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, NULL, "", NULL, 0));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, NULL, NULL, NULL, 0));
  dsg_exclusions_free(m);
}

static void test_order_and_errors(void) {
  dsg_exclusions *m = NULL;
  json_object *obj = parse("{}");
  char why[48], err[128];

  /* identifier rules are tried first; the reason is cut to the buffer */
  m = compile("[{\"rule_id\":\"ix-1\",\"subscription_identifier\":\"A\","
              "\"profile_type\":\"" PT "\",\"active\":true}]",
              "[{\"rule_id\":\"ux-1\",\"domain\":\"b.c\",\"active\":true}]",
              NULL);
  EXPECT_EQ_INT(1, dsg_exclusions_match(m, "A", "a@b.c", why, sizeof(why)));
  EXPECT_CONTAINS(why, "ix-1");
  EXPECT_EQ_INT(47, strlen(why));
  EXPECT_EQ_INT(1, dsg_exclusions_match(m, "B", "a@b.c", why, sizeof(why)));
  EXPECT_CONTAINS(why, "ux-1");
  dsg_exclusions_free(m);
  /* empty matcher, NULL matcher */
  m = compile("[]", "[]", NULL);
  EXPECT_EQ_INT(0, dsg_exclusions_count(m));
  EXPECT_EQ_INT(0, dsg_exclusions_match(m, "A", "a@b.c", NULL, 0));
  dsg_exclusions_free(m);
  EXPECT_EQ_INT(0, dsg_exclusions_match(NULL, "A", "a@b.c", NULL, 0));
  dsg_exclusions_free(NULL);
  /* arguments that are not arrays */
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_exclusions_new(PT, obj, NULL, &m, NULL, err, sizeof(err)));
  EXPECT_CONTAINS(err, "identifier rules");
  EXPECT_TRUE(m == NULL);
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_exclusions_new(PT, NULL, obj, &m, NULL, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_exclusions_new(NULL, NULL, NULL, &m, NULL, err,
                                               sizeof(err)));
  json_object_put(obj);
}

int main(void) {
  SAM_T_RUN(test_lower);
  SAM_T_RUN(test_identifier_rules);
  SAM_T_RUN(test_user_rules);
  SAM_T_RUN(test_order_and_errors);
  return 0;
}
