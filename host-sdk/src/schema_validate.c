/*
 * schema_validate.c: walks an instance against a compiled schema and
 * collects errors (JSON Pointer of the failing value plus a reason that
 * names the keyword and the values). Reads the compiled schema only, so any
 * number of threads may validate against one schema at once.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "schema_internal.h"

typedef struct vctx {
  sam__schema_error *errs;
  size_t max;
  size_t n;
  char *ptr; /* JSON Pointer of the current instance value */
  size_t plen, pcap;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  int frames;
  int too_deep;
  int oom;
} vctx;

/* Quiet sub-validations (anyOf, not, ...) record nothing and stop at the
 * first failure; so does a loud one once the error array is full. */
static int loud(const vctx *v, int quiet) {
  return !quiet && v->n < v->max;
}

static void report(vctx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(vctx *v, const char *fmt, ...) {
  sam__schema_error *e;
  va_list ap;
  size_t plen = v->plen;
  if (v->n >= v->max)
    return;
  e = &v->errs[v->n++];
  if (plen >= sizeof(e->pointer)) {
    size_t keep = sizeof(e->pointer) - 4;
    memcpy(e->pointer, v->ptr, keep);
    e->pointer[keep] = '\0';
    keep = sam__sutf8_trim(e->pointer);
    memcpy(e->pointer + keep, "...", 4);
  } else {
    memcpy(e->pointer, v->ptr != NULL ? v->ptr : "", plen);
    e->pointer[plen] = '\0';
  }
  va_start(ap, fmt);
  vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
  va_end(ap);
  sam__sutf8_trim(e->reason);
}

static int push_key(vctx *v, const char *k, size_t n) {
  if (sam__sptr_push(&v->ptr, &v->plen, &v->pcap, k, n) != 0) {
    v->oom = 1;
    return -1;
  }
  return 0;
}

static int push_idx(vctx *v, size_t i) {
  char b[32];
  snprintf(b, sizeof(b), "%zu", i);
  return push_key(v, b, strlen(b));
}

static void pop(vctx *v, size_t plen) {
  v->plen = plen;
  if (v->ptr != NULL)
    v->ptr[plen] = '\0';
}

/* The instance value for a message, or a placeholder for secrets. */
static const char *show(json_object *o, int redact, char *buf, size_t len) {
  if (redact) {
    snprintf(buf, len, "<redacted>");
    return buf;
  }
  return sam__sjson_render(o, buf, len);
}

static const char *type_names(unsigned t, char *buf, size_t len) {
  static const char *names[] = {"null",   "boolean", "object", "array",
                                "number", "string",  "integer"};
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < 7; i++) {
    if (!(t & (1u << i)))
      continue;
    o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", names[i]);
    if (o >= len)
      break;
  }
  return buf;
}

static int
v_node(vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact);

/* Validates a child value at ptr/key; restores the pointer after. */
static int v_child_key(vctx *v,
                       const sam__snode *n,
                       json_object *inst,
                       const char *key,
                       size_t klen,
                       int quiet,
                       int redact) {
  size_t plen = v->plen;
  int ok;
  if (push_key(v, key, klen) != 0)
    return 0;
  ok = v_node(v, n, inst, quiet, redact);
  pop(v, plen);
  return ok;
}

static int v_child_idx(vctx *v,
                       const sam__snode *n,
                       json_object *inst,
                       size_t idx,
                       int quiet,
                       int redact) {
  size_t plen = v->plen;
  int ok;
  if (push_idx(v, idx) != 0)
    return 0;
  ok = v_node(v, n, inst, quiet, redact);
  pop(v, plen);
  return ok;
}

/* ---- per-type keyword groups ---- */

#define FAILED(...)                                                            \
  do {                                                                         \
    ok = 0;                                                                    \
    if (!loud(v, quiet))                                                       \
      return 0;                                                                \
    report(v, __VA_ARGS__);                                                    \
  } while (0)

