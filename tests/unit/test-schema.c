/*
 * test-schema.c: the project's own cases for the schema validator
 * (host-sdk/src/schema_*.c): refusals with their pointers, the form rules,
 * error pointers and messages, the manifest and store-filter schemas, and
 * the ugly inputs (not JSON, truncated, 10000 levels deep, huge strings).
 */
#include <dirent.h>
#include <pthread.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"
#include "sam_schema.h"
#include "sam_test.h"

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL)
    SAM_T_FAIL("cannot open [%s]", path);
  EXPECT_EQ_INT(0, fseek(f, 0, SEEK_END));
  n = ftell(f);
  EXPECT_TRUE(n >= 0);
  EXPECT_EQ_INT(0, fseek(f, 0, SEEK_SET));
  buf = malloc((size_t)n + 1);
  EXPECT_TRUE(buf != NULL);
  EXPECT_EQ_U64((uint64_t)n, fread(buf, 1, (size_t)n, f));
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static sam__schema *
compile_ok_len(const char *text, size_t len, unsigned flags) {
  sam__schema *s = NULL;
  char err[512] = "";
  int rc = sam__schema_compile(text, len, flags, &s, err, sizeof(err));
  if (rc != 0)
    SAM_T_FAIL("compile failed [%d] [%s] for [%s]", rc, err, text);
  EXPECT_TRUE(s != NULL);
  return s;
}

static sam__schema *compile_ok(const char *text, unsigned flags) {
  return compile_ok_len(text, strlen(text), flags);
}

/* Compiling must fail with SAM_EINVAL and a message containing want. */
static void compile_fails_len(const char *text,
                              size_t len,
                              unsigned flags,
                              const char *want) {
  sam__schema *s = NULL;
  char err[512] = "";
  int rc = sam__schema_compile(text, len, flags, &s, err, sizeof(err));
  if (rc != SAM_EINVAL)
    SAM_T_FAIL("expected SAM_EINVAL, got [%d] for [%s]", rc, text);
  EXPECT_TRUE(s == NULL);
  EXPECT_CONTAINS(err, want);
}

static void compile_fails(const char *text, unsigned flags, const char *want) {
  compile_fails_len(text, strlen(text), flags, want);
}

static sam__schema *compile_file(const char *rel, unsigned flags) {
  char path[1024];
  size_t len;
  char *text;
  sam__schema *s = NULL;
  char err[512] = "";
  snprintf(path, sizeof(path), "%s/%s", SAM_SOURCE_DIR, rel);
  text = read_file(path, &len);
  if (sam__schema_compile(text, len, flags, &s, err, sizeof(err)) != 0)
    SAM_T_FAIL("[%s] does not compile: [%s]", rel, err);
  free(text);
  return s;
}

static int validate(const sam__schema *s,
                    const char *inst,
                    sam__schema_error *errs,
                    size_t max,
                    size_t *n) {
  return sam__schema_validate(s, inst, strlen(inst), errs, max, n);
}

/* Validation must fail with an error at ptr whose reason contains want. */
static void invalid_at(const sam__schema *s,
                       const char *inst,
                       const char *ptr,
                       const char *want) {
  sam__schema_error errs[16];
  size_t n = 0;
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, inst, errs, 16, &n));
  EXPECT_TRUE(n > 0);
  for (size_t i = 0; i < n; i++)
    if (strcmp(errs[i].pointer, ptr) == 0 && strstr(errs[i].reason, want))
      return;
  SAM_T_FAIL("no error [%s] at [%s] for [%s]; first is [%s] [%s]", want, ptr,
             inst, errs[0].pointer, errs[0].reason);
}

static void valid(const sam__schema *s, const char *inst) {
  sam__schema_error errs[4];
  size_t n = 0;
  int rc = validate(s, inst, errs, 4, &n);
  if (rc != 0)
    SAM_T_FAIL("expected valid [%s], got [%d] [%s] [%s]", inst, rc,
               n ? errs[0].pointer : "", n ? errs[0].reason : "");
  EXPECT_EQ_U64(0, n);
}

/* ---- refusals at compile ---- */

