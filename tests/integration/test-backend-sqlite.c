/*
 * test-backend-sqlite.c: the store semantics of the SQLite backend
 * (host-sdk/src/backend_sqlite*.c): get, put_batch atomicity and
 * if_version, query filters and cursors, delete, secrets' blobs, the queue
 * bound, cancellation, exactly-once completion and close draining.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-backend-sqlite-common.h"

static uv_loop_t loop;
static char dir[512];
static char db_path[600];

#define P "profile-1"
#define RT "sam_subscription"

static const char *const idx_active[] = {"/status=active", "/team=blue", NULL};

/* Puts one record unconditionally; returns its new version. */
static uint64_t put1(sam__backend *b,
                     const char *key,
                     const char *json,
                     uint64_t if_version,
                     const char *const *index) {
  t_req *t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  uint64_t v;

  t_add(t, key, json, if_version, index);
  EXPECT_EQ_INT(0, t_run(b, t));
  EXPECT_EQ_INT(1, (long long)t->req.out_n);
  EXPECT_EQ_STR(key, t->req.out_recs[0].key);
  v = t->req.out_recs[0].version;
  t_free(t);
  return v;
}

/* Gets a record: returns status; copies json into buf when found. */
static int get1(sam__backend *b,
                const char *key,
                uint64_t *version,
                char *buf,
                size_t len) {
  t_req *t = t_new(SAM__REQ_GET, P, RT, key);
  int rc = t_run(b, t);

  if (rc == 0) {
    EXPECT_EQ_INT(1, (long long)t->req.out_n);
    EXPECT_EQ_STR(key, t->req.out_recs[0].key);
    EXPECT_EQ_INT(strlen(t->req.out_recs[0].json),
                  (long long)t->req.out_recs[0].json_len);
    *version = t->req.out_recs[0].version;
    snprintf(buf, len, "%s", t->req.out_recs[0].json);
  } else {
    EXPECT_EQ_INT(0, (long long)t->req.out_n);
  }
  t_free(t);
  return rc;
}

/* Counts all records matching the filter (pairs of pointer, value), paging
 * with `limit`; checks keys are strictly increasing. */
static size_t count_query(sam__backend *b,
                          uint32_t limit,
                          const char *const *terms,
                          size_t *pages) {
  char *cursor = NULL;
  char last[256] = "";
  size_t total = 0;
  size_t i;

  *pages = 0;
  do {
    t_req *t = t_new(SAM__REQ_QUERY, P, RT, NULL);
    t->req.limit = limit;
    t->req.cursor = cursor;
    for (i = 0; terms != NULL && terms[i] != NULL; i += 2)
      t_term(t, terms[i], terms[i + 1]);
    EXPECT_EQ_INT(0, t_run(b, t));
    EXPECT_TRUE(t->req.out_n <= limit);
    for (i = 0; i < t->req.out_n; i++) {
      EXPECT_TRUE(strcmp(last, t->req.out_recs[i].key) < 0);
      snprintf(last, sizeof(last), "%s", t->req.out_recs[i].key);
      EXPECT_TRUE(t->req.out_recs[i].json != NULL);
      EXPECT_TRUE(t->req.out_recs[i].version >= 1);
    }
    if (t->req.next_cursor != NULL)
      EXPECT_EQ_INT(limit, (long long)t->req.out_n);
    total += t->req.out_n;
    (*pages)++;
    cursor = t->req.next_cursor; /* moves into the next request */
    t->req.next_cursor = NULL;
    t_free(t);
  } while (cursor != NULL);
  return total;
}

static void test_open_close_empty(void) {
  sam__backend b;

  t_open(&loop, ":memory:", 0, &b);
  t_close(&loop, &b);
  t_open(&loop, db_path, 0, &b);
  t_close(&loop, &b);
  /* reopen: the migrations are already applied */
  t_open(&loop, db_path, 0, &b);
  t_close(&loop, &b);
}

