/*
 * test-dsg-review.c: regression tests for bugs found in review of the
 * plugin's token cache (dsg_token.c), its API calls (dsg_api.c) and the
 * HTTP client (dsg_http.c). A fake host table written here holds secrets
 * in memory and answers secret calls only when the test says so, so a
 * test can place a host callback exactly where a race needs it. Every test
 * ends with the HTTP client closed and uv_loop_close(loop) == 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#include "dsg_action.h"
#include "dsg_api.h"
#include "dsg_ctx.h"
#include "dsg_http.h"
#include "dsg_token.h"

/* ---- the fake host: secrets answered on demand ---- */

#define MAXPEND 8

typedef struct pend {
  char name[64];
  int is_put;
  sam_secret_cb cb;
  void *ud;
} pend;

typedef struct fake {
  uv_loop_t loop;
  pend q[MAXPEND];
  int n;
  const char *tokens_doc; /* "oauth_tokens"; NULL: SAM_ENOENT */
  int eagain;             /* secret calls to refuse with SAM_EAGAIN */
  char log[4096];
} fake;

static fake g_f;
static sam_host_api g_api;

static int f_secret_get(sam_host *host,
                        const char *profile_id,
                        const char *name,
                        sam_secret_cb cb,
                        void *ud,
                        sam_op **op_out) {
  pend *p;

  (void)host;
  (void)profile_id;
  if (g_f.eagain > 0) {
    g_f.eagain--;
    return SAM_EAGAIN; /* the host's write queue is full (ABI.md 9.6) */
  }
  EXPECT_TRUE(g_f.n < MAXPEND);
  p = &g_f.q[g_f.n++];
  snprintf(p->name, sizeof(p->name), "%s", name);
  p->is_put = 0;
  p->cb = cb;
  p->ud = ud;
  if (op_out != NULL)
    *op_out = (sam_op *)p;
  return 0;
}

static int f_secret_put(sam_host *host,
                        const char *profile_id,
                        const char *name,
                        const char *value,
                        size_t len,
                        sam_secret_cb cb,
                        void *ud,
                        sam_op **op_out) {
  pend *p;

  (void)host;
  (void)profile_id;
  (void)value;
  (void)len;
  EXPECT_TRUE(g_f.n < MAXPEND);
  p = &g_f.q[g_f.n++];
  snprintf(p->name, sizeof(p->name), "%s", name);
  p->is_put = 1;
  p->cb = cb;
  p->ud = ud;
  if (op_out != NULL)
    *op_out = (sam_op *)p;
  return 0;
}

static int f_op_cancel(sam_op *op) {
  (void)op;
  return 0;
}

static void f_log(
    sam_host *host, sam_job *job, int32_t level, const char *msg, size_t len) {
  size_t have = strlen(g_f.log);

  (void)host;
  (void)job;
  (void)level;
  if (have + len + 2 < sizeof(g_f.log)) {
    memcpy(g_f.log + have, msg, len);
    g_f.log[have + len] = '\n';
    g_f.log[have + len + 1] = '\0';
  }
}

/* Answers the oldest pending secret call named `name` (never from inside a
 * plugin call, as C4 wants): client_secret is "s3cret", oauth_tokens is
 * g_f.tokens_doc, a put succeeds. */
static void answer(const char *name) {
  pend p;
  int i;

  for (i = 0; i < g_f.n; i++)
    if (strcmp(g_f.q[i].name, name) == 0)
      break;
  EXPECT_TRUE(i < g_f.n);
  p = g_f.q[i];
  memmove(&g_f.q[i], &g_f.q[i + 1], (size_t)(g_f.n - i - 1) * sizeof(pend));
  g_f.n--;
  if (p.is_put)
    p.cb(0, NULL, 0, p.ud);
  else if (strcmp(p.name, "client_secret") == 0)
    p.cb(0, "s3cret", 6, p.ud);
  else if (g_f.tokens_doc != NULL)
    p.cb(0, g_f.tokens_doc, strlen(g_f.tokens_doc), p.ud);
  else
    p.cb(SAM_ENOENT, NULL, 0, p.ud);
}

static int pending_named(const char *name) {
  int i;
  int k = 0;

  for (i = 0; i < g_f.n; i++)
    k += strcmp(g_f.q[i].name, name) == 0;
  return k;
}

