/*
 * test-dsg-init.c: dsg_init and the asynchronous shutdown against a fake
 * host table written here (no libsamhost): the version checks, config and
 * registration failures with their messages, what init registers, the
 * not-implemented job answers, and shutdown ordering with an open job, a
 * pending host operation and an HTTP transfer in flight. Every test ends
 * with shutdown_done called exactly once and uv_loop_close(loop) == 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#include "dsg_ctx.h"
#include "dsg_http.h"
#include "dsg_plugin.h"

/* ---- the fake host ---- */

#define MAXREG 32

typedef struct fake {
  uv_loop_t loop;
  int profile_types;
  char records[MAXREG][64];
  int n_records;
  char procs[MAXREG][64];
  uint32_t proc_flags[MAXREG];
  sam_start_fn proc_start[MAXREG];
  int n_procs;
  char actions[MAXREG][64];
  uint32_t action_flags[MAXREG];
  sam_start_fn action_start[MAXREG];
  int n_actions;
  int n_models;
  int n_templates;
  const char *fail_process; /* register_process fails for this id */
  int completions;
  int last_status;
  char last_msg[256];
  int op_cancels;
  int shutdown_done;
  char log[8192];
} fake;

static fake g_fake;
static int g_pt_token;

static struct uv_loop_s *f_get_loop(sam_host *host) {
  (void)host;
  return &g_fake.loop;
}

static void f_shutdown_done(sam_done *done) {
  EXPECT_TRUE(done == (sam_done *)&g_fake);
  g_fake.shutdown_done++;
}

static int f_reg_pt(sam_host *host,
                    const sam_profile_type_desc *d,
                    sam_profile_type **out) {
  (void)host;
  EXPECT_EQ_STR("docusign_subscription", d->type_id);
  EXPECT_TRUE(d->form_schema_len > 100);
  g_fake.profile_types++;
  *out = (sam_profile_type *)&g_pt_token;
  return 0;
}

static int f_reg_record(sam_host *host,
                        sam_profile_type *pt,
                        const sam_record_type_desc *d) {
  (void)host;
  EXPECT_TRUE(pt == (sam_profile_type *)&g_pt_token);
  snprintf(g_fake.records[g_fake.n_records++], 64, "%s", d->record_type);
  return 0;
}

static int
f_reg_process(sam_host *host, sam_profile_type *pt, const sam_process_desc *d) {
  int i = g_fake.n_procs;

  (void)host;
  (void)pt;
  if (g_fake.fail_process != NULL &&
      strcmp(g_fake.fail_process, d->process_id) == 0)
    return SAM_EINVAL;
  EXPECT_TRUE(d->cancel != NULL);
  snprintf(g_fake.procs[i], 64, "%s", d->process_id);
  g_fake.proc_flags[i] = d->flags;
  g_fake.proc_start[i] = d->start;
  g_fake.n_procs++;
  return 0;
}

static int
f_reg_model(sam_host *host, sam_profile_type *pt, const sam_model_desc *d) {
  (void)host;
  (void)pt;
  EXPECT_TRUE(d->model_len > 0);
  EXPECT_CONTAINS(d->model_json, "\"publisher\":\"DocuSign\"");
  g_fake.n_models++;
  return 0;
}

static int f_reg_template(sam_host *host,
                          sam_profile_type *pt,
                          const sam_rule_template_desc *d) {
  (void)host;
  (void)pt;
  EXPECT_TRUE(strncmp(d->template_id, "docusign_assigned_60d_", 22) == 0);
  EXPECT_EQ_INT(1, d->template_version);
  g_fake.n_templates++;
  return 0;
}

static int
f_reg_action(sam_host *host, sam_profile_type *pt, const sam_action_desc *d) {
  int i = g_fake.n_actions;

  (void)host;
  (void)pt;
  snprintf(g_fake.actions[i], 64, "%s", d->action_id);
  g_fake.action_flags[i] = d->flags;
  g_fake.action_start[i] = d->start;
  g_fake.n_actions++;
  return 0;
}

static int f_job_complete(sam_job *job,
                          int status,
                          const char *msg,
                          const char *result_json,
                          size_t result_len) {
  (void)job;
  (void)result_json;
  (void)result_len;
  g_fake.completions++;
  g_fake.last_status = status;
  snprintf(g_fake.last_msg, sizeof(g_fake.last_msg), "%s", msg ? msg : "");
  return 0;
}