static void test_put_get_versions(void) {
  sam__backend b;
  char json[256];
  uint64_t v = 0;

  t_open(&loop, db_path, 0, &b);
  EXPECT_EQ_INT(SAM_ENOENT, get1(&b, "u1", &v, json, sizeof(json)));
  EXPECT_EQ_U64(1, put1(&b, "u1", "{\"a\":1}", SAM_IF_NEW, idx_active));
  EXPECT_EQ_INT(0, get1(&b, "u1", &v, json, sizeof(json)));
  EXPECT_EQ_U64(1, v);
  EXPECT_EQ_STR("{\"a\":1}", json);
  EXPECT_EQ_U64(2, put1(&b, "u1", "{\"a\":2}", SAM_IF_ANY, idx_active));
  EXPECT_EQ_U64(3, put1(&b, "u1", "{\"a\":3}", 2, idx_active));
  EXPECT_EQ_INT(0, get1(&b, "u1", &v, json, sizeof(json)));
  EXPECT_EQ_U64(3, v);
  EXPECT_EQ_STR("{\"a\":3}", json);
  /* another profile and another type are other records */
  {
    t_req *t = t_new(SAM__REQ_GET, "profile-2", RT, "u1");
    EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, t));
    t_free(t);
    t = t_new(SAM__REQ_GET, P, "sam_model", "u1");
    EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, t));
    t_free(t);
  }
  t_close(&loop, &b);
  /* persisted across a reopen */
  t_open(&loop, db_path, 0, &b);
  EXPECT_EQ_INT(0, get1(&b, "u1", &v, json, sizeof(json)));
  EXPECT_EQ_U64(3, v);
  t_close(&loop, &b);
}

static void test_conflicts_write_nothing(void) {
  sam__backend b;
  char json[256];
  uint64_t v = 0;
  t_req *t;

  t_open(&loop, db_path, 0, &b);
  EXPECT_EQ_U64(1, put1(&b, "c1", "{\"v\":1}", SAM_IF_NEW, NULL));
  EXPECT_EQ_U64(1, put1(&b, "c2", "{\"v\":1}", SAM_IF_NEW, NULL));
  EXPECT_EQ_U64(2, put1(&b, "c2", "{\"v\":2}", SAM_IF_ANY, NULL));

  /* expected versions: c1 right, c2 wrong, c3 expected but missing */
  t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  t_add(t, "c1", "{\"v\":\"new\"}", 1, NULL);
  t_add(t, "c2", "{\"v\":\"new\"}", 1, NULL);
  t_add(t, "c3", "{\"v\":\"new\"}", 5, NULL);
  t_add(t, "c4", "{\"v\":\"new\"}", SAM_IF_ANY, NULL);
  EXPECT_EQ_INT(SAM_ECONFLICT, t_run(&b, t));
  EXPECT_EQ_INT(2, (long long)t->req.out_n);
  EXPECT_EQ_STR("c2", t->req.out_recs[0].key);
  EXPECT_EQ_U64(2, t->req.out_recs[0].version);
  EXPECT_EQ_STR("c3", t->req.out_recs[1].key);
  EXPECT_EQ_U64(0, t->req.out_recs[1].version);
  EXPECT_TRUE(t->req.errmsg[0] != '\0');
  t_free(t);
  /* nothing was written */
  EXPECT_EQ_INT(0, get1(&b, "c1", &v, json, sizeof(json)));
  EXPECT_EQ_U64(1, v);
  EXPECT_EQ_STR("{\"v\":1}", json);
  EXPECT_EQ_INT(SAM_ENOENT, get1(&b, "c4", &v, json, sizeof(json)));

  /* SAM_IF_NEW on an existing record */
  t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  t_add(t, "c5", "{}", SAM_IF_NEW, NULL);
  t_add(t, "c1", "{}", SAM_IF_NEW, NULL);
  EXPECT_EQ_INT(SAM_EEXIST, t_run(&b, t));
  EXPECT_EQ_INT(1, (long long)t->req.out_n);
  EXPECT_EQ_STR("c1", t->req.out_recs[0].key);
  EXPECT_EQ_U64(1, t->req.out_recs[0].version);
  t_free(t);
  EXPECT_EQ_INT(SAM_ENOENT, get1(&b, "c5", &v, json, sizeof(json)));

  /* a successful batch returns every key with its new version */
  t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  t_add(t, "c1", "{\"v\":2}", 1, NULL);
  t_add(t, "c2", "{\"v\":3}", 2, NULL);
  t_add(t, "c5", "{\"v\":1}", SAM_IF_NEW, NULL);
  EXPECT_EQ_INT(0, t_run(&b, t));
  EXPECT_EQ_INT(3, (long long)t->req.out_n);
  EXPECT_EQ_STR("c1", t->req.out_recs[0].key);
  EXPECT_EQ_U64(2, t->req.out_recs[0].version);
  EXPECT_EQ_STR("c2", t->req.out_recs[1].key);
  EXPECT_EQ_U64(3, t->req.out_recs[1].version);
  EXPECT_EQ_STR("c5", t->req.out_recs[2].key);
  EXPECT_EQ_U64(1, t->req.out_recs[2].version);
  t_free(t);
  /* two writers that both read version 2 of c1: the second conflicts */
  EXPECT_EQ_U64(3, put1(&b, "c1", "{\"w\":1}", 2, NULL));
  t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  t_add(t, "c1", "{\"w\":2}", 2, NULL);
  EXPECT_EQ_INT(SAM_ECONFLICT, t_run(&b, t));
  EXPECT_EQ_U64(3, t->req.out_recs[0].version);
  t_free(t);
  t_close(&loop, &b);
}

