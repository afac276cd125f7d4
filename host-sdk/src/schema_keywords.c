/*
 * schema_keywords.c: the draft-07 keywords (and our two vendor keywords):
 * each checks its value and fills the compiled node. The table at the end
 * is the complete list of what the validator accepts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "schema_internal.h"

/* ptr + "/" + a + ("/" + b), escaped; malloc'd or NULL. */
static char *child_ptr(const char *ptr, const char *a, const char *b) {
  size_t len = strlen(ptr);
  size_t cap = len + 1;
  char *buf = malloc(cap);
  if (buf == NULL)
    return NULL;
  memcpy(buf, ptr, len + 1);
  if (sam__sptr_push(&buf, &len, &cap, a, strlen(a)) != 0 ||
      (b != NULL && sam__sptr_push(&buf, &len, &cap, b, strlen(b)) != 0)) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* ---- keyword value checks ---- */

typedef struct kwarg {
  sam__sctx *c;
  sam__snode *n;
  json_object *val;
  const char *kw;
  json_object *doc;
  const char *base;
  const char *ptr;
  int depth;
} kwarg;

static int bad_value(const kwarg *a, const char *why) {
  return sam__sctx_fail(a->c, "invalid value for keyword [%s] at [%s]: %s",
                        a->kw, a->ptr, why);
}

/* Compiles a subschema at ptr/kw[/sub]. */
static int
sub(const kwarg *a, json_object *o, const char *subkey, sam__snode **out) {
  char *p = child_ptr(a->ptr, a->kw, subkey);
  int rc;
  if (p == NULL)
    return SAM_ENOMEM;
  rc = sam__scompile_node(a->c, o, a->doc, a->base, p, a->depth + 1, out);
  free(p);
  return rc;
}

static int is_schema_value(json_object *o) {
  enum json_type t = json_object_get_type(o);
  return t == json_type_object || t == json_type_boolean;
}

static int kw_schema(const kwarg *a, sam__snode **out) {
  if (!is_schema_value(a->val))
    return bad_value(a, "must be a schema (an object or a boolean)");
  return sub(a, a->val, NULL, out);
}

static int kw_schema_array(const kwarg *a,
                           sam__snode ***out,
                           size_t *n_out,
                           int allow_empty) {
  size_t n;
  char idx[32];
  int rc;
  if (json_object_get_type(a->val) != json_type_array)
    return bad_value(a, "must be an array of schemas");
  n = json_object_array_length(a->val);
  if (n == 0 && !allow_empty)
    return bad_value(a, "must be a non-empty array of schemas");
  *out = calloc(n ? n : 1, sizeof(**out));
  if (*out == NULL)
    return SAM_ENOMEM;
  *n_out = n;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(a->val, i);
    if (!is_schema_value(e))
      return bad_value(a, "must be an array of schemas");
    snprintf(idx, sizeof(idx), "%zu", i);
    rc = sub(a, e, idx, &(*out)[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int kw_count(const kwarg *a, int64_t *out) {
  long double v;
  if (!sam__sjson_number(a->val, &v) || !sam__sjson_is_integer(a->val) || v < 0)
    return bad_value(a, "must be a non-negative integer");
  *out = v > (long double)INT64_MAX ? INT64_MAX : (int64_t)v;
  return 0;
}

static int kw_number(const kwarg *a, long double *out, char **text) {
  if (!sam__sjson_number(a->val, out))
    return bad_value(a, "must be a number");
  *text = sam__sjson_render_dup(a->val, 64);
  return *text == NULL ? SAM_ENOMEM : 0;
}

static int kw_string_array(const kwarg *a) {
  size_t n;
  if (json_object_get_type(a->val) != json_type_array)
    return bad_value(a, "must be an array of strings");
  n = json_object_array_length(a->val);
  for (size_t i = 0; i < n; i++)
    if (json_object_get_type(json_object_array_get_idx(a->val, i)) !=
        json_type_string)
      return bad_value(a, "must be an array of strings");
  return 0;
}

static int type_bit(const char *name, unsigned *bit) {
  static const struct {
    const char *name;
    unsigned bit;
  } names[] = {{"null", SAM__ST_NULL},      {"boolean", SAM__ST_BOOLEAN},
               {"object", SAM__ST_OBJECT},  {"array", SAM__ST_ARRAY},
               {"number", SAM__ST_NUMBER},  {"string", SAM__ST_STRING},
               {"integer", SAM__ST_INTEGER}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcmp(names[i].name, name) == 0) {
      *bit = names[i].bit;
      return 1;
    }
  }
  return 0;
}

static int cmp_prop(const void *x, const void *y) {
  const sam__sprop *p = x, *q = y;
  return strcmp(p->name, q->name);
}

/* ---- keywords ---- */

static int k_type(const kwarg *a) {
  unsigned bit;
  if (json_object_get_type(a->val) == json_type_string) {
    if (!type_bit(json_object_get_string(a->val), &bit))
      return bad_value(a, "unknown type name");
    a->n->types = bit;
    return 0;
  }
  if (json_object_get_type(a->val) != json_type_array ||
      json_object_array_length(a->val) == 0)
    return bad_value(a, "must be a type name or a non-empty array of them");
  for (size_t i = 0; i < json_object_array_length(a->val); i++) {
    json_object *e = json_object_array_get_idx(a->val, i);
    if (json_object_get_type(e) != json_type_string ||
        !type_bit(json_object_get_string(e), &bit))
      return bad_value(a, "unknown type name");
    if (a->n->types & bit)
      return bad_value(a, "type names must be unique");
    a->n->types |= bit;
  }
  return 0;
}

static int k_enum(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_array)
    return bad_value(a, "must be an array");
  a->n->enum_vals = a->val;
  a->n->enum_text = sam__sjson_render_dup(a->val, 160);
  return a->n->enum_text == NULL ? SAM_ENOMEM : 0;
}

static int k_const(const kwarg *a) {
  a->n->const_val = a->val;
  a->n->has_const = 1;
  a->n->const_text = sam__sjson_render_dup(a->val, 160);
  return a->n->const_text == NULL ? SAM_ENOMEM : 0;
}

static int k_properties(const kwarg *a) {
  sam__snode *n = a->n;
  size_t i = 0;
  int rc;
  if (json_object_get_type(a->val) != json_type_object)
    return bad_value(a, "must be an object of schemas");
  n->props =
      calloc((size_t)json_object_object_length(a->val) + 1, sizeof(*n->props));
  if (n->props == NULL)
    return SAM_ENOMEM;
  json_object_object_foreach(a->val, key, v) {
    if (!is_schema_value(v))
      return bad_value(a, "must be an object of schemas");
    n->props[i].name = key;
    rc = sub(a, v, key, &n->props[i].schema);
    if (rc != 0)
      return rc;
    n->n_props = ++i;
  }
  qsort(n->props, n->n_props, sizeof(*n->props), cmp_prop);
  return 0;
}

static int k_pattern_properties(const kwarg *a) {
  sam__snode *n = a->n;
  char why[200];
  size_t i = 0;
  int rc;
  if (json_object_get_type(a->val) != json_type_object)
    return bad_value(a, "must be an object of schemas");
  n->pprops =
      calloc((size_t)json_object_object_length(a->val) + 1, sizeof(*n->pprops));
  if (n->pprops == NULL)
    return SAM_ENOMEM;
  json_object_object_foreach(a->val, key, v) {
    if (!is_schema_value(v))
      return bad_value(a, "must be an object of schemas");
    n->pprops[i].src = key;
    rc = sam__sregex_compile(key, strlen(key), &n->pprops[i].re, why,
                             sizeof(why));
    if (rc != 0)
      return rc == SAM_ENOMEM ? rc : bad_value(a, why);
    n->n_pprops = ++i;
    rc = sub(a, v, key, &n->pprops[i - 1].schema);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int k_required(const kwarg *a) {
  int rc = kw_string_array(a);
  if (rc == 0)
    a->n->required = a->val;
  return rc;
}

static int k_pattern(const kwarg *a) {
  char why[200];
  int rc;
  if (json_object_get_type(a->val) != json_type_string)
    return bad_value(a, "must be a string");
  a->n->pattern_src = json_object_get_string(a->val);
  rc = sam__sregex_compile(a->n->pattern_src,
                           (size_t)json_object_get_string_len(a->val),
                           &a->n->pattern, why, sizeof(why));
  if (rc != 0)
    return rc == SAM_ENOMEM ? rc : bad_value(a, why);
  return 0;
}

static int k_format(const kwarg *a) {
  const char *name;
  if (json_object_get_type(a->val) != json_type_string)
    return bad_value(a, "must be a string");
  name = json_object_get_string(a->val);
  a->n->format = sam__sformat_lookup(name);
  a->n->format_name = name;
  if (a->n->format == SAM__SF_NONE)
    return sam__sctx_fail(a->c,
                          "unsupported format [%s] for keyword [format] at "
                          "[%s]: supported are uri, uri-reference, email, "
                          "hostname, ipv4, ipv6, date-time, date, time, "
                          "uuid, regex, json-pointer, "
                          "relative-json-pointer",
                          name, a->ptr);
  return 0;
}

static int k_items(const kwarg *a) {
  if (json_object_get_type(a->val) == json_type_array) {
    a->n->items_is_array = 1;
    return kw_schema_array(a, &a->n->items_arr, &a->n->n_items, 1);
  }
  return kw_schema(a, &a->n->items);
}

static int k_unique(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_boolean)
    return bad_value(a, "must be a boolean");
  a->n->unique = json_object_get_boolean(a->val);
  return 0;
}

static int k_dependencies(const kwarg *a) {
  sam__snode *n = a->n;
  size_t i = 0;
  int rc;
  if (json_object_get_type(a->val) != json_type_object)
    return bad_value(a, "must be an object");
  n->deps =
      calloc((size_t)json_object_object_length(a->val) + 1, sizeof(*n->deps));
  if (n->deps == NULL)
    return SAM_ENOMEM;
  json_object_object_foreach(a->val, key, v) {
    n->deps[i].name = key;
    if (json_object_get_type(v) == json_type_array) {
      for (size_t j = 0; j < json_object_array_length(v); j++)
        if (json_object_get_type(json_object_array_get_idx(v, j)) !=
            json_type_string)
          return bad_value(a, "each value must be a schema or strings");
      n->deps[i].names = v;
    } else if (is_schema_value(v)) {
      rc = sub(a, v, key, &n->deps[i].schema);
      if (rc != 0)
        return rc;
    } else {
      return bad_value(a, "each value must be a schema or strings");
    }
    n->n_deps = ++i;
  }
  return 0;
}

static int k_definitions(const kwarg *a) {
  sam__snode *unused;
  int rc;
  if (json_object_get_type(a->val) != json_type_object)
    return bad_value(a, "must be an object of schemas");
  /* Compiled even when never referenced: a bad keyword in a definition is
   * refused like anywhere else. */
  json_object_object_foreach(a->val, key, v) {
    if (!is_schema_value(v))
      return bad_value(a, "must be an object of schemas");
    rc = sub(a, v, key, &unused);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int k_ref(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_string)
    return bad_value(a, "must be a string");
  a->n->ref_uri = sam__suri_resolve(a->base, json_object_get_string(a->val));
  a->n->ref_doc = a->doc;
  return a->n->ref_uri == NULL ? SAM_ENOMEM : 0;
}

static int k_string(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_string)
    return bad_value(a, "must be a string");
  return 0;
}

/* Another draft gives the same keywords other meanings (draft-04's boolean
 * exclusiveMaximum, 2020-12's items): refuse rather than misread. */
static int k_dialect(const kwarg *a) {
  static const char *const ok[] = {"http://json-schema.org/draft-07/schema#",
                                   "http://json-schema.org/draft-07/schema",
                                   "https://json-schema.org/draft-07/schema#",
                                   "https://json-schema.org/draft-07/schema"};
  const char *v;
  if (json_object_get_type(a->val) != json_type_string)
    return bad_value(a, "must be a string");
  v = json_object_get_string(a->val);
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(v, ok[i]) == 0)
      return 0;
  return sam__sctx_fail(a->c,
                        "unsupported $schema [%.100s] for keyword [$schema] "
                        "at [%s]: this validator implements draft-07 "
                        "(http://json-schema.org/draft-07/schema#)",
                        v, a->ptr);
}

static int k_bool(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_boolean)
    return bad_value(a, "must be a boolean");
  return 0;
}

static int k_any(const kwarg *a) {
  (void)a;
  return 0;
}

static int k_examples(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_array)
    return bad_value(a, "must be an array");
  return 0;
}