static void test_unsupported_keyword(void) {
  compile_fails("{\"minContains\":1}", 0,
                "unsupported keyword [minContains] at []");
  compile_fails("{\"properties\":{\"a\":{\"type\":\"string\",\"foo\":1}}}", 0,
                "unsupported keyword [foo] at [/properties/a]");
  compile_fails("{\"properties\":{\"a/b~c\":{\"bogus\":true}}}", 0,
                "unsupported keyword [bogus] at [/properties/a~1b~0c]");
  compile_fails("{\"items\":[true,{\"x-other\":1}]}", 0,
                "unsupported keyword [x-other] at [/items/1]");
  compile_fails("{\"definitions\":{\"d\":{\"unevaluatedProperties\":false}}}",
                0,
                "unsupported keyword [unevaluatedProperties] at "
                "[/definitions/d]");
  /* A key that a $ref uses as a definition is not ignored: it is used. */
  sam__schema_free(compile_ok("{\"mine\":{\"type\":\"integer\"},"
                              "\"properties\":{\"a\":{\"$ref\":\"#/mine\"}}}",
                              0));
  compile_fails("{\"format\":\"uri-template\"}", 0,
                "unsupported format [uri-template]");
  compile_fails(
      "{\"$schema\":\"http://json-schema.org/draft-04/schema#\"}", 0,
      "unsupported $schema [http://json-schema.org/draft-04/schema#]");
  sam__schema_free(compile_ok(
      "{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}", 0));
}

static void test_bad_values(void) {
  compile_fails("{\"minLength\":-1}", 0,
                "invalid value for keyword [minLength] at []");
  compile_fails("{\"maxItems\":1.5}", 0, "keyword [maxItems]");
  compile_fails("{\"type\":\"strin\"}", 0, "keyword [type]");
  compile_fails("{\"type\":[]}", 0, "keyword [type]");
  compile_fails("{\"pattern\":\"(\"}", 0, "keyword [pattern]");
  compile_fails("{\"pattern\":\"a\\\\Z\"}", 0, "not ECMA-262");
  compile_fails("{\"patternProperties\":{\"[\":true}}", 0,
                "keyword [patternProperties]");
  compile_fails("{\"multipleOf\":0}", 0, "keyword [multipleOf]");
  compile_fails("{\"required\":[1]}", 0, "keyword [required]");
  compile_fails("{\"enum\":1}", 0, "keyword [enum]");
  compile_fails("{\"allOf\":[]}", 0, "keyword [allOf]");
  compile_fails("{\"properties\":{\"a\":1}}", 0, "keyword [properties]");
  compile_fails("{\"x-sam-secret\":\"yes\"}", 0, "keyword [x-sam-secret]");
  compile_fails("{\"x-sam-ui\":[]}", 0, "keyword [x-sam-ui]");
  compile_fails("[]", 0, "must be an object or a boolean");
}

static void test_refs(void) {
  sam__schema *s;
  compile_fails("{\"$ref\":\"http://example.com/x.json\"}", 0,
                "remote reference [http://example.com/x.json]");
  compile_fails("{\"properties\":{\"a\":{\"$ref\":\"other.json#/x\"}}}", 0,
                "unresolvable reference [other.json#/x] for keyword [$ref] "
                "at [/properties/a]");
  compile_fails("{\"$ref\":\"#/definitions/missing\"}", 0,
                "unresolvable reference");
  compile_fails("{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},"
                "\"b\":{\"$ref\":\"#/definitions/a\"}},"
                "\"$ref\":\"#/definitions/a\"}",
                0, "reference loop");
  compile_fails("{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/a\"}}}", 0,
                "reference loop");
  compile_fails("{\"$ref\":\"#/definitions/x/enum\",\"definitions\":{\"x\":"
                "{\"enum\":[1]}}}",
                0, "does not point to a schema");

  /* Escaped pointers, $id-based and plain-name references. */
  s = compile_ok("{\"definitions\":{\"a/b\":{\"type\":\"integer\"},"
                 "\"c~d\":{\"type\":\"string\"},\"e%f\":{\"type\":\"null\"}},"
                 "\"properties\":{\"x\":{\"$ref\":\"#/definitions/a~1b\"},"
                 "\"y\":{\"$ref\":\"#/definitions/c~0d\"},"
                 "\"z\":{\"$ref\":\"#/definitions/e%25f\"}}}",
                 0);
  valid(s, "{\"x\":1,\"y\":\"s\",\"z\":null}");
  invalid_at(s, "{\"x\":\"1\"}", "/x", "must be of type [integer]");
  invalid_at(s, "{\"z\":0}", "/z", "must be of type [null]");
  sam__schema_free(s);

  s = compile_ok("{\"$id\":\"http://h.invalid/root.json\",\"items\":{\"$ref\":"
                 "\"item.json\"},\"definitions\":{\"i\":{\"$id\":\"item.json\","
                 "\"type\":\"integer\"},\"n\":{\"$id\":\"#named\",\"type\":"
                 "\"string\"}},\"properties\":{\"p\":{\"$ref\":\"#named\"}}}",
                 0);
  valid(s, "[1,2]");
  invalid_at(s, "[1,\"x\"]", "/1", "must be of type [integer]");
  invalid_at(s, "{\"p\":1}", "/p", "must be of type [string]");
  sam__schema_free(s);

  /* Recursion through "#" is fine; the meta-schema resolves offline. */
  s = compile_ok("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}", 0);
  valid(s, "[[],[[]]]");
  invalid_at(s, "[[1]]", "/0/0", "must be of type [array]");
  sam__schema_free(s);
  s = compile_ok("{\"$ref\":\"http://json-schema.org/draft-07/schema#\"}", 0);
  valid(s, "{\"type\":\"string\",\"minLength\":1}");
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, "{\"minLength\":-1}", NULL, 0, NULL));
  sam__schema_free(s);
}