static void test_batch_1000_one_transaction(void) {
  sam__backend b;
  t_req *t;
  size_t pages = 0;
  char key[32];
  char json[64];
  int i;

  t_open(&loop, ":memory:", 0, &b);
  t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  for (i = 0; i < 1000; i++) {
    snprintf(key, sizeof(key), "k%05d", i);
    snprintf(json, sizeof(json), "{\"i\":%d}", i);
    t_add(t, key, json, SAM_IF_NEW, NULL);
  }
  EXPECT_EQ_INT(0, t_run(&b, t));
  EXPECT_EQ_INT(1000, (long long)t->req.out_n);
  t_free(t);
  EXPECT_EQ_INT(1000, (long long)count_query(&b, 1000, NULL, &pages));
  EXPECT_EQ_INT(1, (long long)pages);
  /* the same 1000 plus one existing IF_NEW record: none written */
  t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  for (i = 1000; i < 2000; i++) {
    snprintf(key, sizeof(key), "k%05d", i);
    t_add(t, key, "{}", SAM_IF_NEW, NULL);
  }
  t_add(t, "k00007", "{}", SAM_IF_NEW, NULL);
  EXPECT_EQ_INT(SAM_EEXIST, t_run(&b, t));
  t_free(t);
  EXPECT_EQ_INT(1000, (long long)count_query(&b, 1000, NULL, &pages));
  t_close(&loop, &b);
}

static void test_query_paging_and_filters(void) {
  const char *const f_blue[] = {"/team", "blue", NULL};
  const char *const f_active_blue[] = {"/status", "active", "/team", "blue",
                                       NULL};
  const char *const f_none[] = {"/status", "gone", NULL};
  const char *const f_three[] = {"/status", "active", "/team", "blue",
                                 "/n",      "7",      NULL};
  sam__backend b;
  size_t pages = 0;
  char key[32];
  char idx[3][64];
  int i;

  t_open(&loop, ":memory:", 0, &b);
  for (i = 0; i < 2500; i += 500) {
    t_req *t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
    int j;
    for (j = i; j < i + 500; j++) {
      const char *index[4] = {idx[0], idx[1], idx[2], NULL};
      snprintf(key, sizeof(key), "user-%05d", j);
      snprintf(idx[0], sizeof(idx[0]), "/status=%s",
               j % 2 ? "active" : "inactive");
      snprintf(idx[1], sizeof(idx[1]), "/team=%s", j % 5 ? "red" : "blue");
      snprintf(idx[2], sizeof(idx[2]), "/n=%d", j % 10);
      t_add(t, key, "{}", SAM_IF_ANY, index);
    }
    EXPECT_EQ_INT(0, t_run(&b, t));
    t_free(t);
  }
  /* another record type and profile must not leak into the results */
  {
    t_req *t = t_new(SAM__REQ_PUT_BATCH, "profile-2", RT, NULL);
    t_add(t, "user-00000", "{}", SAM_IF_ANY, idx_active);
    EXPECT_EQ_INT(0, t_run(&b, t));
    t_free(t);
  }
  EXPECT_EQ_INT(2500, (long long)count_query(&b, 1000, NULL, &pages));
  EXPECT_EQ_INT(3, (long long)pages);
  EXPECT_EQ_INT(2500, (long long)count_query(&b, 7, NULL, &pages));
  EXPECT_EQ_INT(358, (long long)pages);
  /* exactly divisible: the last full page has no cursor or an empty next */
  EXPECT_EQ_INT(2500, (long long)count_query(&b, 500, NULL, &pages));
  EXPECT_EQ_INT(5, (long long)pages);
  EXPECT_EQ_INT(500, (long long)count_query(&b, 1000, f_blue, &pages));
  EXPECT_EQ_INT(500, (long long)count_query(&b, 33, f_blue, &pages));
  /* blue = multiples of 5, active = odd: odd multiples of 5 */
  EXPECT_EQ_INT(250, (long long)count_query(&b, 100, f_active_blue, &pages));
  EXPECT_EQ_INT(0, (long long)count_query(&b, 100, f_none, &pages));
  EXPECT_EQ_INT(1, (long long)pages);
  /* n=7 is never a multiple of 5 */
  EXPECT_EQ_INT(0, (long long)count_query(&b, 100, f_three, &pages));
  t_close(&loop, &b);
}