static int f_op_cancel(sam_op *op) {
  (void)op;
  g_fake.op_cancels++;
  return 0;
}

static void f_log(
    sam_host *host, sam_job *job, int32_t level, const char *msg, size_t len) {
  size_t have = strlen(g_fake.log);

  (void)host;
  (void)job;
  (void)level;
  if (have + len + 2 < sizeof(g_fake.log)) {
    memcpy(g_fake.log + have, msg, len);
    g_fake.log[have + len] = '\n';
    g_fake.log[have + len + 1] = '\0';
  }
}

static sam_host_api g_api;

static void fake_reset(void) {
  memset(&g_fake, 0, sizeof(g_fake));
  memset(&g_api, 0, sizeof(g_api));
  g_api.struct_size = sizeof(g_api);
  g_api.abi_major = SAM_ABI_MAJOR;
  g_api.abi_minor = SAM_ABI_MINOR;
  g_api.get_loop = f_get_loop;
  g_api.shutdown_done = f_shutdown_done;
  g_api.register_profile_type = f_reg_pt;
  g_api.register_record_type = f_reg_record;
  g_api.register_process = f_reg_process;
  g_api.register_model = f_reg_model;
  g_api.register_rule_template = f_reg_template;
  g_api.register_action = f_reg_action;
  g_api.job_complete = f_job_complete;
  g_api.op_cancel = f_op_cancel;
  g_api.log_write = f_log;
  EXPECT_EQ_INT(0, uv_loop_init(&g_fake.loop));
}

static int init_with(const char *config,
                     const sam_plugin_ops **ops,
                     char *err,
                     size_t err_len) {
  sam_init_args args;

  memset(&args, 0, sizeof(args));
  args.struct_size = sizeof(args);
  args.host_name = "fake";
  args.host_version = "0";
  args.config_json = config;
  args.config_len = config != NULL ? strlen(config) : 0;
  err[0] = '\0';
  return dsg_init(&g_api, (sam_host *)&g_fake, &args, ops, err, err_len);
}

static void loop_finish(void) {
  EXPECT_EQ_INT(0, uv_run(&g_fake.loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&g_fake.loop));
}

/* Runs the plugin's shutdown and the loop until it is empty. */
static void shutdown_and_finish(const sam_plugin_ops *ops) {
  ops->shutdown(ops->plugin_ud, (sam_done *)&g_fake);
  EXPECT_EQ_INT(0, g_fake.shutdown_done); /* never inside the call */
  loop_finish();
  EXPECT_EQ_INT(1, g_fake.shutdown_done);
}

/* ---- tests ---- */

static void test_version_checks(void) {
  const sam_plugin_ops *ops = NULL;
  char err[256];

  fake_reset();
  g_api.struct_size = (uint32_t)SAM_HOST_API_V1_0_SIZE - 8;
  EXPECT_EQ_INT(SAM_EVERSION, init_with(NULL, &ops, err, sizeof(err)));
  EXPECT_CONTAINS(err, "host table too old [struct_size=");
  g_api.struct_size = sizeof(g_api);
  g_api.abi_major = 2;
  EXPECT_EQ_INT(SAM_EVERSION, init_with(NULL, &ops, err, sizeof(err)));
  EXPECT_CONTAINS(err, "[major=2]");
  EXPECT_TRUE(ops == NULL);
  EXPECT_EQ_INT(0, g_fake.profile_types);
  loop_finish();
}

static void test_bad_config(void) {
  const sam_plugin_ops *ops = NULL;
  char err[256];

  fake_reset();
  EXPECT_EQ_INT(SAM_EINVAL, init_with("{\"connect_timeout_ms\":\"x\"}", &ops,
                                      err, sizeof(err)));
  EXPECT_CONTAINS(err, "[connect_timeout_ms]");
  EXPECT_CONTAINS(err, "[\"x\"]");
  EXPECT_TRUE(ops == NULL);
  loop_finish();
}

static void test_registration_failure(void) {
  const sam_plugin_ops *ops = NULL;
  char err[256];

  fake_reset();
  g_fake.fail_process = "reclaim";
  EXPECT_EQ_INT(SAM_EINVAL, init_with(NULL, &ops, err, sizeof(err)));
  EXPECT_EQ_STR("register_process failed [reclaim] [SAM_EINVAL]", err);
  EXPECT_TRUE(ops == NULL);
  loop_finish();
}