/* ---- form mode ---- */

static const char *form_schema =
    "{\"type\":\"object\","
    "\"required\":[\"client_id\",\"client_secret\",\"account_id\","
    "\"instance_url\"],"
    "\"properties\":{"
    "\"client_id\":{\"type\":\"string\",\"title\":\"Client id\"},"
    "\"client_secret\":{\"type\":\"string\",\"title\":\"Client secret\","
    "\"writeOnly\":true,\"x-sam-secret\":true,\"minLength\":8},"
    "\"account_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"instance_url\":{\"type\":\"string\",\"enum\":["
    "\"https://account.docusign.com\",\"https://account-d.docusign.com\"],"
    "\"default\":\"https://account.docusign.com\"},"
    "\"reclaim_enabled\":{\"type\":\"boolean\",\"default\":true},"
    "\"account_name\":{\"type\":\"string\",\"readOnly\":true}},"
    "\"additionalProperties\":false,"
    "\"x-sam-ui\":{\"order\":[\"client_id\",\"client_secret\"],"
    "\"actions\":[\"get_oauth_token\"]}}";

static void test_form_rules(void) {
  sam__schema *s = compile_ok(form_schema, SAM__SCHEMA_FORM);
  json_object *root = sam__schema_root(s), *ui = NULL;
  EXPECT_TRUE(json_object_object_get_ex(root, "x-sam-ui", &ui));
  sam__schema_free(s);

  compile_fails("{\"properties\":{\"client_secret\":{\"type\":\"integer\","
                "\"writeOnly\":true,\"x-sam-secret\":true}}}",
                SAM__SCHEMA_FORM,
                "form schema [/properties/client_secret]: x-sam-secret needs "
                "type string");
  compile_fails("{\"properties\":{\"client_secret\":{\"writeOnly\":true,"
                "\"x-sam-secret\":true}}}",
                SAM__SCHEMA_FORM, "x-sam-secret needs type string");
  compile_fails("{\"properties\":{\"s\":{\"type\":\"string\","
                "\"x-sam-secret\":true}}}",
                SAM__SCHEMA_FORM,
                "form schema [/properties/s]: x-sam-secret needs writeOnly");
  compile_fails("{\"properties\":{\"a\":{\"type\":\"object\",\"x-sam-ui\":"
                "{}}}}",
                SAM__SCHEMA_FORM,
                "form schema [/properties/a]: x-sam-ui is allowed only at "
                "the root");
  /* Without the flag these are plain (if odd) schemas. */
  sam__schema_free(
      compile_ok("{\"properties\":{\"s\":{\"type\":\"integer\","
                 "\"x-sam-secret\":true},\"a\":{\"x-sam-ui\":{}}}}",
                 0));
  compile_fails("{\"properties\":{\"a\":{\"unknownThing\":1}}}",
                SAM__SCHEMA_FORM, "unsupported keyword [unknownThing]");
}

/* ---- validation errors ---- */

