/*
 * schema_json.c: the JSON plumbing of the schema validator: strict parsing
 * with bounded depth, draft-07 number and equality rules, a value renderer
 * for messages and JSON Pointer building.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "schema_internal.h"

/* ---- parsing ---- */

static int all_finite(json_object *o, int depth) {
  if (depth > SAM__SCHEMA_MAX_DEPTH)
    return 1; /* the tokener already bounds depth */
  switch (json_object_get_type(o)) {
  case json_type_double:
    return isfinite(json_object_get_double(o));
  case json_type_array: {
    size_t n = json_object_array_length(o);
    for (size_t i = 0; i < n; i++)
      if (!all_finite(json_object_array_get_idx(o, i), depth + 1))
        return 0;
    return 1;
  }
  case json_type_object: {
    json_object_object_foreach(o, k, v) {
      (void)k;
      if (!all_finite(v, depth + 1))
        return 0;
    }
    return 1;
  }
  default:
    return 1;
  }
}

/*
 * Strict JSON parse with bounded depth (see schema_internal.h).
 * Thread: any. Ownership: text is borrowed; *out is the caller's.
 * Returns 0, SAM_EINVAL with a reason in err, or SAM_ENOMEM.
 */
int sam__sjson_parse(const char *text,
                     size_t len,
                     json_object **out,
                     char *err,
                     size_t err_len) {
  json_tokener *tok = NULL;
  json_object *o = NULL;
  enum json_tokener_error e;
  int rc = SAM_EINVAL;

  *out = NULL;
  if (text == NULL) {
    snprintf(err, err_len, "not JSON: no text");
    return SAM_EINVAL;
  }
  /* A length that counts the terminator (sizeof a literal) is forgiven;
   * a NUL anywhere else is not JSON. */
  if (len > 0 && text[len - 1] == '\0')
    len--;
  if (len > INT_MAX - 1) {
    snprintf(err, err_len, "not JSON: text too large [%zu] bytes", len);
    return SAM_EINVAL;
  }
  tok = json_tokener_new_ex(SAM__SCHEMA_MAX_DEPTH);
  if (tok == NULL) {
    snprintf(err, err_len, "out of memory");
    return SAM_ENOMEM;
  }
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  /* json-c returns NULL for the literal null too: judge by the error. */
  o = json_tokener_parse_ex(tok, text, (int)len);
  e = json_tokener_get_error(tok);
  if (e == json_tokener_continue) {
    /* A bare top-level number needs a terminator to finish; the NUL is
     * the one json_tokener_parse would have passed. */
    o = json_tokener_parse_ex(tok, "", 1);
    e = json_tokener_get_error(tok);
    if (e == json_tokener_continue) {
      snprintf(err, err_len, "not JSON: truncated at byte [%zu]", len);
      goto done;
    }
  } else if (e == json_tokener_success) {
    size_t end = json_tokener_get_parse_end(tok);
    for (; end < len; end++) {
      char c = text[end];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        snprintf(err, err_len, "not JSON: trailing data at byte [%zu]", end);
        goto done;
      }
    }
  }
  if (e != json_tokener_success) {
    if (e == json_tokener_error_depth)
      snprintf(err, err_len, "not JSON: nesting deeper than [%d] levels",
               SAM__SCHEMA_MAX_DEPTH);
    else
      snprintf(err, err_len, "not JSON: %s at byte [%zu]",
               json_tokener_error_desc(e), json_tokener_get_parse_end(tok));
    goto done;
  }
  if (!all_finite(o, 0)) {
    snprintf(err, err_len, "not JSON: NaN or Infinity is not a JSON number");
    goto done;
  }
  *out = o;
  o = NULL;
  rc = 0;

done:
  json_object_put(o);
  json_tokener_free(tok);
  return rc;
}

/* ---- numbers, types, equality ---- */

/*
 * Reads a JSON number as long double. Thread: any; o is only read.
 * Returns 1 for a number (and sets *v), 0 for any other type.
 */
