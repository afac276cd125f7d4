/*
 * test-hostsvc.c: the service layer (sam_hostsvc.h) through
 * sam_hostsvc_call, on the test host (in-memory backend) with the scheduler
 * and the hsfx fixture plugin: form validation with per-field errors,
 * write-only secrets, duplicate accounts, the OAuth state and redirect,
 * materialization, validate -> publish -> jobs, credential change -> Draft,
 * delete semantics, related-list paging and filters, candidate transitions,
 * exclusions, jobs. Ends with an empty loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "sam_backend_sqlite.h"
#include "sam_core.h"
#include "sam_seal.h"
#include "hostsvc_int.h"
#include "sam_hostsvc.h"
#include "sam_sched.h"
#include "sam_test.h"
#include "sam_test_host.h"

#define PUBLIC_URL "http://127.0.0.1:8080"
#define SECRET "s3cret-value-XYZ-42"

static uv_loop_t loop;
static sam_test_host *th;
static sam_runtime *rt;
static sam_sched *sched;
static sam_hostsvc *svc;
static sam_hostsvc *svc_short; /* OAuth state TTL of 1 ms */
static char out_path[256];

/* ---- calling the service ---- */

typedef struct reply {
  int done;
  int http;
  int status;
  char ctype[32];
  char *body;
  json_object *json;
} reply;

static reply last;