static void test_cursors(void) {
  sam__backend b;
  t_req *t;
  t_req *u;
  char *cursor;
  int i;

  t_open(&loop, db_path, 0, &b);
  t = t_new(SAM__REQ_PUT_BATCH, P, "cur", NULL);
  for (i = 0; i < 10; i++) {
    char key[32];
    snprintf(key, sizeof(key), "k%d", i * 2); /* k0 k10 k12 .. k2 k4 .. */
    t_add(t, key, "{}", SAM_IF_ANY, idx_active);
  }
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  t = t_new(SAM__REQ_QUERY, P, "cur", NULL);
  t->req.limit = 3;
  EXPECT_EQ_INT(0, t_run(&b, t));
  EXPECT_EQ_INT(3, (long long)t->req.out_n);
  EXPECT_EQ_STR("k0", t->req.out_recs[0].key);
  EXPECT_EQ_STR("k10", t->req.out_recs[1].key);
  EXPECT_EQ_STR("k12", t->req.out_recs[2].key);
  EXPECT_TRUE(t->req.next_cursor != NULL);
  cursor = strdup(t->req.next_cursor);
  t_free(t);

  /* the cursor survives writes and a restart (keyset paging) */
  t = t_new(SAM__REQ_PUT_BATCH, P, "cur", NULL);
  t_add(t, "k11", "{}", SAM_IF_ANY, NULL); /* before the cursor */
  t_add(t, "k13", "{}", SAM_IF_ANY, NULL); /* after it */
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  t_close(&loop, &b);
  t_open(&loop, db_path, 0, &b);
  t = t_new(SAM__REQ_QUERY, P, "cur", NULL);
  t->req.limit = 3;
  t->req.cursor = strdup(cursor);
  EXPECT_EQ_INT(0, t_run(&b, t));
  EXPECT_EQ_INT(3, (long long)t->req.out_n);
  EXPECT_EQ_STR("k13", t->req.out_recs[0].key);
  EXPECT_EQ_STR("k14", t->req.out_recs[1].key);
  EXPECT_EQ_STR("k16", t->req.out_recs[2].key);
  t_free(t);

  /* a cursor of another query (other type, or with a filter) is refused */
  u = t_new(SAM__REQ_QUERY, P, "other", NULL);
  u->req.cursor = strdup(cursor);
  EXPECT_EQ_INT(SAM_EINVAL, t_run(&b, u));
  EXPECT_EQ_INT(0, (long long)u->req.out_n);
  t_free(u);
  u = t_new(SAM__REQ_QUERY, P, "cur", NULL);
  t_term(u, "/team", "blue");
  u->req.cursor = strdup(cursor);
  EXPECT_EQ_INT(SAM_EINVAL, t_run(&b, u));
  t_free(u);
  /* the same filter with its terms in another order is the same query */
  {
    t_req *q = t_new(SAM__REQ_QUERY, P, "cur", NULL);
    t_term(q, "/status", "active");
    t_term(q, "/team", "blue");
    q->req.limit = 2;
    EXPECT_EQ_INT(0, t_run(&b, q));
    EXPECT_TRUE(q->req.next_cursor != NULL);
    u = t_new(SAM__REQ_QUERY, P, "cur", NULL);
    t_term(u, "/team", "blue");
    t_term(u, "/status", "active");
    u->req.limit = 2;
    u->req.cursor = strdup(q->req.next_cursor);
    EXPECT_EQ_INT(0, t_run(&b, u));
    EXPECT_EQ_INT(2, (long long)u->req.out_n);
    EXPECT_EQ_STR("k12", u->req.out_recs[0].key);
    t_free(u);
    /* a different value is another query */
    u = t_new(SAM__REQ_QUERY, P, "cur", NULL);
    t_term(u, "/team", "red");
    t_term(u, "/status", "active");
    u->req.cursor = strdup(q->req.next_cursor);
    EXPECT_EQ_INT(SAM_EINVAL, t_run(&b, u));
    t_free(u);
    t_free(q);
  }
  /* mangled cursors */
  {
    const char *bad[] = {"",
                         "x",
                         "k1.",
                         "k1.6b.00000000",
                         "k1.zz.12345678",
                         "k1.0.12345678",
                         "k1.0000.12345678"};
    size_t k;
    for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
      u = t_new(SAM__REQ_QUERY, P, "cur", NULL);
      u->req.cursor = strdup(bad[k]);
      if (bad[k][0] == '\0') {
        EXPECT_EQ_INT(0, t_run(&b, u)); /* "" is the first page */
      } else {
        EXPECT_EQ_INT(SAM_EINVAL, t_run(&b, u));
      }
      t_free(u);
    }
    /* flip one character of a good cursor */
    for (k = 0; k < strlen(cursor); k++) {
      u = t_new(SAM__REQ_QUERY, P, "cur", NULL);
      u->req.cursor = strdup(cursor);
      u->req.cursor[k] = u->req.cursor[k] == '1' ? '2' : '1';
      EXPECT_EQ_INT(SAM_EINVAL, t_run(&b, u));
      t_free(u);
    }
  }
  free(cursor);
  t_close(&loop, &b);
}

