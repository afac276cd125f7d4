/*
 * test-dsg-page-parse.c: users-list pages as DocuSign sends them (paging
 * fields as strings, 7-digit dates, nextUri/previousUri), tolerated number
 * fields, a page past the end (resultSetSize "0", no users key), and the
 * ugly cases: truncated and malformed JSON, missing users, non-numeric
 * totals, a wrong startPosition, trailing garbage. Then the userId set:
 * GUIDs in any case, other ids, duplicates across pages, growth, memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsg_page_parse.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

#define AUTO ((size_t)-1) /* parse_bad: the whole string */

/* A page like GET /v2.1/accounts/{id}/users?count=2&start_position=0
 * &additional_info=true&include_license=true returns. */
static const char *const PAGE0 =
    "{\"users\":[{\"userName\":\"Tanya Cooper\",\"userId\":"
    "\"2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f\",\"userType\":\"CompanyUser\","
    "\"isAdmin\":\"False\",\"userStatus\":\"Active\",\"uri\":\"/users/"
    "2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f\",\"email\":"
    "\"Tanya.Cooper@Example.COM\",\"createdDateTime\":"
    "\"2019-05-13T16:28:23.3900000Z\",\"userAddedToAccountDateTime\":"
    "\"0001-01-01T08:00:00.0000000Z\",\"permissionProfileId\":\"12345678\","
    "\"permissionProfileName\":\"DocuSign Sender\"},"
    "{\"userName\":\"Zoë Ångström\",\"userId\":"
    "\"5E1B0C9A-1111-4222-8333-944455556666\",\"isAdmin\":\"True\","
    "\"userStatus\":\"ActivationSent\",\"email\":\"zoe@example.com\","
    "\"licenseType\":\"Professional\",\"licenseStatus\":\"active\"}],"
    "\"resultSetSize\":\"2\",\"totalSetSize\":\"5\",\"startPosition\":\"0\","
    "\"endPosition\":\"1\",\"nextUri\":\"/users?start_position=2&count=2\","
    "\"previousUri\":null}\n";

static void parse_ok(const char *body, uint64_t start, dsg_page *p) {
  char err[256] = "";
  int rc = dsg_page_parse(body, strlen(body), start, p, err, sizeof(err));

  if (rc != 0)
    SAM_T_FAIL("page did not parse [%s] [%s]", sam_err_name(rc), err);
}

static void
parse_bad(const char *body, size_t len, uint64_t start, const char *needle) {
  dsg_page p;
  char err[256] = "";

  if (len == AUTO)
    len = strlen(body);
  EXPECT_EQ_INT(SAM_EPROTO,
                dsg_page_parse(body, len, start, &p, err, sizeof(err)));
  EXPECT_CONTAINS(err, needle);
  EXPECT_TRUE(p.root == NULL && p.users == NULL && p.n_users == 0);
}

static void test_docusign_page(void) {
  dsg_page p;
  json_object *u, *id = NULL;

  parse_ok(PAGE0, 0, &p);
  EXPECT_EQ_U64(2, p.result_set_size);
  EXPECT_EQ_U64(5, p.total_set_size);
  EXPECT_EQ_U64(0, p.start_position);
  EXPECT_EQ_U64(1, p.end_position);
  EXPECT_EQ_INT(1, p.has_next_uri);
  EXPECT_EQ_INT(2, p.n_users);
  u = dsg_page_user(&p, 1);
  EXPECT_TRUE(json_object_object_get_ex(u, "userId", &id));
  EXPECT_EQ_STR("5E1B0C9A-1111-4222-8333-944455556666",
                json_object_get_string(id));
  EXPECT_TRUE(dsg_page_user(&p, 2) == NULL);
  dsg_page_free(&p);
  dsg_page_free(&p); /* zeroed: safe twice */
  dsg_page_free(NULL);
}

