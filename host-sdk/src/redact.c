/*
 * redact.c: the host's second line of defence against leaked secrets
 * (ABI.md 9.8). Every free-text string a plugin hands over (log text,
 * progress and job messages, result JSON, init err) goes through
 * sam__redact before it is stored, logged or sent.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "runtime_int.h"

#define MIN_SECRET 8
#define MASK "[redacted]"

static const char *const secret_keys[] = {
    "access_token", "refresh_token", "client_secret", "code_verifier",
    "password",     "Authorization", "authorization"};

/* ---- sets ---- */

static int strset_has(const sam__strset *s, const char *v, size_t len) {
  size_t i;

  for (i = 0; i < s->n; i++) {
    if (s->len[i] == len && memcmp(s->v[i], v, len) == 0)
      return 1;
  }
  return 0;
}

static void strset_add(sam__strset *s, const char *v, size_t len) {
  char *copy;

  if (strset_has(s, v, len))
    return;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    char **nv = realloc(s->v, cap * sizeof(*nv));
    size_t *nl;

    if (nv == NULL)
      return;
    s->v = nv;
    nl = realloc(s->len, cap * sizeof(*nl));
    if (nl == NULL)
      return;
    s->len = nl;
    s->cap = cap;
  }
  copy = sam__strndup(v, len);
  if (copy == NULL)
    return;
  s->v[s->n] = copy;
  s->len[s->n] = len;
  s->n++;
}

void sam__strset_free(sam__strset *s) {
  size_t i;

  for (i = 0; i < s->n; i++) {
    OPENSSL_cleanse(s->v[i], s->len[i]);
    free(s->v[i]);
  }
  free(s->v);
  free(s->len);
  memset(s, 0, sizeof(*s));
}

/* The forms a value takes inside JSON text and inside a URL or form body,
 * so a secret is also caught after the plugin escaped or encoded it. */
static void add_variants(sam__strset *set, const char *v, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  char *j = malloc(len * 6 + 1);
  char *u = malloc(len * 3 + 1);
  size_t i, jn = 0, un = 0;

  if (j == NULL || u == NULL) {
    free(j);
    free(u);
    return;
  }
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)v[i];

    if (c == '"' || c == '\\') {
      j[jn++] = '\\';
      j[jn++] = (char)c;
    } else if (c < 0x20) {
      j[jn++] = '\\';
      j[jn++] = 'u';
      j[jn++] = '0';
      j[jn++] = '0';
      j[jn++] = hex[c >> 4];
      j[jn++] = hex[c & 15];
    } else {
      j[jn++] = (char)c;
    }
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      u[un++] = (char)c;
    } else {
      u[un++] = '%';
      u[un++] = hex[c >> 4];
      u[un++] = hex[c & 15];
    }
  }
  if (jn != len)
    strset_add(set, j, jn);
  if (memchr(j, '/', jn) != NULL) {
    /* json-c escapes '/' as "\/" unless told not to. */
    char *k = malloc(jn * 2 + 1);
    size_t kn = 0;

    if (k != NULL) {
      for (i = 0; i < jn; i++) {
        if (j[i] == '/')
          k[kn++] = '\\';
        k[kn++] = j[i];
      }
      strset_add(set, k, kn);
      OPENSSL_cleanse(k, kn);
      free(k);
    }
  }
  if (un != len)
    strset_add(set, u, un);
  OPENSSL_cleanse(j, jn);
  OPENSSL_cleanse(u, un);
  free(j);
  free(u);
}

/* Is `key` the name of a credential inside a secret's JSON document? */
static int credential_key(const char *key) {
  static const char *const parts[] = {"token", "secret", "verifier",
                                      "password"};
  size_t i;

  for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    if (strstr(key, parts[i]) != NULL)
      return 1;
  }
  return 0;
}

/* ABI.md 9.7 lets a plugin store a small JSON document as one secret (the
 * DocuSign plugin keeps {"access_token", "refresh_token", ...} in one).
 * The document as a whole is a known value, but a token copied out of it
 * would not be: add the credential members' values too. Only members named
 * like credentials, so that e.g. a "state" or "scope" text stays readable
 * (the OAuth state must stay intact in a redirect_url). */
