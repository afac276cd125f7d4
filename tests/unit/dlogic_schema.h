/*
 * dlogic_schema.h: test helper for the dsg logic tests: validates a record
 * against a file in schemas/ with the host's own validator.
 */
#ifndef DLOGIC_SCHEMA_H
#define DLOGIC_SCHEMA_H

#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "sam_schema.h"
#include "sam_test.h"

static inline sam__schema *dl_schema(const char *name) {
  char path[1024], err[512] = "";
  FILE *f;
  char *buf;
  long n;
  sam__schema *s = NULL;

  snprintf(path, sizeof(path), "%s/schemas/%s", SAM_SOURCE_DIR, name);
  f = fopen(path, "rb");
  if (f == NULL)
    SAM_T_FAIL("cannot open [%s]", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  EXPECT_TRUE(buf != NULL);
  EXPECT_EQ_INT(n, (long)fread(buf, 1, (size_t)n, f));
  buf[n] = '\0';
  fclose(f);
  if (sam__schema_compile(buf, (size_t)n, 0, &s, err, sizeof(err)) != 0)
    SAM_T_FAIL("schema [%s] does not compile [%s]", name, err);
  free(buf);
  return s;
}

/* o satisfies schemas/<name>. */
static inline void dl_expect_valid(const char *name, json_object *o) {
  sam__schema *s = dl_schema(name);
  sam__schema_error errs[4];
  size_t n = 0;

  if (sam__schema_validate_obj(s, o, errs, 4, &n) != 0)
    SAM_T_FAIL("expected valid %s, got [%s]: %s [%s]", name,
               n > 0 ? errs[0].pointer : "?", n > 0 ? errs[0].reason : "?",
               json_object_to_json_string(o));
  sam__schema_free(s);
}

static inline const char *dl_str(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v) || v == NULL)
    return NULL;
  return json_object_get_string(v);
}

static inline int dl_bool(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_boolean))
    SAM_T_FAIL("[%s] is not a boolean in [%s]", key,
               json_object_to_json_string(o));
  return json_object_get_boolean(v);
}

static inline int dl_is_null(json_object *o, const char *key) {
  json_object *v = NULL;

  return json_object_object_get_ex(o, key, &v) && v == NULL;
}

static inline int dl_has(json_object *o, const char *key) {
  return json_object_object_get_ex(o, key, NULL);
}

static inline json_object *dl_parse(const char *text) {
  json_object *o = json_tokener_parse(text);

  if (o == NULL)
    SAM_T_FAIL("test JSON does not parse [%s]", text);
  return o;
}

#endif /* DLOGIC_SCHEMA_H */