static dsg_ctx *ctx_new(void) {
  dsg_ctx *ctx;
  dsg_http_config hc;

  memset(&g_f, 0, sizeof(g_f));
  memset(&g_api, 0, sizeof(g_api));
  g_api.struct_size = sizeof(g_api);
  g_api.abi_major = SAM_ABI_MAJOR;
  g_api.abi_minor = SAM_ABI_MINOR;
  g_api.secret_get = f_secret_get;
  g_api.secret_put = f_secret_put;
  g_api.op_cancel = f_op_cancel;
  g_api.log_write = f_log;
  EXPECT_EQ_INT(0, uv_loop_init(&g_f.loop));
  ctx = calloc(1, sizeof(*ctx));
  EXPECT_TRUE(ctx != NULL);
  ctx->api = &g_api;
  ctx->host = (sam_host *)&g_f;
  ctx->loop = &g_f.loop;
  memset(&hc, 0, sizeof(hc));
  hc.allow_plain_http = 1;
  EXPECT_EQ_INT(0, dsg_http_start(&g_f.loop, &hc, &ctx->http));
  return ctx;
}

static void on_http_closed(void *ud) {
  int *closed = ud;

  (*closed)++;
}

static void ctx_finish(dsg_ctx *ctx) {
  int closed = 0;

  EXPECT_EQ_INT(0, g_f.n);
  dsg_http_close(ctx->http, on_http_closed, &closed);
  EXPECT_EQ_INT(0, uv_run(&g_f.loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(1, closed);
  EXPECT_EQ_INT(0, (int)ctx->pending_ops);
  dsg_token_free_all(ctx);
  free(ctx);
  EXPECT_EQ_INT(0, uv_loop_close(&g_f.loop));
}

static const dsg_token_args g_ta = {"p1", "client-1", "http://127.0.0.1:1"};

/* ---- dsg_api_cancel from another call's failure callback ---- */

typedef struct two_calls two_calls;

typedef struct call_ud {
  two_calls *t;
  int which;
} call_ud;

struct two_calls {
  dsg_api_call *call[2];
  call_ud ud[2];
  int done[2];
  int status[2];
};

static void on_call(int status,
                    const dsg_http_resp *resp,
                    const char *msg,
                    int64_t ra,
                    void *ud) {
  call_ud *u = ud;
  two_calls *t = u->t;

  (void)resp;
  (void)msg;
  (void)ra;
  t->done[u->which]++;
  t->status[u->which] = status;
  t->call[u->which] = NULL;
  /* A job that fails stops its other calls, as dl_fail does. */
  if (u->which == 0 && t->call[1] != NULL) {
    dsg_api_cancel(t->call[1]);
    t->call[1] = NULL;
  }
}

/* Two calls wait for the token; the profile has none, so both fail in one
 * go. The first failure cancels the second call: its callback must never
 * run (dsg_api_cancel's contract), although it was already detached for
 * failing. Before the fix it ran anyway: a download's dl_fail cancels its
 * other page requests, whose callbacks then ran on freed state. */
static void test_cancel_inside_token_failure(void) {
  dsg_ctx *ctx = ctx_new();
  two_calls t;

  memset(&t, 0, sizeof(t));
  t.ud[0].t = t.ud[1].t = &t;
  t.ud[1].which = 1;
  EXPECT_EQ_INT(0, dsg_api_get(ctx, &g_ta, "http://127.0.0.1:1/a", on_call,
                               &t.ud[0], &t.call[0]));
  EXPECT_EQ_INT(0, dsg_api_get(ctx, &g_ta, "http://127.0.0.1:1/b", on_call,
                               &t.ud[1], &t.call[1]));
  EXPECT_EQ_INT(1, pending_named(DSG_TOKEN_SECRET));
  answer(DSG_TOKEN_SECRET); /* SAM_ENOENT: no token */
  EXPECT_EQ_INT(1, t.done[0]);
  EXPECT_EQ_INT(SAM_EAUTH, t.status[0]);
  EXPECT_EQ_INT(0, t.done[1]); /* cancelled: never called */
  ctx_finish(ctx);
}

/* ---- a new consent while the cache is busy ---- */

typedef struct got {
  int n;
  int status;
  char token[64];
} got;

static void
on_got(int status, const char *token, uint64_t gen, const char *msg, void *ud) {
  got *g = ud;

  (void)gen;
  (void)msg;
  g->n++;
  g->status = status;
  snprintf(g->token, sizeof(g->token), "%s", token != NULL ? token : "");
}

#define OLD_DOC                                                                \
  "{\"access_token\":\"old-access\",\"refresh_token\":\"old-refresh\","        \
  "\"expires_at\":1000,\"obtained_at\":1,\"scope\":\"\"}"

static char *new_doc(void) {
  char *json = NULL;

  EXPECT_EQ_INT(0, dsg_token_install_prepare("new-access", "new-refresh", 28800,
                                             "signature", &json));
  return json;
}

/* The refresh of an expired token is waiting for the client secret when a
 * new consent installs fresh tokens. The refresh must not go out: it would
 * send the NEW refresh token, DocuSign would rotate it (A14), and the
 * reply would be dropped as belonging to the old grant, leaving the cache
 * with a dead refresh token. The waiter gets the new access token. */
static void test_install_during_refresh_secret(void) {
  dsg_ctx *ctx = ctx_new();
  dsg_token_waiter w;
  got g;
  char *doc;

  memset(&g, 0, sizeof(g));
  g_f.tokens_doc = OLD_DOC;
  EXPECT_EQ_INT(0, dsg_token_get(ctx, &g_ta, 0, 0, &w, on_got, &g));
  answer(DSG_TOKEN_SECRET); /* expired: a refresh starts */
  EXPECT_EQ_INT(1, pending_named("client_secret"));
  doc = new_doc();
  EXPECT_EQ_INT(0, dsg_token_install_commit(ctx, &g_ta, doc));
  dsg_token_free_json(doc);
  answer("client_secret");
  EXPECT_EQ_INT(0, (int)dsg_http_open_requests(ctx->http));
  EXPECT_EQ_INT(1, g.n);
  EXPECT_EQ_INT(SAM_OK, g.status);
  EXPECT_EQ_STR("new-access", g.token);
  ctx_finish(ctx);
}

/* The first load of the stored tokens is in flight when a new consent
 * installs fresh tokens: the value read before the install must not
 * replace them (before the fix the waiter got the old, expired token). */
static void test_install_during_load(void) {
  dsg_ctx *ctx = ctx_new();
  dsg_token_waiter w;
  got g;
  char *doc;

  memset(&g, 0, sizeof(g));
  g_f.tokens_doc = OLD_DOC;
  EXPECT_EQ_INT(0, dsg_token_get(ctx, &g_ta, 0, 0, &w, on_got, &g));
  EXPECT_EQ_INT(1, pending_named(DSG_TOKEN_SECRET));
  doc = new_doc();
  EXPECT_EQ_INT(0, dsg_token_install_commit(ctx, &g_ta, doc));
  dsg_token_free_json(doc);
  answer(DSG_TOKEN_SECRET); /* the old document, read before the install */
  EXPECT_EQ_INT(0, pending_named("client_secret"));
  EXPECT_EQ_INT(0, (int)dsg_http_open_requests(ctx->http));
  EXPECT_EQ_INT(1, g.n);
  EXPECT_EQ_INT(SAM_OK, g.status);
  EXPECT_EQ_STR("new-access", g.token);
  ctx_finish(ctx);
}

/* ---- SAM_EAGAIN from the host ---- */

#define GOOD_DOC                                                               \
  "{\"access_token\":\"good-access\",\"refresh_token\":\"good-refresh\","      \
  "\"expires_at\":4102444800,\"obtained_at\":1,\"scope\":\"\"}"

/* ABI.md 9.6: SAM_EAGAIN means "queue full, retry later". The cache
 * failed every waiter with it instead (a download then failed on a busy
 * store, and a rotated refresh token stayed unstored). Now it retries
 * after a short timer and the waiter is served. */
static void test_eagain_retried(void) {
  dsg_ctx *ctx = ctx_new();
  dsg_token_waiter w;
  got g;

  memset(&g, 0, sizeof(g));
  g_f.tokens_doc = GOOD_DOC;
  g_f.eagain = 2;
  EXPECT_EQ_INT(0, dsg_token_get(ctx, &g_ta, 0, 0, &w, on_got, &g));
  EXPECT_EQ_INT(0, g.n); /* not failed */
  /* The retry timers run; the loop has nothing else. */
  while (pending_named(DSG_TOKEN_SECRET) == 0 &&
         uv_run(&g_f.loop, UV_RUN_ONCE) != 0)
    ;
  EXPECT_EQ_INT(1, pending_named(DSG_TOKEN_SECRET));
  EXPECT_EQ_INT(0, g_f.eagain);
  answer(DSG_TOKEN_SECRET);
  EXPECT_EQ_INT(1, g.n);
  EXPECT_EQ_INT(SAM_OK, g.status);
  EXPECT_EQ_STR("good-access", g.token);
  ctx_finish(ctx);
}

/* Shutdown while a retry waits: the timer still closes, the waiter fails
 * with SAM_ECANCELED, and the host operation count returns to 0 (so the
 * plugin's shutdown can finish). */
static void test_eagain_then_stopping(void) {
  dsg_ctx *ctx = ctx_new();
  dsg_token_waiter w;
  got g;

  memset(&g, 0, sizeof(g));
  g_f.tokens_doc = GOOD_DOC;
  g_f.eagain = 1;
  EXPECT_EQ_INT(0, dsg_token_get(ctx, &g_ta, 0, 0, &w, on_got, &g));
  EXPECT_EQ_INT(1, (int)ctx->pending_ops); /* shutdown waits for it */
  ctx->stopping = 1;
  while (g.n == 0 && uv_run(&g_f.loop, UV_RUN_ONCE) != 0)
    ;
  EXPECT_EQ_INT(1, g.n);
  EXPECT_EQ_INT(SAM_ECANCELED, g.status);
  EXPECT_EQ_INT(0, (int)ctx->pending_ops);
  ctx->stopping = 0;
  ctx_finish(ctx);
}

/* ---- expires_in from a reply ---- */

/* A token reply's expires_in is DocuSign's (or an attacker's) number;
 * json-c turns 1e300 into INT64_MAX. now + expires_in overflowed (UB; in
 * practice a negative expiry, so the token was refreshed on every use). */
static void test_huge_expires_in(void) {
  char *json = NULL;
  json_object *o;
  json_object *v;
  int64_t now = (int64_t)time(NULL);

  EXPECT_EQ_INT(0, dsg_token_install_prepare("a-token-1", "r-token-1",
                                             INT64_MAX, "signature", &json));
  o = json_tokener_parse(json);
  EXPECT_TRUE(o != NULL && json_object_object_get_ex(o, "expires_at", &v));
  EXPECT_TRUE(json_object_get_int64(v) > now);
  EXPECT_TRUE(json_object_get_int64(v) <= now + 400LL * 86400);
  json_object_put(o);
  dsg_token_free_json(json);
}

/* ---- account_name cut to the form's maxLength ---- */

/* maxLength 200 counts characters. The account name was cut at 200 BYTES:
 * a 150-character name in a 2-byte script lost a third of its characters
 * and could end inside a character (invalid UTF-8 in the profile). */
static void test_utf8_prefix(void) {
  char s[1024];
  size_t i;

  for (i = 0; i < 150; i++)
    memcpy(s + 2 * i, "\xc3\xa9", 2); /* U+00E9, 2 bytes */
  s[300] = '\0';
  EXPECT_EQ_INT(300, (int)dsg_utf8_prefix(s, 200)); /* 150 chars: all */
  for (i = 0; i < 250; i++)
    memcpy(s + 2 * i, "\xc3\xa9", 2);
  s[500] = '\0';
  EXPECT_EQ_INT(400, (int)dsg_utf8_prefix(s, 200)); /* 200 chars */
  memset(s, 'a', 250);
  s[250] = '\0';
  EXPECT_EQ_INT(200, (int)dsg_utf8_prefix(s, 200));
  /* a 3-byte character straddling the limit is left out whole */
  memset(s, 'a', 199);
  memcpy(s + 199, "\xe2\x82\xac\xe2\x82\xac", 6); /* two U+20AC */
  s[205] = '\0';
  EXPECT_EQ_INT(202, (int)dsg_utf8_prefix(s, 200));
  EXPECT_EQ_INT(0, (int)dsg_utf8_prefix("", 200));
}

int main(void) {
  SAM_T_RUN(test_cancel_inside_token_failure);
  SAM_T_RUN(test_install_during_refresh_secret);
  SAM_T_RUN(test_install_during_load);
  SAM_T_RUN(test_utf8_prefix);
  SAM_T_RUN(test_huge_expires_in);
  SAM_T_RUN(test_eagain_retried);
  SAM_T_RUN(test_eagain_then_stopping);
  return 0;
}
