/*
 * bench-store.c: rows per second of the SQLite store backend's put_batch
 * and query, next to a raw-SQLite baseline measured in the same run.
 *
 *   bench-store [--rows N] [--dir DIR]
 *
 * Store: N records of about 400 bytes of JSON with 3 index values each,
 * written with put_batch in batches of 500 (4 batches in flight, as a
 * plugin with backpressure would), then read back by paging through all of
 * them (limit 1000, cursor paging), then through one filter term.
 * Baseline: the same rows through one prepared INSERT, one transaction per
 * 500 rows, into a table with only its primary key; then a plain SELECT
 * scan. Both databases use WAL, synchronous=NORMAL and a 64 MiB page
 * cache, in the same directory.
 *
 * The backend runs on its worker thread as in the reference host; the
 * host core's completion path (sam__req_begin/sam__req_done) is replaced
 * by a minimal equivalent (a mutex-protected list and a uv_async_t), so the
 * numbers are the backend's plus one loop wake-up per request. Timings
 * include everything from the first submit to the last completion.
 * There are no thresholds: the numbers are printed, not judged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_backend.h"
#include "sam_backend_sqlite.h"

#define BATCH 500
#define INFLIGHT 4
#define PAGE 1000

typedef struct breq {
  sam__req req;
  int done;
  struct breq *next;
} breq;

static uv_loop_t loop;
static uv_async_t done_async;
static uv_mutex_t done_mu;
static breq *done_head;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench-store: %s [%s]\n", what, detail ? detail : "");
  exit(1);
}

/* ---- the core's completion path, minimal ---- */

int sam__req_begin(sam__req *req) {
  (void)req;
  return 1;
}

void sam__req_done(sam__req *req) {
  breq *b = req->core_private;

  uv_mutex_lock(&done_mu);
  b->next = done_head;
  done_head = b;
  uv_mutex_unlock(&done_mu);
  if (uv_async_send(&done_async) != 0)
    die("uv_async_send failed", NULL);
}

static void on_done(uv_async_t *h) {
  breq *list;

  (void)h;
  uv_mutex_lock(&done_mu);
  list = done_head;
  done_head = NULL;
  uv_mutex_unlock(&done_mu);
  while (list != NULL) {
    list->done = 1;
    list = list->next;
  }
}

/* ---- data ---- */

typedef struct dataset {
  size_t n;
  char **keys;
  char **json;
  char (*idx)[3][32];
} dataset;

static const char *const statuses[] = {"Active", "ActivationSent", "Closed",
                                       "Disabled"};
static const char *const licenses[] = {"Professional", "Standard",
                                       "Business Pro", "Enterprise"};

/* Keys look like DocuSign user ids (GUIDs), so inserts arrive in random
 * key order, as they do from a real account. */
static void make_dataset(dataset *d, size_t n) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  size_t i;

  d->n = n;
  d->keys = calloc(n, sizeof(char *));
  d->json = calloc(n, sizeof(char *));
  d->idx = calloc(n, sizeof(*d->idx));
  if (d->keys == NULL || d->json == NULL || d->idx == NULL)
    die("out of memory", NULL);
  for (i = 0; i < n; i++) {
    char key[40];
    char json[1024];
    uint64_t a;
    uint64_t b;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    a = x;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = x;
    snprintf(key, sizeof(key),
             "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64
             "-%012" PRIx64,
             a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
             b & (uint64_t)0xffffffffffffull);
    snprintf(d->idx[i][0], 32, "%s", statuses[i % 4]);
    snprintf(d->idx[i][1], 32, "%s", licenses[(i / 4) % 4]);
    snprintf(d->idx[i][2], 32, "group-%zu", i % 50);
    snprintf(json, sizeof(json),
             "{\"external_user_id\":\"%s\",\"user_principal_name\":"
             "\"user%zu@example.com\",\"display_name\":\"User Number %zu\","
             "\"status\":\"%s\",\"license\":\"%s\",\"group\":\"%s\","
             "\"permission_profile\":\"DocuSign Sender\",\"is_admin\":false,"
             "\"assigned\":\"2024-03-01T12:00:00Z\",\"first_seen\":"
             "\"2024-03-02\",\"active\":true,\"attributes\":{\"userName\":"
             "\"User Number %zu\",\"licenseStatus\":\"active\"}}",
             key, i, i, d->idx[i][0], d->idx[i][1], d->idx[i][2], i);
    d->keys[i] = strdup(key);
    d->json[i] = strdup(json);
    if (d->keys[i] == NULL || d->json[i] == NULL)
      die("out of memory", NULL);
  }
}

static void free_dataset(dataset *d) {
  size_t i;

  for (i = 0; i < d->n; i++) {
    free(d->keys[i]);
    free(d->json[i]);
  }
  free(d->keys);
  free(d->json);
  free(d->idx);
}

/* ---- store ---- */

static const char *const pointers[3] = {"/status", "/license", "/group"};