static void on_reply(const sam_hostsvc_reply *r, void *ud) {
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

static void reset_last(void) {
  free(last.body);
  json_object_put(last.json);
  memset(&last, 0, sizeof(last));
}

/* UV_RUN_ONCE would block in the poll phase after a due timer already
 * delivered what we wait for; so every completion below calls uv_stop and
 * the loop runs in the default mode. */
static void run_until(int *flag) {
  while (!*flag)
    uv_run(&loop, UV_RUN_DEFAULT);
}

static int call_on(sam_hostsvc *s,
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

static int call(const char *method,
                const char *path,
                const char *query,
                const char *body) {
  return call_on(svc, method, path, query, body);
}

static json_object *jget(json_object *o, const char *path) {
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

static const char *jstr(json_object *o, const char *path) {
  json_object *v = jget(o, path);

  return v != NULL ? json_object_get_string(v) : NULL;
}

static int has_error_at(const char *pointer) {
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

static int raw_put_as(sam_host *h,
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

static int raw_put(const char *scope,
                   const char *type,
                   const char *key,
                   const char *json) {
  return raw_put_as(sam_runtime_host_handle(rt), scope, type, key, json);
}

static char *raw_get(const char *scope, const char *type, const char *key) {
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
static char *raw_all(const char *scope, const char *type) {
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

static int raw_secret_status(const char *pid, const char *name) {
  raw r = {0};

  EXPECT_EQ_INT(0, sam__host_api()->secret_get(sam_runtime_host_handle(rt), pid,
                                               name, on_raw_secret, &r, NULL));
  run_until(&r.done);
  return r.status;
}

static int count_callbacks(void) {
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

static void setup(void) {
  sam_load_result lr;
  sam_sched_config sc;
  sam_hostsvc_config hc;
  char err[512] = "";

  snprintf(out_path, sizeof(out_path), "/tmp/test-hostsvc-%d.out",
           (int)getpid());
  unlink(out_path);
  setenv("SAM_FIXTURE_OUT", out_path, 1);
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

static char pid1[64]; /* the main profile (account 42) */
static char pid2[64]; /* account 43, for lists */

static int start_done;
static int start_status = -100;
static void on_svc_started(int status, void *ud) {
  (void)ud;
  start_status = status;
  start_done = 1;
  uv_stop(&loop);
}

static void svc_start(void) {
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

static void teardown(void) {
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

/* ---- the tests ---- */


static void test_registry(void) {
  EXPECT_EQ_INT(200, call("GET", "/api/v1/plugins", NULL, NULL));
  EXPECT_CONTAINS(last.body, "\"hsfx\"");
  EXPECT_EQ_INT(200, call("GET", "/api/v1/profile-types", NULL, NULL));
  EXPECT_CONTAINS(last.body, "hsfx_account");
  EXPECT_CONTAINS(last.body, "x-sam-secret");
  EXPECT_EQ_INT(404, call("GET", "/api/v1/nothing", NULL, NULL));
}

static void test_create_errors(void) {
  /* Every invalid field is reported, each at its pointer. */
  EXPECT_EQ_INT(
      400,
      call("POST", "/api/v1/profiles", NULL,
           "{\"type_id\":\"hsfx_account\",\"form\":{\"display_name\":\"\","
           "\"client_id\":\"bad id!\",\"account_id\":\"abc\","
           "\"client_secret\":\"sh0rtpw\",\"region\":\"mars\","
           "\"bogus\":1,\"account_name\":\"x\",\"download_enabled\":false}}"));
  EXPECT_EQ_STR("SAM_EINVAL", jstr(last.json, "status"));
  EXPECT_TRUE(has_error_at("/display_name"));
  EXPECT_TRUE(has_error_at("/client_id"));
  EXPECT_TRUE(has_error_at("/account_id"));
  EXPECT_TRUE(has_error_at("/client_secret"));
  EXPECT_TRUE(has_error_at("/region"));
  EXPECT_TRUE(has_error_at("/bogus"));
  EXPECT_TRUE(has_error_at("/account_name"));
  EXPECT_TRUE(has_error_at("/download_enabled")); /* const */
  EXPECT_CONTAINS(last.body, "unknown field [bogus]");
  EXPECT_CONTAINS(last.body, "read-only [account_name]");
  EXPECT_NOT_CONTAINS(last.body, "sh0rtpw");

  /* Missing required fields, at their pointers. */
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"hsfx_account\",\"form\":{}}"));
  EXPECT_TRUE(has_error_at("/client_id"));
  EXPECT_TRUE(has_error_at("/client_secret"));
  EXPECT_TRUE(has_error_at("/display_name"));

  /* The host fills redirect_url: a client may not. */
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"hsfx_account\",\"form\":{"
                          "\"redirect_url\":\"http://evil\"}}"));
  EXPECT_TRUE(has_error_at("/redirect_url"));

  /* Unknown top-level field, unknown type, not JSON. */
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"hsfx_account\",\"x\":1,"
                          "\"form\":{}}"));
  EXPECT_TRUE(has_error_at("/x"));
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL,
                          "{\"type_id\":\"nope\",\"form\":{}}"));
  EXPECT_EQ_INT(400, call("POST", "/api/v1/profiles", NULL, "{\"type_"));
}

static const char *create_body(const char *account, const char *name) {
  static char b[512];

  snprintf(b, sizeof(b),
           "{\"type_id\":\"hsfx_account\",\"form\":{\"display_name\":\"%s\","
           "\"client_id\":\"abc-123\",\"account_id\":\"%s\","
           "\"client_secret\":\"" SECRET "\"}}",
           name, account);
  return b;
}

static void test_create_ok(void) {
  char path[128], *all;

  EXPECT_EQ_INT(
      201, call("POST", "/api/v1/profiles", NULL, create_body("42", "Acme")));
  snprintf(pid1, sizeof(pid1), "%s", jstr(last.json, "profile_id"));
  EXPECT_EQ_STR("draft", jstr(last.json, "state"));
  EXPECT_EQ_STR("not_connected", jstr(last.json, "connection_status"));
  EXPECT_EQ_STR("eu", jstr(last.json, "form.region")); /* default */
  EXPECT_EQ_STR(PUBLIC_URL "/oauth_redirect.do",
                jstr(last.json, "form.redirect_url"));
  EXPECT_TRUE(
      json_object_get_boolean(jget(last.json, "form.client_secret.set")));
  EXPECT_NOT_CONTAINS(last.body, SECRET);

  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("Acme", jstr(last.json, "display_name"));
  EXPECT_NOT_CONTAINS(last.body, SECRET);
  EXPECT_EQ_INT(200,
                call("GET", "/api/v1/profiles", "type=hsfx_account", NULL));
  EXPECT_NOT_CONTAINS(last.body, SECRET);

  /* The secret is sealed, not in any record. */
  all = raw_all("_host", "sam_profile");
  EXPECT_CONTAINS(all, pid1);
  EXPECT_NOT_CONTAINS(all, SECRET);
  free(all);
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "client_secret"));

  /* Same account again: refused; another account: fine. */
  EXPECT_EQ_INT(409, call("POST", "/api/v1/profiles", NULL,
                          create_body("42", "Acme again")));
  EXPECT_EQ_STR("SAM_ECONFLICT", jstr(last.json, "status"));
  EXPECT_EQ_INT(
      201, call("POST", "/api/v1/profiles", NULL, create_body("43", "Other")));
  snprintf(pid2, sizeof(pid2), "%s", jstr(last.json, "profile_id"));

  /* Two creates for one new account in flight at once: one wins. */
  {
    reply a = {0}, b = {0};
    char body[512];

    snprintf(body, sizeof(body), "%s", create_body("44", "Race"));
    EXPECT_EQ_INT(0,
                  sam_hostsvc_call(svc, "POST", "/api/v1/profiles", NULL, body,
                                   strlen(body), "tester", on_reply, &a));
    EXPECT_EQ_INT(0,
                  sam_hostsvc_call(svc, "POST", "/api/v1/profiles", NULL, body,
                                   strlen(body), "tester", on_reply, &b));
    run_until(&a.done);
    run_until(&b.done);
    EXPECT_EQ_INT(201 + 409, a.http + b.http);
    snprintf(path, sizeof(path), "/api/v1/profiles/%s",
             jstr(a.http == 201 ? a.json : b.json, "profile_id"));
    free(a.body);
    free(b.body);
    json_object_put(a.json);
    json_object_put(b.json);
    EXPECT_EQ_INT(200, call("DELETE", path, NULL, NULL));
  }
  EXPECT_EQ_INT(404, call("GET", "/api/v1/profiles/nope", NULL, NULL));
}

/* Runs get_token on `s` and returns the state (static buffer). */
static const char *oauth_start(sam_hostsvc *s, const char *pid) {
  static char state[128];
  char path[160];
  const char *url, *p;

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/get_token", pid);
  EXPECT_EQ_INT(200, call_on(s, "POST", path, NULL, NULL));
  EXPECT_EQ_STR("SAM_OK", jstr(last.json, "status"));
  url = jstr(last.json, "result.redirect_url");
  EXPECT_TRUE(url != NULL);
  p = strstr(url, "state=");
  EXPECT_TRUE(p != NULL);
  snprintf(state, sizeof(state), "%.*s", (int)strcspn(p + 6, "&"), p + 6);
  EXPECT_EQ_INT(43, strlen(state)); /* 32 bytes, base64url */
  EXPECT_CONTAINS(url, "oauth_redirect.do");
  return state;
}

static int redirect(sam_hostsvc *s, const char *code, const char *state) {
  char q[300];

  snprintf(q, sizeof(q), "code=%s&state=%s", code, state);
  return call_on(s, "GET", "/oauth_redirect.do", q, NULL);
}

static void test_oauth(void) {
  char state[128], path[160], q[300];
  char *rec;

  /* Wrong state: refused, the plugin is not called. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid1));
  EXPECT_EQ_INT(400, redirect(svc, "good-code",
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  EXPECT_EQ_STR("text/html", last.ctype);
  EXPECT_EQ_INT(0, count_callbacks());
  EXPECT_EQ_INT(400, call("GET", "/oauth_redirect.do", "code=x", NULL));
  EXPECT_EQ_INT(0, count_callbacks());

  /* The right state: the callback runs, the patch is merged, the catalog
   * is materialized; the page never shows the code or a token. */
  EXPECT_EQ_INT(200, redirect(svc, "good-code", state));
  EXPECT_EQ_STR("text/html", last.ctype);
  EXPECT_EQ_INT(1, count_callbacks());
  EXPECT_NOT_CONTAINS(last.body, "good-code");
  EXPECT_NOT_CONTAINS(last.body, "fx-access-token");
  snprintf(path, sizeof(path), "/ui/profiles/%s", pid1);
  EXPECT_CONTAINS(last.body, path);

  /* Replayed: refused without calling the plugin. */
  EXPECT_EQ_INT(400, redirect(svc, "good-code", state));
  EXPECT_EQ_INT(1, count_callbacks());

  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("connected", jstr(last.json, "connection_status"));
  EXPECT_EQ_STR("Acme Corp", jstr(last.json, "form.account_name"));
  EXPECT_EQ_STR("https://api.example.test", jstr(last.json, "form.base_uri"));
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "tokens"));

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/models", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  EXPECT_EQ_STR("Pro Seat", jstr(last.json, "items.0.identifier"));
  EXPECT_EQ_STR("catalog", jstr(last.json, "items.0.source"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/rules", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  EXPECT_EQ_STR("hsfx_assigned_60d", jstr(last.json, "items.0.rule_id"));

  /* An admin edits the rule (validated), then a second connect with an
   * older stored template version: the edit stays, the new template is
   * offered as a suggestion, nothing is duplicated. */
  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/lists/rules/hsfx_assigned_60d", pid1);
  EXPECT_EQ_INT(
      400, call("PATCH", path, NULL, "{\"last_activity_threshold_days\":0}"));
  EXPECT_TRUE(has_error_at("/last_activity_threshold_days"));
  EXPECT_EQ_INT(400, call("PATCH", path, NULL, "{\"rule_id\":\"x\"}"));
  EXPECT_EQ_INT(
      200, call("PATCH", path, NULL, "{\"last_activity_threshold_days\":90}"));
  EXPECT_TRUE(json_object_get_boolean(jget(last.json, "edited")));
  rec = raw_get(pid1, "sam_reclamation_rule", "hsfx_assigned_60d");
  {
    json_object *o = json_tokener_parse(rec);

    json_object_object_add(o, "template_version", json_object_new_int(0));
    EXPECT_EQ_INT(0, raw_put(pid1, "sam_reclamation_rule", "hsfx_assigned_60d",
                             json_object_to_json_string(o)));
    json_object_put(o);
  }
  free(rec);
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid1));
  EXPECT_EQ_INT(200, redirect(svc, "good-code", state));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/rules", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  EXPECT_EQ_INT(90, json_object_get_int(jget(
                        last.json, "items.0.last_activity_threshold_days")));
  EXPECT_EQ_INT(
      1, json_object_get_int(
             jget(last.json, "items.0.suggested_update.template_version")));
  /* Accepting the suggestion takes the template over. */
  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/lists/rules/hsfx_assigned_60d", pid1);
  EXPECT_EQ_INT(200, call("PATCH", path, NULL, "{\"accept_suggestion\":true}"));
  EXPECT_EQ_INT(
      60, json_object_get_int(jget(last.json, "last_activity_threshold_days")));
  EXPECT_EQ_INT(1, json_object_get_int(jget(last.json, "template_version")));
  EXPECT_TRUE(jget(last.json, "suggested_update") == NULL);
  EXPECT_TRUE(!json_object_get_boolean(jget(last.json, "edited")));
  EXPECT_EQ_INT(409, call("PATCH", path, NULL, "{\"accept_suggestion\":true}"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/models", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));

  /* Declined consent: the message is stored, the plugin is not called. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid2));
  snprintf(q, sizeof(q), "error=access_denied&state=%s", state);
  EXPECT_EQ_INT(400, call("GET", "/oauth_redirect.do", q, NULL));
  EXPECT_CONTAINS(last.body, "access_denied");
  EXPECT_EQ_INT(2, count_callbacks());
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid2);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_CONTAINS(jstr(last.json, "last_error"), "access_denied");

  /* A code the provider rejects, and a patch of a field the plugin may
   * not patch: failure pages, last_error set. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid2));
  EXPECT_EQ_INT(400, redirect(svc, "bad-code", state));
  EXPECT_CONTAINS(last.body, "rejected");
  snprintf(state, sizeof(state), "%s", oauth_start(svc, pid2));
  EXPECT_EQ_INT(400, redirect(svc, "bad-patch", state));
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_CONTAINS(jstr(last.json, "last_error"), "profile_patch");
  EXPECT_EQ_STR("abc-123", jstr(last.json, "form.client_id"));

  /* Expired state (TTL 1 ms): refused without calling the plugin. */
  snprintf(state, sizeof(state), "%s", oauth_start(svc_short, pid2));
  uv_sleep(20);
  uv_update_time(&loop);
  EXPECT_EQ_INT(400, redirect(svc_short, "good-code", state));
  EXPECT_CONTAINS(last.body, "expired");
  EXPECT_EQ_INT(4, count_callbacks());
}

static void test_validate_publish(void) {
  char path[160];

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/publish", pid1);
  EXPECT_EQ_INT(409, call("POST", path, NULL, NULL));
  EXPECT_CONTAINS(last.body, "Validate Connection");

  /* validate on a profile without tokens fails with the plugin's message,
   * mapped to 403 (SAM_EAUTH), and stored as last_error. */
  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/actions/validate_connection", pid2);
  EXPECT_EQ_INT(403, call("POST", path, NULL, NULL));
  EXPECT_EQ_STR("SAM_EAUTH", jstr(last.json, "status"));
  EXPECT_CONTAINS(jstr(last.json, "message"), "Get OAuth Token");
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/oauth_callback",
           pid1);
  EXPECT_EQ_INT(404, call("POST", path, NULL, NULL)); /* not a UI action */

  /* An action past its deadline answers 504 once it has completed. */
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/actions/slow", pid1);
  EXPECT_EQ_INT(504, call("POST", path, NULL, NULL));
  EXPECT_EQ_STR("SAM_ETIMEDOUT", jstr(last.json, "status"));
  EXPECT_EQ_INT(404,
                call("POST", "/api/v1/profiles/nope/actions/slow", NULL, NULL));

  snprintf(path, sizeof(path),
           "/api/v1/profiles/%s/actions/validate_connection", pid1);
  EXPECT_EQ_INT(200, call("POST", path, NULL, NULL));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_STR("validated", jstr(last.json, "connection_status"));

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/publish", pid1);
  EXPECT_EQ_INT(200, call("POST", path, NULL, NULL));
  EXPECT_EQ_STR("published", jstr(last.json, "state"));
  EXPECT_TRUE(jstr(last.json, "run_job_id") != NULL);
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));
  EXPECT_CONTAINS(last.body, "SAM - Refresh Acme Subscriptions");
  EXPECT_EQ_INT(200, call("GET", "/api/v1/jobs", NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));

  /* Start-up renewal of the published profiles' jobs is idempotent. */
  svc_start();
  EXPECT_EQ_INT(200, call("GET", "/api/v1/jobs", NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));
}

