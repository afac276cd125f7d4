/*
 * test-hostsvc-util.c: the harness of test-hostsvc (see test-hostsvc.h):
 * calling the service and waiting for the answer, raw store access through
 * the host handle, set-up and teardown on the test host or on SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "test-hostsvc.h"
#include "sam_backend_sqlite.h"
#include "sam_seal.h"
#include "sam_test_host.h"

static sam_test_host *th;
uv_loop_t loop;
sam_runtime *rt;
sam_sched *sched;
sam_hostsvc *svc;
sam_hostsvc *svc_short; /* OAuth state TTL of 1 ms */
static char out_path[256];

/* ---- calling the service ---- */

reply last;

void on_reply(const sam_hostsvc_reply *r, void *ud) {
  reply *out = ud;

  EXPECT_EQ_INT(0, out->done);
  out->done = 1;
  out->http = r->http_status;
  out->status = r->status;
  snprintf(out->ctype, sizeof(out->ctype), "%s", r->content_type);
  out->body = malloc(r->body_len + 1);
  memcpy(out->body, r->body, r->body_len);
  out->body[r->body_len] = '\0';
  out->json = json_tokener_parse(out->body);
  uv_stop(&loop);
}

void reset_last(void) {
  free(last.body);
  json_object_put(last.json);
  memset(&last, 0, sizeof(last));
}

/* UV_RUN_ONCE would block in the poll phase after a due timer already
 * delivered what we wait for; so every completion below calls uv_stop and
 * the loop runs in the default mode. */
void run_until(int *flag) {
  while (!*flag)
    uv_run(&loop, UV_RUN_DEFAULT);
}

int call_on(sam_hostsvc *s,
            const char *method,
            const char *path,
            const char *query,
            const char *body) {
  reset_last();
  EXPECT_EQ_INT(0, sam_hostsvc_call(s, method, path, query, body,
                                    body ? strlen(body) : 0, "tester", on_reply,
                                    &last));
  EXPECT_EQ_INT(0, last.done); /* never inside the call */
  run_until(&last.done);
  return last.http;
}

int call(const char *method,
         const char *path,
         const char *query,
         const char *body) {
  return call_on(svc, method, path, query, body);
}

json_object *jget(json_object *o, const char *path) {
  char buf[256];
  char *tok, *save = NULL;

  snprintf(buf, sizeof(buf), "%s", path);
  for (tok = strtok_r(buf, ".", &save); tok != NULL && o != NULL;
       tok = strtok_r(NULL, ".", &save)) {
    if (json_object_is_type(o, json_type_array))
      o = json_object_array_get_idx(o, (size_t)atoi(tok));
    else if (!json_object_object_get_ex(o, tok, &o))
      o = NULL;
  }
  return o;
}

const char *jstr(json_object *o, const char *path) {
  json_object *v = jget(o, path);

  return v != NULL ? json_object_get_string(v) : NULL;
}

int has_error_at(const char *pointer) {
  json_object *errs = jget(last.json, "errors");
  size_t i, n = errs ? json_object_array_length(errs) : 0;

  for (i = 0; i < n; i++) {
    const char *p = jstr(json_object_array_get_idx(errs, i), "pointer");

    if (p != NULL && strcmp(p, pointer) == 0)
      return 1;
  }
  return 0;
}

/* ---- raw store access through the host handle ---- */

typedef struct raw {
  int done;
  int status;
  size_t n;
  char *next;
  char *json;
  uint64_t version;
  int count;
} raw;

static void on_raw(int status, const sam_store_result *res, void *ud) {
  raw *r = ud;

  uv_stop(&loop);
  r->done = 1;
  r->status = status;
  if (status == 0 && res != NULL) {
    r->n = res->n;
    r->next = res->next_cursor ? strdup(res->next_cursor) : NULL;
    if (res->n > 0 && res->recs[0].json != NULL) {
      size_t i, len = 0;

      /* Every record's JSON, one per line (a get has one). */
      for (i = 0; i < res->n; i++)
        len += res->recs[i].json_len + 1;
      r->json = calloc(1, len + 1);
      for (i = 0; i < res->n; i++) {
        strncat(r->json, res->recs[i].json, res->recs[i].json_len);
        if (i + 1 < res->n)
          strcat(r->json, "\n");
      }
      r->version = res->recs[0].version;
    }
  }
}