int sam__sjson_number(json_object *o, long double *v) {
  switch (json_object_get_type(o)) {
  case json_type_int: {
    /* json-c keeps values above INT64_MAX as uint64 and saturates
     * get_int64; long double holds every 64-bit integer exactly. */
    int64_t i = json_object_get_int64(o);
    if (i == INT64_MAX)
      *v = (long double)json_object_get_uint64(o);
    else
      *v = (long double)i;
    return 1;
  }
  case json_type_double:
    *v = (long double)json_object_get_double(o);
    return 1;
  default:
    return 0;
  }
}

/*
 * Draft-07 integer test: json-c ints, and doubles without a fraction.
 * Thread: any. Returns 1 or 0.
 */
int sam__sjson_is_integer(json_object *o) {
  if (json_object_get_type(o) == json_type_int)
    return 1;
  if (json_object_get_type(o) == json_type_double) {
    double d = json_object_get_double(o);
    return isfinite(d) && floor(d) == d;
  }
  return 0;
}

/*
 * The instance's SAM__ST_* bits (an integer is NUMBER|INTEGER).
 * Thread: any. Returns the bits.
 */
unsigned sam__sjson_type(json_object *o) {
  switch (json_object_get_type(o)) {
  case json_type_null:
    return SAM__ST_NULL;
  case json_type_boolean:
    return SAM__ST_BOOLEAN;
  case json_type_object:
    return SAM__ST_OBJECT;
  case json_type_array:
    return SAM__ST_ARRAY;
  case json_type_string:
    return SAM__ST_STRING;
  case json_type_int:
  case json_type_double:
    return sam__sjson_is_integer(o) ? (SAM__ST_NUMBER | SAM__ST_INTEGER)
                                    : SAM__ST_NUMBER;
  }
  return 0;
}

static int equal_depth(json_object *a, json_object *b, int depth) {
  enum json_type ta = json_object_get_type(a);
  enum json_type tb = json_object_get_type(b);
  long double na, nb;

  if (depth > SAM__SCHEMA_MAX_FRAMES)
    return 0;
  if (sam__sjson_number(a, &na) && sam__sjson_number(b, &nb))
    return na == nb;
  if (ta != tb)
    return 0;
  switch (ta) {
  case json_type_null:
    return 1;
  case json_type_boolean:
    return json_object_get_boolean(a) == json_object_get_boolean(b);
  case json_type_string: {
    int la = json_object_get_string_len(a);
    int lb = json_object_get_string_len(b);
    return la == lb && memcmp(json_object_get_string(a),
                              json_object_get_string(b), (size_t)la) == 0;
  }
  case json_type_array: {
    size_t n = json_object_array_length(a);
    if (n != json_object_array_length(b))
      return 0;
    for (size_t i = 0; i < n; i++)
      if (!equal_depth(json_object_array_get_idx(a, i),
                       json_object_array_get_idx(b, i), depth + 1))
        return 0;
    return 1;
  }
  case json_type_object: {
    if (json_object_object_length(a) != json_object_object_length(b))
      return 0;
    json_object_object_foreach(a, k, va) {
      json_object *vb = NULL;
      if (!json_object_object_get_ex(b, k, &vb))
        return 0;
      if (!equal_depth(va, vb, depth + 1))
        return 0;
    }
    return 1;
  }
  default:
    return 0;
  }
}

/*
 * Draft-07 equality (enum, const, uniqueItems). Thread: any; both values
 * are only read, so a shared schema's values are safe to compare.
 * Returns 1 when equal.
 */
int sam__sjson_equal(json_object *a, json_object *b) {
  return equal_depth(a, b, 0);
}

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static uint64_t hash_bytes(const char *s, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull; /* FNV-1a */
  return h;
}

