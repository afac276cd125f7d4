/*
 * schema_compile.c: turns a JSON Schema document into the immutable node
 * graph the validator walks. Every keyword is checked here; one we do not
 * implement is refused with its name and pointer, never ignored.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "schema_internal.h"

/* ---- context helpers ---- */

/*
 * Writes the first compile error into c->err; later ones are dropped so
 * the message names the first problem. Thread: the compiling thread.
 * Returns SAM_EINVAL.
 */
int sam__sctx_fail(sam__sctx *c, const char *fmt, ...) {
  va_list ap;
  if (c->failed)
    return SAM_EINVAL;
  c->failed = 1;
  if (c->err != NULL && c->err_len > 0) {
    va_start(ap, fmt);
    vsnprintf(c->err, c->err_len, fmt, ap);
    va_end(ap);
  }
  return SAM_EINVAL;
}

/*
 * Records a key that is no keyword; sam__sref_resolve_all refuses it
 * unless a $ref points into its value. Thread: the compiling thread.
 * Ownership: key and ptr are copied. Returns 0 or SAM_ENOMEM.
 */
int sam__sctx_unknown(sam__sctx *c,
                      json_object *val,
                      const char *key,
                      const char *ptr) {
  sam__sunknown *u;
  if (c->n_unknown == c->cap_unknown) {
    size_t ncap = c->cap_unknown ? c->cap_unknown * 2 : 8;
    sam__sunknown *nu = realloc(c->unknown, ncap * sizeof(*nu));
    if (nu == NULL)
      return SAM_ENOMEM;
    c->unknown = nu;
    c->cap_unknown = ncap;
  }
  u = &c->unknown[c->n_unknown];
  u->val = val;
  u->key = strdup(key);
  u->ptr = strdup(ptr);
  if (u->key == NULL || u->ptr == NULL) {
    free(u->key);
    free(u->ptr);
    return SAM_ENOMEM;
  }
  c->n_unknown++;
  return 0;
}

static size_t memo_hash(json_object *o, size_t cap) {
  uintptr_t h = (uintptr_t)o;
  h ^= h >> 17;
  h *= (uintptr_t)0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 7) & (cap - 1);
}

/*
 * Looks up the node compiled for the schema value o. Thread: the
 * compiling thread. Returns the node (owned by c->s) or NULL.
 */
sam__snode *sam__smemo_get(const sam__sctx *c, json_object *o) {
  size_t i;
  if (c->memo_cap == 0)
    return NULL;
  for (i = memo_hash(o, c->memo_cap); c->memo[i].obj != NULL;
       i = (i + 1) & (c->memo_cap - 1))
    if (c->memo[i].obj == o)
      return c->memo[i].node;
  return NULL;
}

static int memo_put(sam__sctx *c, json_object *o, sam__snode *n) {
  size_t i;
  if ((c->memo_n + 1) * 2 > c->memo_cap) {
    size_t ncap = c->memo_cap ? c->memo_cap * 2 : 64;
    sam__smemo *nm = calloc(ncap, sizeof(*nm));
    if (nm == NULL)
      return SAM_ENOMEM;
    for (size_t j = 0; j < c->memo_cap; j++) {
      if (c->memo[j].obj == NULL)
        continue;
      for (i = memo_hash(c->memo[j].obj, ncap); nm[i].obj != NULL;
           i = (i + 1) & (ncap - 1))
        ;
      nm[i] = c->memo[j];
    }
    free(c->memo);
    c->memo = nm;
    c->memo_cap = ncap;
  }
  for (i = memo_hash(o, c->memo_cap); c->memo[i].obj != NULL;
       i = (i + 1) & (c->memo_cap - 1))
    ;
  c->memo[i].obj = o;
  c->memo[i].node = n;
  c->memo_n++;
  return 0;
}

