/*
 * schema_ref.c: $id registration and $ref resolution inside one schema
 * document. A reference that would need a fetch is refused; the draft-07
 * meta-schema is the one remote document we know, and it is embedded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "schema_internal.h"

/*
 * Registers the resolved $id uri for obj inside doc. Thread: the
 * compiling thread. Ownership: uri is copied. Returns 0, SAM_EINVAL for
 * an $id that names two different schemas, or SAM_ENOMEM.
 */
int sam__sref_register_id(sam__sctx *c,
                          const char *uri,
                          json_object *obj,
                          json_object *doc) {
  size_t len = strlen(uri);
  char *copy;

  if (len > 0 && uri[len - 1] == '#')
    len--; /* "x#" and "x" name the same resource */
  for (size_t i = 0; i < c->n_ids; i++) {
    if (strlen(c->ids[i].uri) == len && memcmp(c->ids[i].uri, uri, len) == 0) {
      if (c->ids[i].obj == obj)
        return 0;
      return sam__sctx_fail(c, "duplicate $id [%.*s] in the schema", (int)len,
                            uri);
    }
  }
  if (c->n_ids == c->cap_ids) {
    size_t ncap = c->cap_ids ? c->cap_ids * 2 : 8;
    sam__sid *ni = realloc(c->ids, ncap * sizeof(*ni));
    if (ni == NULL)
      return SAM_ENOMEM;
    c->ids = ni;
    c->cap_ids = ncap;
  }
  copy = malloc(len + 1);
  if (copy == NULL)
    return SAM_ENOMEM;
  memcpy(copy, uri, len);
  copy[len] = '\0';
  c->ids[c->n_ids].uri = copy;
  c->ids[c->n_ids].obj = obj;
  c->ids[c->n_ids].doc = doc;
  c->n_ids++;
  return 0;
}

static const sam__sid *find_id(const sam__sctx *c, const char *uri) {
  for (size_t i = 0; i < c->n_ids; i++)
    if (strcmp(c->ids[i].uri, uri) == 0)
      return &c->ids[i];
  return NULL;
}

static int hexval(char h) {
  if (h >= '0' && h <= '9')
    return h - '0';
  if (h >= 'a' && h <= 'f')
    return h - 'a' + 10;
  if (h >= 'A' && h <= 'F')
    return h - 'A' + 10;
  return -1;
}

/* Percent-decodes in place. Returns 0, or -1 for a bad escape or a NUL. */
static int pct_decode(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '%') {
      int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        return -1;
      *w++ = (char)(hi * 16 + lo);
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
  return 0;
}

static int walked_add(sam__sctx *c, json_object *o) {
  if (c->n_walked == c->cap_walked) {
    size_t ncap = c->cap_walked ? c->cap_walked * 2 : 16;
    json_object **nw = realloc(c->walked, ncap * sizeof(*nw));
    if (nw == NULL)
      return SAM_ENOMEM;
    c->walked = nw;
    c->cap_walked = ncap;
  }
  c->walked[c->n_walked++] = o;
  return 0;
}

/* Evaluates a JSON Pointer ("/a/0/b~1c") from doc, noting every value it
 * passes through. NULL when missing (or out of memory). */
static json_object *
pointer_eval(sam__sctx *c, json_object *doc, const char *p) {
  json_object *cur = doc;
  char tok[512];

  while (*p == '/') {
    size_t n = 0;
    p++;
    while (*p && *p != '/') {
      char ch = *p++;
      if (ch == '~') {
        if (*p == '0')
          ch = '~';
        else if (*p == '1')
          ch = '/';
        else
          return NULL;
        p++;
      }
      if (n + 1 >= sizeof(tok))
        return NULL;
      tok[n++] = ch;
    }
    tok[n] = '\0';
    if (json_object_get_type(cur) == json_type_object) {
      json_object *next = NULL;
      if (!json_object_object_get_ex(cur, tok, &next))
        return NULL;
      cur = next;
    } else if (json_object_get_type(cur) == json_type_array) {
      size_t idx = 0;
      if (n == 0 || (n > 1 && tok[0] == '0'))
        return NULL;
      for (size_t i = 0; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9' || idx > 100000000)
          return NULL;
        idx = idx * 10 + (size_t)(tok[i] - '0');
      }
      if (idx >= json_object_array_length(cur))
        return NULL;
      cur = json_object_array_get_idx(cur, idx);
    } else {
      return NULL;
    }
    if (cur == NULL || walked_add(c, cur) != 0)
      return NULL; /* a JSON null is not a schema either */
  }
  return *p == '\0' ? cur : NULL;
}

/* Parses and compiles the embedded meta-schema once per compile. */
static int load_meta(sam__sctx *c) {
  sam__snode *unused;
  char why[200];
  int rc;
  if (c->s->meta != NULL)
    return 0;
  rc = sam__sjson_parse(sam__sschema_draft7, strlen(sam__sschema_draft7),
                        &c->s->meta, why, sizeof(why));
  if (rc != 0)
    return sam__sctx_fail(c, "embedded meta-schema: %s", why);
  return sam__scompile_node(c, c->s->meta, c->s->meta, "", "", 0, &unused);
}

