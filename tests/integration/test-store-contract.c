/*
 * test-store-contract.c: the store half of ABI.md 9.6 against the core and
 * the in-memory backend: every callback exactly once and never inside the
 * call, if_version conflicts write nothing across the whole batch, SAM_IF_NEW
 * gives SAM_EEXIST, op_cancel gives SAM_ECANCELED or the real status (never
 * both), a full queue gives SAM_EAGAIN, and cursors page through 2,500
 * records exactly once each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam_backend_memory.h"
#include "test-core-common.h"

static int in_call;

typedef struct cb_rec {
  int calls;
  int status;
  size_t n;
  uint64_t version;
  char key[64];
  char json[256];
  char cursor[64];
  int has_cursor;
  char conflict_keys[256];
} cb_rec;

static void on_store(int status, const sam_store_result *res, void *ud) {
  cb_rec *r = ud;
  size_t i;

  EXPECT_EQ_INT(0, in_call); /* never inside the call */
  r->calls++;
  r->status = status;
  r->n = res ? res->n : 0;
  r->has_cursor = res != NULL && res->next_cursor != NULL;
  r->conflict_keys[0] = '\0';
  if (r->has_cursor)
    snprintf(r->cursor, sizeof(r->cursor), "%s", res->next_cursor);
  if (res != NULL && res->n > 0) {
    EXPECT_EQ_INT(sizeof(sam_record), res->recs[0].struct_size);
    r->version = res->recs[0].version;
    snprintf(r->key, sizeof(r->key), "%s", res->recs[0].key);
    if (res->recs[0].json != NULL)
      snprintf(r->json, sizeof(r->json), "%.*s", (int)res->recs[0].json_len,
               res->recs[0].json);
    for (i = 0; i < res->n; i++) {
      size_t used = strlen(r->conflict_keys);

      if (used + strlen(res->recs[i].key) + 2 > sizeof(r->conflict_keys))
        break;
      strcat(r->conflict_keys, res->recs[i].key);
      strcat(r->conflict_keys, ",");
    }
  }
}

static void setup(uv_loop_t *loop, sam_test_host **th, uint32_t qmax) {
  sam_test_host_opts opts;
  char err[256];

  memset(&opts, 0, sizeof(opts));
  opts.store_queue_max = qmax;
  tp_setup(loop, th, &opts);
  EXPECT_EQ_INT(0, tp_load(*th, NULL, 0, err, sizeof(err)));
}

static sam_record rec(const char *key, const char *json, uint64_t if_version) {
  sam_record r;

  memset(&r, 0, sizeof(r));
  r.struct_size = sizeof(r);
  r.key = key;
  r.json = json;
  r.json_len = strlen(json);
  r.if_version = if_version;
  return r;
}

static int put(sam_test_host *th, sam_record *recs, size_t n, cb_rec *out) {
  int rc;

  memset(out, 0, sizeof(*out));
  in_call = 1;
  rc = tp.api->store_put_batch(tp.host, "p1", "tp_item", recs, n, on_store, out,
                               NULL);
  in_call = 0;
  if (rc == 0) {
    EXPECT_EQ_INT(0, out->calls);
    sam_test_host_drain(th);
    EXPECT_EQ_INT(1, out->calls);
  }
  return rc;
}

static int get(sam_test_host *th, const char *key, cb_rec *out) {
  int rc;

  memset(out, 0, sizeof(*out));
  in_call = 1;
  rc = tp.api->store_get(tp.host, "p1", "tp_item", key, on_store, out, NULL);
  in_call = 0;
  EXPECT_EQ_INT(0, rc);
  EXPECT_EQ_INT(0, out->calls);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, out->calls);
  return out->status;
}

