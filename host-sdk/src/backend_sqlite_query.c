/*
 * backend_sqlite_query.c: QUERY requests of the SQLite backend: equality
 * filters on indexed pointers, keyset paging in key order, and the opaque
 * cursors. Executed by the backend's worker thread.
 *
 * A cursor is "k1." + hex(last key) + "." + an 8-hex checksum of the key
 * and the query (profile, record type, filter terms as a set), so it stays
 * valid as long as the query is the same (indefinitely: keyset paging
 * needs no server state), and a cursor of another query or a mangled one
 * is refused with SAM_EINVAL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "backend_sqlite_int.h"
#include "sam/sam_plugin.h"

static uint32_t fnv_add(uint32_t h, const char *s, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  h ^= 0xff; /* separator, so ("ab","c") differs from ("a","bc") */
  h *= 16777619u;
  return h;
}

static uint32_t
cursor_sum(const sam__req *req, const char *key, size_t key_len) {
  uint32_t h = 2166136261u;
  uint32_t terms = 0;
  size_t i;

  h = fnv_add(h, "samcursor1", 10);
  h = fnv_add(h, req->profile_id, strlen(req->profile_id));
  h = fnv_add(h, req->record_type, strlen(req->record_type));
  /* the terms are a set: summed, so their order does not matter */
  for (i = 0; i < req->n_terms; i++) {
    uint32_t t = 2166136261u;
    t = fnv_add(t, req->terms[i].pointer, strlen(req->terms[i].pointer));
    t = fnv_add(t, req->terms[i].value, strlen(req->terms[i].value));
    terms += t;
  }
  h ^= terms;
  h *= 16777619u;
  return fnv_add(h, key, key_len);
}

static char *cursor_encode(const sam__req *req, const char *key) {
  static const char hex[] = "0123456789abcdef";
  size_t n = strlen(key);
  char *s = malloc(3 + 2 * n + 1 + 8 + 1);
  size_t i;
  size_t o = 0;

  if (s == NULL)
    return NULL;
  memcpy(s, "k1.", 3);
  o = 3;
  for (i = 0; i < n; i++) {
    s[o++] = hex[(unsigned char)key[i] >> 4];
    s[o++] = hex[(unsigned char)key[i] & 15];
  }
  snprintf(s + o, 10, ".%08x", (unsigned)cursor_sum(req, key, n));
  return s;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  return -1;
}

/* Decodes a cursor into a malloc'd key; SAM_EINVAL when it is not one of
 * this query's cursors. */
static int cursor_decode(const sam__req *req, const char *cur, char **key) {
  size_t len = strlen(cur);
  size_t hex_len;
  char *k = NULL;
  char sum[9];
  size_t i;

  *key = NULL;
  if (len < 3 + 1 + 8 || memcmp(cur, "k1.", 3) != 0 || cur[len - 9] != '.')
    return SAM_EINVAL;
  hex_len = len - 3 - 9;
  if (hex_len % 2 != 0)
    return SAM_EINVAL;
  k = malloc(hex_len / 2 + 1);
  if (k == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < hex_len / 2; i++) {
    int hi = hexval(cur[3 + 2 * i]);
    int lo = hexval(cur[3 + 2 * i + 1]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      free(k);
      return SAM_EINVAL;
    }
    k[i] = (char)(hi << 4 | lo);
  }
  k[hex_len / 2] = '\0';
  snprintf(sum, sizeof(sum), "%08x", (unsigned)cursor_sum(req, k, hex_len / 2));
  if (memcmp(sum, cur + len - 8, 8) != 0) {
    free(k);
    return SAM_EINVAL;
  }
  *key = k;
  return 0;
}

/*
 * The query for n filter terms. Without terms it walks the records' primary
 * key; with terms it walks record_index's primary key (profile, type,
 * pointer, value, key) for the first term in key order and checks the
 * others with point lookups in the same b-tree (intersection).
 * Parameters: ?1 profile, ?2 record type, ?3 last key ("" first), ?4 limit,
 * then pointer/value pairs from ?5.
 */
