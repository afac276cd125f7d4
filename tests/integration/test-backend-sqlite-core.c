/*
 * test-backend-sqlite-core.c: the SQLite backend behind the real host core
 * (libsamhost's runtime, sam__req_begin/sam__req_done), driven through the
 * ABI's host table by a tiny in-test plugin: exactly-once callbacks never
 * inside the call, atomic batches and if_version conflicts, filtered
 * queries paged with cursors (valid across a restart), op_cancel, secrets
 * sealed under the master key, and a scan of the database files and of
 * every log line for the clear text of a secret.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_backend_sqlite.h"
#include "sam_core.h"
#include "sam_seal.h"
#include "sam_test.h"

#define SECRET "CLEAR-TEXT-REFRESH-TOKEN-4f9a2c71"

static uv_loop_t loop;
static char dir[512];
static char db_path[600];
static char *log_text;
static size_t log_len;

/* ---- the in-test plugin ---- */

static const sam_host_api *api;
static sam_host *host;
static sam_plugin_ops ops;

static const char *const form_schema =
    "{\"type\":\"object\",\"properties\":{"
    "\"client_id\":{\"type\":\"string\",\"title\":\"Client id\"}}}";
static const char *const item_schema =
    "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"
    "\"team\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\"}}}";

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
  ptd.type_id = "sq_profile";
  ptd.display_name = "SQLite test profile";
  ptd.form_schema_json = form_schema;
  ptd.form_schema_len = strlen(form_schema);
  rc = a->register_profile_type(h, &ptd, &pt);
  if (rc != 0) {
    snprintf(err, err_len, "profile type [%s]", sam_err_name(rc));
    return rc;
  }
  memset(&rtd, 0, sizeof(rtd));
  rtd.struct_size = sizeof(rtd);
  rtd.schema_version = 1;
  rtd.record_type = "sq_item";
  rtd.schema_json = item_schema;
  rtd.schema_len = strlen(item_schema);
  rtd.key_pointer = "/id";
  rtd.indexes_json = "[\"/status\",\"/team\"]";
  rtd.flags = SAM_RECORD_VALIDATE_WRITES;
  rc = a->register_record_type(h, pt, &rtd);
  if (rc != 0) {
    snprintf(err, err_len, "record type [%s]", sam_err_name(rc));
    return rc;
  }
  memset(&ops, 0, sizeof(ops));
  ops.struct_size = sizeof(ops);
  ops.shutdown = plugin_shutdown;
  *ops_out = &ops;
  return 0;
}

/* ---- a runtime on the SQLite backend ---- */

static void on_log(void *ud,
                   int32_t level,
                   const char *plugin,
                   const char *job_id,
                   const char *line) {
  size_t n = strlen(line);
  char *p;

  (void)ud;
  (void)level;
  (void)plugin;
  (void)job_id;
  p = realloc(log_text, log_len + n + 2);
  EXPECT_TRUE(p != NULL);
  log_text = p;
  memcpy(log_text + log_len, line, n);
  log_text[log_len + n] = '\n';
  log_text[log_len + n + 1] = '\0';
  log_len += n + 1;
}

typedef struct env {
  sam_runtime *rt;
  sam__keyring *kr;
} env;

static void start(env *e, sam__keyring *kr) {
  sam__runtime_config cfg;
  sam_host *h = NULL;
  char err[512] = "";

  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = &loop;
  cfg.keyring = kr;
  cfg.log_fn = on_log;
  cfg.test_mode = 1;
  e->kr = kr;
  if (sam__backend_sqlite_open(&loop, db_path, NULL, &cfg.backend, err,
                               sizeof(err)) != 0)
    SAM_T_FAIL("open [%s]", err);
  EXPECT_EQ_INT(0, sam__runtime_new(&cfg, &e->rt));
  EXPECT_EQ_INT(0, sam__plugin_create(e->rt, "sq", "1.0.0", "", &h));
  if (sam__plugin_run_init(h, plugin_init, NULL, err, sizeof(err)) != 0)
    SAM_T_FAIL("init [%s]", err);
  if (sam__plugin_post_init(h, err, sizeof(err)) != 0)
    SAM_T_FAIL("post_init [%s]", err);
}

static void on_rt_closed(void *ud) {
  *(int *)ud = 1;
}