static void test_error_messages(void) {
  sam__schema *s = compile_ok(form_schema, SAM__SCHEMA_FORM), *s2;
  sam__schema_error errs[16];
  size_t n = 0;
  const char *bad = "{\"client_id\":5,\"client_secret\":\"s3cr3t\","
                    "\"instance_url\":\"http://x\",\"extra/~\":1,"
                    "\"account_id\":\"nope\"}";

  EXPECT_EQ_INT(SAM_EINVAL, validate(s, bad, errs, 16, &n));
  EXPECT_TRUE(n >= 5); /* collected, not just the first */
  invalid_at(s, bad, "/instance_url",
             "must be one of the enum values; got [\"http://x\"]");
  invalid_at(s, bad, "/client_id", "must be of type [string]; got [integer]");
  invalid_at(s, bad, "/extra~1~0", "additionalProperties");
  invalid_at(s, bad, "/account_id", "[uuid] (format)");
  invalid_at(s, bad, "/client_secret", "minLength [8]");
  invalid_at(s, "{}", "", "must have required property [client_id]");
  /* A secret's value never appears in a message. */
  for (size_t i = 0; i < n; i++)
    EXPECT_NOT_CONTAINS(errs[i].reason, "s3cr3t");
  invalid_at(s,
             "{\"client_id\":\"a\",\"client_secret\":[\"s3cr3tvalue\"],"
             "\"account_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\","
             "\"instance_url\":\"https://account.docusign.com\"}",
             "/client_secret", "must be of type [string]");

  /* max_errs bounds what is written; NULL errs still gives the verdict. */
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, bad, errs, 1, &n));
  EXPECT_EQ_U64(1, n);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, bad, NULL, 0, &n));
  EXPECT_EQ_U64(0, n);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, bad, errs, 0, NULL));
  valid(s, "{\"client_id\":\"a\",\"client_secret\":\"s3cr3t-long\","
           "\"account_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\","
           "\"instance_url\":\"https://account.docusign.com\"}");
  sam__schema_free(s);

  s = compile_ok("{\"type\":\"array\",\"items\":[{\"type\":\"integer\"}],"
                 "\"additionalItems\":false,\"uniqueItems\":true}",
                 0);
  invalid_at(s, "[1,1]", "/1", "additionalItems");
  invalid_at(s, "[1,1]", "", "uniqueItems");
  sam__schema_free(s);

  s = compile_ok("{\"oneOf\":[{\"minimum\":1},{\"maximum\":10}],"
                 "\"not\":{\"const\":5},\"multipleOf\":0.5}",
                 0);
  invalid_at(s, "3", "", "matched [0] and [1]");
  invalid_at(s, "5", "", "not");
  invalid_at(s, "11.25", "", "multipleOf [0.5]; got [11.25]");
  sam__schema_free(s);

  s = compile_ok("{\"properties\":{\"a\":{\"anyOf\":[{\"type\":\"string\"},"
                 "{\"type\":\"integer\"}]}}}",
                 0);
  invalid_at(s, "{\"a\":true}", "/a",
             "must match at least one schema in anyOf; [0] says: [/a] must be "
             "of type [string]; got [boolean]");
  s2 = compile_ok("{\"oneOf\":[{\"required\":[\"x\"]},{\"required\":[\"y\"]}]}",
                  0);
  invalid_at(s2, "{}", "",
             "matched none; [0] says: [] must have required property [x]");
  sam__schema_free(s2);
  sam__schema_free(s);

  s = compile_ok("{\"if\":{\"properties\":{\"k\":{\"const\":\"a\"}}},"
                 "\"then\":{\"required\":[\"a\"]},"
                 "\"else\":{\"required\":[\"b\"]},"
                 "\"dependencies\":{\"x\":[\"y\"]},"
                 "\"propertyNames\":{\"maxLength\":3}}",
                 0);
  invalid_at(s, "{\"k\":\"a\"}", "", "[a]");
  invalid_at(s, "{\"k\":\"z\"}", "", "[b]");
  invalid_at(s, "{\"b\":1,\"x\":1}", "", "must have property [y] because [x]");
  invalid_at(s, "{\"b\":1,\"long\":1}", "", "propertyNames");
  sam__schema_free(s);
}

static void test_unique_items_big(void) {
  sam__schema *s = compile_ok("{\"uniqueItems\":true}", 0);
  size_t cap = 20001 * 24 + 16, len = 0;
  char *text = malloc(cap);
  EXPECT_TRUE(text != NULL);
  text[len++] = '[';
  for (int i = 0; i < 20000; i++)
    len +=
        (size_t)snprintf(text + len, cap - len, "{\"k\":%d,\"v\":[%d]},", i, i);
  memcpy(text + len, "{\"v\":[5.0],\"k\":5}]", 18);
  len += 18;
  text[len] = '\0';
  /* 20001 items: sorting by hash finds the pair without 2e8 compares. */
  invalid_at(s, text, "", "items [5] and [20000] are equal");
  text[len - 12] = '6'; /* [6.0]: now every item differs */
  valid(s, text);
  free(text);
  sam__schema_free(s);
}