static void test_index_rewrite_and_delete(void) {
  const char *const f_blue[] = {"/team", "blue", NULL};
  const char *const f_red[] = {"/team", "red", NULL};
  const char *const idx_red[] = {"/team=red", NULL};
  const char *const idx_lacks[] = {"/team", NULL};
  sam__backend b;
  size_t pages;
  char json[64];
  uint64_t v = 0;
  t_req *t;

  t_open(&loop, ":memory:", 0, &b);
  EXPECT_EQ_U64(1, put1(&b, "d1", "{}", SAM_IF_ANY, idx_active));
  EXPECT_EQ_U64(1, put1(&b, "d2", "{}", SAM_IF_ANY, idx_active));
  EXPECT_EQ_INT(2, (long long)count_query(&b, 10, f_blue, &pages));
  /* a rewrite with the same index values keeps them */
  EXPECT_EQ_U64(2, put1(&b, "d1", "{\"same\":1}", SAM_IF_ANY, idx_active));
  EXPECT_EQ_INT(2, (long long)count_query(&b, 10, f_blue, &pages));
  /* d1 moves to red; d2 loses the field */
  EXPECT_EQ_U64(3, put1(&b, "d1", "{}", SAM_IF_ANY, idx_red));
  EXPECT_EQ_U64(2, put1(&b, "d2", "{}", SAM_IF_ANY, idx_lacks));
  EXPECT_EQ_INT(0, (long long)count_query(&b, 10, f_blue, &pages));
  EXPECT_EQ_INT(1, (long long)count_query(&b, 10, f_red, &pages));

  /* delete: wrong version conflicts and reports the current one */
  t = t_new(SAM__REQ_DELETE, P, RT, "d1");
  t->req.if_version = 2;
  EXPECT_EQ_INT(SAM_ECONFLICT, t_run(&b, t));
  EXPECT_EQ_INT(1, (long long)t->req.out_n);
  EXPECT_EQ_STR("d1", t->req.out_recs[0].key);
  EXPECT_EQ_U64(3, t->req.out_recs[0].version);
  t_free(t);
  EXPECT_EQ_INT(0, get1(&b, "d1", &v, json, sizeof(json)));
  t = t_new(SAM__REQ_DELETE, P, RT, "d1");
  t->req.if_version = 3;
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  EXPECT_EQ_INT(SAM_ENOENT, get1(&b, "d1", &v, json, sizeof(json)));
  EXPECT_EQ_INT(0, (long long)count_query(&b, 10, f_red, &pages));
  t = t_new(SAM__REQ_DELETE, P, RT, "d1");
  EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, t));
  t_free(t);
  t = t_new(SAM__REQ_DELETE, P, RT, "d2");
  EXPECT_EQ_INT(0, t_run(&b, t)); /* SAM_IF_ANY */
  t_free(t);
  t = t_new(SAM__REQ_DELETE, P, RT, "d2");
  t->req.if_version = SAM_IF_NEW;
  EXPECT_EQ_INT(SAM_EINVAL, t_run(&b, t));
  t_free(t);
  /* a re-created record starts again at version 1 */
  EXPECT_EQ_U64(1, put1(&b, "d1", "{}", SAM_IF_NEW, idx_red));
  EXPECT_EQ_INT(1, (long long)count_query(&b, 10, f_red, &pages));
  t_close(&loop, &b);
}