static void stop(env *e) {
  int closed = 0;

  sam_runtime_close(e->rt, on_rt_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  sam_runtime_free(e->rt);
  e->rt = NULL;
}

/* ---- store calls ---- */

static int in_call;

typedef struct res {
  int calls;
  int status;
  size_t n;
  uint64_t versions[1000];
  char keys[1000][32];
  char cursor[1024];
  int has_cursor;
  char value[128];
} res;

static void on_store(int status, const sam_store_result *r, void *ud) {
  res *o = ud;
  size_t i;

  EXPECT_EQ_INT(0, in_call);
  o->calls++;
  EXPECT_EQ_INT(1, o->calls);
  o->status = status;
  o->n = r != NULL ? r->n : 0;
  o->has_cursor = r != NULL && r->next_cursor != NULL;
  if (o->has_cursor)
    snprintf(o->cursor, sizeof(o->cursor), "%s", r->next_cursor);
  for (i = 0; r != NULL && i < r->n && i < 1000; i++) {
    o->versions[i] = r->recs[i].version;
    snprintf(o->keys[i], sizeof(o->keys[i]), "%s", r->recs[i].key);
  }
}

static void on_secret(int status, const char *value, size_t len, void *ud) {
  res *o = ud;

  EXPECT_EQ_INT(0, in_call);
  o->calls++;
  EXPECT_EQ_INT(1, o->calls);
  o->status = status;
  if (value != NULL)
    snprintf(o->value, sizeof(o->value), "%.*s", (int)len, value);
}

static void wait_res(res *o) {
  while (o->calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
}

static int put_items(int from, int n, uint64_t if_version, res *o) {
  static sam_record recs[500];
  static char json[500][128];
  static char keys[500][24];
  int i;
  int rc;

  memset(o, 0, sizeof(*o));
  for (i = 0; i < n; i++) {
    int k = from + i;
    snprintf(keys[i], sizeof(keys[i]), "item-%05d", k);
    snprintf(json[i], sizeof(json[i]),
             "{\"id\":\"item-%05d\",\"status\":\"%s\",\"team\":\"%s\","
             "\"n\":%d}",
             k, k % 3 == 0 ? "active" : "idle", k % 2 ? "red" : "blue", k);
    memset(&recs[i], 0, sizeof(recs[i]));
    recs[i].struct_size = sizeof(sam_record);
    recs[i].if_version = if_version;
    recs[i].key = keys[i];
    recs[i].json = json[i];
    recs[i].json_len = strlen(json[i]);
  }
  in_call = 1;
  rc = api->store_put_batch(host, "p1", "sq_item", recs, (size_t)n, on_store, o,
                            NULL);
  in_call = 0;
  if (rc == 0)
    wait_res(o);
  return rc;
}

/* Pages through a filter; returns the count and checks order. */
static size_t page_all(const char *filter,
                       uint32_t limit,
                       char *first_cursor,
                       size_t cursor_len) {
  char cursor[1024] = "";
  char last[32] = "";
  size_t total = 0;
  int pages = 0;

  for (;;) {
    res o;
    size_t i;
    memset(&o, 0, sizeof(o));
    in_call = 1;
    EXPECT_EQ_INT(0, api->store_query(host, "p1", "sq_item", filter,
                                      cursor[0] ? cursor : NULL, limit,
                                      on_store, &o, NULL));
    in_call = 0;
    wait_res(&o);
    EXPECT_EQ_INT(0, o.status);
    for (i = 0; i < o.n; i++) {
      EXPECT_TRUE(strcmp(last, o.keys[i]) < 0);
      snprintf(last, sizeof(last), "%s", o.keys[i]);
    }
    total += o.n;
    if (pages++ == 0 && first_cursor != NULL && o.has_cursor)
      snprintf(first_cursor, cursor_len, "%s", o.cursor);
    if (!o.has_cursor)
      break;
    snprintf(cursor, sizeof(cursor), "%s", o.cursor);
  }
  return total;
}

static void test_store_through_core(void) {
  sam__keyring *kr = NULL;
  char cursor[1024] = "";
  env e;
  res o;
  int i;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  start(&e, kr);
  for (i = 0; i < 1500; i += 500) {
    EXPECT_EQ_INT(0, put_items(i, 500, SAM_IF_NEW, &o));
    EXPECT_EQ_INT(0, o.status);
    EXPECT_EQ_INT(500, (long long)o.n);
    EXPECT_EQ_U64(1, o.versions[0]);
  }
  /* a conflicting batch writes nothing and lists the conflicts */
  EXPECT_EQ_INT(0, put_items(0, 10, 7, &o));
  EXPECT_EQ_INT(SAM_ECONFLICT, o.status);
  EXPECT_EQ_INT(10, (long long)o.n);
  EXPECT_EQ_U64(1, o.versions[0]);
  EXPECT_EQ_INT(0, put_items(1495, 10, SAM_IF_NEW, &o));
  EXPECT_EQ_INT(SAM_EEXIST, o.status); /* the core passes no result */
  EXPECT_EQ_INT(0, put_items(0, 10, 1, &o));
  EXPECT_EQ_INT(0, o.status);
  EXPECT_EQ_U64(2, o.versions[9]);

  EXPECT_EQ_INT(1500, (long long)page_all(NULL, 1000, NULL, 0));
  EXPECT_EQ_INT(500, (long long)page_all("{\"/status\":\"active\"}", 64, cursor,
                                         sizeof(cursor)));
  EXPECT_EQ_INT(
      250, (long long)page_all("{\"/status\":\"active\",\"/team\":\"blue\"}",
                               100, NULL, 0));
  EXPECT_TRUE(cursor[0] != '\0');

  /* get, delete with a stale version, op_cancel */
  memset(&o, 0, sizeof(o));
  in_call = 1;
  EXPECT_EQ_INT(0, api->store_get(host, "p1", "sq_item", "item-00003", on_store,
                                  &o, NULL));
  in_call = 0;
  wait_res(&o);
  EXPECT_EQ_INT(0, o.status);
  EXPECT_EQ_U64(2, o.versions[0]);
  memset(&o, 0, sizeof(o));
  EXPECT_EQ_INT(0, api->store_delete(host, "p1", "sq_item", "item-00003", 1,
                                     on_store, &o, NULL));
  wait_res(&o);
  EXPECT_EQ_INT(SAM_ECONFLICT, o.status);
  {
    sam_op *op = NULL;
    memset(&o, 0, sizeof(o));
    EXPECT_EQ_INT(0, api->store_get(host, "p1", "sq_item", "item-00004",
                                    on_store, &o, &op));
    EXPECT_TRUE(op != NULL);
    api->op_cancel(op);
    wait_res(&o);
    EXPECT_TRUE(o.status == SAM_ECANCELED || o.status == 0);
  }
  stop(&e);

  /* a restart: the cursor still pages on from where it was */
  start(&e, kr);
  {
    size_t total = 64;
    char cur[1024];
    snprintf(cur, sizeof(cur), "%s", cursor);
    for (;;) {
      memset(&o, 0, sizeof(o));
      EXPECT_EQ_INT(0, api->store_query(host, "p1", "sq_item",
                                        "{\"/status\":\"active\"}", cur, 64,
                                        on_store, &o, NULL));
      wait_res(&o);
      EXPECT_EQ_INT(0, o.status);
      total += o.n;
      if (!o.has_cursor)
        break;
      snprintf(cur, sizeof(cur), "%s", o.cursor);
    }
    EXPECT_EQ_INT(500, (long long)total);
  }
  stop(&e);
  sam__keyring_free(kr);
}

/* Fails when the file holds `needle`; a missing file is fine. */
static void scan_file(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  size_t n = strlen(needle);
  char *buf;
  long len;
  long i;

  if (f == NULL)
    return;
  EXPECT_EQ_INT(0, fseek(f, 0, SEEK_END));
  len = ftell(f);
  EXPECT_EQ_INT(0, fseek(f, 0, SEEK_SET));
  buf = malloc((size_t)len + 1);
  EXPECT_TRUE(buf != NULL);
  EXPECT_EQ_INT(len, (long long)fread(buf, 1, (size_t)len, f));
  fclose(f);
  for (i = 0; i + (long)n <= len; i++)
    if (memcmp(buf + i, needle, n) == 0)
      SAM_T_FAIL("clear text of a secret found in [%s] at [%ld]", path, i);
  free(buf);
}

static void test_secrets_never_in_clear(void) {
  sam__keyring *kr = NULL;
  char wal[700];
  env e;
  res o;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  start(&e, kr);
  memset(&o, 0, sizeof(o));
  in_call = 1;
  EXPECT_EQ_INT(0, api->secret_put(host, "p1", "refresh_token", SECRET,
                                   strlen(SECRET), on_secret, &o, NULL));
  in_call = 0;
  wait_res(&o);
  EXPECT_EQ_INT(0, o.status);
  memset(&o, 0, sizeof(o));
  EXPECT_EQ_INT(
      0, api->secret_get(host, "p1", "refresh_token", on_secret, &o, NULL));
  wait_res(&o);
  EXPECT_EQ_INT(0, o.status);
  EXPECT_EQ_STR(SECRET, o.value);
  /* the plugin logs it by mistake: the host redacts it */
  api->log_write(host, NULL, SAM_LOG_INFO, "token is " SECRET,
                 strlen("token is " SECRET));
  memset(&o, 0, sizeof(o));
  EXPECT_EQ_INT(
      0, api->secret_get(host, "p2", "refresh_token", on_secret, &o, NULL));
  wait_res(&o);
  EXPECT_EQ_INT(SAM_ENOENT, o.status);
  snprintf(wal, sizeof(wal), "%s-wal", db_path);
  scan_file(wal, SECRET);
  scan_file(db_path, SECRET);
  stop(&e);

  /* after a restart with the same key it still opens */
  start(&e, kr);
  memset(&o, 0, sizeof(o));
  EXPECT_EQ_INT(
      0, api->secret_get(host, "p1", "refresh_token", on_secret, &o, NULL));
  wait_res(&o);
  EXPECT_EQ_INT(0, o.status);
  EXPECT_EQ_STR(SECRET, o.value);
  stop(&e);
  scan_file(wal, SECRET);
  scan_file(db_path, SECRET);
  EXPECT_TRUE(log_text != NULL);
  EXPECT_CONTAINS(log_text, "token is");
  EXPECT_NOT_CONTAINS(log_text, SECRET);
  sam__keyring_free(kr);
}

/* The nice value of each of this process's threads (/proc/self/task), the
 * most found, or -100 when none could be read. */
static int max_thread_nice(void) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *de;
  int best = -100;

  if (d == NULL)
    return best;
  while ((de = readdir(d)) != NULL) {
    char path[300], buf[1024];
    FILE *f;
    size_t n;
    char *p;
    int field = 3, nice = 0;

    if (de->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
    f = fopen(path, "r");
    if (f == NULL)
      continue;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the command's closing parenthesis; nice is field 19 */
    p = strrchr(buf, ')');
    if (p == NULL)
      continue;
    p += 2;
    while (field < 19 && (p = strchr(p, ' ')) != NULL) {
      p++;
      field++;
    }
    if (p != NULL && sscanf(p, "%d", &nice) == 1 && nice > best)
      best = nice;
  }
  closedir(d);
  return best;
}

/* The store's worker runs below the loop's priority, so that a busy
 * machine delays the writes rather than the loop. */
static void test_worker_below_loop(void) {
  sam__keyring *kr = NULL;
  int loop_nice;
  env e;
  res o;

  errno = 0;
  loop_nice = getpriority(PRIO_PROCESS, 0);
  EXPECT_EQ_INT(0, errno);
  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  start(&e, kr);
  /* once a request is answered the worker has set its priority */
  EXPECT_EQ_INT(0, put_items(0, 1, SAM_IF_ANY, &o));
  EXPECT_EQ_INT(0, o.status);
  EXPECT_EQ_INT(loop_nice + 10 > 19 ? 19 : loop_nice + 10, max_thread_nice());
  EXPECT_EQ_INT(loop_nice, getpriority(PRIO_PROCESS, 0));
  stop(&e);
  sam__keyring_free(kr);
}

static void rm_dir(const char *d) {
  const char *suffix[] = {"", "-wal", "-shm"};
  char p[700];
  size_t i;

  for (i = 0; i < 3; i++) {
    snprintf(p, sizeof(p), "%s%s", db_path, suffix[i]);
    (void)unlink(p); /* -wal and -shm may be gone already */
  }
  EXPECT_EQ_INT(0, rmdir(d));
}

int main(void) {
  const char *base = getenv("TMPDIR");

  snprintf(dir, sizeof(dir), "%s/test-backend-sqlite-core-XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp");
  EXPECT_TRUE(mkdtemp(dir) != NULL);
  snprintf(db_path, sizeof(db_path), "%s/store.sqlite", dir);
  EXPECT_EQ_INT(0, uv_loop_init(&loop));

  SAM_T_RUN(test_store_through_core);
  SAM_T_RUN(test_secrets_never_in_clear);
  SAM_T_RUN(test_worker_below_loop);

  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  free(log_text);
  rm_dir(dir);
  return 0;
}
