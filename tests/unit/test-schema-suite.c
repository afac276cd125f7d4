/*
 * test-schema-suite.c: runs the official JSON-Schema-Test-Suite (draft7)
 * against the host's validator. Every case of every file in the supported
 * list must pass; a group in the other files must either pass or be refused
 * at compile (unsupported keyword, remote $ref), never pass silently.
 *
 * The suite directory comes from $SAM_JSTS_DIR, else SAM_JSTS_DIR as
 * compiled in (the Debian package's path).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"
#include "sam_schema.h"

#ifndef SAM_JSTS_DIR
#define SAM_JSTS_DIR "/usr/share/json-schema-test-suite/tests/draft7"
#endif

/* Files whose every case must pass: the keywords we implement. */
static const char *const required_files[] = {
    "type.json",
    "properties.json",
    "required.json",
    "additionalProperties.json",
    "enum.json",
    "const.json",
    "pattern.json",
    "optional/format/uri.json",
    "optional/format/email.json",
    "optional/format/date-time.json",
    "minLength.json",
    "maxLength.json",
    "minimum.json",
    "maximum.json",
    "items.json",
    "minItems.json",
    "maxItems.json",
    "default.json",
    "ref.json",
    "definitions.json",
    "allOf.json",
    "anyOf.json",
    "oneOf.json",
    "not.json",
    "if-then-else.json",
    "additionalItems.json",
    "boolean_schema.json",
    "contains.json",
    "dependencies.json",
    "exclusiveMaximum.json",
    "exclusiveMinimum.json",
    "maxProperties.json",
    "minProperties.json",
    "multipleOf.json",
    "patternProperties.json",
    "propertyNames.json",
    "uniqueItems.json",
    "optional/bignum.json",
    "optional/zeroTerminatedFloats.json",
    "optional/ecmascript-regex.json",
    "optional/format/date.json",
    "optional/format/time.json",
    "optional/format/uri-reference.json",
    "optional/format/regex.json",
    "optional/format/hostname.json",
    "optional/format/ipv4.json",
    "optional/format/ipv6.json",
    "optional/format/json-pointer.json",
    "optional/format/relative-json-pointer.json",
};

/* Files with features we refuse: each group passes or is refused. */
static const char *const refusable_files[] = {
    "refRemote.json",
    "optional/content.json",
    "optional/format/idn-email.json",
    "optional/format/idn-hostname.json",
    "optional/format/iri.json",
    "optional/format/iri-reference.json",
    "optional/format/uri-template.json",
};

typedef struct totals {
  int passed, total, refused, failed, failed_files;
} totals;

static const char *str_field(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v))
    return "";
  return json_object_get_string(v);
}

/* Runs one file. must_pass: refusal counts as failure. */
static void
run_file(const char *dir, const char *name, int must_pass, totals *t) {
  char path[1024];
  json_object *groups;
  int passed = 0, total = 0, refused = 0, failed = 0;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  groups = json_object_from_file(path);
  if (groups == NULL || json_object_get_type(groups) != json_type_array) {
    printf("keyword %s: cannot read [%s]: %s\n", name, path,
           json_util_get_last_err());
    t->failed_files++;
    json_object_put(groups);
    return;
  }
  for (size_t g = 0; g < json_object_array_length(groups); g++) {
    json_object *grp = json_object_array_get_idx(groups, g);
    json_object *schema = NULL, *tests = NULL;
    sam__schema *s = NULL;
    char err[512];
    size_t n;
    int rc;

    json_object_object_get_ex(grp, "schema", &schema);
    json_object_object_get_ex(grp, "tests", &tests);
    n = json_object_array_length(tests);
    total += (int)n;
    rc = sam__schema_compile_obj(schema, 0, &s, err, sizeof(err));
    if (rc != 0) {
      int legit = strstr(err, "unsupported") != NULL ||
                  strstr(err, "remote reference") != NULL;
      refused += (int)n;
      printf("  refused group [%s]: %s\n", str_field(grp, "description"), err);
      if (must_pass || !legit) {
        printf("  FAIL: group [%s] of a supported file was refused\n",
               str_field(grp, "description"));
        failed += (int)n;
      }
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      json_object *tc = json_object_array_get_idx(tests, i);
      json_object *data = NULL, *valid = NULL;
      sam__schema_error errs[4];
      size_t n_errs = 0;
      const char *text;
      int want, got, got_text;

      json_object_object_get_ex(tc, "data", &data);
      json_object_object_get_ex(tc, "valid", &valid);
      want = json_object_get_boolean(valid);
      got = sam__schema_validate_obj(s, data, errs, 4, &n_errs) == 0;
      /* The text path must agree with the object path. */
      text = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN);
      got_text =
          sam__schema_validate(s, text, strlen(text), NULL, 0, NULL) == 0;
      if (got == want && got_text == want && (got || n_errs > 0)) {
        passed++;
      } else {
        failed++;
        printf("  FAIL: [%s] / [%s]: expected %s, got %s (text path %s)%s%s\n",
               str_field(grp, "description"), str_field(tc, "description"),
               want ? "valid" : "invalid", got ? "valid" : "invalid",
               got_text ? "valid" : "invalid",
               n_errs > 0 ? "; first error: " : "",
               n_errs > 0 ? errs[0].reason : "");
      }
    }
    sam__schema_free(s);
  }
  printf("keyword %s: %d/%d passed", name, passed, total);
  if (refused > 0)
    printf(" (%d refused)", refused);
  printf("\n");
  t->passed += passed;
  t->total += total;
  t->refused += refused;
  t->failed += failed;
  if (failed > 0)
    t->failed_files++;
  json_object_put(groups);
}

int main(void) {
  const char *dir = getenv("SAM_JSTS_DIR");
  struct stat st;
  totals t = {0, 0, 0, 0, 0};

  if (dir == NULL || dir[0] == '\0')
    dir = SAM_JSTS_DIR;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr,
            "JSON-Schema-Test-Suite not found at [%s] (%s): run "
            "`apt-get install json-schema-test-suite` or set SAM_JSTS_DIR\n",
            dir, strerror(errno));
    return 1;
  }
  for (size_t i = 0; i < sizeof(required_files) / sizeof(required_files[0]);
       i++)
    run_file(dir, required_files[i], 1, &t);
  for (size_t i = 0; i < sizeof(refusable_files) / sizeof(refusable_files[0]);
       i++)
    run_file(dir, refusable_files[i], 0, &t);
  printf("schema suite: %d passed, %d failed, %d refused of %d cases; %d "
         "file(s) with failures\n",
         t.passed, t.failed, t.refused, t.total, t.failed_files);
  return t.failed_files == 0 ? 0 : 1;
}