static void add_json_members(sam_runtime *rt, const char *v, size_t len) {
  json_tokener *tok;
  json_object *o;

  if (len < 2 || v[0] != '{' || len > 65536)
    return;
  tok = json_tokener_new();
  if (tok == NULL)
    return;
  o = json_tokener_parse_ex(tok, v, (int)len);
  if (o != NULL && json_object_is_type(o, json_type_object)) {
    json_object_object_foreach(o, key, val) {
      const char *s;
      size_t n;

      if (!json_object_is_type(val, json_type_string))
        continue;
      s = json_object_get_string(val);
      n = (size_t)json_object_get_string_len(val);
      if (json_tokener_get_error(tok) == json_tokener_success &&
          credential_key(key) && n >= MIN_SECRET) {
        strset_add(&rt->secrets, s, n);
        add_variants(&rt->secrets, s, n);
      }
      /* json-c's copy held the value too. */
      OPENSSL_cleanse((char *)s, n);
    }
  }
  json_object_put(o);
  json_tokener_free(tok);
}

void sam__redact_add_value(sam_runtime *rt, const char *v, size_t len) {
  if (v == NULL || len < MIN_SECRET)
    return;
  strset_add(&rt->secrets, v, len);
  add_variants(&rt->secrets, v, len);
  add_json_members(rt, v, len);
}

void sam__redact_add_key(sam_runtime *rt, const char *name) {
  if (name != NULL && name[0] != '\0')
    strset_add(&rt->secret_keys, name, strlen(name));
}

/* ---- a growing output buffer ---- */

typedef struct buf {
  char *p;
  size_t n;
  size_t cap;
  int oom;
} buf;