static void test_formats(void) {
  sam__schema *s = compile_ok(
      "{\"properties\":{\"h\":{\"format\":\"hostname\"},"
      "\"i4\":{\"format\":\"ipv4\"},\"i6\":{\"format\":\"ipv6\"},"
      "\"u\":{\"format\":\"uri\"},\"e\":{\"format\":\"email\"},"
      "\"d\":{\"format\":\"date-time\"},\"id\":{\"format\":\"uuid\"},"
      "\"p\":{\"format\":\"json-pointer\"},\"r\":{\"format\":\"regex\"}}}",
      0);
  valid(s, "{\"h\":\"account-d.docusign.com\",\"i4\":\"127.0.0.1\","
           "\"i6\":\"::1\",\"u\":\"https://account.docusign.com/oauth/token"
           "?a=b#c\",\"e\":\"admin@example.com\","
           "\"d\":\"2024-02-29T23:59:59.5+01:00\","
           "\"id\":\"0F8FAD5B-D9CB-469F-A165-70867728950E\","
           "\"p\":\"/a~1b/0\",\"r\":\"^[a-z]+$\"}");
  /* Formats apply to strings only. */
  valid(s, "{\"h\":1,\"i4\":null,\"d\":[]}");
  invalid_at(s, "{\"h\":\"a_b.com\"}", "/h", "[hostname] (format)");
  invalid_at(s, "{\"i4\":\"127.1\"}", "/i4", "[ipv4]");
  invalid_at(s, "{\"i4\":\"127.0.0.01\"}", "/i4", "[ipv4]");
  invalid_at(s, "{\"i6\":\"1::2::3\"}", "/i6", "[ipv6]");
  invalid_at(s, "{\"u\":\"/relative\"}", "/u", "[uri]");
  invalid_at(s, "{\"u\":\"http://a b\"}", "/u", "[uri]");
  invalid_at(s, "{\"e\":\"a@@b\"}", "/e", "[email]");
  invalid_at(s, "{\"e\":\"a..b@c.d\"}", "/e", "[email]");
  invalid_at(s, "{\"d\":\"2023-02-29T00:00:00Z\"}", "/d", "[date-time]");
  invalid_at(s, "{\"d\":\"2024-01-01T24:00:00Z\"}", "/d", "[date-time]");
  invalid_at(s, "{\"d\":\"2024-01-01 00:00:00Z\"}", "/d", "[date-time]");
  invalid_at(s, "{\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950\"}", "/id",
             "[uuid]");
  invalid_at(s, "{\"p\":\"a/b\"}", "/p", "[json-pointer]");
  invalid_at(s, "{\"r\":\"(\"}", "/r", "[regex]");
  sam__schema_free(s);
}

static void test_numbers_and_strings(void) {
  sam__schema *s = compile_ok("{\"type\":\"integer\"}", 0);
  valid(s, "1.0");
  valid(s, "-0");
  valid(s, "1e30");
  valid(s, "18446744073709551615");
  invalid_at(s, "1.5", "", "must be of type [integer]; got [number]");
  invalid_at(s, "\"1\"", "", "got [string]");
  sam__schema_free(s);

  /* Lengths count code points: U+1F600 is 4 bytes, one character. */
  s = compile_ok("{\"minLength\":2,\"maxLength\":2}", 0);
  valid(s, "\"\xF0\x9F\x98\x80\xC3\xA9\"");
  invalid_at(s, "\"\xF0\x9F\x98\x80\"", "",
             "minLength [2] characters; got [1]");
  sam__schema_free(s);

  s = compile_ok("{\"pattern\":\"^\\\\p{L}+$\"}", 0);
  valid(s, "\"\xC3\xA9t\xC3\xA9\"");
  invalid_at(s, "\"a1\"", "", "must match pattern");
  sam__schema_free(s);

  s = compile_ok("{\"exclusiveMaximum\":18446744073709551615}", 0);
  valid(s, "18446744073709551614");
  sam__schema_free(s);
}

/* ---- the host's own schemas ---- */

static void test_manifest_schema(void) {
  sam__schema *s = compile_file("schemas/plugin-manifest.schema.json", 0);
  char path[1024];
  size_t len;
  char *text;

  snprintf(path, sizeof(path), "%s/plugin.manifest.json", SAM_SOURCE_DIR);
  text = read_file(path, &len);
  EXPECT_EQ_INT(0, sam__schema_validate(s, text, len, NULL, 0, NULL));
  free(text);

  valid(s, "{\"name\":\"docusign\",\"version\":\"1.0.0\",\"description\":"
           "\"DocuSign account-level subscriptions\",\"abi\":{\"major\":1,"
           "\"minor_min\":0},\"library\":\"libsam_docusign.so\"}");
  valid(s, "{\"name\":\"x_1\",\"version\":\"1.2.3-rc.1+build.5\","
           "\"description\":\"d\",\"abi\":{\"major\":2,\"minor_min\":3},"
           "\"library\":\"libx.so\",\"schemas\":[\"schemas/a.schema.json\"]}");
#define M(name, version, abi, lib, extra)                                      \
  "{\"name\":" name ",\"version\":" version ",\"description\":\"d\","          \
  "\"abi\":" abi ",\"library\":" lib extra "}"
#define OKABI "{\"major\":1,\"minor_min\":0}"
  invalid_at(s, M("\"DocuSign\"", "\"1.0.0\"", OKABI, "\"l.so\"", ""), "/name",
             "must match pattern");
  invalid_at(s, M("\"a\"", "\"1.0\"", OKABI, "\"l.so\"", ""), "/version",
             "must match pattern");
  invalid_at(s, M("\"a\"", "\"01.0.0\"", OKABI, "\"l.so\"", ""), "/version",
             "pattern");
  invalid_at(
      s,
      M("\"a\"", "\"1.0.0\"", "{\"major\":0,\"minor_min\":0}", "\"l.so\"", ""),
      "/abi/major", "must be >= minimum [1]; got [0]");
  invalid_at(s,
             M("\"a\"", "\"1.0.0\"", "{\"major\":1,\"minor_min\":\"0\"}",
               "\"l.so\"", ""),
             "/abi/minor_min", "must be of type [integer]");
  invalid_at(s, M("\"a\"", "\"1.0.0\"", "{\"major\":1}", "\"l.so\"", ""),
             "/abi", "required property [minor_min]");
  invalid_at(s, M("\"a\"", "\"1.0.0\"", OKABI, "\"lib/l.so\"", ""), "/library",
             "pattern");
  invalid_at(s, M("\"a\"", "\"1.0.0\"", OKABI, "\"l.dll\"", ""), "/library",
             "pattern");
  invalid_at(s, M("\"a\"", "\"1.0.0\"", OKABI, "\"l.so\"", ",\"x\":1"), "/x",
             "additionalProperties");
  invalid_at(s,
             M("\"a\"", "\"1.0.0\"", OKABI, "\"l.so\"",
               ",\"schemas\":[\"../etc/x.json\"]"),
             "/schemas/0", "pattern");
  invalid_at(s,
             M("\"a\"", "\"1.0.0\"", OKABI, "\"l.so\"",
               ",\"processes\":[\"download\",\"download\"]"),
             "/processes", "uniqueItems");
  invalid_at(s, "{\"name\":\"a\"}", "", "required property [library]");
#undef M
#undef OKABI
  sam__schema_free(s);
}