static uint64_t hash_depth(json_object *o, int depth) {
  long double v;
  uint64_t h;
  if (depth > 8)
    return 0x5a5a; /* deep values only lose precision, never equality */
  if (sam__sjson_number(o, &v)) {
    /* Equal numbers must hash alike: 1, 1.0 and 1e0; 0 and -0. Two big
     * integers that round to one double only collide, which is fine. */
    double d = v == 0 ? 0.0 : (double)v;
    memcpy(&h, &d, sizeof(h));
    return mix(h ^ 0x1);
  }
  switch (json_object_get_type(o)) {
  case json_type_null:
    return 0x2;
  case json_type_boolean:
    return json_object_get_boolean(o) ? 0x3 : 0x4;
  case json_type_string:
    return mix(hash_bytes(json_object_get_string(o),
                          (size_t)json_object_get_string_len(o),
                          0xcbf29ce484222325ull));
  case json_type_array: {
    size_t n = json_object_array_length(o);
    h = 0x5;
    for (size_t i = 0; i < n; i++)
      h = mix(h ^ hash_depth(json_object_array_get_idx(o, i), depth + 1));
    return h;
  }
  case json_type_object: {
    h = 0x6; /* a sum: key order must not matter */
    json_object_object_foreach(o, k, val) {
      uint64_t kh = hash_bytes(k, strlen(k), 0xcbf29ce484222325ull);
      h += mix(kh ^ hash_depth(val, depth + 1));
    }
    return mix(h);
  }
  default:
    return 0x7;
  }
}

/*
 * A hash that agrees with sam__sjson_equal (equal values hash alike).
 * Thread: any; o is only read. Returns the hash.
 */
uint64_t sam__sjson_hash(json_object *o) {
  return hash_depth(o, 0);
}

/* ---- rendering for messages ---- */

typedef struct rbuf {
  char *buf;
  size_t cap; /* bytes usable, excluding the room kept for "...\0" */
  size_t len;
  int cut;
} rbuf;

static void r_put(rbuf *r, const char *s, size_t n) {
  if (r->cut)
    return;
  if (r->len + n > r->cap) {
    n = r->cap - r->len;
    r->cut = 1;
  }
  memcpy(r->buf + r->len, s, n);
  r->len += n;
}

static void r_str(rbuf *r, const char *s, size_t n) {
  r_put(r, "\"", 1);
  for (size_t i = 0; i < n && !r->cut; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      r_put(r, esc, 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof(esc), "\\u%04x", c);
      r_put(r, esc, 6);
    } else {
      r_put(r, (const char *)&s[i], 1);
    }
  }
  r_put(r, "\"", 1);
}

static void r_value(rbuf *r, json_object *o, int depth) {
  char num[64];
  if (r->cut)
    return;
  if (depth > 8) {
    r_put(r, "...", 3);
    return;
  }
  switch (json_object_get_type(o)) {
  case json_type_null:
    r_put(r, "null", 4);
    break;
  case json_type_boolean:
    if (json_object_get_boolean(o))
      r_put(r, "true", 4);
    else
      r_put(r, "false", 5);
    break;
  case json_type_int: {
    int64_t i = json_object_get_int64(o);
    if (i == INT64_MAX)
      snprintf(num, sizeof(num), "%llu",
               (unsigned long long)json_object_get_uint64(o));
    else
      snprintf(num, sizeof(num), "%lld", (long long)i);
    r_put(r, num, strlen(num));
    break;
  }
  case json_type_double: {
    double d = json_object_get_double(o);
    snprintf(num, sizeof(num), "%.15g", d);
    if (strtod(num, NULL) != d)
      snprintf(num, sizeof(num), "%.17g", d);
    r_put(r, num, strlen(num));
    break;
  }
  case json_type_string:
    r_str(r, json_object_get_string(o), (size_t)json_object_get_string_len(o));
    break;
  case json_type_array: {
    size_t n = json_object_array_length(o);
    r_put(r, "[", 1);
    for (size_t i = 0; i < n && !r->cut; i++) {
      if (i > 0)
        r_put(r, ",", 1);
      r_value(r, json_object_array_get_idx(o, i), depth + 1);
    }
    r_put(r, "]", 1);
    break;
  }
  case json_type_object: {
    int first = 1;
    r_put(r, "{", 1);
    json_object_object_foreach(o, k, v) {
      if (r->cut)
        break;
      if (!first)
        r_put(r, ",", 1);
      first = 0;
      r_str(r, k, strlen(k));
      r_put(r, ":", 1);
      r_value(r, v, depth + 1);
    }
    r_put(r, "}", 1);
    break;
  }
  }
}