static void put(buf *b, const char *s, size_t len) {
  if (b->oom)
    return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = (b->n + len + 1) * 2;
    char *p = realloc(b->p, cap);

    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

/* ---- matchers ---- */

static int is_word(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int ci_prefix(const char *s, size_t avail, const char *lit) {
  size_t n = strlen(lit);

  return avail >= n && strncasecmp(s, lit, n) == 0;
}

/* Is s[0..] a key name we redact (fixed list, form secrets, or "code" when
 * allow_code)? Returns the name's length or 0. */
static size_t
key_at(sam_runtime *rt, const char *s, size_t avail, int allow_code) {
  size_t i, best = 0;

  for (i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
    size_t n = strlen(secret_keys[i]);

    if (n <= avail && memcmp(s, secret_keys[i], n) == 0 && n > best)
      best = n;
  }
  for (i = 0; rt != NULL && i < rt->secret_keys.n; i++) {
    size_t n = rt->secret_keys.len[i];

    if (n <= avail && memcmp(s, rt->secret_keys.v[i], n) == 0 && n > best)
      best = n;
  }
  if (allow_code && best == 0 && avail >= 4 && memcmp(s, "code", 4) == 0)
    best = 4;
  return best;
}

/* Length of the token after an auth scheme: up to a space, quote, comma or
 * line end. */
static size_t token_len(const char *s, size_t avail) {
  size_t i = 0;

  while (i < avail && s[i] != ' ' && s[i] != '"' && s[i] != ',' &&
         s[i] != '\r' && s[i] != '\n' && s[i] != '\'' && s[i] != '\t')
    i++;
  return i;
}

/* Pass 2: keys and schemes. `in` is NUL-terminated, len bytes. */
static void redact_keys(sam_runtime *rt, const char *in, size_t len, buf *b) {
  size_t i = 0;

  while (i < len) {
    size_t avail = len - i;
    const char *s = in + i;
    size_t n;

    /* Authorization: <anything to the end of the line or quote>. */
    if (ci_prefix(s, avail, "authorization:")) {
      size_t k = 14, e;

      put(b, s, k);
      while (k < avail && s[k] == ' ')
        put(b, " ", 1), k++;
      e = k;
      while (e < avail && s[e] != '\r' && s[e] != '\n' && s[e] != '"')
        e++;
      if (e > k)
        put(b, MASK, strlen(MASK));
      i += e;
      continue;
    }
    if ((i == 0 || !is_word(in[i - 1])) &&
        (ci_prefix(s, avail, "bearer ") || ci_prefix(s, avail, "basic "))) {
      size_t k = s[1] == 'e' || s[1] == 'E' ? 7 : 6;

      put(b, s, k);
      while (k < avail && s[k] == ' ')
        k++;
      n = token_len(s + k, avail - k);
      if (n > 0)
        put(b, MASK, strlen(MASK));
      i += k + n;
      continue;
    }
    /* "key" : value  (JSON). */
    if (s[0] == '"' && (n = key_at(rt, s + 1, avail - 1, 0)) > 0 &&
        n + 1 < avail && s[n + 1] == '"') {
      size_t k = n + 2;

      while (k < avail && (s[k] == ' ' || s[k] == '\t'))
        k++;
      if (k < avail && s[k] == ':') {
        k++;
        while (k < avail && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n'))
          k++;
        put(b, s, k);
        if (k < avail && s[k] == '"') {
          size_t e = k + 1;

          while (e < avail && s[e] != '"') {
            if (s[e] == '\\' && e + 1 < avail)
              e++;
            e++;
          }
          put(b, "\"" MASK "\"", strlen(MASK) + 2);
          i += (e < avail ? e + 1 : e);
        } else {
          size_t e = k;

          while (e < avail && s[e] != ',' && s[e] != '}' && s[e] != ']' &&
                 s[e] != ' ' && s[e] != '\n')
            e++;
          if (e > k)
            put(b, "\"" MASK "\"", strlen(MASK) + 2);
          i += e;
        }
        continue;
      }
    }
    /* key=value  (URL query or form body), also "code". */
    if ((i == 0 || !is_word(in[i - 1])) && (n = key_at(rt, s, avail, 1)) > 0 &&
        n < avail && s[n] == '=') {
      size_t e = n + 1;

      while (e < avail && s[e] != '&' && s[e] != ' ' && s[e] != '"' &&
             s[e] != '#' && s[e] != '\'' && s[e] != '\r' && s[e] != '\n')
        e++;
      put(b, s, n + 1);
      if (e > n + 1)
        put(b, MASK, strlen(MASK));
      i += e;
      continue;
    }
    put(b, s, 1);
    i++;
  }
}

char *sam__redact(sam_runtime *rt, const char *text, size_t len) {
  buf a = {0}, b = {0};
  size_t i, k;

  if (text == NULL)
    return sam__strdup("");
  /* Pass 1: known values. Longest first would be nicer; every occurrence
   * of each value is masked, which is what matters. */
  put(&a, text, len);
  for (k = 0; rt != NULL && k < rt->secrets.n && !a.oom; k++) {
    const char *v = rt->secrets.v[k];
    size_t vl = rt->secrets.len[k];
    buf c = {0};

    if (vl > a.n)
      continue;
    for (i = 0; i < a.n;) {
      if (i + vl <= a.n && memcmp(a.p + i, v, vl) == 0) {
        put(&c, MASK, strlen(MASK));
        i += vl;
      } else {
        put(&c, a.p + i, 1);
        i++;
      }
    }
    if (c.oom) {
      free(c.p);
      a.oom = 1;
      break;
    }
    OPENSSL_cleanse(a.p, a.n);
    free(a.p);
    a = c;
    if (a.p == NULL)
      put(&a, "", 0);
  }
  if (a.oom) {
    if (a.p != NULL)
      OPENSSL_cleanse(a.p, a.n);
    free(a.p);
    return NULL;
  }
  if (a.p == NULL)
    put(&a, "", 0);
  redact_keys(rt, a.p, a.n, &b);
  OPENSSL_cleanse(a.p, a.n);
  free(a.p);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  if (b.p == NULL)
    return sam__strdup("");
  return b.p;
}

char *sam_runtime_redact(sam_runtime *rt, const char *text, size_t len) {
  return sam__redact(rt, text, len);
}

/* ---- log_write ---- */

void sam__api_log_write(
    sam_host *host, sam_job *job, int32_t level, const char *msg, size_t len) {
  sam_host *h = sam__host_check(host);
  const char *job_id = NULL;
  char *red;
  sam_job *j;

  if (h == NULL || msg == NULL)
    return;
  if (level < SAM_LOG_ERROR || level > SAM_LOG_DEBUG)
    level = SAM_LOG_INFO;
  if (job != NULL) {
    j = sam__job_check(job);
    if (j == NULL || j->finished || j->state == SAM__JOB_COMPLETED ||
        j->state == SAM__JOB_TIMEDOUT) {
      sam__violation(h->rt, h->name,
                     "log_write with a dead job [job=%s] [plugin=%s]",
                     j != NULL ? j->id : "?", h->name);
    } else {
      job_id = j->id;
    }
  }
  red = sam__redact(h->rt, msg, len);
  if (red == NULL)
    return;
  sam__log(h->rt, level, h->name, job_id, "[%s] %s", h->name, red);
  free(red);
}