static void test_blobs(void) {
  sam__backend b;
  t_req *t;

  t_open(&loop, ":memory:", 0, &b);
  t = t_new(SAM__REQ_BLOB_GET, P, "client_secret", NULL);
  EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, t));
  t_free(t);
  t = t_new(SAM__REQ_BLOB_PUT, P, "client_secret", NULL);
  t->req.blob = malloc(5);
  memcpy(t->req.blob, "a\0b\0c", 5);
  t->req.blob_len = 5;
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  t = t_new(SAM__REQ_BLOB_GET, P, "client_secret", NULL);
  EXPECT_EQ_INT(0, t_run(&b, t));
  EXPECT_EQ_INT(5, (long long)t->req.out_blob_len);
  EXPECT_TRUE(memcmp(t->req.out_blob, "a\0b\0c", 5) == 0);
  t_free(t);
  t = t_new(SAM__REQ_BLOB_GET, "profile-2", "client_secret", NULL);
  EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, t));
  t_free(t);
  t = t_new(SAM__REQ_BLOB_DELETE, P, "client_secret", NULL);
  EXPECT_EQ_INT(0, t_run(&b, t));
  t_free(t);
  t = t_new(SAM__REQ_BLOB_DELETE, P, "client_secret", NULL);
  EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, t));
  t_free(t);
  t_close(&loop, &b);
}

static void test_queue_bound_and_cancel(void) {
  sam__backend b;
  t_req *held;
  t_req *queued[4];
  t_req *extra;
  char json[16];
  uint64_t v;
  int i;

  t_open(&loop, ":memory:", 4, &b);
  t_gate_close();
  held = t_new(SAM__REQ_GET, P, RT, "x");
  EXPECT_EQ_INT(0, b.vt->submit(b.self, &held->req));
  t_gate_wait_entered(1); /* the worker holds `held`: the ring is empty */
  for (i = 0; i < 4; i++) {
    queued[i] = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
    t_add(queued[i], "q", "{}", SAM_IF_ANY, NULL);
    queued[i]->cancel = i == 1; /* cancelled before it starts */
    EXPECT_EQ_INT(0, b.vt->submit(b.self, &queued[i]->req));
  }
  extra = t_new(SAM__REQ_GET, P, RT, "x");
  EXPECT_EQ_INT(SAM_EAGAIN, b.vt->submit(b.self, &extra->req));
  t_gate_open();
  t_wait(held);
  EXPECT_EQ_INT(SAM_ENOENT, held->req.status);
  for (i = 0; i < 4; i++) {
    t_wait(queued[i]);
    EXPECT_EQ_INT(1, queued[i]->began);
    EXPECT_EQ_INT(i == 1 ? SAM_ECANCELED : 0, queued[i]->req.status);
    if (i == 1)
      EXPECT_EQ_INT(0, (long long)queued[i]->req.out_n);
  }
  /* three writes happened, the cancelled one did not */
  EXPECT_EQ_INT(0, get1(&b, "q", &v, json, sizeof(json)));
  EXPECT_EQ_U64(3, v);
  /* room again */
  EXPECT_EQ_INT(SAM_ENOENT, t_run(&b, extra));
  EXPECT_EQ_INT(1, extra->done);
  t_free(extra);
  for (i = 0; i < 4; i++)
    t_free(queued[i]);
  t_free(held);
  t_close(&loop, &b);
}

/* Batches queued together commit together, each still all or nothing: a
 * conflicting batch between two good ones changes nothing of its own and
 * does not stop the others. */
static void test_group_commit(void) {
  sam__backend b;
  t_req *held;
  t_req *batch[3];
  char json[64];
  uint64_t v;
  int i;

  t_open(&loop, ":memory:", 0, &b);
  EXPECT_EQ_U64(1, put1(&b, "g-shared", "{\"v\":0}", SAM_IF_ANY, NULL));
  t_gate_close();
  held = t_new(SAM__REQ_GET, P, RT, "g-shared");
  EXPECT_EQ_INT(0, b.vt->submit(b.self, &held->req));
  t_gate_wait_entered(1); /* the worker holds `held` */
  for (i = 0; i < 3; i++) {
    char key[32];
    batch[i] = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
    snprintf(key, sizeof(key), "g-own-%d", i);
    t_add(batch[i], key, "{}", SAM_IF_NEW, idx_active);
    /* every batch also writes the shared record, the middle one with a
     * stale version; all three wait in the queue, so they run as a group */
    t_add(batch[i], "g-shared", "{\"v\":1}", i == 1 ? 7 : SAM_IF_ANY, NULL);
    EXPECT_EQ_INT(0, b.vt->submit(b.self, &batch[i]->req));
  }
  t_gate_open();
  t_wait(held);
  for (i = 0; i < 3; i++)
    t_wait(batch[i]);
  EXPECT_EQ_INT(0, batch[0]->req.status);
  EXPECT_EQ_INT(SAM_ECONFLICT, batch[1]->req.status);
  EXPECT_EQ_INT(1, (long long)batch[1]->req.out_n);
  EXPECT_EQ_STR("g-shared", batch[1]->req.out_recs[0].key);
  /* it sees the first batch's write of the same transaction */
  EXPECT_EQ_U64(2, batch[1]->req.out_recs[0].version);
  EXPECT_EQ_INT(0, batch[2]->req.status);
  EXPECT_EQ_U64(3, batch[2]->req.out_recs[1].version);
  EXPECT_EQ_INT(0, get1(&b, "g-own-0", &v, json, sizeof(json)));
  EXPECT_EQ_INT(SAM_ENOENT, get1(&b, "g-own-1", &v, json, sizeof(json)));
  EXPECT_EQ_INT(0, get1(&b, "g-own-2", &v, json, sizeof(json)));
  EXPECT_EQ_INT(0, get1(&b, "g-shared", &v, json, sizeof(json)));
  EXPECT_EQ_U64(3, v);
  {
    const char *const f_blue[] = {"/team", "blue", NULL};
    size_t pages;
    EXPECT_EQ_INT(2, (long long)count_query(&b, 10, f_blue, &pages));
  }
  for (i = 0; i < 3; i++)
    t_free(batch[i]);
  t_free(held);
  t_close(&loop, &b);
}