/*
 * Renders o as compact JSON into buf, cut with "..." to fit. Thread: any;
 * never writes to o. Ownership: buf is the caller's. Returns buf.
 */
char *sam__sjson_render(json_object *o, char *buf, size_t buf_len) {
  rbuf r;
  if (buf_len < 8) {
    if (buf_len > 0)
      buf[0] = '\0';
    return buf;
  }
  r.buf = buf;
  r.cap = buf_len - 4;
  r.len = 0;
  r.cut = 0;
  r_value(&r, o, 0);
  buf[r.len] = '\0';
  if (r.cut) {
    r.len = sam__sutf8_trim(buf);
    memcpy(buf + r.len, "...", 4);
  }
  return buf;
}

/*
 * Same as sam__sjson_render into a malloc'd string (caller frees) of at
 * most max bytes. Returns it, or NULL when out of memory.
 */
char *sam__sjson_render_dup(json_object *o, size_t max) {
  char *buf = malloc(max);
  char *out;
  if (buf == NULL)
    return NULL;
  sam__sjson_render(o, buf, max);
  out = strdup(buf);
  free(buf);
  return out;
}

/* ---- strings and pointers ---- */

/*
 * Cuts a UTF-8 sequence left incomplete at the end of s (by a byte-wise
 * truncation), so messages stay valid UTF-8 for logs and JSON replies.
 * Thread: any. Returns the new length.
 */
size_t sam__sutf8_trim(char *s) {
  size_t len = strlen(s);
  size_t i = len, need;
  unsigned char lead;
  while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && len - i < 3)
    i--;
  if (i == 0)
    return len;
  lead = (unsigned char)s[i - 1];
  if (lead < 0x80)
    return len; /* ASCII last, or stray continuation bytes: leave them */
  need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (len - (i - 1) < need) {
    s[i - 1] = '\0';
    return i - 1;
  }
  return len;
}

/*
 * Counts Unicode code points in UTF-8 text (bytes that are not
 * continuation bytes). Thread: any. Returns the count.
 */
size_t sam__sjson_codepoints(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

/*
 * Appends "/" and tok, escaped per RFC 6901 (~ as ~0, / as ~1), to the
 * growable buffer *buf (the caller frees it). Thread: any.
 * Returns 0 or SAM_ENOMEM (the buffer is then unchanged).
 */
int sam__sptr_push(
    char **buf, size_t *len, size_t *cap, const char *tok, size_t tok_len) {
  size_t need = *len + 2 + 2 * tok_len; /* worst case: every byte escaped */
  if (need > *cap) {
    size_t ncap = *cap ? *cap : 64;
    char *nb;
    while (ncap < need)
      ncap *= 2;
    nb = realloc(*buf, ncap);
    if (nb == NULL)
      return SAM_ENOMEM;
    *buf = nb;
    *cap = ncap;
  }
  (*buf)[(*len)++] = '/';
  for (size_t i = 0; i < tok_len; i++) {
    if (tok[i] == '~') {
      (*buf)[(*len)++] = '~';
      (*buf)[(*len)++] = '0';
    } else if (tok[i] == '/') {
      (*buf)[(*len)++] = '~';
      (*buf)[(*len)++] = '1';
    } else {
      (*buf)[(*len)++] = tok[i];
    }
  }
  (*buf)[*len] = '\0';
  return 0;
}