static void put_get_delete(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_record r[1];
  cb_rec c;

  setup(&loop, &th, 0);
  r[0] = rec("a", "{\"id\":\"a\",\"status\":\"active\"}", SAM_IF_ANY);
  EXPECT_EQ_INT(0, put(th, r, 1, &c));
  EXPECT_EQ_INT(SAM_OK, c.status);
  EXPECT_EQ_U64(1, c.version);
  EXPECT_EQ_INT(SAM_OK, get(th, "a", &c));
  EXPECT_EQ_STR("a", c.key);
  EXPECT_EQ_STR("{\"id\":\"a\",\"status\":\"active\"}", c.json);
  EXPECT_EQ_U64(1, c.version);
  /* Optimistic concurrency: the second writer of version 1 loses. */
  r[0] = rec("a", "{\"id\":\"a\",\"status\":\"closed\"}", 1);
  EXPECT_EQ_INT(0, put(th, r, 1, &c));
  EXPECT_EQ_INT(SAM_OK, c.status);
  EXPECT_EQ_U64(2, c.version);
  EXPECT_EQ_INT(0, put(th, r, 1, &c));
  EXPECT_EQ_INT(SAM_ECONFLICT, c.status);
  EXPECT_EQ_U64(2, c.version); /* the current version is reported */
  /* delete honours if_version */
  memset(&c, 0, sizeof(c));
  EXPECT_EQ_INT(0, tp.api->store_delete(tp.host, "p1", "tp_item", "a", 1,
                                        on_store, &c, NULL));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, c.calls);
  EXPECT_EQ_INT(SAM_ECONFLICT, c.status);
  memset(&c, 0, sizeof(c));
  EXPECT_EQ_INT(0, tp.api->store_delete(tp.host, "p1", "tp_item", "a", 2,
                                        on_store, &c, NULL));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(SAM_OK, c.status);
  EXPECT_EQ_INT(SAM_ENOENT, get(th, "a", &c));
  memset(&c, 0, sizeof(c));
  EXPECT_EQ_INT(0, tp.api->store_delete(tp.host, "p1", "tp_item", "a", 0,
                                        on_store, &c, NULL));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(SAM_ENOENT, c.status);
  /* trailing whitespace after the document is fine; the key may come from
   * the record's key pointer */
  r[0] = rec(NULL, "{\"id\":\"w\"}\n", SAM_IF_ANY);
  EXPECT_EQ_INT(0, put(th, r, 1, &c));
  EXPECT_EQ_INT(SAM_OK, c.status);
  EXPECT_EQ_STR("w", c.key);
  tp_teardown(&loop, th);
}

static void conflict_writes_nothing(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_record r[3];
  cb_rec c;

  setup(&loop, &th, 0);
  r[0] = rec("a", "{\"id\":\"a\",\"n\":1}", SAM_IF_ANY);
  r[1] = rec("b", "{\"id\":\"b\",\"n\":1}", SAM_IF_ANY);
  EXPECT_EQ_INT(0, put(th, r, 2, &c));
  EXPECT_EQ_INT(SAM_OK, c.status);
  EXPECT_EQ_INT(2, c.n);
  /* a is right, b is stale, c is new: nothing of the batch is written */
  r[0] = rec("a", "{\"id\":\"a\",\"n\":2}", 1);
  r[1] = rec("b", "{\"id\":\"b\",\"n\":2}", 7);
  r[2] = rec("c", "{\"id\":\"c\",\"n\":2}", SAM_IF_NEW);
  EXPECT_EQ_INT(0, put(th, r, 3, &c));
  EXPECT_EQ_INT(SAM_ECONFLICT, c.status);
  EXPECT_EQ_INT(1, c.n);
  EXPECT_EQ_STR("b,", c.conflict_keys);
  EXPECT_EQ_U64(1, c.version);
  EXPECT_EQ_INT(SAM_OK, get(th, "a", &c));
  EXPECT_EQ_STR("{\"id\":\"a\",\"n\":1}", c.json);
  EXPECT_EQ_U64(1, c.version);
  EXPECT_EQ_INT(SAM_ENOENT, get(th, "c", &c));
  /* SAM_IF_NEW on an existing record: SAM_EEXIST, nothing written */
  r[0] = rec("a", "{\"id\":\"a\",\"n\":3}", SAM_IF_NEW);
  r[1] = rec("d", "{\"id\":\"d\",\"n\":3}", SAM_IF_NEW);
  EXPECT_EQ_INT(0, put(th, r, 2, &c));
  EXPECT_EQ_INT(SAM_EEXIST, c.status);
  EXPECT_EQ_INT(SAM_ENOENT, get(th, "d", &c));
  tp_teardown(&loop, th);
}

