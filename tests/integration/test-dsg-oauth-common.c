/*
 * test-dsg-oauth-common.c: see test-dsg-oauth-common.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sam/sam_loader.h"
#include "sam/sam_plugin.h"
#include "sam_backend_memory.h"
#include "sam_backend_sqlite.h"
#include "sam_core.h"
#include "sam_seal.h"
#include "sam_test.h"
#include "test-dsg-oauth-common.h"

#define MANIFEST SAM_BINARY_DIR "/plugin/plugin.manifest.json"

/* ---- runtime ---- */

void (*oh_backend_wrap)(struct sam__backend *b);

static void on_log(void *ud,
                   int32_t level,
                   const char *plugin,
                   const char *job_id,
                   const char *line) {
  oh *h = ud;
  size_t n = strlen(line);
  char *p = realloc(h->log, h->log_len + n + 2);

  (void)level;
  (void)plugin;
  (void)job_id;
  if (p == NULL)
    return;
  h->log = p;
  memcpy(h->log + h->log_len, line, n);
  h->log_len += n;
  h->log[h->log_len++] = '\n';
  h->log[h->log_len] = '\0';
}

static void on_secret_set(int status, void *ud) {
  int *st = ud;

  *st = status;
}

void oh_sim_start(oh *h, const char *const *extra) {
  const char *args[32];
  int n = 0;

  memset(h, 0, sizeof(*h));
  EXPECT_EQ_INT(0, uv_loop_init(&h->loop));
  EXPECT_EQ_INT(0, sam_test_tls_make(&h->tls));
  args[n++] = "--cert";
  args[n++] = h->tls.cert;
  args[n++] = "--key";
  args[n++] = h->tls.key;
  args[n++] = "--users";
  args[n++] = "5";
  args[n++] = "--redirect-uri";
  args[n++] = REDIRECT;
  while (extra != NULL && *extra != NULL && n < 30)
    args[n++] = *extra++;
  args[n] = NULL;
  EXPECT_EQ_INT(0, sim_child_start(&h->sim, SIM_EXE, args));
  EXPECT_TRUE(h->sim.https[0] != '\0');
  snprintf(h->profile, sizeof(h->profile),
           "{\"display_name\":\"DocuSign Integration\","
           "\"integration_type\":\"account_level\",\"client_id\":\"%s\","
           "\"account_id\":\"%s\",\"instance_url\":\"%s\","
           "\"download_enabled\":true,\"reclaim_enabled\":true}",
           CLIENT_ID, h->sim.account_id, h->sim.https);
}

void oh_start(oh *h, const char *db, const char *config, const char *secret) {
  sam__runtime_config cfg;
  sam_load_result res;
  char err[256];
  int st = 1;

  if (h->kr == NULL)
    EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&h->kr));
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = &h->loop;
  cfg.keyring = h->kr;
  cfg.log_fn = on_log;
  cfg.log_ud = h;
  cfg.test_mode = 1;
  if (db != NULL) {
    snprintf(h->db, sizeof(h->db), "%s", db);
    if (sam__backend_sqlite_open(&h->loop, db, NULL, &cfg.backend, err,
                                 sizeof(err)) != 0)
      SAM_T_FAIL("sqlite open failed [%s]", err);
  } else {
    h->db[0] = '\0';
    EXPECT_EQ_INT(0, sam__backend_memory_new(&h->loop, 0, &cfg.backend));
  }
  if (oh_backend_wrap != NULL)
    oh_backend_wrap(&cfg.backend);
  EXPECT_EQ_INT(0, sam__runtime_new(&cfg, &h->rt));
  if (config == NULL) {
    snprintf(h->config, sizeof(h->config),
             "{\"ca_file\":\"%s\",\"test_mode\":true}", h->tls.ca);
    config = h->config;
  }
  memset(&res, 0, sizeof(res));
  sam_loader_load(h->rt, MANIFEST, config, &res, NULL);
  if (res.status != 0)
    SAM_T_FAIL("load failed [%s]", res.message);
  if (secret == NULL)
    secret = CLIENT_SECRET;
  EXPECT_EQ_INT(0, sam_runtime_set_form_secret(h->rt, "p1", "client_secret",
                                               secret, strlen(secret),
                                               on_secret_set, &st));
  while (st == 1)
    uv_run(&h->loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(0, st);
}

static void on_closed(void *ud) {
  *(int *)ud = 1;
}

void oh_stop_runtime(oh *h) {
  int done = 0;

  if (h->rt == NULL)
    return;
  sam_runtime_close(h->rt, on_closed, &done);
  while (!done)
    uv_run(&h->loop, UV_RUN_ONCE);
  EXPECT_EQ_STR("", sam__runtime_violations(h->rt));
  sam_runtime_free(h->rt);
  h->rt = NULL;
}