static void test_tolerated(void) {
  dsg_page p;

  /* numbers instead of strings; no endPosition; last page (nextUri null) */
  parse_ok("{\"users\":[{\"userId\":\"a\"}],\"resultSetSize\":1,"
           "\"totalSetSize\":201,\"startPosition\":200,\"nextUri\":null}",
           200, &p);
  EXPECT_EQ_U64(200, p.end_position);
  EXPECT_EQ_INT(0, p.has_next_uri);
  dsg_page_free(&p);
  /* past the end (A2): resultSetSize "0" and no users key */
  parse_ok("{\"resultSetSize\":\"0\",\"totalSetSize\":\"5\","
           "\"startPosition\":\"500\",\"endPosition\":\"0\",\"nextUri\":null,"
           "\"previousUri\":\"/users?start_position=400&count=100\"}",
           500, &p);
  EXPECT_EQ_INT(0, p.n_users);
  EXPECT_TRUE(p.users == NULL);
  EXPECT_TRUE(dsg_page_user(&p, 0) == NULL);
  dsg_page_free(&p);
  /* an empty account, with an empty users array */
  parse_ok("{\"users\":[],\"resultSetSize\":\"0\",\"totalSetSize\":\"0\","
           "\"startPosition\":\"0\",\"endPosition\":\"-1\"}",
           0, &p);
  dsg_page_free(&p);
  /* unknown fields are ignored; white space around is fine */
  parse_ok("  \r\n{\"resultSetSize\":\"0\",\"totalSetSize\":\"0\","
           "\"startPosition\":\"0\",\"somethingNew\":{\"a\":[1]}}\t\n",
           0, &p);
  dsg_page_free(&p);
}

static void test_malformed(void) {
  char buf[2048];
  size_t n = strlen(PAGE0), cut;

  /* every truncation of a real page is refused */
  for (cut = 1; cut < n - 2; cut += 7)
    parse_bad(PAGE0, cut, 0, "users page");
  parse_bad(PAGE0, n / 2, 0, "truncated");
  parse_bad("", 0, 0, "[0] bytes");
  parse_bad("not json", 8, 0, "malformed JSON");
  parse_bad("[1,2]", 5, 0, "not an object [array]");
  parse_bad("\"x\"", 3, 0, "not an object");
  snprintf(buf, sizeof(buf), "%s{}", PAGE0);
  parse_bad(buf, strlen(buf), 0, "data after the JSON");
  /* missing users with resultSetSize > 0 */
  parse_bad("{\"resultSetSize\":\"3\",\"totalSetSize\":\"5\","
            "\"startPosition\":\"0\"}",
            AUTO, 0, "users is missing [0 entries] but resultSetSize [3]");
  /* a users array shorter than resultSetSize */
  parse_bad("{\"users\":[{\"userId\":\"a\"}],\"resultSetSize\":\"2\","
            "\"totalSetSize\":\"5\",\"startPosition\":\"0\"}",
            AUTO, 0, "resultSetSize [2]");
  parse_bad("{\"users\":{},\"resultSetSize\":\"0\",\"totalSetSize\":\"5\","
            "\"startPosition\":\"0\"}",
            AUTO, 0, "users is not an array [object]");
  parse_bad("{\"users\":[1],\"resultSetSize\":\"1\",\"totalSetSize\":\"5\","
            "\"startPosition\":\"0\"}",
            AUTO, 0, "users[0] is not an object [int]");
  /* non-numeric or missing paging fields */
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":\"lots\","
            "\"startPosition\":\"0\"}",
            AUTO, 0, "totalSetSize [lots] is not a count");
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":\"-1\","
            "\"startPosition\":\"0\"}",
            AUTO, 0, "totalSetSize [-1]");
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":\"\","
            "\"startPosition\":\"0\"}",
            AUTO, 0, "totalSetSize []");
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":1.5,"
            "\"startPosition\":\"0\"}",
            AUTO, 0, "totalSetSize [1.5]");
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":null,"
            "\"startPosition\":\"0\"}",
            AUTO, 0, "totalSetSize is missing");
  parse_bad("{\"resultSetSize\":\"0\",\"startPosition\":\"0\"}", AUTO, 0,
            "totalSetSize is missing");
  parse_bad("{\"totalSetSize\":\"0\",\"startPosition\":\"0\"}", AUTO, 0,
            "resultSetSize is missing");
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":\"0\"}", AUTO, 0,
            "startPosition is missing");
  parse_bad("{\"users\":[{\"userId\":\"a\"}],\"resultSetSize\":\"1\","
            "\"totalSetSize\":\"1\",\"startPosition\":\"0\","
            "\"endPosition\":\"x\"}",
            AUTO, 0, "endPosition [x]");
  parse_bad("{\"resultSetSize\":\"0\",\"totalSetSize\":"
            "\"99999999999999999999\",\"startPosition\":\"0\"}",
            AUTO, 0, "totalSetSize");
  /* the page is not the one asked for */
  parse_bad(PAGE0, n, 100,
            "startPosition [0] differs from the requested [100]");
  /* inconsistent counts */
  parse_bad("{\"users\":[{\"userId\":\"a\"}],\"resultSetSize\":\"1\","
            "\"totalSetSize\":\"0\",\"startPosition\":\"0\"}",
            AUTO, 0, "resultSetSize [1] exceeds totalSetSize [0]");
  parse_bad("{\"users\":[{\"userId\":\"a\"}],\"resultSetSize\":\"1\","
            "\"totalSetSize\":\"9\",\"startPosition\":\"3\","
            "\"endPosition\":\"7\"}",
            AUTO, 3, "endPosition [7]");
}

