/*
 * schema_uri.c: RFC 3986 reference resolution, enough for $id and $ref
 * inside one schema document (no fetching, ever).
 */
#include <stdlib.h>
#include <string.h>

#include "schema_internal.h"

typedef struct uparts {
  const char *scheme, *auth, *path, *query, *frag;
  size_t scheme_n, auth_n, path_n, query_n, frag_n;
  int has_scheme, has_auth, has_query, has_frag;
} uparts;

static int is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void split(const char *u, uparts *p) {
  const char *s = u;
  memset(p, 0, sizeof(*p));
  if (is_alpha(*s)) {
    const char *q = s + 1;
    while (is_alpha(*q) || (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' ||
           *q == '.')
      q++;
    if (*q == ':') {
      p->has_scheme = 1;
      p->scheme = s;
      p->scheme_n = (size_t)(q - s);
      s = q + 1;
    }
  }
  if (s[0] == '/' && s[1] == '/') {
    p->has_auth = 1;
    s += 2;
    p->auth = s;
    while (*s && *s != '/' && *s != '?' && *s != '#')
      s++;
    p->auth_n = (size_t)(s - p->auth);
  }
  p->path = s;
  while (*s && *s != '?' && *s != '#')
    s++;
  p->path_n = (size_t)(s - p->path);
  if (*s == '?') {
    p->has_query = 1;
    p->query = ++s;
    while (*s && *s != '#')
      s++;
    p->query_n = (size_t)(s - p->query);
  }
  if (*s == '#') {
    p->has_frag = 1;
    p->frag = s + 1;
    p->frag_n = strlen(p->frag);
  }
}

/* RFC 3986 5.2.4, in place on a NUL-terminated path. */
static void remove_dots(char *in) {
  char *out = in;
  char *r = in;
  size_t o = 0;
  while (*r) {
    if (strncmp(r, "../", 3) == 0) {
      r += 3;
    } else if (strncmp(r, "./", 2) == 0) {
      r += 2;
    } else if (strncmp(r, "/./", 3) == 0) {
      r += 2;
    } else if (strcmp(r, "/.") == 0) {
      r[1] = '\0';
    } else if (strncmp(r, "/../", 4) == 0 || strcmp(r, "/..") == 0) {
      if (r[3] == '\0') {
        r += 2;
        *r = '/';
      } else {
        r += 3;
      }
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    } else if (strcmp(r, ".") == 0 || strcmp(r, "..") == 0) {
      break;
    } else {
      if (*r == '/')
        out[o++] = *r++;
      while (*r && *r != '/')
        out[o++] = *r++;
    }
  }
  out[o] = '\0';
}

static void put(char **w, const char *s, size_t n) {
  memcpy(*w, s, n);
  *w += n;
}

/*
 * Resolves ref against base per RFC 3986 5.2 (no network, no case
 * normalisation). Thread: any. Ownership: the result is malloc'd, the
 * caller frees it. Returns it, or NULL when out of memory.
 */
char *sam__suri_resolve(const char *base, const char *ref) {
  uparts b, r;
  size_t cap = strlen(base) + strlen(ref) + 16;
  char *out = malloc(cap);
  char *path = malloc(cap);
  char *w = out;
  const uparts *auth_src, *scheme_src;
  const char *query = NULL;
  size_t query_n = 0;
  int has_query = 0;

  if (out == NULL || path == NULL) {
    free(out);
    free(path);
    return NULL;
  }
  split(base, &b);
  split(ref, &r);
  scheme_src = r.has_scheme ? &r : &b;
  auth_src = (r.has_scheme || r.has_auth) ? &r : &b;
  if (r.has_scheme || r.has_auth) {
    memcpy(path, r.path, r.path_n);
    path[r.path_n] = '\0';
    has_query = r.has_query;
    query = r.query;
    query_n = r.query_n;
  } else if (r.path_n == 0) {
    memcpy(path, b.path, b.path_n);
    path[b.path_n] = '\0';
    has_query = r.has_query || b.has_query;
    query = r.has_query ? r.query : b.query;
    query_n = r.has_query ? r.query_n : b.query_n;
  } else {
    if (r.path[0] == '/') {
      memcpy(path, r.path, r.path_n);
      path[r.path_n] = '\0';
    } else if (b.has_auth && b.path_n == 0) {
      path[0] = '/';
      memcpy(path + 1, r.path, r.path_n);
      path[r.path_n + 1] = '\0';
    } else {
      size_t keep = b.path_n;
      while (keep > 0 && b.path[keep - 1] != '/')
        keep--;
      memcpy(path, b.path, keep);
      memcpy(path + keep, r.path, r.path_n);
      path[keep + r.path_n] = '\0';
    }
    has_query = r.has_query;
    query = r.query;
    query_n = r.query_n;
  }
  remove_dots(path);

  if (scheme_src->has_scheme) {
    put(&w, scheme_src->scheme, scheme_src->scheme_n);
    put(&w, ":", 1);
  }
  if (auth_src->has_auth) {
    put(&w, "//", 2);
    put(&w, auth_src->auth, auth_src->auth_n);
  }
  put(&w, path, strlen(path));
  if (has_query) {
    put(&w, "?", 1);
    put(&w, query, query_n);
  }
  if (r.has_frag) {
    put(&w, "#", 1);
    put(&w, r.frag, r.frag_n);
  }
  *w = '\0';
  free(path);
  return out;
}