static void on_raw_secret(int status, const char *v, size_t len, void *ud) {
  raw *r = ud;

  (void)v;
  (void)len;
  uv_stop(&loop);
  r->done = 1;
  r->status = status;
}

int raw_put_as(sam_host *h,
               const char *scope,
               const char *type,
               const char *key,
               const char *json) {
  raw r = {0};
  sam_record rec;

  memset(&rec, 0, sizeof(rec));
  rec.struct_size = sizeof(rec);
  rec.key = key;
  rec.json = json;
  rec.json_len = strlen(json);
  EXPECT_EQ_INT(0, sam__host_api()->store_put_batch(h, scope, type, &rec, 1,
                                                    on_raw, &r, NULL));
  run_until(&r.done);
  free(r.next);
  free(r.json);
  return r.status;
}

int raw_put_batch(const char *scope,
                  const char *type,
                  const sam_record *recs,
                  size_t n) {
  raw r = {0};

  EXPECT_EQ_INT(0, sam__host_api()->store_put_batch(sam_runtime_host_handle(rt),
                                                    scope, type, recs, n,
                                                    on_raw, &r, NULL));
  run_until(&r.done);
  free(r.next);
  free(r.json);
  return r.status;
}

int raw_put(const char *scope,
            const char *type,
            const char *key,
            const char *json) {
  return raw_put_as(sam_runtime_host_handle(rt), scope, type, key, json);
}

char *raw_get(const char *scope, const char *type, const char *key) {
  raw r = {0};
  sam_host *h = strncmp(type, "sam_", 4) == 0
                    ? sam_runtime_host_handle(rt)
                    : sam__hs_plugin_handle(svc, "hsfx");

  EXPECT_EQ_INT(
      0, sam__host_api()->store_get(h, scope, type, key, on_raw, &r, NULL));
  run_until(&r.done);
  free(r.next);
  return r.status == 0 ? r.json : NULL;
}

/* Every record JSON of (scope, type), concatenated. */
char *raw_all(const char *scope, const char *type) {
  size_t cap = 1 << 16, n = 0;
  char *out = calloc(1, cap);
  char *cursor = NULL;

  for (;;) {
    raw r = {0};
    sam_host *h = strncmp(type, "sam_", 4) == 0
                      ? sam_runtime_host_handle(rt)
                      : sam__hs_plugin_handle(svc, "hsfx");

    EXPECT_EQ_INT(0, sam__host_api()->store_query(h, scope, type, NULL, cursor,
                                                  1000, on_raw, &r, NULL));
    run_until(&r.done);
    EXPECT_EQ_INT(0, r.status);
    if (r.json != NULL) {
      size_t l = strlen(r.json);

      if (n + l + 2 > cap) {
        cap = (n + l + 2) * 2;
        out = realloc(out, cap);
      }
      memcpy(out + n, r.json, l + 1);
      n += l;
    }
    free(r.json);
    free(cursor);
    cursor = r.next;
    if (cursor == NULL)
      break;
  }
  return out;
}

int raw_secret_status(const char *pid, const char *name) {
  raw r = {0};

  EXPECT_EQ_INT(0, sam__host_api()->secret_get(sam_runtime_host_handle(rt), pid,
                                               name, on_raw_secret, &r, NULL));
  run_until(&r.done);
  return r.status;
}

int count_callbacks(void) {
  FILE *f = fopen(out_path, "r");
  char line[128];
  int n = 0;

  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL)
    n += strncmp(line, "callback", 8) == 0;
  fclose(f);
  return n;
}

/* ---- set-up ---- */

/* ---- the SQLite variant (HOSTSVC_BACKEND=sqlite) ---- */

static int use_sqlite;
static sam__keyring *keyring;
static char db_path[256];
static sam__backend sq_backend;
static char *log_buf;
static size_t log_len;

static void on_log(void *ud,
                   int32_t level,
                   const char *plugin,
                   const char *job_id,
                   const char *line) {
  size_t n = strlen(line);

  (void)ud;
  (void)level;
  (void)plugin;
  (void)job_id;
  log_buf = realloc(log_buf, log_len + n + 2);
  memcpy(log_buf + log_len, line, n);
  log_len += n;
  log_buf[log_len++] = '\n';
  log_buf[log_len] = '\0';
}