static void test_init_and_stubs(void) {
  const sam_plugin_ops *ops = NULL;
  char err[256];
  int i;

  fake_reset();
  EXPECT_EQ_INT(0, init_with("{\"test_mode\":true}", &ops, err, sizeof(err)));
  EXPECT_TRUE(ops != NULL);
  EXPECT_TRUE(ops->struct_size >= SAM_PLUGIN_OPS_V1_0_SIZE);
  EXPECT_TRUE(ops->shutdown != NULL);
  EXPECT_EQ_INT(1, g_fake.profile_types);
  EXPECT_EQ_INT(3, g_fake.n_records);
  EXPECT_EQ_STR("docusign_consumption", g_fake.records[0]);
  EXPECT_EQ_STR("docusign_download_state", g_fake.records[1]);
  EXPECT_EQ_STR("docusign_reclaim_intent", g_fake.records[2]);
  EXPECT_EQ_INT(2, g_fake.n_procs);
  EXPECT_EQ_STR("download", g_fake.procs[0]);
  EXPECT_EQ_INT(SAM_PROC_CANCELLABLE, g_fake.proc_flags[0]);
  EXPECT_EQ_STR("reclaim", g_fake.procs[1]);
  EXPECT_EQ_INT(SAM_PROC_CANCELLABLE | SAM_PROC_MUTATES_REMOTE |
                    SAM_PROC_DRY_RUN,
                g_fake.proc_flags[1]);
  EXPECT_EQ_INT(4, g_fake.n_actions);
  EXPECT_EQ_STR("get_oauth_token", g_fake.actions[0]);
  EXPECT_EQ_INT(SAM_ACTION_UI | SAM_ACTION_OAUTH_START, g_fake.action_flags[0]);
  EXPECT_EQ_STR("validate_connection", g_fake.actions[1]);
  EXPECT_EQ_INT(SAM_ACTION_UI, g_fake.action_flags[1]);
  EXPECT_EQ_STR("oauth_callback", g_fake.actions[2]);
  EXPECT_EQ_INT(SAM_ACTION_OAUTH_CALLBACK, g_fake.action_flags[2]);
  EXPECT_EQ_STR("restore_subscription", g_fake.actions[3]);
  EXPECT_EQ_INT(0, g_fake.action_flags[3]);
  EXPECT_EQ_INT(9, g_fake.n_models);
  EXPECT_EQ_INT(9, g_fake.n_templates);

  /* C1: complete inside start with a message, return SAM_OK. The
   * processes are implemented (download, reclaim): without a job input
   * they complete at once saying so. */
  for (i = 0; i < g_fake.n_procs; i++) {
    EXPECT_EQ_INT(
        SAM_OK, g_fake.proc_start[i]((sam_job *)&g_fake, NULL, ops->plugin_ud));
    EXPECT_EQ_INT(i + 1, g_fake.completions);
    EXPECT_TRUE(g_fake.last_status != SAM_OK &&
                g_fake.last_status != SAM_ENOTSUP);
  }
  /* The actions are implemented (test-dsg-oauth): without a job input they
   * complete at once with a message (C1). */
  for (i = 0; i < g_fake.n_actions; i++) {
    EXPECT_EQ_INT(SAM_OK, g_fake.action_start[i]((sam_job *)&g_fake, NULL,
                                                 ops->plugin_ud));
    EXPECT_EQ_INT(SAM_EINVAL, g_fake.last_status);
    EXPECT_CONTAINS(g_fake.last_msg, "no profile");
  }
  shutdown_and_finish(ops);
}

/* ---- shutdown ordering ---- */

typedef struct pending {
  dsg_job_ref job;
  dsg_op_ref op;
  dsg_ctx *ctx;
  uv_timer_t timer;
  int aborted;
  int http_calls;
  int http_status;
} pending;

static pending g_p;

/* The job completes on a later turn, like a real one would. */
static void on_abort_timer(uv_timer_t *t) {
  pending *p = t->data;

  uv_close((uv_handle_t *)t, NULL);
  EXPECT_EQ_INT(SAM_OK, g_api.job_complete(p->job.job, SAM_ECANCELED,
                                           "canceled", NULL, 0));
  EXPECT_EQ_INT(0, g_fake.shutdown_done); /* the op is still pending */
  dsg_job_untrack(p->ctx, &p->job);
}