static char *query_sql(size_t n_terms) {
  size_t cap = 512 + n_terms * 256;
  char *s = malloc(cap);
  size_t o;
  size_t i;

  if (s == NULL)
    return NULL;
  if (n_terms == 0) {
    snprintf(s, cap,
             "SELECT key, version, json FROM records WHERE profile_id = ?1"
             " AND record_type = ?2 AND key > ?3 ORDER BY key LIMIT ?4");
    return s;
  }
  o = (size_t)snprintf(s, cap,
                       "SELECT r.key, r.version, r.json FROM record_index i0"
                       " JOIN records r ON r.profile_id = i0.profile_id AND"
                       " r.record_type = i0.record_type AND r.key = i0.key"
                       " WHERE i0.profile_id = ?1 AND i0.record_type = ?2 AND"
                       " i0.pointer = ?5 AND i0.value = ?6 AND i0.key > ?3");
  for (i = 1; i < n_terms; i++)
    o += (size_t)snprintf(
        s + o, cap - o,
        " AND EXISTS (SELECT 1 FROM record_index i%zu WHERE"
        " i%zu.profile_id = ?1 AND i%zu.record_type = ?2 AND"
        " i%zu.pointer = ?%zu AND i%zu.value = ?%zu AND i%zu.key = i0.key)",
        i, i, i, i, 5 + 2 * i, i, 6 + 2 * i, i);
  snprintf(s + o, cap - o, " ORDER BY i0.key LIMIT ?4");
  return s;
}

static int query_stmt(sam__sq_conn *c,
                      size_t n_terms,
                      sqlite3_stmt **out,
                      int *transient) {
  char *sql;
  int rc;

  *transient = n_terms > SAM__SQ_QUERY_CACHE;
  if (!*transient && c->query[n_terms] != NULL) {
    *out = c->query[n_terms];
    sqlite3_reset(*out);
    sqlite3_clear_bindings(*out);
    return SQLITE_OK;
  }
  sql = query_sql(n_terms);
  if (sql == NULL)
    return SQLITE_NOMEM;
  rc = sqlite3_prepare_v3(
      c->db, sql, -1, *transient ? 0 : SQLITE_PREPARE_PERSISTENT, out, NULL);
  free(sql);
  if (rc == SQLITE_OK && !*transient)
    c->query[n_terms] = *out;
  return rc;
}

/*
 * Executes a QUERY request on the worker thread: one page in key order,
 * limit + 1 rows read to know whether a next page exists. Returns the
 * status; outputs are filled only on success.
 */
int sam__sq_query(sam__sq_conn *c, sam__req *req) {
  sqlite3_stmt *st = NULL;
  char *after = NULL;
  uint32_t limit = req->limit > 0 ? req->limit : 1;
  int transient = 0;
  int status = 0;
  size_t i;
  int rc;

  if (req->cursor != NULL && req->cursor[0] != '\0') {
    status = cursor_decode(req, req->cursor, &after);
    if (status != 0) {
      sam__sq_msg(req->errmsg, sizeof(req->errmsg),
                  "cursor is malformed or belongs to another query");
      return status;
    }
  }
  rc = query_stmt(c, req->n_terms, &st, &transient);
  if (rc != SQLITE_OK) {
    status =
        sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "query prep");
    goto done;
  }
  rc = sam__sq_bind_prk(st, req->profile_id, req->record_type,
                        after != NULL ? after : "");
  /* one row more than the page tells whether there is a next page */
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(st, 4, (int64_t)limit + 1);
  for (i = 0; rc == SQLITE_OK && i < req->n_terms; i++) {
    rc = sam__sq_bind_text(st, (int)(5 + 2 * i), req->terms[i].pointer);
    if (rc == SQLITE_OK)
      rc = sam__sq_bind_text(st, (int)(6 + 2 * i), req->terms[i].value);
  }
  if (rc != SQLITE_OK) {
    status =
        sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "query bind");
    goto done;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *key = (const char *)sqlite3_column_text(st, 0);
    if (req->out_n == limit) {
      req->next_cursor = cursor_encode(req, req->out_recs[limit - 1].key);
      if (req->next_cursor == NULL)
        status = SAM_ENOMEM;
      break;
    }
    status = sam__sq_out_push(req, limit, key != NULL ? key : "",
                              (uint64_t)sqlite3_column_int64(st, 1),
                              sqlite3_column_text(st, 2),
                              (size_t)sqlite3_column_bytes(st, 2), 1);
    if (status != 0)
      break;
  }
  if (status == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
    status = sam__sq_fail(c, rc, req->errmsg, sizeof(req->errmsg), "query");

done:
  if (transient)
    sqlite3_finalize(st);
  else if (st != NULL)
    sqlite3_reset(st);
  free(after);
  if (status != 0)
    sam__sq_out_clear(req);
  return status;
}