/* 1 when the file holds `needle` anywhere (binary-safe scan). */
static int file_contains(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  size_t cap = 1 << 20, n = 0, k, m = strlen(needle);
  char *buf = malloc(cap);
  int found = 0;

  EXPECT_TRUE(f != NULL);
  for (;;) {
    size_t got = fread(buf + n, 1, cap - n, f);

    n += got;
    if (got == 0)
      break;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  fclose(f);
  for (k = 0; k + m <= n && !found; k++)
    found = memcmp(buf + k, needle, m) == 0;
  free(buf);
  return found;
}

static void setup_runtime(void) {
  sam_load_result lr;
  sam_sched_config sc;
  sam_hostsvc_config hc;
  char err[512] = "";

  snprintf(out_path, sizeof(out_path), "/tmp/test-hostsvc-%d.out",
           (int)getpid());
  unlink(out_path);
  setenv("SAM_FIXTURE_OUT", out_path, 1);
  const char *b = getenv("HOSTSVC_BACKEND");

  use_sqlite = b != NULL && strcmp(b, "sqlite") == 0;
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  memset(&lr, 0, sizeof(lr));
  if (use_sqlite) {
    sam__runtime_config cfg;

    /* The reference host's store: SQLite in a file, sealed secrets. */
    snprintf(db_path, sizeof(db_path), "/tmp/test-hostsvc-%d.db",
             (int)getpid());
    unlink(db_path);
    EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&keyring));
    memset(&cfg, 0, sizeof(cfg));
    cfg.loop = &loop;
    cfg.keyring = keyring;
    cfg.log_fn = on_log;
    cfg.test_mode = 1;
    if (sam__backend_sqlite_open(&loop, db_path, NULL, &cfg.backend, err,
                                 sizeof(err)) != 0)
      SAM_T_FAIL("sqlite open failed [%s]", err);
    sq_backend = cfg.backend; /* the service appends to its audit log */
    EXPECT_EQ_INT(0, sam__runtime_new(&cfg, &rt));
    EXPECT_EQ_INT(0, sam_loader_load(rt, SAM_HSFX_MANIFEST, NULL, &lr, NULL));
  } else {
    EXPECT_EQ_INT(0, sam_test_host_new(&loop, NULL, &th));
    rt = sam_test_host_runtime(th);
    EXPECT_EQ_INT(0, sam_test_host_load(th, SAM_HSFX_MANIFEST, NULL, &lr));
  }
  memset(&sc, 0, sizeof(sc));
  sc.rt = rt;
  EXPECT_EQ_INT(0, sam_sched_new(&sc, &sched, err, sizeof(err)));
  memset(&hc, 0, sizeof(hc));
  hc.rt = rt;
  hc.sched = sched;
  hc.public_url = PUBLIC_URL "/";
  hc.test_mode = 1;
  hc.audit = use_sqlite ? &sq_backend : NULL;
  if (sam_hostsvc_new(&hc, &svc, err, sizeof(err)) != 0)
    SAM_T_FAIL("sam_hostsvc_new failed [%s]", err);
  hc.oauth_state_ttl_ms = 1;
  if (sam_hostsvc_new(&hc, &svc_short, err, sizeof(err)) != 0)
    SAM_T_FAIL("sam_hostsvc_new (short) failed [%s]", err);
}

static int sched_started;
static void on_sched_started(int status, void *ud) {
  (void)ud;
  EXPECT_EQ_INT(0, status);
  sched_started = 1;
  uv_stop(&loop);
}

char pid1[64]; /* the main profile (account 42) */
char pid2[64]; /* account 43, for lists */

static int start_done;
static int start_status = -100;
static void on_svc_started(int status, void *ud) {
  (void)ud;
  start_status = status;
  start_done = 1;
  uv_stop(&loop);
}

void svc_start(void) {
  start_done = 0;
  EXPECT_EQ_INT(0, sam_hostsvc_start(svc, on_svc_started, NULL));
  EXPECT_EQ_INT(0, start_done);
  run_until(&start_done);
  EXPECT_EQ_INT(0, start_status);
}