static void test_jobs(void) {
  char path[200];
  char job_id[64];
  int i;

  snprintf(path, sizeof(path), "/api/v1/jobs/%s:reclaim/run", pid1);
  EXPECT_EQ_INT(409, call("POST", path, NULL, "{}"));
  EXPECT_CONTAINS(last.body, "confirm");
  EXPECT_EQ_INT(400, call("POST", path, NULL, "{\"bogus\":true}"));
  EXPECT_EQ_INT(202, call("POST", path, NULL, "{\"dry_run\":true}"));
  snprintf(job_id, sizeof(job_id), "%s", jstr(last.json, "job_id"));
  snprintf(path, sizeof(path), "/api/v1/job-results/%s", job_id);
  /* The result record appears once the run has finished. */
  for (i = 0; i < 1000; i++) {
    EXPECT_TRUE(call("GET", path, NULL, NULL) == 200 || last.http == 404);
    if (last.http == 200 && jstr(last.json, "outcome") != NULL &&
        strcmp(jstr(last.json, "outcome"), "running") != 0)
      break;
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  EXPECT_EQ_STR("success", jstr(last.json, "outcome"));
  EXPECT_EQ_INT(404,
                call("POST", "/api/v1/job-results/nope/cancel", NULL, NULL));
  EXPECT_EQ_INT(404,
                call("POST", "/api/v1/jobs/nope:download/run", NULL, NULL));
}

static void test_update_resets(void) {
  char path[160];

  /* A change outside reset_on_change keeps the state. */
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(200,
                call("PATCH", path, NULL, "{\"form\":{\"region\":\"us\"}}"));
  EXPECT_EQ_STR("published", jstr(last.json, "state"));
  /* A new display name renames the published profile's jobs. */
  EXPECT_EQ_INT(200, call("PATCH", path, NULL,
                          "{\"form\":{\"display_name\":\"Acme Two\"}}"));
  EXPECT_EQ_STR("published", jstr(last.json, "state"));
  EXPECT_EQ_STR("Acme Two", jstr(last.json, "display_name"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(2, json_object_array_length(jget(last.json, "items")));
  EXPECT_CONTAINS(last.body, "SAM - Refresh Acme Two Subscriptions");
  EXPECT_NOT_CONTAINS(last.body, "Refresh Acme Subscriptions");
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);
  EXPECT_EQ_INT(
      400, call("PATCH", path, NULL, "{\"form\":{\"account_name\":\"x\"}}"));
  EXPECT_EQ_INT(400, call("PATCH", path, NULL, "{\"state\":\"published\"}"));
  EXPECT_EQ_INT(
      409, call("PATCH", path, NULL, "{\"form\":{\"account_id\":\"43\"}}"));

  /* Clearing an optional process: Draft, jobs removed, tokens kept. */
  EXPECT_EQ_INT(
      200, call("PATCH", path, NULL, "{\"form\":{\"reclaim_enabled\":false}}"));
  EXPECT_EQ_STR("draft", jstr(last.json, "state"));
  EXPECT_EQ_STR("connected", jstr(last.json, "connection_status"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(0, json_object_array_length(jget(last.json, "items")));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid1);

  /* A credential change: Draft, tokens gone, jobs removed. */
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "tokens"));
  EXPECT_EQ_INT(
      200, call("PATCH", path, NULL, "{\"form\":{\"client_id\":\"new-id\"}}"));
  EXPECT_EQ_STR("draft", jstr(last.json, "state"));
  EXPECT_EQ_STR("not_connected", jstr(last.json, "connection_status"));
  EXPECT_EQ_STR("new-id", jstr(last.json, "form.client_id"));
  EXPECT_EQ_STR("Acme Two", jstr(last.json, "display_name"));
  EXPECT_TRUE(
      json_object_get_boolean(jget(last.json, "form.client_secret.set")));
  EXPECT_EQ_INT(SAM_ENOENT, raw_secret_status(pid1, "tokens"));
  EXPECT_EQ_INT(0, raw_secret_status(pid1, "client_secret"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/jobs", pid1);
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(0, json_object_array_length(jget(last.json, "items")));
}

static void put_subscriptions(const char *pid, int n) {
  sam_record *recs = calloc(500, sizeof(*recs));
  char **bufs = calloc(500, sizeof(char *));
  int i, b;

  for (b = 0; b < n; b += 500) {
    raw r = {0};
    int m = n - b < 500 ? n - b : 500;

    for (i = 0; i < m; i++) {
      char key[32];

      bufs[i] = malloc(600);
      snprintf(key, sizeof(key), "u%06d", b + i);
      snprintf(bufs[i], 600,
               "{\"external_user_id\":\"%s\",\"user_principal_name\":"
               "\"%s@example.com\",\"subscription_identifier\":\"%s\","
               "\"software_model\":%s,\"state\":\"active\",\"active\":%s,"
               "\"first_seen_at\":\"2026-01-01T00:00:00Z\","
               "\"last_seen_at\":\"2026-01-01T00:00:00Z\"}",
               key, key, (b + i) % 2 ? "Weird" : "Pro Seat",
               (b + i) % 2 ? "null" : "\"Pro Seat\"",
               (b + i) % 5 ? "true" : "false");
      recs[i].struct_size = sizeof(recs[i]);
      recs[i].key = strdup(key);
      recs[i].json = bufs[i];
      recs[i].json_len = strlen(bufs[i]);
    }
    EXPECT_EQ_INT(0, sam__host_api()->store_put_batch(
                         sam_runtime_host_handle(rt), pid, "sam_subscription",
                         recs, (size_t)m, on_raw, &r, NULL));
    run_until(&r.done);
    EXPECT_EQ_INT(0, r.status);
    free(r.next);
    free(r.json);
    for (i = 0; i < m; i++) {
      free((char *)recs[i].key);
      free(bufs[i]);
    }
  }
  free(recs);
  free(bufs);
}

static int
count_pages(const char *pid, const char *filter, int limit, int *pages) {
  char path[200], q[400];
  char cursor[400] = "";
  int total = 0;

  *pages = 0;
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/subscriptions", pid);
  for (;;) {
    snprintf(q, sizeof(q), "limit=%d%s%s%s%s", limit, filter ? "&" : "",
             filter ? filter : "", cursor[0] ? "&cursor=" : "", cursor);
    EXPECT_EQ_INT(200, call("GET", path, q, NULL));
    total += (int)json_object_array_length(jget(last.json, "items"));
    (*pages)++;
    if (jstr(last.json, "next_cursor") == NULL)
      break;
    /* Cursors are opaque but URL-safe enough for this test's store. */
    snprintf(cursor, sizeof(cursor), "%s", jstr(last.json, "next_cursor"));
  }
  return total;
}

static void test_lists(void) {
  char path[200];
  int pages = 0;

  put_subscriptions(pid2, 2500);
  EXPECT_EQ_INT(2500, count_pages(pid2, NULL, 500, &pages));
  EXPECT_TRUE(pages >= 5 && pages <= 6);
  EXPECT_EQ_INT(
      1250, count_pages(pid2, "filter.software_model=Pro+Seat", 500, &pages));
  EXPECT_EQ_INT(2000, count_pages(pid2, "filter.active=true", 500, &pages));
  EXPECT_EQ_INT(0, count_pages(pid1, NULL, 100, &pages));

  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/subscriptions", pid2);
  EXPECT_EQ_INT(400, call("GET", path, "limit=501", NULL));
  EXPECT_EQ_INT(400, call("GET", path, "filter.display_name=x", NULL));
  EXPECT_CONTAINS(last.body, "not indexed");
  EXPECT_EQ_INT(400, call("GET", path, "sort=display_name", NULL));
  EXPECT_EQ_INT(200, call("GET", path, "sort=external_user_id&limit=1", NULL));
  EXPECT_EQ_STR("u000000", jstr(last.json, "items.0.external_user_id"));
  EXPECT_EQ_INT(
      404, call("GET", "/api/v1/profiles/x/lists/subscriptions", NULL, NULL));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/nope", pid2);
  EXPECT_EQ_INT(404, call("GET", path, NULL, NULL));
}

static void test_edits(void) {
  char path[240], base[200];

  /* Exclusions. */
  snprintf(base, sizeof(base), "/api/v1/profiles/%s/lists/", pid2);
  snprintf(path, sizeof(path), "%sidentifier-exclusions", base);
  EXPECT_EQ_INT(201, call("POST", path, NULL,
                          "{\"subscription_identifier\":\"Pro Seat\"}"));
  EXPECT_EQ_STR("hsfx_account", jstr(last.json, "profile_type"));
  EXPECT_EQ_STR("tester", jstr(last.json, "created_by"));
  EXPECT_EQ_INT(400, call("POST", path, NULL, "{\"rule_id\":\"x\"}"));
  EXPECT_EQ_INT(200, call("GET", path, NULL, NULL));
  EXPECT_EQ_INT(1, json_object_array_length(jget(last.json, "items")));
  snprintf(path, sizeof(path), "%suser-exclusions", base);
  EXPECT_EQ_INT(201, call("POST", path, NULL,
                          "{\"user_principal_name\":\"Bob@Example.COM\"}"));
  EXPECT_EQ_STR("bob@example.com", jstr(last.json, "user_principal_name"));
  {
    char item[300];

    snprintf(item, sizeof(item), "%s/%s", path, jstr(last.json, "rule_id"));
    EXPECT_EQ_INT(200, call("PATCH", item, NULL, "{\"active\":false}"));
    EXPECT_EQ_INT(200, call("DELETE", item, NULL, NULL));
    EXPECT_EQ_INT(404, call("GET", item, NULL, NULL));
  }
  EXPECT_EQ_INT(400, call("POST", path, NULL,
                          "{\"user_principal_name\":\"a@b.c\","
                          "\"domain\":\"b.c\"}"));

  /* Unrecognized identifiers: map to an existing model only. */
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_unrecognized_identifier", "Weird",
                           "{\"identifier\":\"Weird\","
                           "\"subscription_count\":1250}"));
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_software_model", "Pro Seat",
                           "{\"identifier\":\"Pro Seat\",\"publisher\":\"E\","
                           "\"product\":\"P\",\"source\":\"admin\"}"));
  snprintf(path, sizeof(path), "%sunrecognized/Weird", base);
  EXPECT_EQ_INT(400,
                call("PATCH", path, NULL, "{\"software_model\":\"Nope\"}"));
  EXPECT_TRUE(has_error_at("/software_model"));
  EXPECT_EQ_INT(200,
                call("PATCH", path, NULL, "{\"software_model\":\"Pro Seat\"}"));
  EXPECT_EQ_STR("Pro Seat", jstr(last.json, "software_model"));

  /* Candidates: only the transitions of SAM-MODEL.md 10, with history. */
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_candidate", "c1",
                           "{\"candidate_id\":\"c1\",\"external_user_id\":"
                           "\"u000001\",\"rule_id\":\"r\",\"state\":\"ready\","
                           "\"open\":true,\"opened_at\":"
                           "\"2026-01-01T00:00:00Z\",\"history\":[]}"));
  snprintf(path, sizeof(path), "%scandidates/c1", base);
  EXPECT_EQ_INT(409,
                call("PATCH", path, NULL, "{\"state\":\"closed_complete\"}"));
  EXPECT_EQ_INT(400, call("PATCH", path, NULL, "{\"state\":\"gone\"}"));
  EXPECT_EQ_INT(200, call("PATCH", path, NULL,
                          "{\"state\":\"awaiting_revocation\","
                          "\"reason\":\"no answer\"}"));
  EXPECT_EQ_STR("tester", jstr(last.json, "history.0.actor"));
  EXPECT_EQ_STR("ready", jstr(last.json, "history.0.from"));
  EXPECT_EQ_STR("no answer", jstr(last.json, "history.0.reason"));
  EXPECT_EQ_INT(409, call("PATCH", path, NULL, "{\"state\":\"ready\"}"));
  EXPECT_EQ_INT(200,
                call("PATCH", path, NULL, "{\"state\":\"closed_complete\"}"));
  EXPECT_TRUE(!json_object_get_boolean(jget(last.json, "open")));
  EXPECT_TRUE(jstr(last.json, "closed_at") != NULL);
  EXPECT_EQ_INT(409,
                call("PATCH", path, NULL, "{\"state\":\"closed_skipped\"}"));
  snprintf(path, sizeof(path), "%scandidates", base);
  EXPECT_EQ_INT(400, call("POST", path, NULL, "{}"));
}

