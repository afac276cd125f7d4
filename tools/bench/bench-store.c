/*
 * bench-store.c: rows per second of the store's put_batch and query, as a
 * plugin sees them (the host API table of the real host core over the
 * SQLite backend), next to a raw-SQLite baseline measured in the same run.
 *
 *   bench-store [--rows N] [--dir DIR]
 *
 * Store: an in-bench plugin registers a record type with 3 indexed
 * pointers (no SAM_RECORD_VALIDATE_WRITES: the production path) and writes
 * N records of about 400 bytes of JSON with store_put_batch in batches of
 * 500, 4 batches in flight (a plugin with backpressure), then pages through
 * all of them with store_query (limit 1000, cursors), then through one
 * filter term. A second put_batch pass rewrites every record with the same
 * index values (a daily re-download), against INSERT OR REPLACE. The core
 * copies every record, parses its JSON to check the key and extract the index
 * values, and delivers each callback on the loop; the backend's worker thread
 * does the SQL. Baseline: the same rows through one prepared INSERT, one
 * transaction per 500 rows, into a table with only its primary key; then a
 * plain SELECT scan. Both databases use WAL, synchronous=NORMAL and a 64 MiB
 * page cache, in the same directory. There are no thresholds: the numbers are
 * printed, not judged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_backend_sqlite.h"
#include "sam_core.h"
#include "sam_seal.h"

#define BATCH 500
#define INFLIGHT 4
#define PAGE 1000

static uv_loop_t loop;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench-store: %s [%s]\n", what, detail ? detail : "");
  exit(1);
}

/* ---- data ---- */

typedef struct dataset {
  size_t n;
  char **keys;
  char **json;
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
  if (d->keys == NULL || d->json == NULL)
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
    snprintf(json, sizeof(json),
             "{\"external_user_id\":\"%s\",\"user_principal_name\":"
             "\"user%zu@example.com\",\"display_name\":\"User Number %zu\","
             "\"status\":\"%s\",\"license\":\"%s\",\"group\":\"group-%zu\","
             "\"permission_profile\":\"DocuSign Sender\",\"is_admin\":false,"
             "\"assigned\":\"2024-03-01T12:00:00Z\",\"first_seen\":"
             "\"2024-03-02\",\"active\":true,\"attributes\":{\"userName\":"
             "\"User Number %zu\",\"licenseStatus\":\"active\"}}",
             key, i, i, statuses[i % 4], licenses[(i / 4) % 4], i % 50, i);
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
}

/* ---- the in-bench plugin ---- */

static const sam_host_api *api;
static sam_host *host;
static sam_plugin_ops ops;

static void plugin_shutdown(void *plugin_ud, sam_done *done) {
  (void)plugin_ud;
  api->shutdown_done(done);
}

static int plugin_init(const sam_host_api *a,
                       sam_host *h,
                       const sam_init_args *args,
                       const sam_plugin_ops **ops_out,
                       char *err,
                       size_t err_len) {
  static const char form[] = "{\"type\":\"object\",\"properties\":{}}";
  static const char schema[] =
      "{\"type\":\"object\",\"required\":[\"external_user_id\"]}";
  sam_profile_type_desc ptd;
  sam_record_type_desc rtd;
  sam_profile_type *pt = NULL;
  int rc;

  (void)args;
  api = a;
  host = h;
  memset(&ptd, 0, sizeof(ptd));
  ptd.struct_size = sizeof(ptd);
  ptd.form_schema_version = 1;
  ptd.type_id = "bench_profile";
  ptd.display_name = "Bench profile";
  ptd.form_schema_json = form;
  ptd.form_schema_len = strlen(form);
  rc = a->register_profile_type(h, &ptd, &pt);
  if (rc == 0) {
    memset(&rtd, 0, sizeof(rtd));
    rtd.struct_size = sizeof(rtd);
    rtd.schema_version = 1;
    rtd.record_type = "bench_subscription";
    rtd.schema_json = schema;
    rtd.schema_len = strlen(schema);
    rtd.key_pointer = "/external_user_id";
    rtd.indexes_json = "[\"/status\",\"/license\",\"/group\"]";
    rc = a->register_record_type(h, pt, &rtd);
  }
  if (rc != 0) {
    snprintf(err, err_len, "registration failed [%s]", sam_err_name(rc));
    return rc;
  }
  memset(&ops, 0, sizeof(ops));
  ops.struct_size = sizeof(ops);
  ops.shutdown = plugin_shutdown;
  *ops_out = &ops;
  return 0;
}