static void test_bad_args(void) {
  dsg_page p;
  char err[64];

  EXPECT_EQ_INT(SAM_EINVAL, dsg_page_parse("{}", 2, 0, NULL, err, 64));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_page_parse(NULL, 2, 0, &p, err, 64));
}

static void test_idset(void) {
  dsg_idset *s = NULL;
  char id[64];
  size_t i;

  EXPECT_EQ_INT(0, dsg_idset_new(0, &s));
  /* the same GUID in another case is the same user */
  EXPECT_EQ_INT(1, dsg_idset_add(s, "2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f"));
  EXPECT_EQ_INT(0, dsg_idset_add(s, "2D3F8A0E-7D5C-4A3B-9F1E-0C6B5A4D3E2F"));
  EXPECT_EQ_INT(1,
                dsg_idset_contains(s, "2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f"));
  /* the nil GUID and non-GUID ids work too */
  EXPECT_EQ_INT(1, dsg_idset_add(s, "00000000-0000-0000-0000-000000000000"));
  EXPECT_EQ_INT(0, dsg_idset_add(s, "00000000-0000-0000-0000-000000000000"));
  EXPECT_EQ_INT(1, dsg_idset_add(s, "u-1"));
  EXPECT_EQ_INT(0, dsg_idset_add(s, "u-1"));
  EXPECT_EQ_INT(1, dsg_idset_add(s, "U-1")); /* not a GUID: exact text */
  EXPECT_EQ_INT(0, dsg_idset_contains(s, "u-2"));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_idset_add(s, ""));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_idset_add(s, NULL));
  EXPECT_EQ_INT(0, dsg_idset_contains(s, NULL));
  EXPECT_EQ_INT(4, dsg_idset_count(s));
  dsg_idset_free(s);

  /* 200,000 GUIDs over two "runs" of overlapping pages: each counted once,
   * at most 16 bytes per id after growth */
  EXPECT_EQ_INT(0, dsg_idset_new(1000, &s));
  for (i = 0; i < 200000; i++) {
    snprintf(id, sizeof(id), "%08zx-7d5c-4a3b-9f1e-%012zx", i * 2654435761u, i);
    EXPECT_EQ_INT(1, dsg_idset_add(s, id));
  }
  for (i = 0; i < 200000; i += 97) {
    snprintf(id, sizeof(id), "%08zx-7d5c-4a3b-9f1e-%012zx", i * 2654435761u, i);
    EXPECT_EQ_INT(0, dsg_idset_add(s, id));
    EXPECT_EQ_INT(1, dsg_idset_contains(s, id));
  }
  EXPECT_EQ_INT(200000, dsg_idset_count(s));
  EXPECT_TRUE(dsg_idset_bytes(s) <= 16 * 200000 + 4096);
  /* marks: one id in 7 (the Closed users of a run), kept by the ids
   * added after them (growth), read back exactly; a mark neither adds nor
   * hides an id */
  for (i = 0; i < 200000; i += 7) {
    snprintf(id, sizeof(id), "%08zx-7d5c-4a3b-9f1e-%012zx", i * 2654435761u, i);
    EXPECT_EQ_INT(1, dsg_idset_mark(s, id));
  }
  for (i = 200000; i < 400000; i++) {
    snprintf(id, sizeof(id), "%08zx-7d5c-4a3b-9f1e-%012zx", i * 2654435761u, i);
    EXPECT_EQ_INT(1, dsg_idset_add(s, id));
  }
  for (i = 0; i < 400000; i++) {
    snprintf(id, sizeof(id), "%08zx-7d5c-4a3b-9f1e-%012zx", i * 2654435761u, i);
    if (dsg_idset_marked(s, id) != (i < 200000 && i % 7 == 0))
      EXPECT_EQ_INT(i < 200000 && i % 7 == 0, dsg_idset_marked(s, id));
    if (i % 7 == 0 && i < 200000)
      EXPECT_EQ_INT(0, dsg_idset_add(s, id)); /* still present */
  }
  EXPECT_EQ_INT(0, dsg_idset_mark(s, "not-in-the-set"));
  EXPECT_EQ_INT(0, dsg_idset_marked(s, "not-in-the-set"));
  EXPECT_EQ_INT(0, dsg_idset_contains(s, "not-in-the-set"));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_idset_mark(s, ""));
  EXPECT_EQ_INT(0, dsg_idset_marked(s, NULL));
  EXPECT_EQ_INT(400000, dsg_idset_count(s));
  dsg_idset_free(s);

  /* sized right: about 12 bytes per id; sequential GUIDs (a generator that
   * counts) and ids differing in their first bytes only */
  EXPECT_EQ_INT(0, dsg_idset_new(200000, &s));
  for (i = 0; i < 200000; i++) {
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012zx", i);
    EXPECT_EQ_INT(1, dsg_idset_add(s, id));
    snprintf(id, sizeof(id), "%08zx-0000-4000-8000-000000000000", i + 1);
    if (i < 1000)
      EXPECT_EQ_INT(1, dsg_idset_add(s, id));
  }
  EXPECT_EQ_INT(201000, dsg_idset_count(s));
  EXPECT_TRUE(dsg_idset_bytes(s) <= 14 * 200000);
  dsg_idset_free(s);
  dsg_idset_free(NULL);
}