static void on_closed_flag(void *ud) {
  *(int *)ud = 1;
}

static void test_close_drains(void) {
  enum { N = 50 };
  sam__backend b;
  t_req *reqs[N];
  int closed = 0;
  int i;

  t_open(&loop, db_path, 0, &b);
  for (i = 0; i < N; i++) {
    char key[32];
    snprintf(key, sizeof(key), "drain-%02d", i);
    reqs[i] = t_new(SAM__REQ_PUT_BATCH, P, "drain", NULL);
    t_add(reqs[i], key, "{}", SAM_IF_ANY, NULL);
    EXPECT_EQ_INT(0, b.vt->submit(b.self, &reqs[i]->req));
  }
  b.vt->close(b.self, on_closed_flag, &closed);
  EXPECT_EQ_INT(0, closed); /* never inside the call */
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  /* every request finished before done; a straggling wake-up may still be
   * queued for the harness' async, so drain it */
  uv_run(&loop, UV_RUN_NOWAIT);
  for (i = 0; i < N; i++) {
    EXPECT_EQ_INT(1, reqs[i]->done);
    EXPECT_EQ_INT(0, reqs[i]->req.status);
    t_free(reqs[i]);
  }
  /* all of them are on disk */
  t_open(&loop, db_path, 0, &b);
  {
    t_req *t = t_new(SAM__REQ_QUERY, P, "drain", NULL);
    EXPECT_EQ_INT(0, t_run(&b, t));
    EXPECT_EQ_INT(N, (long long)t->req.out_n);
    t_free(t);
  }
  t_close(&loop, &b);
}

static void count_handle(uv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}

static int loop_handles(void) {
  int n = 0;

  uv_walk(&loop, count_handle, &n);
  return n;
}