static void test_filter_schema(void) {
  sam__schema *s = compile_file("schemas/store-filter.schema.json", 0);
  valid(s, "{}");
  valid(s, "{\"/user/email\":\"a@b\",\"/active\":true,\"/n\":3,"
           "\"/a~1b/c~0d\":\"x\"}");
  invalid_at(s, "{\"user\":\"x\"}", "", "propertyNames");
  invalid_at(s, "{\"/a~2\":\"x\"}", "", "propertyNames");
  invalid_at(s, "{\"/a\":{\"x\":1}}", "/~1a",
             "must be of type [boolean, number, string]");
  invalid_at(s, "{\"/a\":null}", "/~1a", "got [null]");
  invalid_at(s, "[]", "", "must be of type [object]");
  sam__schema_free(s);
}

/* Every schema in schemas/ must compile (forms in form mode). */
static void test_all_repo_schemas(void) {
  char dir[1024];
  DIR *d;
  struct dirent *e;
  int count = 0;
  snprintf(dir, sizeof(dir), "%s/schemas", SAM_SOURCE_DIR);
  d = opendir(dir);
  EXPECT_TRUE(d != NULL);
  while ((e = readdir(d)) != NULL) {
    char rel[600];
    size_t l = strlen(e->d_name);
    if (l < 12 || strcmp(e->d_name + l - 12, ".schema.json") != 0)
      continue;
    snprintf(rel, sizeof(rel), "schemas/%s", e->d_name);
    sam__schema_free(compile_file(
        rel, strstr(e->d_name, "form") != NULL ? SAM__SCHEMA_FORM : 0));
    count++;
  }
  closedir(d);
  EXPECT_TRUE(count >= 2);
}

/* ---- ugly inputs ---- */

static char *
nested(size_t depth, const char *open, const char *mid, const char *close) {
  size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
  char *buf = malloc(depth * (lo + lc) + lm + 1);
  char *w = buf;
  EXPECT_TRUE(buf != NULL);
  for (size_t i = 0; i < depth; i++, w += lo)
    memcpy(w, open, lo);
  memcpy(w, mid, lm);
  w += lm;
  for (size_t i = 0; i < depth; i++, w += lc)
    memcpy(w, close, lc);
  *w = '\0';
  return buf;
}