static void job_abort(dsg_job_ref *ref) {
  pending *p = (pending *)((char *)ref - offsetof(pending, job));

  p->aborted++;
  EXPECT_EQ_INT(0, uv_timer_init(&g_fake.loop, &p->timer));
  p->timer.data = p;
  EXPECT_EQ_INT(0, uv_timer_start(&p->timer, on_abort_timer, 0, 0));
}

static uv_timer_t g_op_timer;

static void on_http_done(const dsg_http_resp *resp, void *ud) {
  pending *p = ud;

  p->http_calls++;
  p->http_status = resp->status;
  /* The HTTP client closes only after the job and the op are done. */
  EXPECT_EQ_INT(1, g_fake.completions);
  EXPECT_TRUE(p->ctx->host_ops == NULL);
}

/* Accepts nothing and answers nothing. */
static void on_conn_ignore(uv_stream_t *server, int status) {
  (void)server;
  (void)status;
}

static void on_op_cb_timer(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
  dsg_op_untrack(g_p.ctx, &g_p.op);
}

static void test_shutdown_waits(void) {
  const sam_plugin_ops *ops = NULL;
  char err[256];
  uv_tcp_t listener;
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  char url[64];
  dsg_http_req_opts o;

  fake_reset();
  memset(&g_p, 0, sizeof(g_p));
  /* test_mode: plain http to the loopback listener is allowed. */
  EXPECT_EQ_INT(0, init_with("{\"test_mode\":true}", &ops, err, sizeof(err)));
  g_p.ctx = ops->plugin_ud;
  /* An open job and a pending host operation. */
  g_p.job.job = (sam_job *)&g_p;
  g_p.job.abort = job_abort;
  dsg_job_track(g_p.ctx, &g_p.job);
  g_p.op.op = (sam_op *)&g_p;
  dsg_op_track(g_p.ctx, &g_p.op);
  /* An HTTP transfer in flight: a listener that never answers (the kernel
   * completes the handshake from the backlog). */
  EXPECT_EQ_INT(0, uv_tcp_init(&g_fake.loop, &listener));
  EXPECT_EQ_INT(0, uv_ip4_addr("127.0.0.1", 0, &addr));
  EXPECT_EQ_INT(0, uv_tcp_bind(&listener, (struct sockaddr *)&addr, 0));
  EXPECT_EQ_INT(0,
                uv_tcp_getsockname(&listener, (struct sockaddr *)&bound, &len));
  EXPECT_EQ_INT(0, uv_listen((uv_stream_t *)&listener, 16, on_conn_ignore));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang",
           ntohs(((struct sockaddr_in *)&bound)->sin_port));
  memset(&o, 0, sizeof(o));
  o.url = url;
  EXPECT_EQ_INT(0,
                dsg_http_request(g_p.ctx->http, &o, on_http_done, &g_p, NULL));
  /* A few loop turns: queued -> in the multi handle -> connecting. */
  for (int i = 0; i < 5; i++)
    uv_run(&g_fake.loop, UV_RUN_NOWAIT);
  EXPECT_EQ_INT(0, g_p.http_calls);

  ops->shutdown(ops->plugin_ud, (sam_done *)&g_fake);
  EXPECT_EQ_INT(1, g_p.aborted);
  EXPECT_EQ_INT(1, g_fake.op_cancels);
  EXPECT_EQ_INT(0, g_fake.shutdown_done);
  /* The op's callback arrives two turns later. */
  EXPECT_EQ_INT(0, uv_timer_init(&g_fake.loop, &g_op_timer));
  EXPECT_EQ_INT(0, uv_timer_start(&g_op_timer, on_op_cb_timer, 1, 0));
  while (g_fake.shutdown_done == 0)
    uv_run(&g_fake.loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, g_fake.completions);
  EXPECT_EQ_INT(SAM_ECANCELED, g_fake.last_status);
  EXPECT_EQ_INT(1, g_p.http_calls);
  EXPECT_EQ_INT(SAM_ECANCELED, g_p.http_status);
  uv_close((uv_handle_t *)&listener, NULL);
  loop_finish();
  EXPECT_EQ_INT(1, g_fake.shutdown_done);
}

int main(void) {
  SAM_T_RUN(test_version_checks);
  SAM_T_RUN(test_bad_config);
  SAM_T_RUN(test_registration_failure);
  SAM_T_RUN(test_init_and_stubs);
  SAM_T_RUN(test_shutdown_waits);
  return 0;
}