static int v_number(
    vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact) {
  char got[64];
  long double x;
  int ok = 1;
  if (!sam__sjson_number(inst, &x))
    return 1;
  show(inst, redact, got, sizeof(got));
  if (n->has_min && x < n->min)
    FAILED("must be >= minimum [%s]; got [%s]", n->min_text, got);
  if (n->has_max && x > n->max)
    FAILED("must be <= maximum [%s]; got [%s]", n->max_text, got);
  if (n->has_xmin && x <= n->xmin)
    FAILED("must be > exclusiveMinimum [%s]; got [%s]", n->xmin_text, got);
  if (n->has_xmax && x >= n->xmax)
    FAILED("must be < exclusiveMaximum [%s]; got [%s]", n->xmax_text, got);
  if (n->has_mult) {
    int multiple;
    if (sam__sjson_is_integer(inst) && floorl(n->mult) == n->mult &&
        fabsl(x) < 9.2e18L && n->mult < 9.2e18L) {
      multiple = ((int64_t)x % (int64_t)n->mult) == 0;
    } else {
      /* Decimal fractions are inexact in binary: 0.0075 / 0.0001 gives
       * 74.99999999999999. Accept a quotient within a relative epsilon of
       * an integer; an overflowing quotient is no multiple. */
      long double q = x / n->mult;
      multiple =
          isfinite(q) && fabsl(q - roundl(q)) <= 1e-9L * fmaxl(1, fabsl(q));
    }
    if (!multiple)
      FAILED("must be a multipleOf [%s]; got [%s]", n->mult_text, got);
  }
  return ok;
}