static int has_scheme(const char *u) {
  const char *colon = strchr(u, ':');
  const char *stop = strpbrk(u, "/?#");
  return colon != NULL && (stop == NULL || colon < stop);
}

static int resolve_one(sam__sctx *c, sam__snode *n) {
  char *docpart = strdup(n->ref_uri);
  char *frag, *hash, *anchor = NULL;
  json_object *res = NULL, *doc = n->ref_doc, *target;
  const sam__sid *id;
  int rc = SAM_EINVAL;

  if (docpart == NULL)
    return SAM_ENOMEM;
  hash = strchr(docpart, '#');
  frag = hash != NULL ? hash + 1 : docpart + strlen(docpart);
  if (hash != NULL)
    *hash = '\0';
  if (docpart[0] == '\0') {
    res = n->ref_doc;
  } else {
    id = find_id(c, docpart);
    if (id == NULL && strcmp(docpart, SAM__DRAFT7_ID) == 0) {
      rc = load_meta(c);
      if (rc != 0)
        goto done;
      id = find_id(c, docpart);
    }
    if (id == NULL) {
      if (has_scheme(docpart))
        rc = sam__sctx_fail(c,
                            "remote reference [%s] for keyword [$ref] at [%s] "
                            "is not supported: only references inside the "
                            "schema document resolve (#/definitions/...)",
                            n->ref_uri, n->ptr);
      else
        rc = sam__sctx_fail(c,
                            "unresolvable reference [%s] for keyword [$ref] "
                            "at [%s]",
                            n->ref_uri, n->ptr);
      goto done;
    }
    res = id->obj;
    doc = id->doc;
  }
  if (frag[0] != '\0' && frag[0] != '/') {
    /* A plain-name fragment: an "$id": "#name" anchor. */
    size_t len = strlen(docpart) + strlen(frag) + 2;
    anchor = malloc(len);
    if (anchor == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
    snprintf(anchor, len, "%s#%s", docpart, frag);
    id = find_id(c, anchor);
    if (id == NULL) {
      rc = sam__sctx_fail(c,
                          "unresolvable reference [%s] for keyword [$ref] at "
                          "[%s]: no $id [#%s]",
                          n->ref_uri, n->ptr, frag);
      goto done;
    }
    target = id->obj;
    doc = id->doc;
  } else if (pct_decode(frag) != 0 ||
             (target = pointer_eval(c, res, frag)) == NULL) {
    rc = sam__sctx_fail(c,
                        "unresolvable reference [%s] for keyword [$ref] at "
                        "[%s]: nothing at that JSON Pointer",
                        n->ref_uri, n->ptr);
    goto done;
  }
  if (json_object_get_type(target) != json_type_object &&
      json_object_get_type(target) != json_type_boolean) {
    rc = sam__sctx_fail(c,
                        "reference [%s] for keyword [$ref] at [%s] does not "
                        "point to a schema",
                        n->ref_uri, n->ptr);
    goto done;
  }
  n->ref_target = target;
  n->ref = sam__smemo_get(c, target);
  rc = 0;
  if (n->ref == NULL)
    rc = sam__scompile_node(c, target, doc, docpart, frag, 0, &n->ref);

done:
  free(anchor);
  free(docpart);
  return rc;
}

/*
 * Resolves every node's $ref, compiling targets not compiled yet, then
 * refuses $ref chains that loop without reaching a schema and unknown
 * keys that no $ref uses. Thread: the compiling thread.
 * Returns 0, SAM_EINVAL (c->err says why) or SAM_ENOMEM.
 */
int sam__sref_resolve_all(sam__sctx *c) {
  sam__schema *s = c->s;
  int rc;

  /* Compiling a target may add nodes (and refs) behind i: the loop picks
   * them up because n_nodes is read on every pass. */
  for (size_t i = 0; i < s->n_nodes; i++) {
    sam__snode *n = s->nodes[i];
    if (n->ref_uri == NULL || n->ref != NULL)
      continue;
    rc = resolve_one(c, n);
    if (rc != 0)
      return rc;
  }
  for (size_t i = 0; i < s->n_nodes; i++) {
    sam__snode *m = s->nodes[i];
    size_t steps = 0;
    while (m->ref != NULL && steps <= s->n_nodes) {
      m = m->ref;
      steps++;
    }
    if (m->ref != NULL)
      return sam__sctx_fail(c,
                            "reference loop through keyword [$ref] at [%s]: "
                            "the references never reach a schema",
                            s->nodes[i]->ptr);
  }
  for (size_t i = 0; i < c->n_unknown; i++) {
    const sam__sunknown *u = &c->unknown[i];
    size_t j = 0;
    while (j < c->n_walked && c->walked[j] != u->val)
      j++;
    if (j == c->n_walked)
      return sam__sctx_fail(c, "unsupported keyword [%s] at [%s]", u->key,
                            u->ptr);
  }
  return 0;
}