static int node_new(sam__sctx *c, const char *ptr, sam__snode **out) {
  sam__schema *s = c->s;
  sam__snode *n;
  if (s->n_nodes == c->cap_nodes) {
    size_t ncap = c->cap_nodes ? c->cap_nodes * 2 : 32;
    sam__snode **nn = realloc(s->nodes, ncap * sizeof(*nn));
    if (nn == NULL)
      return SAM_ENOMEM;
    s->nodes = nn;
    c->cap_nodes = ncap;
  }
  n = calloc(1, sizeof(*n));
  if (n == NULL)
    return SAM_ENOMEM;
  n->ptr = strdup(ptr);
  if (n->ptr == NULL) {
    free(n);
    return SAM_ENOMEM;
  }
  n->min_len = n->max_len = -1;
  n->min_items = n->max_items = -1;
  n->min_props = n->max_props = -1;
  s->nodes[s->n_nodes++] = n;
  *out = n;
  return 0;
}

/* ---- the walk ---- */

static int get_bool(json_object *o, const char *key) {
  json_object *v = NULL;
  return json_object_object_get_ex(o, key, &v) &&
         json_object_get_type(v) == json_type_boolean &&
         json_object_get_boolean(v);
}

/* The form rules (SAM__SCHEMA_FORM) and the redaction flag. */
static int form_rules(sam__sctx *c, sam__snode *n, json_object *o) {
  json_object *v = NULL;
  int secret = get_bool(o, "x-sam-secret");
  int write_only = get_bool(o, "writeOnly");

  n->redact = secret || write_only;
  if (!(c->flags & SAM__SCHEMA_FORM))
    return 0;
  if (json_object_object_get_ex(o, "x-sam-ui", &v) && o != c->s->root)
    return sam__sctx_fail(c,
                          "form schema [%s]: x-sam-ui is allowed only at "
                          "the root",
                          n->ptr);
  if (!secret)
    return 0;
  if (n->types != SAM__ST_STRING)
    return sam__sctx_fail(c, "form schema [%s]: x-sam-secret needs type string",
                          n->ptr);
  if (!write_only)
    return sam__sctx_fail(c,
                          "form schema [%s]: x-sam-secret needs writeOnly "
                          "true",
                          n->ptr);
  return 0;
}

/*
 * Compiles one schema value and, through its keywords, everything under
 * it (see schema_internal.h). Thread: the compiling thread.
 * Returns 0, SAM_EINVAL (c->err says why) or SAM_ENOMEM.
 */
int sam__scompile_node(sam__sctx *c,
                       json_object *o,
                       json_object *doc,
                       const char *base,
                       const char *ptr,
                       int depth,
                       sam__snode **out) {
  sam__snode *n = sam__smemo_get(c, o);
  json_object *idv = NULL, *refv = NULL;
  char *own_base = NULL;
  int rc;

  if (n != NULL) {
    *out = n;
    return 0;
  }
  if (depth > SAM__SCHEMA_MAX_DEPTH)
    return sam__sctx_fail(c, "schema nesting deeper than [%d] levels at [%s]",
                          SAM__SCHEMA_MAX_DEPTH, ptr);
  rc = node_new(c, ptr, &n);
  if (rc != 0)
    return rc;
  rc = memo_put(c, o, n);
  if (rc != 0)
    return rc;
  *out = n;
  if (json_object_get_type(o) == json_type_boolean) {
    n->is_bool = 1;
    n->bool_val = json_object_get_boolean(o);
    return 0;
  }
  if (json_object_get_type(o) != json_type_object)
    return sam__sctx_fail(c, "schema at [%s] must be an object or a boolean",
                          ptr);

  /* draft-07: next to $ref every keyword is ignored, $id included. */
  json_object_object_get_ex(o, "$ref", &refv);
  if (json_object_object_get_ex(o, "$id", &idv) && refv == NULL &&
      json_object_get_type(idv) == json_type_string) {
    char *hash;
    own_base = sam__suri_resolve(base, json_object_get_string(idv));
    if (own_base == NULL)
      return SAM_ENOMEM;
    rc = sam__sref_register_id(c, own_base, o, doc);
    if (rc != 0)
      goto done;
    hash = strchr(own_base, '#');
    if (hash != NULL)
      *hash = '\0'; /* "#name" ids are anchors; the base stays the same */
    base = own_base;
  }

  json_object_object_foreach(o, key, val) {
    rc = sam__skeyword_apply(c, n, key, val, doc, base, ptr, depth);
    if (rc == 1)
      rc = sam__sctx_unknown(c, val, key, ptr);
    if (rc != 0)
      goto done;
  }
  rc = form_rules(c, n, o);

done:
  free(own_base);
  return rc;
}