/* Duplicates across pages (a user shifted by an insert during the run) are
 * counted once. */
static void test_dedupe_across_pages(void) {
  const char *p1 = "{\"users\":[{\"userId\":\"a\"},{\"userId\":\"b\"}],"
                   "\"resultSetSize\":\"2\",\"totalSetSize\":\"4\","
                   "\"startPosition\":\"0\",\"nextUri\":\"/users?x\"}";
  const char *p2 = "{\"users\":[{\"userId\":\"b\"},{\"userId\":\"c\"}],"
                   "\"resultSetSize\":\"2\",\"totalSetSize\":\"4\","
                   "\"startPosition\":\"2\",\"nextUri\":null}";
  const char *pages[2] = {p1, p2};
  dsg_idset *s = NULL;
  size_t i, j, seen = 0, dups = 0;

  EXPECT_EQ_INT(0, dsg_idset_new(4, &s));
  for (i = 0; i < 2; i++) {
    dsg_page p;

    parse_ok(pages[i], i * 2, &p);
    for (j = 0; j < p.n_users; j++) {
      json_object *id = NULL;

      EXPECT_TRUE(
          json_object_object_get_ex(dsg_page_user(&p, j), "userId", &id));
      if (dsg_idset_add(s, json_object_get_string(id)) == 1)
        seen++;
      else
        dups++;
    }
    dsg_page_free(&p);
  }
  EXPECT_EQ_INT(3, seen);
  EXPECT_EQ_INT(1, dups);
  dsg_idset_free(s);
}

static void test_parse_count(void) {
  json_object *v;
  uint64_t n = 7;

  v = json_object_new_string("000123");
  EXPECT_EQ_INT(0, dsg_parse_count(v, &n));
  EXPECT_EQ_U64(123, n);
  json_object_put(v);
  v = json_object_new_string(" 1");
  EXPECT_EQ_INT(SAM_EPROTO, dsg_parse_count(v, &n));
  json_object_put(v);
  v = json_object_new_string("1e3");
  EXPECT_EQ_INT(SAM_EPROTO, dsg_parse_count(v, &n));
  json_object_put(v);
  v = json_object_new_int64(-4);
  EXPECT_EQ_INT(SAM_EPROTO, dsg_parse_count(v, &n));
  json_object_put(v);
  v = json_object_new_boolean(1);
  EXPECT_EQ_INT(SAM_EPROTO, dsg_parse_count(v, &n));
  json_object_put(v);
  EXPECT_EQ_INT(SAM_EPROTO, dsg_parse_count(NULL, &n));
}

int main(void) {
  SAM_T_RUN(test_docusign_page);
  SAM_T_RUN(test_tolerated);
  SAM_T_RUN(test_malformed);
  SAM_T_RUN(test_bad_args);
  SAM_T_RUN(test_idset);
  SAM_T_RUN(test_dedupe_across_pages);
  SAM_T_RUN(test_parse_count);
  return 0;
}
