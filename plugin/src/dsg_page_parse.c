/*
 * dsg_page_parse.c: users-list pages and the run's userId set.
 */
#include "dsg_page_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "sam/sam_plugin.h"

/* ---- counts ---- */

int dsg_parse_count(json_object *v, uint64_t *out) {
  *out = 0;
  if (json_object_is_type(v, json_type_string)) {
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    uint64_t r = 0;
    size_t i;

    if (n == 0 || n > 18)
      return SAM_EPROTO;
    for (i = 0; i < n; i++) {
      if (s[i] < '0' || s[i] > '9')
        return SAM_EPROTO;
      r = r * 10 + (uint64_t)(s[i] - '0');
    }
    *out = r;
    return 0;
  }
  if (json_object_is_type(v, json_type_int)) {
    int64_t i = json_object_get_int64(v);

    if (i < 0)
      return SAM_EPROTO;
    *out = (uint64_t)i;
    return 0;
  }
  return SAM_EPROTO;
}

/* Value text for messages: strings as they are, others as JSON, cut. */
static const char *shown(json_object *v) {
  if (v == NULL)
    return "(missing)";
  if (json_object_is_type(v, json_type_string))
    return json_object_get_string(v);
  return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static int count_field(json_object *root,
                       const char *key,
                       int required,
                       uint64_t *out,
                       int *present,
                       char *err,
                       size_t errlen) {
  json_object *v = NULL;

  *present = json_object_object_get_ex(root, key, &v) && v != NULL;
  if (!*present) {
    *out = 0;
    if (!required)
      return 0;
    snprintf(err, errlen, "users page: %s is missing", key);
    return SAM_EPROTO;
  }
  if (dsg_parse_count(v, out) != 0) {
    snprintf(err, errlen, "users page: %s [%.64s] is not a count", key,
             shown(v));
    return SAM_EPROTO;
  }
  return 0;
}

/* ---- pages ---- */

void dsg_page_free(dsg_page *p) {
  if (p == NULL)
    return;
  json_object_put(p->root);
  memset(p, 0, sizeof(*p));
}

json_object *dsg_page_user(const dsg_page *p, size_t i) {
  if (p == NULL || p->users == NULL || i >= p->n_users)
    return NULL;
  return json_object_array_get_idx(p->users, i);
}

static int
check_fields(dsg_page *p, uint64_t expected_start, char *err, size_t errlen) {
  json_object *users = NULL, *next = NULL;
  uint64_t end = 0;
  int present, has_end;
  size_t i;

  if (count_field(p->root, "resultSetSize", 1, &p->result_set_size, &present,
                  err, errlen) != 0 ||
      count_field(p->root, "totalSetSize", 1, &p->total_set_size, &present, err,
                  errlen) != 0 ||
      count_field(p->root, "startPosition", 1, &p->start_position, &present,
                  err, errlen) != 0)
    return SAM_EPROTO;
  /* endPosition is only a cross-check; on an empty page servers write
   * anything there ("-1", the start), so it is read but not judged. */
  if (count_field(p->root, "endPosition", 0, &end, &has_end, err, errlen) !=
      0) {
    if (p->result_set_size > 0)
      return SAM_EPROTO;
    has_end = 0;
  }
  if (p->start_position != expected_start) {
    snprintf(err, errlen,
             "users page: startPosition [%llu] differs from the requested "
             "[%llu]",
             (unsigned long long)p->start_position,
             (unsigned long long)expected_start);
    return SAM_EPROTO;
  }
  if (p->result_set_size > p->total_set_size) {
    snprintf(err, errlen,
             "users page: resultSetSize [%llu] exceeds totalSetSize [%llu]",
             (unsigned long long)p->result_set_size,
             (unsigned long long)p->total_set_size);
    return SAM_EPROTO;
  }
  if (json_object_object_get_ex(p->root, "users", &users) && users != NULL) {
    if (!json_object_is_type(users, json_type_array)) {
      snprintf(err, errlen, "users page: users is not an array [%s]",
               json_type_to_name(json_object_get_type(users)));
      return SAM_EPROTO;
    }
    p->users = users;
    p->n_users = json_object_array_length(users);
  }
  if (p->n_users != p->result_set_size) {
    snprintf(err, errlen,
             "users page: %s [%zu entries] but resultSetSize [%llu]",
             p->users == NULL ? "users is missing" : "users holds", p->n_users,
             (unsigned long long)p->result_set_size);
    return SAM_EPROTO;
  }
  for (i = 0; i < p->n_users; i++) {
    json_object *u = json_object_array_get_idx(users, i);

    if (!json_object_is_type(u, json_type_object)) {
      snprintf(err, errlen, "users page: users[%zu] is not an object [%s]", i,
               json_type_to_name(json_object_get_type(u)));
      return SAM_EPROTO;
    }
  }
  p->end_position =
      p->n_users > 0 ? p->start_position + p->n_users - 1 : p->start_position;
  if (has_end && p->n_users > 0 && end != p->end_position) {
    snprintf(err, errlen,
             "users page: endPosition [%llu] but startPosition [%llu] and "
             "resultSetSize [%llu]",
             (unsigned long long)end, (unsigned long long)p->start_position,
             (unsigned long long)p->result_set_size);
    return SAM_EPROTO;
  }
  if (json_object_object_get_ex(p->root, "nextUri", &next) &&
      json_object_is_type(next, json_type_string) &&
      json_object_get_string_len(next) > 0)
    p->has_next_uri = 1;
  return 0;
}

int dsg_page_parse(const char *body,
                   size_t len,
                   uint64_t expected_start,
                   dsg_page *out,
                   char *err,
                   size_t errlen) {
  json_tokener *tok = NULL;
  enum json_tokener_error jerr;
  size_t used;
  int rc = SAM_EINVAL;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (out == NULL || (body == NULL && len > 0)) {
    snprintf(err, errlen, "users page: NULL argument");
    return SAM_EINVAL;
  }
  rc = SAM_EPROTO;
  if (len == 0 || len > (size_t)INT32_MAX) {
    snprintf(err, errlen, "users page: body of [%zu] bytes", len);
    goto fail;
  }
  rc = SAM_ENOMEM;
  tok = json_tokener_new();
  if (tok == NULL)
    goto fail;
  rc = SAM_EPROTO;
  out->root = json_tokener_parse_ex(tok, body, (int)len);
  jerr = json_tokener_get_error(tok);
  if (out->root == NULL || jerr != json_tokener_success) {
    snprintf(err, errlen, "users page: malformed JSON [%s] at byte [%zu]",
             jerr == json_tokener_continue ? "truncated"
                                           : json_tokener_error_desc(jerr),
             (size_t)json_tokener_get_parse_end(tok));
    goto fail;
  }
  used = json_tokener_get_parse_end(tok);
  while (used < len && (body[used] == ' ' || body[used] == '\n' ||
                        body[used] == '\r' || body[used] == '\t'))
    used++;
  if (used != len) {
    snprintf(err, errlen, "users page: data after the JSON at byte [%zu]",
             used);
    goto fail;
  }
  if (!json_object_is_type(out->root, json_type_object)) {
    snprintf(err, errlen, "users page: body is not an object [%s]",
             json_type_to_name(json_object_get_type(out->root)));
    goto fail;
  }
  if (check_fields(out, expected_start, err, errlen) != 0)
    goto fail;
  json_tokener_free(tok);
  return 0;

fail:
  if (rc == SAM_ENOMEM)
    snprintf(err, errlen, "users page: out of memory");
  if (tok != NULL) /* json_tokener_free is not NULL-safe */
    json_tokener_free(tok);
  dsg_page_free(out);
  return rc;
}

/* ---- the userId set ---- */

/* 2^32 slots (32 GiB): slot_of's 32-bit multiply-shift needs cap below
 * it, and no account comes near. */
#define IDSET_MAX_CAP ((size_t)0xFFFFFFFFu)

/* 0 marks an empty slot; a fingerprint is never 0 (fp() sets a bit). */
typedef uint64_t digest;

/* A slot's bit that marks its id (dsg_idset_mark); fingerprints leave it
 * clear, and slot_of reads only the high bits. */
#define IDSET_MARK ((digest)2)

struct dsg_idset {
  digest *slots;
  size_t cap; /* slots; the table is at most 3/4 full */
  size_t count;
  uint64_t salt;
};

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The 16 bytes of a canonical GUID in two halves; 0 if s is not one. */
static int guid_bytes(const char *s, uint64_t *a, uint64_t *b) {
  int i, nib = 0;

  if (strlen(s) != 36)
    return 0;
  *a = *b = 0;
  for (i = 0; i < 36; i++) {
    int v;

    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return 0;
      continue;
    }
    v = hexval(s[i]);
    if (v < 0)
      return 0;
    if (nib < 16)
      *a = (*a << 4) | (uint64_t)v;
    else
      *b = (*b << 4) | (uint64_t)v;
    nib++;
  }
  return 1;
}