static void rejected_inputs(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_record r[2];
  sam_record *many;
  cb_rec c;
  size_t i;

  setup(&loop, &th, 0);
  memset(&c, 0, sizeof(c));
  /* schema violation (n must be an integer): rejected, no callback */
  r[0] = rec("a", "{\"id\":\"a\",\"n\":\"x\"}", SAM_IF_ANY);
  EXPECT_EQ_INT(SAM_EINVAL, put(th, r, 1, &c));
  /* not JSON */
  r[0] = rec("a", "{\"id\":", SAM_IF_ANY);
  EXPECT_EQ_INT(SAM_EINVAL, put(th, r, 1, &c));
  /* key differs from the record's /id */
  r[0] = rec("zz", "{\"id\":\"a\"}", SAM_IF_ANY);
  EXPECT_EQ_INT(SAM_EINVAL, put(th, r, 1, &c));
  /* mixed struct_size in one batch */
  r[0] = rec("a", "{\"id\":\"a\"}", SAM_IF_ANY);
  r[1] = rec("b", "{\"id\":\"b\"}", SAM_IF_ANY);
  r[1].struct_size = 8;
  EXPECT_EQ_INT(SAM_EINVAL, put(th, r, 2, &c));
  /* non-zero reserved */
  r[1] = rec("b", "{\"id\":\"b\"}", SAM_IF_ANY);
  r[1].reserved0 = 1;
  EXPECT_EQ_INT(SAM_EINVAL, put(th, r, 2, &c));
  /* unknown record type, another plugin's prefix, unknown host type */
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->store_get(tp.host, "p1", "tp_nope", "a",
                                              on_store, &c, NULL));
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->store_get(tp.host, "p1", "sam_nope", "a",
                                              on_store, &c, NULL));
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->store_get(tp.host, "", "tp_item", "a",
                                              on_store, &c, NULL));
  /* filter on a pointer that is not indexed */
  EXPECT_EQ_INT(SAM_EINVAL,
                tp.api->store_query(tp.host, "p1", "tp_item", "{\"/n\":1}",
                                    NULL, 0, on_store, &c, NULL));
  /* more than SAM_STORE_BATCH_MAX */
  many = calloc(SAM_STORE_BATCH_MAX + 1, sizeof(*many));
  for (i = 0; i <= SAM_STORE_BATCH_MAX; i++)
    many[i] = rec("a", "{\"id\":\"a\"}", SAM_IF_ANY);
  EXPECT_EQ_INT(SAM_EINVAL, put(th, many, SAM_STORE_BATCH_MAX + 1, &c));
  free(many);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(0, c.calls);
  tp_teardown(&loop, th);
}

static void op_cancel_one_outcome(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_record r[1];
  sam_op *op = NULL;
  cb_rec c;

  setup(&loop, &th, 0);
  /* cancelled before the backend ran it: ECANCELED, nothing written */
  memset(&c, 0, sizeof(c));
  r[0] = rec("a", "{\"id\":\"a\"}", SAM_IF_ANY);
  EXPECT_EQ_INT(0, tp.api->store_put_batch(tp.host, "p1", "tp_item", r, 1,
                                           on_store, &c, &op));
  EXPECT_TRUE(op != NULL);
  EXPECT_EQ_INT(0, tp.api->op_cancel(op));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, c.calls);
  EXPECT_EQ_INT(SAM_ECANCELED, c.status);
  EXPECT_EQ_INT(SAM_ENOENT, get(th, "a", &c));
  /* cancelled after the backend ran it (one loop turn later): the real
   * status, or ECANCELED; exactly one callback either way */
  memset(&c, 0, sizeof(c));
  EXPECT_EQ_INT(0, tp.api->store_put_batch(tp.host, "p1", "tp_item", r, 1,
                                           on_store, &c, &op));
  uv_run(&loop, UV_RUN_NOWAIT);
  if (c.calls == 0)
    EXPECT_EQ_INT(0, tp.api->op_cancel(op));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, c.calls);
  EXPECT_TRUE(c.status == SAM_OK || c.status == SAM_ECANCELED);
  tp_teardown(&loop, th);
}