static int v_string(
    vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact) {
  char got[80];
  const char *s;
  size_t len, cps;
  int ok = 1;
  if (json_object_get_type(inst) != json_type_string)
    return 1;
  s = json_object_get_string(inst);
  len = (size_t)json_object_get_string_len(inst);
  if (n->min_len >= 0 || n->max_len >= 0) {
    cps = sam__sjson_codepoints(s, len);
    if (n->min_len >= 0 && cps < (size_t)n->min_len)
      FAILED("must have minLength [%lld] characters; got [%zu]",
             (long long)n->min_len, cps);
    if (n->max_len >= 0 && cps > (size_t)n->max_len)
      FAILED("must have maxLength [%lld] characters; got [%zu]",
             (long long)n->max_len, cps);
  }
  if (n->pattern != NULL) {
    int rc = pcre2_match(n->pattern, (PCRE2_SPTR)s, len, 0, 0, v->md, v->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
      FAILED("must match pattern [%.100s]; got [%s]", n->pattern_src,
             show(inst, redact, got, sizeof(got)));
    else if (rc < 0)
      FAILED("pattern [%.100s] could not be evaluated within the match "
             "limit [pcre2=%d]",
             n->pattern_src, rc);
  }
  if (n->format != SAM__SF_NONE && !sam__sformat_check(n->format, s, len))
    FAILED("must be a valid [%s] (format); got [%s]", n->format_name,
           show(inst, redact, got, sizeof(got)));
  return ok;
}

typedef struct hashed {
  uint64_t h;
  size_t idx;
} hashed;

static int cmp_hashed(const void *x, const void *y) {
  const hashed *p = x, *q = y;
  if (p->h != q->h)
    return p->h < q->h ? -1 : 1;
  return p->idx < q->idx ? -1 : (p->idx > q->idx);
}

/* Finds two equal items. Pairwise for short arrays; otherwise sorts by a
 * hash that agrees with equality, so 100000 items stay O(n log n).
 * Returns 1 (sets *a < *b), 0, or -1 when out of memory. */
static int find_duplicate(json_object *arr, size_t len, size_t *a, size_t *b) {
  hashed *hs;
  int found = 0;
  if (len <= 16) {
    for (size_t i = 0; i < len; i++) {
      for (size_t j = i + 1; j < len; j++) {
        if (sam__sjson_equal(json_object_array_get_idx(arr, i),
                             json_object_array_get_idx(arr, j))) {
          *a = i;
          *b = j;
          return 1;
        }
      }
    }
    return 0;
  }
  hs = malloc(len * sizeof(*hs));
  if (hs == NULL)
    return -1;
  for (size_t i = 0; i < len; i++) {
    hs[i].h = sam__sjson_hash(json_object_array_get_idx(arr, i));
    hs[i].idx = i;
  }
  qsort(hs, len, sizeof(*hs), cmp_hashed);
  for (size_t i = 0; i < len && !found; i++) {
    for (size_t j = i + 1; j < len && hs[j].h == hs[i].h && !found; j++) {
      if (sam__sjson_equal(json_object_array_get_idx(arr, hs[i].idx),
                           json_object_array_get_idx(arr, hs[j].idx))) {
        *a = hs[i].idx < hs[j].idx ? hs[i].idx : hs[j].idx;
        *b = hs[i].idx < hs[j].idx ? hs[j].idx : hs[i].idx;
        found = 1;
      }
    }
  }
  free(hs);
  return found;
}

static int v_array(
    vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact) {
  size_t len;
  int ok = 1;
  if (json_object_get_type(inst) != json_type_array)
    return 1;
  len = json_object_array_length(inst);
  if (n->min_items >= 0 && len < (size_t)n->min_items)
    FAILED("must have minItems [%lld]; got [%zu] items",
           (long long)n->min_items, len);
  if (n->max_items >= 0 && len > (size_t)n->max_items)
    FAILED("must have maxItems [%lld]; got [%zu] items",
           (long long)n->max_items, len);
  if (n->unique && len > 1) {
    size_t a = 0, b = 0;
    int dup = find_duplicate(inst, len, &a, &b);
    if (dup < 0) {
      v->oom = 1;
      return 0;
    }
    if (dup)
      FAILED("must have uniqueItems; items [%zu] and [%zu] are equal", a, b);
  }
  if (n->items != NULL) {
    for (size_t i = 0; i < len; i++)
      if (!v_child_idx(v, n->items, json_object_array_get_idx(inst, i), i,
                       quiet, redact)) {
        ok = 0;
        if (!loud(v, quiet))
          return 0;
      }
  } else if (n->items_is_array) {
    for (size_t i = 0; i < len; i++) {
      const sam__snode *is =
          i < n->n_items ? n->items_arr[i] : n->additional_items;
      if (is == NULL)
        break;
      if (i >= n->n_items && is->is_bool && !is->bool_val) {
        size_t plen = v->plen;
        ok = 0;
        if (!loud(v, quiet))
          return 0;
        if (push_idx(v, i) != 0)
          return 0;
        report(v,
               "is not allowed: additionalItems is false and items has "
               "[%zu] entries",
               n->n_items);
        pop(v, plen);
        continue;
      }
      if (!v_child_idx(v, is, json_object_array_get_idx(inst, i), i, quiet,
                       redact)) {
        ok = 0;
        if (!loud(v, quiet))
          return 0;
      }
    }
  }
  if (n->contains != NULL) {
    int found = 0;
    for (size_t i = 0; i < len && !found; i++)
      found =
          v_node(v, n->contains, json_object_array_get_idx(inst, i), 1, redact);
    if (!found)
      FAILED("must contain an item that matches the contains schema");
  }
  return ok;
}

static const sam__sprop *find_prop(const sam__snode *n, const char *key) {
  size_t lo = 0, hi = n->n_props;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(key, n->props[mid].name);
    if (c == 0)
      return &n->props[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

static int v_object(
    vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact) {
  size_t count;
  int ok = 1;
  if (json_object_get_type(inst) != json_type_object)
    return 1;
  count = (size_t)json_object_object_length(inst);
  if (n->min_props >= 0 && count < (size_t)n->min_props)
    FAILED("must have minProperties [%lld]; got [%zu]", (long long)n->min_props,
           count);
  if (n->max_props >= 0 && count > (size_t)n->max_props)
    FAILED("must have maxProperties [%lld]; got [%zu]", (long long)n->max_props,
           count);
  if (n->required != NULL) {
    size_t nr = json_object_array_length(n->required);
    for (size_t i = 0; i < nr; i++) {
      const char *name =
          json_object_get_string(json_object_array_get_idx(n->required, i));
      if (!json_object_object_get_ex(inst, name, NULL))
        FAILED("must have required property [%s]", name);
    }
  }
  json_object_object_foreach(inst, key, val) {
    size_t klen = strlen(key);
    const sam__sprop *p = find_prop(n, key);
    int matched = p != NULL;
    if (p != NULL && !v_child_key(v, p->schema, val, key, klen, quiet,
                                  redact || p->schema->redact)) {
      ok = 0;
      if (!loud(v, quiet))
        return 0;
    }
    for (size_t i = 0; i < n->n_pprops; i++) {
      int rc = pcre2_match(n->pprops[i].re, (PCRE2_SPTR)key, klen, 0, 0, v->md,
                           v->mctx);
      if (rc == PCRE2_ERROR_NOMATCH)
        continue;
      if (rc < 0) {
        /* Unknown is not "no match": the key must not slip past. */
        FAILED("patternProperties pattern [%.100s] could not be evaluated "
               "within the match limit [pcre2=%d]",
               n->pprops[i].src, rc);
        continue;
      }
      matched = 1;
      if (!v_child_key(v, n->pprops[i].schema, val, key, klen, quiet, redact)) {
        ok = 0;
        if (!loud(v, quiet))
          return 0;
      }
    }
    if (!matched && n->additional_props != NULL) {
      const sam__snode *ap = n->additional_props;
      if (ap->is_bool && !ap->bool_val) {
        size_t plen = v->plen;
        ok = 0;
        if (!loud(v, quiet))
          return 0;
        if (push_key(v, key, klen) != 0)
          return 0;
        report(v, "is not allowed: additionalProperties is false");
        pop(v, plen);
      } else if (!v_child_key(v, ap, val, key, klen, quiet, redact)) {
        ok = 0;
        if (!loud(v, quiet))
          return 0;
      }
    }
    if (n->property_names != NULL) {
      json_object *name = json_object_new_string_len(key, (int)klen);
      int good;
      if (name == NULL) {
        v->oom = 1;
        return 0;
      }
      good = v_node(v, n->property_names, name, 1, 0);
      json_object_put(name);
      if (!good)
        FAILED("property name [%.100s] does not match propertyNames", key);
    }
  }
  for (size_t i = 0; i < n->n_deps; i++) {
    const sam__sdep *d = &n->deps[i];
    if (!json_object_object_get_ex(inst, d->name, NULL))
      continue;
    if (d->names != NULL) {
      for (size_t j = 0; j < json_object_array_length(d->names); j++) {
        const char *need =
            json_object_get_string(json_object_array_get_idx(d->names, j));
        if (!json_object_object_get_ex(inst, need, NULL))
          FAILED("must have property [%s] because [%s] is present "
                 "(dependencies)",
                 need, d->name);
      }
    } else if (!v_node(v, d->schema, inst, quiet, redact)) {
      ok = 0;
      if (!loud(v, quiet))
        return 0;
    }
  }
  return ok;
}

/* ---- combinators and the node ---- */

/* Explains a failed anyOf/oneOf: the first error the given branch reports,
 * as "[pointer] reason", in buf. Runs only once the verdict is known. */
static const char *branch_error(vctx *v,
                                const sam__snode *n,
                                json_object *inst,
                                int redact,
                                char *buf,
                                size_t len) {
  sam__schema_error e;
  vctx sub = *v; /* shares the match data, the frame count and limits */
  sub.errs = &e;
  sub.max = 1;
  sub.n = 0;
  sub.pcap = v->plen + 64;
  sub.ptr = malloc(sub.pcap);
  buf[0] = '\0';
  if (sub.ptr == NULL) {
    v->oom = 1;
    return buf;
  }
  memcpy(sub.ptr, v->ptr, v->plen + 1);
  (void)v_node(&sub, n, inst, 0, redact);
  v->too_deep |= sub.too_deep;
  v->oom |= sub.oom;
  /* The quote may be cut to fit the reason; keep it valid UTF-8. */
  if (sub.n > 0 && snprintf(buf, len, "[%s] %s", e.pointer, e.reason) >= 0)
    sam__sutf8_trim(buf);
  free(sub.ptr);
  return buf;
}

static int v_combinators(
    vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact) {
  char why[200];
  int ok = 1;
  for (size_t i = 0; i < n->n_all_of; i++) {
    if (!v_node(v, n->all_of[i], inst, quiet, redact)) {
      ok = 0;
      if (!loud(v, quiet))
        return 0;
    }
  }
  if (n->n_any_of > 0) {
    int any = 0;
    for (size_t i = 0; i < n->n_any_of && !any; i++)
      any = v_node(v, n->any_of[i], inst, 1, redact);
    if (!any)
      FAILED("must match at least one schema in anyOf; [0] says: %s",
             branch_error(v, n->any_of[0], inst, redact, why, sizeof(why)));
  }
  if (n->n_one_of > 0) {
    size_t first = 0, matches = 0;
    for (size_t i = 0; i < n->n_one_of && matches < 2; i++) {
      if (v_node(v, n->one_of[i], inst, 1, redact)) {
        if (matches == 1)
          FAILED("must match exactly one schema in oneOf; matched [%zu] and "
                 "[%zu]",
                 first, i);
        first = i;
        matches++;
      }
    }
    if (matches == 0)
      FAILED("must match exactly one schema in oneOf; matched none; [0] "
             "says: %s",
             branch_error(v, n->one_of[0], inst, redact, why, sizeof(why)));
  }
  if (n->not_schema != NULL && v_node(v, n->not_schema, inst, 1, redact))
    FAILED("must not match the schema in not");
  if (n->if_schema != NULL) {
    const sam__snode *branch = v_node(v, n->if_schema, inst, 1, redact)
                                   ? n->then_schema
                                   : n->else_schema;
    if (branch != NULL && !v_node(v, branch, inst, quiet, redact)) {
      ok = 0;
      if (!loud(v, quiet))
        return 0;
    }
  }
  return ok;
}

static int
v_node(vctx *v, const sam__snode *n, json_object *inst, int quiet, int redact) {
  char got[80], want[80];
  unsigned t;
  int ok = 1;

  if (v->too_deep || v->oom)
    return 0;
  redact = redact || n->redact;
  while (n->ref != NULL)
    n = n->ref; /* draft-07: $ref replaces its siblings */
  if (n->is_bool) {
    if (!n->bool_val)
      FAILED("no value is allowed here (false schema); got [%s]",
             show(inst, redact, got, sizeof(got)));
    return ok;
  }
  if (++v->frames > SAM__SCHEMA_MAX_FRAMES) {
    v->too_deep = 1;
    v->frames--;
    return 0;
  }
  redact = redact || n->redact;
  t = sam__sjson_type(inst);
  if (n->types != 0 && !(n->types & t)) {
    ok = 0;
    if (!loud(v, quiet))
      goto out;
    report(v, "must be of type [%s]; got [%s]",
           type_names(n->types, want, sizeof(want)),
           type_names(t & SAM__ST_INTEGER ? SAM__ST_INTEGER : t, got,
                      sizeof(got)));
  }
  if (n->enum_vals != NULL) {
    size_t ne = json_object_array_length(n->enum_vals);
    size_t i;
    for (i = 0; i < ne; i++)
      if (sam__sjson_equal(json_object_array_get_idx(n->enum_vals, i), inst))
        break;
    if (i == ne) {
      ok = 0;
      if (!loud(v, quiet))
        goto out;
      report(v, "must be one of the enum values; got [%s]",
             show(inst, redact, got, sizeof(got)));
    }
  }
  if (n->has_const && !sam__sjson_equal(n->const_val, inst)) {
    ok = 0;
    if (!loud(v, quiet))
      goto out;
    report(v, "must equal the const value [%s]; got [%s]",
           redact ? "<redacted>" : n->const_text,
           show(inst, redact, got, sizeof(got)));
  }
  /* Each group looks at one instance type only, so stopping at the first
   * failing group never hides another group's errors. */
  if (!v_number(v, n, inst, quiet, redact) ||
      !v_string(v, n, inst, quiet, redact) ||
      !v_array(v, n, inst, quiet, redact) ||
      !v_object(v, n, inst, quiet, redact)) {
    ok = 0;
    if (!loud(v, quiet))
      goto out;
  }
  if (!v_combinators(v, n, inst, quiet, redact))
    ok = 0;

out:
  v->frames--;
  return ok && !v->too_deep && !v->oom;
}

/* ---- public API ---- */

/*
 * Validates a parsed instance. Thread: any; s is only read. Ownership:
 * inst and errs are borrowed. Up to max_errs errors go to errs, *n_errs
 * (may be NULL) gets how many. Returns 0 when valid, SAM_EINVAL when not,
 * SAM_ENOMEM when memory ran out.
 */
int sam__schema_validate_obj(const sam__schema *s,
                             json_object *inst,
                             sam__schema_error *errs,
                             size_t max_errs,
                             size_t *n_errs) {
  vctx v;
  int ok, rc;

  if (n_errs != NULL)
    *n_errs = 0;
  if (s == NULL || s->entry == NULL)
    return SAM_EINVAL;
  memset(&v, 0, sizeof(v));
  v.errs = errs;
  v.max = errs != NULL ? max_errs : 0;
  v.md = pcre2_match_data_create(1, NULL);
  /* A catastrophic pattern ("^(a+)+$") gives up after a million steps
   * (~10 ms) instead of PCRE2's default ten million: the value is then
   * reported invalid. */
  v.mctx = pcre2_match_context_create(NULL);
  if (v.mctx != NULL &&
      pcre2_set_match_limit(v.mctx, SAM__SCHEMA_MATCH_LIMIT) != 0) {
    rc = SAM_EINVAL;
    goto done;
  }
  v.pcap = 64;
  v.ptr = malloc(v.pcap);
  if (v.md == NULL || v.mctx == NULL || v.ptr == NULL) {
    rc = SAM_ENOMEM;
    goto done;
  }
  v.ptr[0] = '\0';
  /* Split the errors into "the first few walked in full" and "just tell
   * me valid or not": the latter is much faster on big instances. */
  ok = v_node(&v, s->entry, inst, v.max == 0, 0);
  if (v.oom) {
    rc = SAM_ENOMEM;
  } else if (v.too_deep) {
    pop(&v, 0);
    if (v.n < v.max)
      report(&v, "nesting deeper than [%d] schema levels; refused",
             SAM__SCHEMA_MAX_FRAMES);
    rc = SAM_EINVAL;
  } else {
    rc = ok ? 0 : SAM_EINVAL;
  }

done:
  if (n_errs != NULL)
    *n_errs = v.n;
  pcre2_match_data_free(v.md);
  pcre2_match_context_free(v.mctx);
  free(v.ptr);
  return rc;
}

/*
 * Parses and validates instance text. Thread: any. Ownership: json and
 * errs are borrowed. Text that is not JSON gives SAM_EINVAL with one error
 * at pointer "" whose reason starts "not JSON". Returns as
 * sam__schema_validate_obj.
 */
int sam__schema_validate(const sam__schema *s,
                         const char *json,
                         size_t len,
                         sam__schema_error *errs,
                         size_t max_errs,
                         size_t *n_errs) {
  json_object *inst = NULL;
  char why[200];
  int rc;

  if (n_errs != NULL)
    *n_errs = 0;
  rc = sam__sjson_parse(json, len, &inst, why, sizeof(why));
  if (rc != 0) {
    if (errs != NULL && max_errs > 0) {
      errs[0].pointer[0] = '\0';
      snprintf(errs[0].reason, sizeof(errs[0].reason), "%s", why);
      if (n_errs != NULL)
        *n_errs = 1;
    }
    return rc;
  }
  rc = sam__schema_validate_obj(s, inst, errs, max_errs, n_errs);
  json_object_put(inst);
  return rc;
}