static breq *make_batch(const dataset *d, size_t from, size_t n) {
  breq *b = calloc(1, sizeof(*b));
  size_t i;

  if (b == NULL)
    die("out of memory", NULL);
  b->req.kind = SAM__REQ_PUT_BATCH;
  b->req.profile_id = "bench";
  b->req.record_type = "sam_subscription";
  b->req.recs = calloc(n, sizeof(sam__req_record));
  b->req.n = n;
  b->req.core_private = b;
  if (b->req.recs == NULL)
    die("out of memory", NULL);
  for (i = 0; i < n; i++) {
    sam__req_record *r = &b->req.recs[i];
    int k;
    r->key = d->keys[from + i];
    r->json = d->json[from + i];
    r->json_len = strlen(r->json);
    r->if_version = SAM_IF_ANY;
    r->schema_version = 1;
    r->n_index = 3;
    r->index = calloc(3, sizeof(sam__index_value));
    if (r->index == NULL)
      die("out of memory", NULL);
    for (k = 0; k < 3; k++) {
      r->index[k].pointer = pointers[k];
      r->index[k].value = d->idx[from + i][k];
    }
  }
  return b;
}

static void free_outputs(sam__req *r) {
  size_t i;

  for (i = 0; i < r->out_n; i++) {
    free((char *)r->out_recs[i].key);
    free((char *)r->out_recs[i].json);
  }
  free(r->out_recs);
  r->out_recs = NULL;
  r->out_n = 0;
  free(r->next_cursor);
  r->next_cursor = NULL;
}

static void free_batch(breq *b) {
  size_t i;

  for (i = 0; i < b->req.n; i++)
    free(b->req.recs[i].index);
  free(b->req.recs);
  free_outputs(&b->req);
  free(b);
}

static void submit(sam__backend *be, breq *b) {
  int rc = be->vt->submit(be->self, &b->req);

  if (rc != 0)
    die("submit failed", sam_err_name(rc));
}

static void wait_done(breq *b) {
  while (!b->done)
    uv_run(&loop, UV_RUN_ONCE);
  if (b->req.status != 0)
    die("request failed", b->req.errmsg);
}

static double store_put(sam__backend *be, const dataset *d) {
  size_t nb = (d->n + BATCH - 1) / BATCH;
  breq **batches = calloc(nb, sizeof(breq *));
  uint64_t t0;
  uint64_t t1;
  size_t next = 0;
  size_t i;

  if (batches == NULL)
    die("out of memory", NULL);
  for (i = 0; i < nb; i++) {
    size_t from = i * BATCH;
    size_t n = d->n - from < BATCH ? d->n - from : BATCH;
    batches[i] = make_batch(d, from, n);
  }
  t0 = uv_hrtime();
  /* at most INFLIGHT batches queued: the next goes when one completes */
  for (; next < nb && next < INFLIGHT; next++)
    submit(be, batches[next]);
  for (i = 0; i < nb; i++) {
    wait_done(batches[i]);
    if (next < nb)
      submit(be, batches[next++]);
  }
  t1 = uv_hrtime();
  for (i = 0; i < nb; i++)
    free_batch(batches[i]);
  free(batches);
  return (double)d->n / ((double)(t1 - t0) / 1e9);
}

/* Pages through everything (optionally one filter term); returns rows/s
 * and the row count in *rows. */
static double store_query(sam__backend *be,
                          const char *pointer,
                          const char *value,
                          size_t *rows) {
  sam__filter_term term;
  char *cursor = NULL;
  uint64_t t0 = uv_hrtime();
  uint64_t t1;

  *rows = 0;
  term.pointer = (char *)pointer;
  term.value = (char *)value;
  do {
    breq b;
    size_t i;
    memset(&b, 0, sizeof(b));
    b.req.kind = SAM__REQ_QUERY;
    b.req.profile_id = "bench";
    b.req.record_type = "sam_subscription";
    b.req.limit = PAGE;
    b.req.cursor = cursor;
    b.req.core_private = &b;
    if (pointer != NULL) {
      b.req.terms = &term;
      b.req.n_terms = 1;
    }
    submit(be, &b);
    wait_done(&b);
    for (i = 0; i < b.req.out_n; i++)
      if (b.req.out_recs[i].json_len == 0)
        die("empty record", b.req.out_recs[i].key);
    *rows += b.req.out_n;
    free(cursor);
    cursor = b.req.next_cursor;
    b.req.next_cursor = NULL;
    free_outputs(&b.req);
  } while (cursor != NULL);
  t1 = uv_hrtime();
  return (double)*rows / ((double)(t1 - t0) / 1e9);
}

static void on_closed(void *ud) {
  *(int *)ud = 1;
}

/* ---- raw SQLite baseline ---- */

static void raw_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;

  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    die(sql, msg);
}