static void full_queue_eagain(void) {
  uv_loop_t loop;
  sam_test_host *th;
  cb_rec c[5];
  int i;

  setup(&loop, &th, 4);
  memset(c, 0, sizeof(c));
  for (i = 0; i < 4; i++)
    EXPECT_EQ_INT(0, tp.api->store_get(tp.host, "p1", "tp_item", "k", on_store,
                                       &c[i], NULL));
  EXPECT_EQ_INT(SAM_EAGAIN, tp.api->store_get(tp.host, "p1", "tp_item", "k",
                                              on_store, &c[4], NULL));
  sam_test_host_drain(th);
  for (i = 0; i < 4; i++) {
    EXPECT_EQ_INT(1, c[i].calls);
    EXPECT_EQ_INT(SAM_ENOENT, c[i].status);
  }
  EXPECT_EQ_INT(0, c[4].calls);
  /* room again once the callbacks arrived */
  EXPECT_EQ_INT(0, tp.api->store_get(tp.host, "p1", "tp_item", "k", on_store,
                                     &c[4], NULL));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, c[4].calls);
  tp_teardown(&loop, th);
}

/* ---- paging ---- */

#define N_PAGED 2500

static unsigned char seen[N_PAGED];
static int page_calls;
static size_t page_n;
static char page_cursor[64];
static int page_more;

static void on_page(int status, const sam_store_result *res, void *ud) {
  size_t i;

  (void)ud;
  EXPECT_EQ_INT(0, in_call);
  EXPECT_EQ_INT(SAM_OK, status);
  page_calls++;
  page_n = res->n;
  page_more = res->next_cursor != NULL;
  if (page_more)
    snprintf(page_cursor, sizeof(page_cursor), "%s", res->next_cursor);
  for (i = 0; i < res->n; i++) {
    int k = atoi(res->recs[i].key + 1);

    EXPECT_TRUE(k >= 0 && k < N_PAGED);
    seen[k]++;
  }
}

static size_t page_all(sam_test_host *th, const char *filter, uint32_t limit) {
  size_t total = 0;
  int first = 1;

  memset(seen, 0, sizeof(seen));
  while (first || page_more) {
    page_calls = 0;
    in_call = 1;
    EXPECT_EQ_INT(0, tp.api->store_query(tp.host, "p1", "tp_item", filter,
                                         first ? NULL : page_cursor, limit,
                                         on_page, NULL, NULL));
    in_call = 0;
    sam_test_host_drain(th);
    EXPECT_EQ_INT(1, page_calls);
    total += page_n;
    first = 0;
  }
  return total;
}

static void cursors_page_exactly_once(void) {
  uv_loop_t loop;
  sam_test_host *th;
  static sam_record r[500];
  static char keys[500][16], docs[500][96];
  cb_rec c;
  size_t b, i;

  setup(&loop, &th, 0);
  for (b = 0; b < N_PAGED / 500; b++) {
    for (i = 0; i < 500; i++) {
      size_t k = b * 500 + i;

      snprintf(keys[i], sizeof(keys[i]), "u%zu", k);
      snprintf(docs[i], sizeof(docs[i]),
               "{\"id\":\"u%zu\",\"status\":\"%s\",\"n\":%zu}", k,
               k % 2 ? "odd" : "even", k);
      r[i] = rec(keys[i], docs[i], SAM_IF_ANY);
    }
    EXPECT_EQ_INT(0, put(th, r, 500, &c));
    EXPECT_EQ_INT(SAM_OK, c.status);
  }
  EXPECT_EQ_INT(N_PAGED, sam__backend_memory_count(sam_test_host_backend(th),
                                                   "p1", "tp_item"));
  EXPECT_EQ_INT(N_PAGED, page_all(th, NULL, 100));
  for (i = 0; i < N_PAGED; i++)
    EXPECT_EQ_INT(1, seen[i]);
  EXPECT_EQ_INT(N_PAGED, page_all(th, NULL, 0)); /* host default limit */
  EXPECT_EQ_INT(N_PAGED / 2, page_all(th, "{\"/status\":\"odd\"}", 333));
  for (i = 0; i < N_PAGED; i++)
    EXPECT_EQ_INT(i % 2, seen[i]);
  EXPECT_EQ_INT(0, page_all(th, "{\"/status\":\"none\"}", 10));
  /* a page that ends exactly at the end has no cursor */
  EXPECT_EQ_INT(N_PAGED, page_all(th, NULL, 500));
  EXPECT_EQ_INT(0, page_more);
  tp_teardown(&loop, th);
}