static void test_delete(void) {
  char path[200], *rec, *all;

  EXPECT_EQ_INT(0, raw_put(pid2, "sam_candidate", "c2",
                           "{\"candidate_id\":\"c2\",\"external_user_id\":"
                           "\"u000002\",\"rule_id\":\"r\",\"state\":"
                           "\"awaiting_user\",\"open\":true,\"opened_at\":"
                           "\"2026-01-01T00:00:00Z\",\"history\":[]}"));
  EXPECT_EQ_INT(0, raw_put(pid2, "sam_reclamation_rule", "r",
                           "{\"rule_id\":\"r\",\"name\":\"R\",\"basis\":"
                           "\"subscription_assigned_date\","
                           "\"last_activity_threshold_days\":60,"
                           "\"active\":true}"));
  /* A plugin's own record (only its handle may write it). */
  EXPECT_EQ_INT(0, raw_put_as(sam__hs_plugin_handle(svc, "hsfx"), pid2,
                              "hsfx_consumption", "k", "{\"id\":\"k\"}"));
  snprintf(path, sizeof(path), "/api/v1/profiles/%s", pid2);
  EXPECT_EQ_INT(200, call("DELETE", path, NULL, NULL));
  EXPECT_EQ_INT(404, call("GET", path, NULL, NULL));

  rec = raw_get(pid2, "sam_candidate", "c2");
  EXPECT_CONTAINS(rec, "\"state\":\"closed_skipped\"");
  EXPECT_CONTAINS(rec, "profile deleted");
  EXPECT_CONTAINS(rec, "\"actor\":\"tester\"");
  free(rec);
  rec = raw_get(pid2, "sam_candidate", "c1"); /* closed before: unchanged */
  EXPECT_CONTAINS(rec, "closed_complete");
  free(rec);
  rec = raw_get(pid2, "sam_reclamation_rule", "r"); /* rules are kept */
  EXPECT_TRUE(rec != NULL);
  free(rec);
  all = raw_all(pid2, "sam_subscription");
  EXPECT_EQ_STR("", all);
  free(all);
  all = raw_all(pid2, "hsfx_consumption");
  EXPECT_EQ_STR("", all);
  free(all);
  EXPECT_EQ_INT(SAM_ENOENT, raw_secret_status(pid2, "client_secret"));

  /* The display name (and the account) may be reused. */
  EXPECT_EQ_INT(
      201, call("POST", "/api/v1/profiles", NULL, create_body("43", "Other")));
}

int main(void) {
  const char *b = getenv("HOSTSVC_BACKEND");

  use_sqlite = b != NULL && strcmp(b, "sqlite") == 0;
  setup();
  svc_start(); /* nothing published yet */
  sam_sched_start(sched, on_sched_started, NULL);
  run_until(&sched_started);
  SAM_T_RUN(test_registry);
  SAM_T_RUN(test_create_errors);
  SAM_T_RUN(test_create_ok);
  SAM_T_RUN(test_oauth);
  SAM_T_RUN(test_validate_publish);
  SAM_T_RUN(test_jobs);
  SAM_T_RUN(test_update_resets);
  SAM_T_RUN(test_lists);
  SAM_T_RUN(test_edits);
  SAM_T_RUN(test_delete);
  teardown();
  return 0;
}