static double raw_put(sqlite3 *db, const dataset *d) {
  sqlite3_stmt *st = NULL;
  uint64_t t0;
  uint64_t t1;
  size_t i;

  raw_exec(db, "CREATE TABLE records (key TEXT PRIMARY KEY, json TEXT)");
  if (sqlite3_prepare_v2(db, "INSERT INTO records (key, json) VALUES (?, ?)",
                         -1, &st, NULL) != SQLITE_OK)
    die("prepare", sqlite3_errmsg(db));
  t0 = uv_hrtime();
  for (i = 0; i < d->n; i++) {
    if (i % BATCH == 0)
      raw_exec(db, "BEGIN");
    if (sqlite3_bind_text(st, 1, d->keys[i], -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, d->json[i], -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
      die("insert", sqlite3_errmsg(db));
    sqlite3_reset(st);
    if (i % BATCH == BATCH - 1 || i == d->n - 1)
      raw_exec(db, "COMMIT");
  }
  t1 = uv_hrtime();
  sqlite3_finalize(st);
  return (double)d->n / ((double)(t1 - t0) / 1e9);
}

static double raw_scan(sqlite3 *db, size_t *rows) {
  sqlite3_stmt *st = NULL;
  uint64_t t0;
  uint64_t t1;
  size_t bytes = 0;
  int rc;

  *rows = 0;
  if (sqlite3_prepare_v2(db, "SELECT key, json FROM records", -1, &st, NULL) !=
      SQLITE_OK)
    die("prepare", sqlite3_errmsg(db));
  t0 = uv_hrtime();
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    bytes += (size_t)sqlite3_column_bytes(st, 1);
    (*rows)++;
  }
  t1 = uv_hrtime();
  if (rc != SQLITE_DONE || bytes == 0)
    die("scan", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return (double)*rows / ((double)(t1 - t0) / 1e9);
}

/* ---- main ---- */

static void rm_db(const char *path) {
  char p[1100];

  snprintf(p, sizeof(p), "%s-wal", path);
  (void)unlink(p); /* may not exist */
  snprintf(p, sizeof(p), "%s-shm", path);
  (void)unlink(p);
  (void)unlink(path);
}

int main(int argc, char **argv) {
  const char *base = getenv("TMPDIR");
  size_t rows = 100000;
  char dir[1024] = "";
  char store_path[1060];
  char raw_path[1060];
  int own_dir = 1;
  sam__backend be;
  sqlite3 *db = NULL;
  dataset d;
  char err[512];
  double s_put, s_query, s_filter, r_put, r_scan;
  size_t q_rows = 0;
  size_t f_rows = 0;
  size_t r_rows = 0;
  int closed = 0;
  int i;
  int rc;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
      rows = (size_t)strtoull(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      snprintf(dir, sizeof(dir), "%s", argv[++i]);
      own_dir = 0;
    } else {
      fprintf(stderr, "usage: bench-store [--rows N] [--dir DIR]\n");
      return 2;
    }
  }
  if (rows == 0)
    rows = 1;
  if (own_dir) {
    snprintf(dir, sizeof(dir), "%s/bench-store-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
      die("mkdtemp failed", dir);
  }
  snprintf(store_path, sizeof(store_path), "%s/store.sqlite", dir);
  snprintf(raw_path, sizeof(raw_path), "%s/raw.sqlite", dir);
  rm_db(store_path);
  rm_db(raw_path);

  make_dataset(&d, rows);
  if (uv_loop_init(&loop) != 0 || uv_mutex_init(&done_mu) != 0 ||
      uv_async_init(&loop, &done_async, on_done) != 0)
    die("libuv setup failed", NULL);

  rc = sam__backend_sqlite_open(&loop, store_path, NULL, &be, err, sizeof(err));
  if (rc != 0)
    die("open failed", err);
  s_put = store_put(&be, &d);
  s_query = store_query(&be, NULL, NULL, &q_rows);
  s_filter = store_query(&be, "/license", "Standard", &f_rows);
  be.vt->close(be.self, on_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&done_async, NULL);
  if (uv_run(&loop, UV_RUN_DEFAULT) != 0 || uv_loop_close(&loop) != 0)
    die("the loop did not close empty", NULL);
  if (q_rows != rows)
    die("query returned the wrong number of rows", NULL);

  if (sqlite3_open(raw_path, &db) != SQLITE_OK)
    die("raw open", raw_path);
  raw_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               " PRAGMA cache_size=-65536");
  r_put = raw_put(db, &d);
  r_scan = raw_scan(db, &r_rows);
  sqlite3_close(db);
  if (r_rows != rows)
    die("raw scan returned the wrong number of rows", NULL);

  printf("bench-store: %zu records, ~%zu bytes of JSON each, 3 index values, "
         "batches of %d, pages of %d, sqlite %s\n",
         rows, strlen(d.json[0]), BATCH, PAGE, sqlite3_libversion());
  printf("store put_batch: %.0f rows/s; raw sqlite baseline: %.0f rows/s; "
         "ratio %.2f\n",
         s_put, r_put, s_put / r_put);
  printf("store query: %.0f rows/s; raw sqlite baseline: %.0f rows/s; "
         "ratio %.2f\n",
         s_query, r_scan, s_query / r_scan);
  printf("store query with one filter term: %.0f rows/s (%zu rows); raw "
         "sqlite baseline (full scan): %.0f rows/s; ratio %.2f\n",
         s_filter, f_rows, r_scan, s_filter / r_scan);

  free_dataset(&d);
  rm_db(store_path);
  rm_db(raw_path);
  if (own_dir)
    (void)rmdir(dir);
  return 0;
}