static int closes;
static void on_closed(void *ud) {
  (void)ud;
  closes++;
  uv_stop(&loop);
}

void teardown(void) {
  char path[160];

  /* Closing cancels an action still waiting (here: not yet started); the
   * call answers 503 (retry later) before the close completes. */
  reply early = {0};

  /* Closing cancels an action that is running; the call answers 503
   * (retry later) before the close completes. A call made while closing
   * answers 503 too, and one whose profile load was still in flight never
   * starts its job. */
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/hang", pid1);
  reset_last();
  EXPECT_EQ_INT(0, sam_hostsvc_call(svc_short, "POST", path, NULL, NULL, 0,
                                    "tester", on_reply, &last));
  for (;;) { /* until the job runs: a few loop turns, no clock involved */
    char *jobs = sam_runtime_jobs_json(rt);
    int running = jobs != NULL && strstr(jobs, "\"hang\"") != NULL;

    free(jobs);
    if (running)
      break;
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  EXPECT_EQ_INT(0, sam_hostsvc_call(svc, "POST", path, NULL, NULL, 0, "tester",
                                    on_reply, &early));
  sam_hostsvc_close(svc_short, on_closed, NULL);
  sam_hostsvc_close(svc, on_closed, NULL);
  while (closes < 2)
    uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_TRUE(last.done);
  EXPECT_EQ_INT(503, last.http);
  EXPECT_EQ_STR("SAM_EAGAIN", jstr(last.json, "status"));
  EXPECT_TRUE(early.done);
  EXPECT_EQ_INT(503, early.http);
  free(early.body);
  json_object_put(early.json);
  EXPECT_EQ_INT(SAM_EBUSY,
                sam_hostsvc_call(svc, "GET", "/api/v1/plugins", NULL, NULL, 0,
                                 "tester", on_reply, &last));
  sam_sched_close(sched, on_closed, NULL);
  while (closes < 3)
    uv_run(&loop, UV_RUN_DEFAULT);
  if (use_sqlite) {
    EXPECT_EQ_STR("", sam__runtime_violations(rt));
    EXPECT_NOT_CONTAINS(log_buf, SECRET);
    sam_runtime_close(rt, on_closed, NULL);
    while (closes < 4)
      uv_run(&loop, UV_RUN_DEFAULT);
    /* Neither the client secret nor a token is in the database file. */
    EXPECT_EQ_INT(0, file_contains(db_path, SECRET));
    EXPECT_EQ_INT(0, file_contains(db_path, "fx-access-token"));
    EXPECT_EQ_INT(1, file_contains(db_path, "Acme Two"));
    /* The audit log has the changing calls, never an OAuth code. */
    EXPECT_EQ_INT(1, file_contains(db_path, "POST /api/v1/profiles"));
    EXPECT_EQ_INT(1, file_contains(db_path, "GET /oauth_redirect.do"));
    EXPECT_EQ_INT(1, file_contains(db_path, "tester"));
    EXPECT_EQ_INT(0, file_contains(db_path, "good-code"));
  } else {
    EXPECT_EQ_STR("", sam_test_host_violations(th));
    EXPECT_NOT_CONTAINS(sam_test_host_log(th), SECRET);
    EXPECT_EQ_INT(0, sam_test_host_shutdown(th));
  }
  sam_hostsvc_free(svc);
  sam_hostsvc_free(svc_short);
  sam_sched_free(sched);
  if (use_sqlite) {
    sam_runtime_free(rt);
    sam__keyring_free(keyring);
    unlink(db_path);
    free(log_buf);
  } else {
    sam_test_host_free(th);
  }
  reset_last();
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  unlink(out_path);
}

const char *create_body(const char *account, const char *name) {
  static char b[512];

  snprintf(b, sizeof(b),
           "{\"type_id\":\"hsfx_account\",\"form\":{\"display_name\":\"%s\","
           "\"client_id\":\"abc-123\",\"account_id\":\"%s\","
           "\"client_secret\":\"" SECRET "\"}}",
           name, account);
  return b;
}

void setup(void) {
  setup_runtime();
  svc_start(); /* nothing published yet */
  sam_sched_start(sched, on_sched_started, NULL);
  run_until(&sched_started);
}