/* ---- store through the host API ---- */

typedef struct pending {
  int done;
  int status;
  size_t n;
  char *cursor;
} pending;

static void on_put(int status, const sam_store_result *res, void *ud) {
  pending *p = ud;

  p->done = 1;
  p->status = status;
  p->n = res != NULL ? res->n : 0;
}

static void on_page(int status, const sam_store_result *res, void *ud) {
  pending *p = ud;
  size_t i;

  p->done = 1;
  p->status = status;
  p->n = 0;
  p->cursor = NULL;
  if (res == NULL)
    return;
  for (i = 0; i < res->n; i++)
    if (res->recs[i].json_len == 0)
      die("empty record", res->recs[i].key);
  p->n = res->n;
  if (res->next_cursor != NULL) {
    p->cursor = strdup(res->next_cursor);
    if (p->cursor == NULL)
      die("out of memory", NULL);
  }
}

static void wait_done(pending *p) {
  while (!p->done)
    uv_run(&loop, UV_RUN_ONCE);
  if (p->status != 0)
    die("store call failed", sam_err_name(p->status));
}

static sam_record *make_records(const dataset *d) {
  sam_record *recs = calloc(d->n, sizeof(sam_record));
  size_t i;

  if (recs == NULL)
    die("out of memory", NULL);
  for (i = 0; i < d->n; i++) {
    recs[i].struct_size = sizeof(sam_record);
    recs[i].if_version = SAM_IF_ANY;
    recs[i].key = d->keys[i];
    recs[i].json = d->json[i];
    recs[i].json_len = strlen(d->json[i]);
  }
  return recs;
}

static void put_one(const sam_record *recs, size_t n, pending *p) {
  int rc;

  memset(p, 0, sizeof(*p));
  rc = api->store_put_batch(host, "bench", "bench_subscription", recs, n,
                            on_put, p, NULL);
  if (rc != 0)
    die("store_put_batch refused", sam_err_name(rc));
}

static double store_put(const dataset *d) {
  size_t nb = (d->n + BATCH - 1) / BATCH;
  sam_record *recs = make_records(d);
  pending *p = calloc(nb, sizeof(pending));
  uint64_t t0;
  uint64_t t1;
  size_t next = 0;
  size_t i;

  if (p == NULL)
    die("out of memory", NULL);
  t0 = uv_hrtime();
  /* at most INFLIGHT batches queued: the next goes when one completes */
  for (; next < nb && next < INFLIGHT; next++)
    put_one(recs + next * BATCH,
            d->n - next * BATCH < BATCH ? d->n - next * BATCH : BATCH,
            &p[next]);
  for (i = 0; i < nb; i++) {
    wait_done(&p[i]);
    if (next < nb) {
      put_one(recs + next * BATCH,
              d->n - next * BATCH < BATCH ? d->n - next * BATCH : BATCH,
              &p[next]);
      next++;
    }
  }
  t1 = uv_hrtime();
  free(p);
  free(recs);
  return (double)d->n / ((double)(t1 - t0) / 1e9);
}

/* Pages through everything matching filter (NULL = all); rows/s. */
static double store_query(const char *filter, size_t *rows) {
  char *cursor = NULL;
  uint64_t t0 = uv_hrtime();
  uint64_t t1;

  *rows = 0;
  do {
    pending p;
    int rc;
    memset(&p, 0, sizeof(p));
    rc = api->store_query(host, "bench", "bench_subscription", filter, cursor,
                          PAGE, on_page, &p, NULL);
    if (rc != 0)
      die("store_query refused", sam_err_name(rc));
    wait_done(&p);
    free(cursor);
    cursor = p.cursor;
    *rows += p.n;
  } while (cursor != NULL);
  t1 = uv_hrtime();
  return (double)*rows / ((double)(t1 - t0) / 1e9);
}