static void test_garbage(void) {
  sam__schema *s = NULL;
  sam__schema_error errs[4];
  size_t n = 0;
  char err[256];
  char *deep;

  compile_fails("not json", 0, "schema is not JSON");
  compile_fails("{\"type\":", 0, "not JSON");
  compile_fails("", 0, "not JSON");
  compile_fails("{} x", 0, "not JSON");
  compile_fails_len("{}\0 ", 4, 0, "not JSON");
  sam__schema_free(compile_ok_len("{}", sizeof("{}"), 0)); /* counts the NUL */
  sam__schema_free(compile_ok("{} \n", 0));
  compile_fails("{\"minimum\":NaN}", 0, "not JSON");
  compile_fails("{\"a\":\"\xFF\"}", 0, "not JSON");
  EXPECT_EQ_INT(SAM_EINVAL,
                sam__schema_compile(NULL, 0, 0, &s, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL, sam__schema_compile("{}", 2, 0, NULL, err, 0));

  s = compile_ok("{\"items\":{\"$ref\":\"#\"}}", 0);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, "tru", errs, 4, &n));
  EXPECT_EQ_U64(1, n);
  EXPECT_EQ_STR("", errs[0].pointer);
  EXPECT_CONTAINS(errs[0].reason, "not JSON");
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, "[[1,2]", errs, 4, &n));
  EXPECT_CONTAINS(errs[0].reason, "not JSON");
  EXPECT_EQ_INT(SAM_EINVAL, sam__schema_validate(NULL, "1", 1, errs, 4, &n));

  /* 10000 levels of text: refused by the parser, no crash. */
  deep = nested(10000, "[", "", "]");
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, deep, errs, 4, &n));
  EXPECT_CONTAINS(errs[0].reason, "nesting deeper");
  free(deep);
  deep = nested(10000, "{\"items\":", "true", "}");
  compile_fails(deep, 0, "nesting deeper");
  free(deep);

  /* 10000 levels built with json-c's API skip the parser: the walks
   * themselves are bounded. */
  {
    json_object *root = json_object_new_array(), *cur = root;
    json_object *sroot = json_object_new_object(), *scur = sroot;
    sam__schema *bad = NULL;
    for (int i = 0; i < 10000; i++) {
      json_object *next = json_object_new_array();
      json_object *snext = json_object_new_object();
      EXPECT_EQ_INT(0, json_object_array_add(cur, next));
      EXPECT_EQ_INT(0, json_object_object_add(scur, "not", snext));
      cur = next;
      scur = snext;
    }
    EXPECT_EQ_INT(SAM_EINVAL, sam__schema_validate_obj(s, root, errs, 4, &n));
    EXPECT_EQ_U64(1, n);
    EXPECT_CONTAINS(errs[0].reason, "nesting deeper");
    EXPECT_EQ_INT(SAM_EINVAL,
                  sam__schema_compile_obj(sroot, 0, &bad, err, sizeof(err)));
    EXPECT_CONTAINS(err, "nesting deeper");
    EXPECT_TRUE(bad == NULL);
    json_object_put(root);
    json_object_put(sroot);
  }
  sam__schema_free(s);

  /* A reference cycle that never consumes the instance is refused at
   * compile (through $ref) or stopped at validation (through allOf). */
  s = compile_ok("{\"allOf\":[{\"$ref\":\"#\"}]}", 0);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, "1", errs, 4, &n));
  EXPECT_CONTAINS(errs[n - 1].reason, "nesting deeper");
  sam__schema_free(s);
  s = compile_ok("{\"not\":{\"allOf\":[{\"$ref\":\"#\"}]}}", 0);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, "1", NULL, 0, NULL));
  sam__schema_free(s);
}

/* A catastrophic pattern is cut off by the match limit: invalid, quickly. */
static void test_redos(void) {
  char inst[80];
  sam__schema *s = compile_ok("{\"pattern\":\"^(a+)+$\","
                              "\"patternProperties\":{\"^(a+)+$\":true},"
                              "\"additionalProperties\":true}",
                              0);
  inst[0] = '"';
  memset(inst + 1, 'a', 60);
  memcpy(inst + 61, "b\"", 3);
  invalid_at(s, inst, "", "match limit");
  inst[0] = '{';
  memcpy(inst + 1, "\"", 1);
  memset(inst + 2, 'a', 60);
  memcpy(inst + 62, "b\":1}", 6);
  invalid_at(s, inst, "", "patternProperties pattern [^(a+)+$]");
  sam__schema_free(s);
}

static int utf8_ok(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
    for (size_t i = 1; i < n; i++)
      if ((p[i] & 0xC0) != 0x80)
        return 0;
    p += n;
  }
  return 1;
}

/* Cut values and pointers never end in half a UTF-8 character. */
static void test_utf8_cuts(void) {
  sam__schema *s = compile_ok("{\"additionalProperties\":{\"const\":1}}", 0);
  sam__schema_error errs[2];
  size_t n = 0;
  for (int shift = 0; shift < 4; shift++) {
    char text[2048];
    size_t w = 0;
    text[w++] = '{';
    text[w++] = '"';
    for (int i = 0; i < shift; i++)
      text[w++] = 'k';
    for (int i = 0; i < 150; i++) { /* U+20AC, 3 bytes */
      memcpy(text + w, "\xE2\x82\xAC", 3);
      w += 3;
    }
    memcpy(text + w, "\":\"", 3);
    w += 3;
    for (int i = 0; i < shift; i++)
      text[w++] = 'v';
    for (int i = 0; i < 150; i++) {
      memcpy(text + w, "\xF0\x9F\x98\x80", 4); /* U+1F600, 4 bytes */
      w += 4;
    }
    memcpy(text + w, "\"}", 3);
    EXPECT_EQ_INT(SAM_EINVAL, validate(s, text, errs, 2, &n));
    EXPECT_EQ_U64(1, n);
    EXPECT_TRUE(utf8_ok(errs[0].pointer));
    EXPECT_TRUE(utf8_ok(errs[0].reason));
    EXPECT_CONTAINS(errs[0].pointer, "...");
    EXPECT_CONTAINS(errs[0].reason, "...");
  }
  sam__schema_free(s);
}