/* murmur3's 64-bit finalizer: every input bit moves every output bit. */
static uint64_t fmix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* One 64-bit word into the running hash (xxHash64's round and merge). */
static uint64_t absorb(uint64_t h, uint64_t w) {
  w *= 0xc2b2ae3d27d4eb4fULL;
  w = (w << 31) | (w >> 33);
  w *= 0x9e3779b185ebca87ULL;
  h ^= w;
  return ((h << 27) | (h >> 37)) * 0x9e3779b185ebca87ULL +
         0x85ebca77c2b2ae63ULL;
}

/* The salted fingerprint of an id: GUIDs by value (so case does not
 * matter), other ids by their bytes, each with its own domain tag. */
static digest fp(const dsg_idset *s, const char *id) {
  uint64_t a, b, h;
  size_t len, i;

  if (guid_bytes(id, &a, &b)) {
    h = absorb(s->salt ^ 0x6775696400000010ULL, a);
    h = absorb(h, b);
  } else {
    len = strlen(id);
    h = s->salt ^ 0x7465787400000000ULL ^ (uint64_t)len;
    for (i = 0; i + 8 <= len; i += 8) {
      uint64_t w;

      memcpy(&w, id + i, 8);
      h = absorb(h, w);
    }
    if (i < len) {
      uint64_t w = 0;

      memcpy(&w, id + i, len - i);
      h = absorb(h, w ^ 0x8000000000000000ULL);
    }
  }
  /* bit 0 set: never the empty marker; bit 1 clear: the mark's */
  return (fmix(h) | 1u) & ~IDSET_MARK;
}

/* Slot in [0, cap) by multiply-shift ("fastrange") over the high bits, so
 * that cap need not be a power of two and the table is sized to the
 * account. */
static size_t slot_of(digest d, size_t cap) {
  return (size_t)(((d >> 32) * (uint64_t)cap) >> 32);
}

/* Slots for n ids at a load of at most 3/4 (linear probing stays short). */
static size_t cap_for(size_t n) {
  size_t cap = n / 3 * 4 + n % 3 * 2 + 64;

  return cap > IDSET_MAX_CAP ? IDSET_MAX_CAP : cap;
}

int dsg_idset_new(size_t expected, dsg_idset **out) {
  dsg_idset *s;
  size_t cap;

  *out = NULL;
  /* 10 % over the expected count before the first growth: users added
   * while the run pages through the account */
  cap = cap_for(expected + expected / 10);
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return SAM_ENOMEM;
  s->slots = calloc(cap, sizeof(*s->slots));
  if (s->slots == NULL) {
    free(s);
    return SAM_ENOMEM;
  }
  s->cap = cap;
  if (RAND_bytes((unsigned char *)&s->salt, (int)sizeof(s->salt)) != 1)
    s->salt = 0x243f6a8885a308d3ULL;
  *out = s;
  return 0;
}

static int grow(dsg_idset *s) {
  size_t cap = cap_for(s->count + s->count / 2), i;
  digest *slots;

  if (cap <= s->cap)
    return SAM_ENOMEM; /* at IDSET_MAX_CAP */
  slots = calloc(cap, sizeof(*slots));
  if (slots == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < s->cap; i++) {
    size_t j;

    if (s->slots[i] == 0)
      continue;
    j = slot_of(s->slots[i], cap);
    while (slots[j] != 0)
      j = j + 1 == cap ? 0 : j + 1;
    slots[j] = s->slots[i];
  }
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return 0;
}

/* Index of d's slot, or of the empty slot where it would go. */
static size_t find(const dsg_idset *s, digest d) {
  size_t j = slot_of(d, s->cap);

  while (s->slots[j] != 0 && (s->slots[j] & ~IDSET_MARK) != d)
    j = j + 1 == s->cap ? 0 : j + 1;
  return j;
}

int dsg_idset_add(dsg_idset *s, const char *id) {
  digest d;
  size_t j;

  if (s == NULL || id == NULL || *id == '\0')
    return SAM_EINVAL;
  d = fp(s, id);
  j = find(s, d);
  if (s->slots[j] != 0)
    return 0;
  if ((s->count + 1) * 4 > s->cap * 3) {
    if (grow(s) != 0)
      return SAM_ENOMEM;
    j = find(s, d);
  }
  s->slots[j] = d;
  s->count++;
  return 1;
}

int dsg_idset_contains(const dsg_idset *s, const char *id) {
  digest d;

  if (s == NULL || id == NULL || *id == '\0')
    return 0;
  d = fp(s, id);
  return s->slots[find(s, d)] != 0;
}

int dsg_idset_mark(dsg_idset *s, const char *id) {
  size_t j;

  if (s == NULL || id == NULL || *id == '\0')
    return SAM_EINVAL;
  j = find(s, fp(s, id));
  if (s->slots[j] == 0)
    return 0;
  s->slots[j] |= IDSET_MARK;
  return 1;
}

int dsg_idset_marked(const dsg_idset *s, const char *id) {
  if (s == NULL || id == NULL || *id == '\0')
    return 0;
  return (s->slots[find(s, fp(s, id))] & IDSET_MARK) != 0;
}

size_t dsg_idset_count(const dsg_idset *s) {
  return s == NULL ? 0 : s->count;
}

size_t dsg_idset_bytes(const dsg_idset *s) {
  return s == NULL ? 0 : sizeof(*s) + s->cap * sizeof(digest);
}

void dsg_idset_free(dsg_idset *s) {
  if (s == NULL)
    return;
  free(s->slots);
  free(s);
}