/* ---- public API ---- */

static void node_free(sam__snode *n) {
  if (n == NULL)
    return;
  free(n->ptr);
  free(n->ref_uri);
  free(n->enum_text);
  free(n->const_text);
  free(n->min_text);
  free(n->max_text);
  free(n->xmin_text);
  free(n->xmax_text);
  free(n->mult_text);
  pcre2_code_free(n->pattern);
  free(n->items_arr);
  free(n->props);
  for (size_t i = 0; i < n->n_pprops; i++)
    pcre2_code_free(n->pprops[i].re);
  free(n->pprops);
  free(n->deps);
  free(n->all_of);
  free(n->any_of);
  free(n->one_of);
  free(n);
}

/*
 * Frees a compiled schema and drops its reference on the document.
 * Thread: any, once no other thread uses s. NULL is a no-op.
 */
void sam__schema_free(sam__schema *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_nodes; i++)
    node_free(s->nodes[i]);
  free(s->nodes);
  json_object_put(s->root);
  json_object_put(s->meta);
  free(s);
}

/*
 * Compiles a parsed schema document. Thread: any. Ownership: root is
 * borrowed (the schema takes its own reference); *out is freed with
 * sam__schema_free. Returns 0, SAM_EINVAL with a reason in err, or
 * SAM_ENOMEM.
 */
int sam__schema_compile_obj(json_object *root,
                            unsigned flags,
                            sam__schema **out,
                            char *err,
                            size_t err_len) {
  sam__sctx c;
  char local[8];
  int rc;

  if (out == NULL)
    return SAM_EINVAL;
  *out = NULL;
  memset(&c, 0, sizeof(c));
  c.err = err != NULL && err_len > 0 ? err : local;
  c.err_len = err != NULL && err_len > 0 ? err_len : sizeof(local);
  c.err[0] = '\0';
  c.flags = flags;
  c.s = calloc(1, sizeof(*c.s));
  if (c.s == NULL) {
    rc = SAM_ENOMEM;
    goto done;
  }
  c.s->root = json_object_get(root);
  c.s->flags = flags;
  rc = sam__scompile_node(&c, root, root, "", "", 0, &c.s->entry);
  if (rc == 0)
    rc = sam__sref_resolve_all(&c);

done:
  if (rc == SAM_ENOMEM && !c.failed)
    sam__sctx_fail(&c, "out of memory compiling schema");
  free(c.memo);
  for (size_t i = 0; i < c.n_ids; i++)
    free(c.ids[i].uri);
  free(c.ids);
  for (size_t i = 0; i < c.n_unknown; i++) {
    free(c.unknown[i].key);
    free(c.unknown[i].ptr);
  }
  free(c.unknown);
  free(c.walked);
  if (rc != 0) {
    sam__schema_free(c.s);
    return rc;
  }
  *out = c.s;
  return 0;
}

/*
 * Compiles schema text. Thread: any. Ownership: json is borrowed; *out is
 * freed with sam__schema_free. Returns 0, SAM_EINVAL with a reason in err
 * ("not JSON ..." for unparsable text), or SAM_ENOMEM.
 */
int sam__schema_compile(const char *json,
                        size_t len,
                        unsigned flags,
                        sam__schema **out,
                        char *err,
                        size_t err_len) {
  json_object *root = NULL;
  char why[200];
  int rc;

  if (out == NULL)
    return SAM_EINVAL;
  *out = NULL;
  rc = sam__sjson_parse(json, len, &root, why, sizeof(why));
  if (rc != 0) {
    if (err != NULL && err_len > 0)
      snprintf(err, err_len, "schema is %s", why);
    return rc;
  }
  rc = sam__schema_compile_obj(root, flags, out, err, err_len);
  json_object_put(root);
  return rc;
}

/*
 * The root schema document. Thread: any. Ownership: borrowed, valid while
 * s lives; read it, never modify it (other threads may validate).
 */
json_object *sam__schema_root(const sam__schema *s) {
  return s != NULL ? s->root : NULL;
}