static void test_huge_strings(void) {
  size_t big = 8u << 20;
  char *text = malloc(big + 3);
  char *key;
  sam__schema_error errs[4];
  size_t n = 0;
  sam__schema *s;

  EXPECT_TRUE(text != NULL);
  text[0] = '"';
  memset(text + 1, 'a', big);
  text[big] = 'b';
  text[big + 1] = '"';
  text[big + 2] = '\0';
  s = compile_ok("{\"type\":\"string\",\"maxLength\":5,\"pattern\":\"^a+$\","
                 "\"enum\":[\"a\"]}",
                 0);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, text, errs, 4, &n));
  EXPECT_EQ_U64(3, n);
  for (size_t i = 0; i < n; i++)
    EXPECT_TRUE(strlen(errs[i].reason) < sizeof(errs[i].reason));
  /* enum, then maxLength, then pattern; values cut with "..." */
  EXPECT_CONTAINS(errs[0].reason, "enum values; got [\"aaaa");
  EXPECT_CONTAINS(errs[0].reason, "...]");
  EXPECT_CONTAINS(errs[1].reason, "got [8388608]");
  EXPECT_CONTAINS(errs[2].reason, "must match pattern [^a+$]");
  sam__schema_free(s);

  /* A huge key: its pointer is cut to fit, with a visible "...". */
  key = malloc(big + 16);
  EXPECT_TRUE(key != NULL);
  memcpy(key, "{\"", 2);
  memset(key + 2, 'k', 100000);
  memcpy(key + 100002, "\":1}", 5);
  s = compile_ok("{\"additionalProperties\":false}", 0);
  EXPECT_EQ_INT(SAM_EINVAL, validate(s, key, errs, 4, &n));
  EXPECT_EQ_U64(1, n);
  EXPECT_EQ_U64(255, strlen(errs[0].pointer));
  EXPECT_CONTAINS(errs[0].pointer, "kkk...");
  sam__schema_free(s);
  free(key);
  free(text);
}

/* ---- threads ---- */

typedef struct worker {
  const sam__schema *s;
  int bad;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  sam__schema_error errs[4];
  size_t n;
  for (int i = 0; i < 500; i++) {
    if (sam__schema_validate(w->s, "{\"a\":\"xyz\",\"b\":[1,2]}", 21, errs, 4,
                             &n) != 0)
      w->bad++;
    if (sam__schema_validate(w->s, "{\"a\":\"x1\",\"b\":[1,1]}", 20, errs, 4,
                             &n) != SAM_EINVAL ||
        n != 2)
      w->bad++;
  }
  return NULL;
}

static void test_threads(void) {
  sam__schema *s = compile_ok(
      "{\"properties\":{\"a\":{\"pattern\":\"^[a-z]+$\",\"enum\":[\"xyz\","
      "\"x1\"]},"
      "\"b\":{\"uniqueItems\":true,\"items\":{\"$ref\":\"#/definitions/i\"}}},"
      "\"definitions\":{\"i\":{\"type\":\"integer\"}}}",
      0);
  pthread_t th[4];
  worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i].s = s;
    w[i].bad = 0;
    EXPECT_EQ_INT(0, pthread_create(&th[i], NULL, work, &w[i]));
  }
  for (int i = 0; i < 4; i++) {
    EXPECT_EQ_INT(0, pthread_join(th[i], NULL));
    EXPECT_EQ_INT(0, w[i].bad);
  }
  sam__schema_free(s);
}

int main(void) {
  SAM_T_RUN(test_unsupported_keyword);
  SAM_T_RUN(test_bad_values);
  SAM_T_RUN(test_refs);
  SAM_T_RUN(test_form_rules);
  SAM_T_RUN(test_error_messages);
  SAM_T_RUN(test_formats);
  SAM_T_RUN(test_numbers_and_strings);
  SAM_T_RUN(test_unique_items_big);
  SAM_T_RUN(test_manifest_schema);
  SAM_T_RUN(test_filter_schema);
  SAM_T_RUN(test_all_repo_schemas);
  SAM_T_RUN(test_garbage);
  SAM_T_RUN(test_redos);
  SAM_T_RUN(test_huge_strings);
  SAM_T_RUN(test_utf8_cuts);
  SAM_T_RUN(test_threads);
  return 0;
}