static void on_closed(void *ud) {
  *(int *)ud = 1;
}

static void run_store(const char *path,
                      const dataset *d,
                      double *put,
                      double *rewrite,
                      double *query,
                      size_t *q_rows,
                      double *filter,
                      size_t *f_rows) {
  sam__runtime_config cfg;
  sam__keyring *kr = NULL;
  sam_runtime *rt = NULL;
  sam_host *h = NULL;
  char err[512] = "";
  int closed = 0;

  if (sam__keyring_new_ephemeral(&kr) != 0)
    die("keyring", NULL);
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = &loop;
  cfg.keyring = kr;
  if (sam__backend_sqlite_open(&loop, path, NULL, &cfg.backend, err,
                               sizeof(err)) != 0)
    die("open failed", err);
  if (sam__runtime_new(&cfg, &rt) != 0)
    die("runtime", NULL);
  if (sam__plugin_create(rt, "bench", "1.0.0", "", &h) != 0 ||
      sam__plugin_run_init(h, plugin_init, NULL, err, sizeof(err)) != 0 ||
      sam__plugin_post_init(h, err, sizeof(err)) != 0)
    die("plugin init failed", err);

  *put = store_put(d);
  /* the daily re-download: every record rewritten, index values unchanged */
  *rewrite = store_put(d);
  *query = store_query(NULL, q_rows);
  *filter = store_query("{\"/license\":\"Standard\"}", f_rows);

  sam_runtime_close(rt, on_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_DEFAULT);
  sam_runtime_free(rt);
  sam__keyring_free(kr);
}

/* ---- raw SQLite baseline ---- */

static void raw_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;

  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    die(sql, msg);
}

static double raw_put(sqlite3 *db, const dataset *d, int replace) {
  sqlite3_stmt *st = NULL;
  uint64_t t0;
  uint64_t t1;
  size_t i;

  if (!replace)
    raw_exec(db, "CREATE TABLE records (key TEXT PRIMARY KEY, json TEXT)");
  if (sqlite3_prepare_v2(db,
                         replace ? "INSERT OR REPLACE INTO records (key, json)"
                                   " VALUES (?, ?)"
                                 : "INSERT INTO records (key, json)"
                                   " VALUES (?, ?)",
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
  sqlite3 *db = NULL;
  dataset d;
  double s_put, s_rewrite, s_query, s_filter, r_put, r_rewrite, r_scan;
  size_t q_rows = 0;
  size_t f_rows = 0;
  size_t r_rows = 0;
  int i;

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
  if (uv_loop_init(&loop) != 0)
    die("uv_loop_init failed", NULL);
  run_store(store_path, &d, &s_put, &s_rewrite, &s_query, &q_rows, &s_filter,
            &f_rows);
  if (uv_loop_close(&loop) != 0)
    die("the loop did not close empty", NULL);
  if (q_rows != rows)
    die("query returned the wrong number of rows", NULL);

  if (sqlite3_open(raw_path, &db) != SQLITE_OK)
    die("raw open", raw_path);
  raw_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               " PRAGMA cache_size=-65536");
  r_put = raw_put(db, &d, 0);
  r_rewrite = raw_put(db, &d, 1);
  r_scan = raw_scan(db, &r_rows);
  sqlite3_close(db);
  if (r_rows != rows)
    die("raw scan returned the wrong number of rows", NULL);

  printf("bench-store: %zu records, ~%zu bytes of JSON each, 3 index values, "
         "batches of %d (%d in flight), pages of %d, sqlite %s\n",
         rows, strlen(d.json[0]), BATCH, INFLIGHT, PAGE, sqlite3_libversion());
  printf("store put_batch: %.0f rows/s; raw sqlite baseline: %.0f rows/s; "
         "ratio %.2f\n",
         s_put, r_put, s_put / r_put);
  printf("store put_batch rewrite (same index values): %.0f rows/s; raw "
         "sqlite baseline (INSERT OR REPLACE): %.0f rows/s; ratio %.2f\n",
         s_rewrite, r_rewrite, s_rewrite / r_rewrite);
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