static int k_ui(const kwarg *a) {
  if (json_object_get_type(a->val) != json_type_object)
    return bad_value(a, "must be an object");
  return 0;
}

/* One dispatcher: a switch on the table index keeps each case one line. */
static int k_simple(const kwarg *a, int which) {
  sam__snode *n = a->n;
  switch (which) {
  case 0:
    return kw_count(a, &n->min_len);
  case 1:
    return kw_count(a, &n->max_len);
  case 2:
    return kw_count(a, &n->min_items);
  case 3:
    return kw_count(a, &n->max_items);
  case 4:
    return kw_count(a, &n->min_props);
  case 5:
    return kw_count(a, &n->max_props);
  case 6:
    n->has_min = 1;
    return kw_number(a, &n->min, &n->min_text);
  case 7:
    n->has_max = 1;
    return kw_number(a, &n->max, &n->max_text);
  case 8:
    n->has_xmin = 1;
    return kw_number(a, &n->xmin, &n->xmin_text);
  case 9:
    n->has_xmax = 1;
    return kw_number(a, &n->xmax, &n->xmax_text);
  case 10:
    n->has_mult = 1;
    if (kw_number(a, &n->mult, &n->mult_text) != 0)
      return SAM_EINVAL;
    return n->mult > 0 ? 0 : bad_value(a, "must be greater than 0");
  case 11:
    return kw_schema(a, &n->additional_props);
  case 12:
    return kw_schema(a, &n->additional_items);
  case 13:
    return kw_schema(a, &n->contains);
  case 14:
    return kw_schema(a, &n->property_names);
  case 15:
    return kw_schema(a, &n->not_schema);
  case 16:
    return kw_schema(a, &n->if_schema);
  case 17:
    return kw_schema(a, &n->then_schema);
  case 18:
    return kw_schema(a, &n->else_schema);
  case 19:
    return kw_schema_array(a, &n->all_of, &n->n_all_of, 0);
  case 20:
    return kw_schema_array(a, &n->any_of, &n->n_any_of, 0);
  case 21:
    return kw_schema_array(a, &n->one_of, &n->n_one_of, 0);
  }
  return SAM_EINVAL;
}