static void test_open_errors(void) {
  sam__backend b;
  sam__sqlite_opts opts;
  char path[700];
  char err[512];
  FILE *f;
  sqlite3 *db;
  int handles = loop_handles();

  memset(&opts, 0, sizeof(opts));
  /* a directory that does not exist */
  snprintf(path, sizeof(path), "%s/missing/db.sqlite", dir);
  EXPECT_EQ_INT(SAM_EIO, sam__backend_sqlite_open(&loop, path, &opts, &b, err,
                                                  sizeof(err)));
  EXPECT_CONTAINS(err, path);
  /* the worker that tried the open is gone, and left nothing on the loop
   * (the caller may close the loop without running it) */
  EXPECT_EQ_INT(handles, loop_handles());
  /* garbage in the file */
  snprintf(path, sizeof(path), "%s/garbage.sqlite", dir);
  f = fopen(path, "w");
  EXPECT_TRUE(f != NULL);
  for (int i = 0; i < 200; i++)
    fputs("this is not an sqlite database ", f);
  fclose(f);
  EXPECT_EQ_INT(SAM_EIO, sam__backend_sqlite_open(&loop, path, &opts, &b, err,
                                                  sizeof(err)));
  EXPECT_CONTAINS(err, path);
  /* a database from a newer samhost */
  snprintf(path, sizeof(path), "%s/newer.sqlite", dir);
  t_open(&loop, path, 0, &b);
  t_close(&loop, &b);
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(path, &db));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_exec(db,
                                        "INSERT INTO schema_version VALUES "
                                        "(999, 0, 'from the future')",
                                        NULL, NULL, NULL));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
  EXPECT_EQ_INT(SAM_EVERSION, sam__backend_sqlite_open(&loop, path, &opts, &b,
                                                       err, sizeof(err)));
  EXPECT_CONTAINS(err, "[999]");
  EXPECT_EQ_INT(handles, loop_handles());
  /* the schema is at the latest version, WAL is on */
  snprintf(path, sizeof(path), "%s/fresh.sqlite", dir);
  t_open(&loop, path, 0, &b);
  t_close(&loop, &b);
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(path, &db));
  {
    sqlite3_stmt *st;
    EXPECT_EQ_INT(SQLITE_OK,
                  sqlite3_prepare_v2(db,
                                     "SELECT MAX(version), COUNT(*) FROM "
                                     "schema_version",
                                     -1, &st, NULL));
    EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
    EXPECT_EQ_INT(sam__backend_sqlite_schema_version(),
                  sqlite3_column_int(st, 0));
    EXPECT_EQ_INT(sam__backend_sqlite_schema_version(),
                  sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    EXPECT_EQ_INT(SQLITE_OK,
                  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL));
    EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
    EXPECT_EQ_STR("wal", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
}

static void test_files_private(void) {
  sam__backend b;
  struct stat st;
  char wal[700];

  t_open(&loop, db_path, 0, &b);
  EXPECT_EQ_U64(1, put1(&b, "private", "{}", SAM_IF_ANY, NULL));
  EXPECT_EQ_INT(0, stat(db_path, &st));
  EXPECT_EQ_INT(0, st.st_mode & 077);
  snprintf(wal, sizeof(wal), "%s-wal", db_path);
  EXPECT_EQ_INT(0, stat(wal, &st));
  EXPECT_EQ_INT(0, st.st_mode & 077);
  t_close(&loop, &b);
}

/* A database left at version 1 by an older samhost is brought to the
 * latest version, in order, keeping its records. */
static void test_migrates_old_database(void) {
  sam__backend b;
  sqlite3 *db;
  sqlite3_stmt *st;
  char path[700];
  char json[64];
  uint64_t v = 0;

  snprintf(path, sizeof(path), "%s/old.sqlite", dir);
  t_open(&loop, path, 0, &b);
  t_close(&loop, &b);
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(path, &db));
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_exec(db,
                             "DROP TABLE audit_log; DROP TABLE usage_events;"
                             " DELETE FROM schema_version WHERE version >= 2;"
                             " INSERT INTO records (profile_id, record_type,"
                             " key, version, schema_version, json, updated_at)"
                             " VALUES ('" P "', '" RT "', 'old', 4, 1,"
                             " '{\"old\":true}', 0)",
                             NULL, NULL, NULL));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
  t_open(&loop, path, 0, &b);
  EXPECT_EQ_INT(0, get1(&b, "old", &v, json, sizeof(json)));
  EXPECT_EQ_U64(4, v);
  EXPECT_EQ_STR("{\"old\":true}", json);
  t_close(&loop, &b);
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_open(path, &db));
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_prepare_v2(db,
                                   "SELECT group_concat(version) FROM"
                                   " (SELECT version FROM schema_version"
                                   " ORDER BY version)",
                                   -1, &st, NULL));
  EXPECT_EQ_INT(SQLITE_ROW, sqlite3_step(st));
  EXPECT_EQ_STR("1,2", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  EXPECT_EQ_INT(SQLITE_OK,
                sqlite3_exec(db, "SELECT * FROM audit_log", NULL, NULL, NULL));
  EXPECT_EQ_INT(SQLITE_OK, sqlite3_close(db));
}

int main(void) {
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  t_init(&loop);
  t_tmpdir(dir, sizeof(dir), "test-backend-sqlite");
  snprintf(db_path, sizeof(db_path), "%s/store.sqlite", dir);

  SAM_T_RUN(test_open_close_empty);
  SAM_T_RUN(test_put_get_versions);
  SAM_T_RUN(test_conflicts_write_nothing);
  SAM_T_RUN(test_batch_1000_one_transaction);
  SAM_T_RUN(test_query_paging_and_filters);
  SAM_T_RUN(test_cursors);
  SAM_T_RUN(test_index_rewrite_and_delete);
  SAM_T_RUN(test_blobs);
  SAM_T_RUN(test_queue_bound_and_cancel);
  SAM_T_RUN(test_group_commit);
  SAM_T_RUN(test_close_drains);
  SAM_T_RUN(test_open_errors);
  SAM_T_RUN(test_files_private);
  SAM_T_RUN(test_migrates_old_database);

  t_fini();
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  t_rmdir(dir);
  return 0;
}