void oh_finish(oh *h) {
  oh_stop_runtime(h);
  EXPECT_EQ_INT(0, uv_run(&h->loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&h->loop));
  /* A SIGTERM right after start can beat the simulator's signal handler
   * (it then dies from the signal): make sure it is serving first. */
  (void)oh_stat(h, "/", 0);
  EXPECT_EQ_INT(0, sim_child_stop(&h->sim));
  sam__keyring_free(h->kr);
  h->kr = NULL;
  if (h->db[0] != '\0') {
    char p[400];

    unlink(h->db);
    snprintf(p, sizeof(p), "%s-wal", h->db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", h->db);
    unlink(p);
  }
  sam_test_tls_cleanup(&h->tls);
  free(h->log);
  h->log = NULL;
}

/* ---- jobs ---- */

typedef struct waitjob {
  int done;
  oh_run *out;
} waitjob;

static void on_done(const sam_job_outcome *o, void *ud) {
  waitjob *w = ud;

  w->done = 1;
  if (w->out == NULL)
    return;
  w->out->status = o->status;
  w->out->completions = o->completions;
  w->out->message = strdup(o->message != NULL ? o->message : "");
  w->out->result =
      o->result_json != NULL ? strndup(o->result_json, o->result_len) : NULL;
  w->out->res =
      w->out->result != NULL ? json_tokener_parse(w->out->result) : NULL;
}

void oh_action(oh *h,
               const char *id,
               const char *profile_json,
               const char *state,
               const char *code,
               oh_run *out) {
  sam_job_request req;
  waitjob w;

  memset(out, 0, sizeof(*out));
  memset(&w, 0, sizeof(w));
  w.out = out;
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_ACTION;
  req.id = id;
  req.profile_id = "p1";
  req.profile_json = profile_json != NULL ? profile_json : h->profile;
  req.profile_len = strlen(req.profile_json);
  req.redirect_uri = REDIRECT;
  req.oauth_state = state;
  req.oauth_code = code;
  req.done = on_done;
  req.ud = &w;
  EXPECT_EQ_INT(0, sam_runtime_job_start(h->rt, &req, NULL));
  while (!w.done)
    uv_run(&h->loop, UV_RUN_ONCE);
  printf("  %s -> [%s] %s\n", id, sam_err_name(out->status), out->message);
}

void oh_run_free(oh_run *r) {
  free(r->message);
  free(r->result);
  json_object_put(r->res);
  memset(r, 0, sizeof(*r));
}

typedef struct many {
  int done;
  int ok;
} many;

static void on_many(const sam_job_outcome *o, void *ud) {
  many *m = ud;

  m->done++;
  if (o->status == SAM_OK)
    m->ok++;
  else
    printf("  concurrent validate -> [%s] %s\n", sam_err_name(o->status),
           o->message);
}

int oh_validate_many(oh *h, int n) {
  sam_job_request req;
  many m;
  int i;

  memset(&m, 0, sizeof(m));
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_ACTION;
  req.id = "validate_connection";
  req.profile_id = "p1";
  req.profile_json = h->profile;
  req.profile_len = strlen(h->profile);
  req.done = on_many;
  req.ud = &m;
  for (i = 0; i < n; i++)
    EXPECT_EQ_INT(0, sam_runtime_job_start(h->rt, &req, NULL));
  while (m.done < n)
    uv_run(&h->loop, UV_RUN_ONCE);
  return m.ok;
}

/* ---- the consent ---- */

/* The query parameter `k` of a Location URL into out. */
static int loc_param(const char *loc, const char *k, char *out, size_t n) {
  char key[64];
  const char *p;
  size_t len;

  snprintf(key, sizeof(key), "%s=", k);
  for (p = strchr(loc, '?'); p != NULL; p = strchr(p + 1, '&')) {
    if (strncmp(p + 1, key, strlen(key)) == 0) {
      p += 1 + strlen(key);
      len = strcspn(p, "&");
      if (len >= n)
        return 0;
      memcpy(out, p, len);
      out[len] = '\0';
      return 1;
    }
  }
  return 0;
}

void oh_consent(oh *h, const char *state, int page, char *code, size_t n) {
  oh_run r;
  const char *url;
  sim_resp sr;
  char loc[2048];
  char got[256];

  oh_action(h, "get_oauth_token", NULL, state, NULL, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  url = sim_jstr(r.res, "redirect_url");
  EXPECT_TRUE(url != NULL);
  EXPECT_EQ_INT(CURLE_OK,
                sim_http("GET", url, NULL, NULL, NULL, h->tls.ca, &sr));
  if (page) {
    /* The consent page: POST its Accept form. */
    char txn[128];
    char form[256];
    char purl[256];
    const char *p;

    EXPECT_EQ_INT(200, sr.status);
    p = strstr(sr.body, "name=\"txn\" value=\"");
    EXPECT_TRUE(p != NULL);
    p += strlen("name=\"txn\" value=\"");
    snprintf(txn, sizeof(txn), "%.*s", (int)strcspn(p, "\""), p);
    EXPECT_CONTAINS(sr.body, "value=\"accept\"");
    sim_resp_free(&sr);
    snprintf(form, sizeof(form), "txn=%s&decision=accept", txn);
    snprintf(purl, sizeof(purl), "%s/oauth/consent", h->sim.https);
    EXPECT_EQ_INT(CURLE_OK, sim_http("POST", purl, NULL, form,
                                     "application/x-www-form-urlencoded",
                                     h->tls.ca, &sr));
  }
  EXPECT_EQ_INT(302, sr.status);
  EXPECT_TRUE(sim_resp_header(&sr, "location", loc, sizeof(loc)));
  sim_resp_free(&sr);
  EXPECT_TRUE(strncmp(loc, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
  EXPECT_TRUE(loc_param(loc, "state", got, sizeof(got)));
  EXPECT_EQ_STR(state, got);
  EXPECT_TRUE(loc_param(loc, "code", code, n));
  oh_run_free(&r);
}

void oh_connect(oh *h, const char *state) {
  oh_run r;
  char code[256];

  oh_consent(h, state, 0, code, sizeof(code));
  oh_action(h, "oauth_callback", NULL, state, code, &r);
  EXPECT_EQ_INT(SAM_OK, r.status);
  oh_run_free(&r);
}

/* ---- secrets through the host ---- */

typedef struct sget {
  int done;
  int status;
  char *value;
} sget;

static void on_sget(int status, const char *value, size_t len, void *ud) {
  sget *g = ud;

  g->done = 1;
  g->status = status;
  if (status == 0 && value != NULL)
    g->value = strndup(value, len);
}

int oh_secret(oh *h, const char *name, char **out) {
  sam_host *hh = sam_runtime_host_handle(h->rt);
  sget g;

  *out = NULL;
  memset(&g, 0, sizeof(g));
  EXPECT_TRUE(hh != NULL);
  EXPECT_EQ_INT(0,
                sam__host_api()->secret_get(hh, "p1", name, on_sget, &g, NULL));
  while (!g.done)
    uv_run(&h->loop, UV_RUN_ONCE);
  *out = g.value;
  return g.status;
}

int oh_secret_put(oh *h, const char *name, const char *value) {
  sam_host *hh = sam_runtime_host_handle(h->rt);
  sget g;

  memset(&g, 0, sizeof(g));
  EXPECT_TRUE(hh != NULL);
  EXPECT_EQ_INT(0,
                sam__host_api()->secret_put(hh, "p1", name, value,
                                            strlen(value), on_sget, &g, NULL));
  while (!g.done)
    uv_run(&h->loop, UV_RUN_ONCE);
  free(g.value);
  return g.status;
}

/* ---- simulator stats ---- */

long oh_stat(oh *h, const char *key, long status) {
  char url[256];
  sim_resp r;
  json_object *o;
  json_object *eps = NULL;
  json_object *v = NULL;
  long sum = 0;
  size_t i;

  snprintf(url, sizeof(url), "%s/_sim/stats", h->sim.http);
  EXPECT_EQ_INT(CURLE_OK, sim_http("GET", url, NULL, NULL, NULL, NULL, &r));
  o = sim_resp_json(&r);
  EXPECT_TRUE(o != NULL);
  if (key[0] == '\0') {
    EXPECT_TRUE(json_object_object_get_ex(o, "total_requests", &v));
    sum = (long)json_object_get_int64(v);
  } else {
    EXPECT_TRUE(json_object_object_get_ex(o, "endpoints", &eps));
    for (i = 0; i < json_object_array_length(eps); i++) {
      json_object *e = json_object_array_get_idx(eps, i);
      json_object *st = NULL;
      json_object *c = NULL;
      const char *name = sim_jstr(e, "endpoint");

      json_object_object_get_ex(e, "status", &st);
      json_object_object_get_ex(e, "count", &c);
      if (name != NULL && strstr(name, key) != NULL &&
          (status == 0 || json_object_get_int64(st) == status))
        sum += (long)json_object_get_int64(c);
    }
  }
  json_object_put(o);
  sim_resp_free(&r);
  return sum;
}

void oh_stats_reset(oh *h) {
  EXPECT_EQ_INT(200, sim_control(&h->sim, "stats/reset", "{}"));
}