typedef struct keyword {
  const char *name;
  int (*fn)(const kwarg *a);
  int simple; /* >= 0: k_simple case */
} keyword;

static const keyword keywords[] = {
    {"minLength", NULL, 0},
    {"maxLength", NULL, 1},
    {"minItems", NULL, 2},
    {"maxItems", NULL, 3},
    {"minProperties", NULL, 4},
    {"maxProperties", NULL, 5},
    {"minimum", NULL, 6},
    {"maximum", NULL, 7},
    {"exclusiveMinimum", NULL, 8},
    {"exclusiveMaximum", NULL, 9},
    {"multipleOf", NULL, 10},
    {"additionalProperties", NULL, 11},
    {"additionalItems", NULL, 12},
    {"contains", NULL, 13},
    {"propertyNames", NULL, 14},
    {"not", NULL, 15},
    {"if", NULL, 16},
    {"then", NULL, 17},
    {"else", NULL, 18},
    {"allOf", NULL, 19},
    {"anyOf", NULL, 20},
    {"oneOf", NULL, 21},
    {"type", k_type, -1},
    {"enum", k_enum, -1},
    {"const", k_const, -1},
    {"properties", k_properties, -1},
    {"patternProperties", k_pattern_properties, -1},
    {"required", k_required, -1},
    {"pattern", k_pattern, -1},
    {"format", k_format, -1},
    {"items", k_items, -1},
    {"uniqueItems", k_unique, -1},
    {"dependencies", k_dependencies, -1},
    {"definitions", k_definitions, -1},
    {"$ref", k_ref, -1},
    {"$id", k_string, -1},
    {"$schema", k_dialect, -1},
    {"$comment", k_string, -1},
    {"title", k_string, -1},
    {"description", k_string, -1},
    {"default", k_any, -1},
    {"examples", k_examples, -1},
    {"readOnly", k_bool, -1},
    {"writeOnly", k_bool, -1},
    {"x-sam-secret", k_bool, -1},
    {"x-sam-ui", k_ui, -1},
};

static const keyword *keyword_find(const char *name) {
  for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
    if (strcmp(keywords[i].name, name) == 0)
      return &keywords[i];
  return NULL;
}

/*
 * Applies one keyword of the schema object at ptr to node n, compiling its
 * subschemas. Thread: the compiling thread. Ownership: everything created
 * belongs to c->s. Returns 0, 1 when key is no keyword we know, or
 * SAM_EINVAL (c->err says why) / SAM_ENOMEM.
 */
int sam__skeyword_apply(sam__sctx *c,
                        sam__snode *n,
                        const char *key,
                        json_object *val,
                        json_object *doc,
                        const char *base,
                        const char *ptr,
                        int depth) {
  const keyword *k = keyword_find(key);
  kwarg a;
  if (k == NULL)
    return 1;
  a.c = c;
  a.n = n;
  a.val = val;
  a.kw = k->name;
  a.doc = doc;
  a.base = base;
  a.ptr = ptr;
  a.depth = depth;
  return k->fn != NULL ? k->fn(&a) : k_simple(&a, k->simple);
}
