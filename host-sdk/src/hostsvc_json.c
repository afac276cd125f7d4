/*
 * hostsvc_json.c: helpers of the service layer: store calls through the
 * host handle, JSON and text utilities, URL decoding, and registry look-ups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "hostsvc_int.h"

/* ---- store calls ---- */

#define HANDLE(c) ((c)->as != NULL ? (c)->as : (c)->svc->host)

typedef struct store_op {
  sam__hs_call *c;
  sam__hs_store_fn fn;
} store_op;

static void on_store(int status, const sam_store_result *res, void *ud) {
  store_op *op = ud;
  sam__hs_call *c = op->c;
  sam__hs_store_fn fn = op->fn;

  free(op);
  c->pending--;
  fn(c, status, res);
}

static store_op *op_new(sam__hs_call *c, sam__hs_store_fn fn) {
  store_op *op = malloc(sizeof(*op));

  if (op == NULL)
    return NULL;
  op->c = c;
  op->fn = fn;
  return op;
}

static int op_started(sam__hs_call *c, store_op *op, int rc) {
  if (rc != 0) {
    free(op);
    return rc;
  }
  c->pending++;
  return 0;
}

int sam__hs_get(sam__hs_call *c,
                const char *scope,
                const char *type,
                const char *key,
                sam__hs_store_fn fn) {
  store_op *op = op_new(c, fn);

  if (op == NULL)
    return SAM_ENOMEM;
  return op_started(
      c, op,
      c->svc->api->store_get(HANDLE(c), scope, type, key, on_store, op, NULL));
}

int sam__hs_put(sam__hs_call *c,
                const char *scope,
                const char *type,
                const char *key,
                json_object *rec,
                uint64_t if_version,
                sam__hs_store_fn fn) {
  store_op *op = op_new(c, fn);
  sam_record r;
  const char *text;

  if (op == NULL)
    return SAM_ENOMEM;
  text = sam__hs_text(rec);
  memset(&r, 0, sizeof(r));
  r.struct_size = sizeof(r);
  r.if_version = if_version;
  r.key = key;
  r.json = text;
  r.json_len = strlen(text);
  return op_started(c, op,
                    c->svc->api->store_put_batch(HANDLE(c), scope, type, &r, 1,
                                                 on_store, op, NULL));
}

int sam__hs_query(sam__hs_call *c,
                  const char *scope,
                  const char *type,
                  json_object *filter,
                  const char *cursor,
                  uint32_t limit,
                  sam__hs_store_fn fn) {
  store_op *op = op_new(c, fn);
  const char *ftext = NULL;

  if (op == NULL)
    return SAM_ENOMEM;
  if (filter != NULL && json_object_object_length(filter) > 0)
    ftext = sam__hs_text(filter);
  return op_started(c, op,
                    c->svc->api->store_query(HANDLE(c), scope, type, ftext,
                                             cursor, limit, on_store, op,
                                             NULL));
}

int sam__hs_del(sam__hs_call *c,
                const char *scope,
                const char *type,
                const char *key,
                uint64_t if_version,
                sam__hs_store_fn fn) {
  store_op *op = op_new(c, fn);

  if (op == NULL)
    return SAM_ENOMEM;
  return op_started(c, op,
                    c->svc->api->store_delete(HANDLE(c), scope, type, key,
                                              if_version, on_store, op, NULL));
}

/* ---- JSON and text ---- */

json_object *sam__hs_parse(const char *s, size_t len) {
  json_tokener *tok;
  json_object *o;

  if (s == NULL)
    return NULL;
  tok = json_tokener_new();
  if (tok == NULL)
    return NULL;
  o = json_tokener_parse_ex(tok, s, (int)len);
  if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
                    json_tokener_get_parse_end(tok) != len)) {
    /* Trailing garbage after a complete value is refused too. */
    size_t end = json_tokener_get_parse_end(tok);

    while (end < len && (s[end] == ' ' || s[end] == '\n' || s[end] == '\r' ||
                         s[end] == '\t'))
      end++;
    if (end != len) {
      json_object_put(o);
      o = NULL;
    }
  }
  json_tokener_free(tok);
  return o;
}