/* ---- host-owned record types ---- */

static void host_owned_types(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_record_type_desc d;
  sam_record r[1];
  char err[256];
  cb_rec c;

  setup(&loop, &th, 0);
  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.record_type = "sam_note";
  d.schema_json = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
                  "\"string\"}}}";
  d.key_pointer = "/id";
  EXPECT_EQ_INT(0, sam_runtime_register_record_type(sam_test_host_runtime(th),
                                                    &d, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EEXIST,
                sam_runtime_register_record_type(sam_test_host_runtime(th), &d,
                                                 err, sizeof(err)));
  d.record_type = "notes";
  EXPECT_EQ_INT(SAM_EINVAL,
                sam_runtime_register_record_type(sam_test_host_runtime(th), &d,
                                                 err, sizeof(err)));
  r[0] = rec("x", "{\"id\":\"x\"}", SAM_IF_ANY);
  memset(&c, 0, sizeof(c));
  EXPECT_EQ_INT(0, tp.api->store_put_batch(tp.host, "p1", "sam_note", r, 1,
                                           on_store, &c, NULL));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(SAM_OK, c.status);
  EXPECT_CONTAINS(sam_test_host_registry_json(th), "\"sam_note\"");
  tp_teardown(&loop, th);
}

/* ---- a burst of finished ops spreads over loop turns ---- */

static int slow_order[8];
static int n_slow;

/* A callback that costs 3 ms, more than the core's 1 ms budget a turn. */
static void on_slow(int status, const sam_store_result *res, void *ud) {
  uint64_t t0 = uv_hrtime();

  (void)res;
  EXPECT_EQ_INT(SAM_OK, status);
  slow_order[n_slow++] = (int)(intptr_t)ud;
  while (uv_hrtime() - t0 < 3000000u)
    ;
}

static void burst_spread_over_turns(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_record r[1];
  cb_rec c;
  int i;

  setup(&loop, &th, 0);
  r[0] = rec("a", "{\"id\":\"a\"}", SAM_IF_ANY);
  EXPECT_EQ_INT(0, put(th, r, 1, &c));
  n_slow = 0;
  for (i = 0; i < 5; i++)
    EXPECT_EQ_INT(0, tp.api->store_get(tp.host, "p1", "tp_item", "a", on_slow,
                                       (void *)(intptr_t)i, NULL));
  /* the first turn that calls back stops after one: the others wait for
   * the next turns, so timers and sockets are served in between */
  while (n_slow == 0)
    uv_run(&loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, n_slow);
  sam_test_host_drain(th);
  EXPECT_EQ_INT(5, n_slow);
  for (i = 0; i < 5; i++)
    EXPECT_EQ_INT(i, slow_order[i]); /* in order */
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(put_get_delete);
  SAM_T_RUN(conflict_writes_nothing);
  SAM_T_RUN(rejected_inputs);
  SAM_T_RUN(op_cancel_one_outcome);
  SAM_T_RUN(full_queue_eagain);
  SAM_T_RUN(cursors_page_exactly_once);
  SAM_T_RUN(host_owned_types);
  SAM_T_RUN(burst_spread_over_turns);
  return 0;
}
