/*
 * fuzz-sam-schema.c: libFuzzer target for the host's JSON Schema validator
 * (host-sdk/src/sam_schema.h), which checks every form an admin submits and
 * every record type schema a plugin registers. The first byte picks the
 * mode:
 *   - even: the rest is a schema, compiled as a plain and as a form schema;
 *     one that compiles then validates a fixed set of instances (and the
 *     input itself as an instance);
 *   - odd: the rest is an instance, validated against the repository's
 *     profile form and subscription schemas, with and without collecting
 *     errors.
 * Any crash, leak, sanitizer report or hang is a bug; SAM_EINVAL is
 * expected.
 *
 * Built only with clang and -DSAM_FUZZ=ON (tests/fuzz/fuzz.cmake):
 *   build-fuzz/tests/fuzz-sam-schema tests/fuzz/corpus-sam-schema
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const instances[] = {
    "null",
    "true",
    "0",
    "-1.5e300",
    "\"\"",
    "\"2026-11-29T04:00:00Z\"",
    "[]",
    "[1,\"a\",null,[{}]]",
    "{}",
    "{\"a\":1,\"b\":[true,false],\"c\":{\"d\":\"x\"}}",
    "{\"client_secret\":\"s\",\"instance_url\":\"https://a.example\"}",
};

static sam__schema *fixed[2];

static sam__schema *load(const char *name, unsigned flags) {
  char path[1024];
  sam__schema *s = NULL;
  char *text;
  long n;
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", SAM_FUZZ_SCHEMA_DIR, name);
  f = fopen(path, "rb");
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "fuzz-sam-schema: cannot read [%s]\n", path);
    abort();
  }
  text = malloc((size_t)n + 1);
  if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n)
    abort();
  fclose(f);
  if (sam__schema_compile(text, (size_t)n, flags, &s, NULL, 0) != 0) {
    fprintf(stderr, "fuzz-sam-schema: [%s] does not compile\n", path);
    abort();
  }
  free(text);
  return s;
}

static void validate_all(const sam__schema *s, const char *json, size_t len) {
  sam__schema_error errs[8];
  size_t n = 0;

  (void)sam__schema_validate(s, json, len, errs, 8, &n);
  (void)sam__schema_validate(s, json, len, NULL, 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data + 1;
  size_t len = size > 0 ? size - 1 : 0;
  size_t i, f;

  if (size == 0)
    return 0;
  if (fixed[0] == NULL) {
    fixed[0] = load("docusign-profile-form.schema.json", SAM__SCHEMA_FORM);
    fixed[1] = load("sam-subscription.schema.json", 0);
  }
  if (data[0] & 1) {
    validate_all(fixed[0], text, len);
    validate_all(fixed[1], text, len);
    return 0;
  }
  for (f = 0; f < 2; f++) {
    sam__schema *s = NULL;
    char err[256];

    if (sam__schema_compile(text, len, f ? SAM__SCHEMA_FORM : 0, &s, err,
                            sizeof(err)) != 0)
      continue;
    for (i = 0; i < sizeof(instances) / sizeof(instances[0]); i++)
      validate_all(s, instances[i], strlen(instances[i]));
    validate_all(s, text, len);
    sam__schema_free(s);
  }
  return 0;
}