const char *sam__hs_text(json_object *o) {
  return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                               JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *sam__hs_str(json_object *o, const char *k) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

void sam__hs_now(char out[32]) {
  time_t t = time(NULL);
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int sam__hs_random_hex(char out[33]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  int i;

  if (RAND_bytes(b, (int)sizeof(b)) != 1)
    return SAM_EIO;
  for (i = 0; i < 16; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[32] = '\0';
  return 0;
}

json_object *sam__hs_copy(json_object *o) {
  json_object *dst = NULL;

  if (o == NULL)
    return NULL;
  if (json_object_deep_copy(o, &dst, NULL) != 0)
    return NULL;
  return dst;
}

char *sam__hs_html_escape(const char *s) {
  size_t n = 0, i;
  char *out, *p;

  for (i = 0; s[i] != '\0'; i++)
    n += strchr("<>&\"'", s[i]) != NULL ? 6 : 1;
  out = malloc(n + 1);
  if (out == NULL)
    return NULL;
  p = out;
  for (i = 0; s[i] != '\0'; i++) {
    const char *r = NULL;

    switch (s[i]) {
    case '<':
      r = "&lt;";
      break;
    case '>':
      r = "&gt;";
      break;
    case '&':
      r = "&amp;";
      break;
    case '"':
      r = "&quot;";
      break;
    case '\'':
      r = "&#39;";
      break;
    default:
      *p++ = s[i];
      continue;
    }
    memcpy(p, r, strlen(r));
    p += strlen(r);
  }
  *p = '\0';
  return out;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

char *sam__hs_url_decode(const char *s, size_t len, int form) {
  char *out = malloc(len + 1);
  size_t i, o = 0;

  if (out == NULL)
    return NULL;
  for (i = 0; i < len; i++) {
    if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
        hexval(s[i + 2]) >= 0) {
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (form && s[i] == '+') {
      out[o++] = ' ';
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

/* 1 when the raw text s[0..n) holds %00, which decodes to a NUL byte. */
static int has_nul_escape(const char *s, size_t n) {
  size_t i;

  for (i = 0; i + 2 < n; i++)
    if (s[i] == '%' && s[i + 1] == '0' && s[i + 2] == '0')
      return 1;
  return 0;
}

json_object *sam__hs_parse_query(const char *q, char *err, size_t err_len) {
  json_object *o = json_object_new_object();
  const char *p = q;

  if (err_len > 0)
    err[0] = '\0';
  if (o == NULL)
    return NULL;
  while (p != NULL && *p != '\0') {
    const char *amp = strchr(p, '&');
    size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    char *k, *v;

    if (n > 0) {
      k = sam__hs_url_decode(p, eq != NULL ? (size_t)(eq - p) : n, 1);
      v = eq != NULL ? sam__hs_url_decode(eq + 1, n - (size_t)(eq + 1 - p), 1)
                     : strdup("");
      if (k == NULL || v == NULL) {
        free(k);
        free(v);
        json_object_put(o);
        return NULL;
      }
      /* One meaning per parameter: a repeated one (which filter would
       * win?) and a NUL byte (which C strings would cut) are refused. */
      if (json_object_object_get_ex(o, k, NULL))
        snprintf(err, err_len, "query parameter [%.100s] given twice", k);
      else if (has_nul_escape(p, n))
        snprintf(err, err_len,
                 "query parameter [%.100s] holds a NUL byte (%%00)", k);
      if (err_len > 0 && err[0] != '\0') {
        free(k);
        free(v);
        json_object_put(o);
        return NULL;
      }
      json_object_object_add(o, k, json_object_new_string(v));
      free(k);
      free(v);
    }
    p = amp != NULL ? amp + 1 : NULL;
  }
  return o;
}

/* ---- registry ---- */

int sam__hs_registry(sam__hs_call *c) {
  char *text = sam_runtime_registry_json(c->svc->rt);

  if (text == NULL)
    return SAM_ENOMEM;
  json_object_put(c->registry);
  c->registry = json_tokener_parse(text);
  free(text);
  return c->registry != NULL ? 0 : SAM_ENOMEM;
}

static json_object *
find_plugin(sam__hs_call *c, const char *type_id, const char *name) {
  json_object *plugins;
  size_t i, n;

  if (c->registry == NULL && sam__hs_registry(c) != 0)
    return NULL;
  if (!json_object_object_get_ex(c->registry, "plugins", &plugins))
    return NULL;
  n = json_object_array_length(plugins);
  for (i = 0; i < n; i++) {
    json_object *p = json_object_array_get_idx(plugins, i);
    json_object *pt = NULL;
    const char *v;

    if (name != NULL) {
      v = sam__hs_str(p, "name");
      if (v != NULL && strcmp(v, name) == 0)
        return p;
      continue;
    }
    json_object_object_get_ex(p, "profile_type", &pt);
    v = sam__hs_str(pt, "type_id");
    if (v != NULL && strcmp(v, type_id) == 0)
      return p;
  }
  return NULL;
}

json_object *sam__hs_plugin_by_type(sam__hs_call *c, const char *type_id) {
  return type_id != NULL ? find_plugin(c, type_id, NULL) : NULL;
}

json_object *sam__hs_plugin_by_name(sam__hs_call *c, const char *name) {
  return name != NULL ? find_plugin(c, NULL, name) : NULL;
}

json_object *
sam__hs_plugin_action(json_object *plugin, const char *id, uint32_t flag) {
  json_object *actions;
  size_t i, n;

  if (plugin == NULL || !json_object_object_get_ex(plugin, "actions", &actions))
    return NULL;
  n = json_object_array_length(actions);
  for (i = 0; i < n; i++) {
    json_object *a = json_object_array_get_idx(actions, i);
    json_object *f;
    const char *aid = sam__hs_str(a, "action_id");

    if (id != NULL) {
      if (aid != NULL && strcmp(aid, id) == 0)
        return a;
      continue;
    }
    if (json_object_object_get_ex(a, "flags", &f) &&
        ((uint32_t)json_object_get_int64(f) & flag) != 0)
      return a;
  }
  return NULL;
}
