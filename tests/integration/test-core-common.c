/* test-core-common.c: the in-test plugin "tp" (see test-core-common.h). */
#include <stdio.h>
#include <string.h>

#include "test-core-common.h"

tp_state tp;

const char *const tp_form_schema =
    "{\"type\":\"object\",\"properties\":{"
    "\"client_id\":{\"type\":\"string\",\"title\":\"Client id\"},"
    "\"client_secret\":{\"type\":\"string\",\"title\":\"Client secret\","
    "\"writeOnly\":true,\"x-sam-secret\":true}}}";

const char *const tp_item_schema =
    "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"
    "\"n\":{\"type\":\"integer\"}}}";

static const tp_proc *g_procs;
static size_t g_n;
static sam_plugin_ops g_ops;

static void noop_post(void *ud) {
  (void)ud;
}

static void tp_shutdown(void *plugin_ud, sam_done *done) {
  (void)plugin_ud;
  tp.shutdown_calls++;
  tp.post_in_shutdown = tp.api->post(tp.host, noop_post, NULL);
  if (tp.on_shutdown != NULL)
    tp.on_shutdown();
  if (!tp.leaky)
    tp.api->shutdown_done(done);
}

static int tp_init(const sam_host_api *api,
                   sam_host *host,
                   const sam_init_args *args,
                   const sam_plugin_ops **ops_out,
                   char *err,
                   size_t err_len) {
  sam_profile_type_desc ptd;
  sam_record_type_desc rtd;
  size_t i;
  int rc;

  (void)args;
  tp.api = api;
  tp.host = host;
  memset(&ptd, 0, sizeof(ptd));
  ptd.struct_size = sizeof(ptd);
  ptd.form_schema_version = 1;
  ptd.type_id = "tp_profile";
  ptd.display_name = "Test profile";
  ptd.form_schema_json = tp_form_schema;
  ptd.form_schema_len = strlen(tp_form_schema);
  rc = api->register_profile_type(host, &ptd, &tp.pt);
  if (rc != 0) {
    snprintf(err, err_len, "profile type [%s]", sam_err_name(rc));
    return rc;
  }
  memset(&rtd, 0, sizeof(rtd));
  rtd.struct_size = sizeof(rtd);
  rtd.schema_version = 1;
  rtd.record_type = "tp_item";
  rtd.schema_json = tp_item_schema;
  rtd.schema_len = strlen(tp_item_schema);
  rtd.key_pointer = "/id";
  rtd.indexes_json = "[\"/status\"]";
  rtd.flags = SAM_RECORD_VALIDATE_WRITES;
  rc = api->register_record_type(host, tp.pt, &rtd);
  if (rc != 0) {
    snprintf(err, err_len, "record type [%s]", sam_err_name(rc));
    return rc;
  }
  for (i = 0; i < g_n; i++) {
    const tp_proc *p = &g_procs[i];

    if (p->kind == SAM_JOB_ACTION) {
      sam_action_desc d;

      memset(&d, 0, sizeof(d));
      d.struct_size = sizeof(d);
      d.flags = p->flags;
      d.timeout_ms = p->timeout_ms;
      d.action_id = p->id;
      d.display_name = p->id;
      d.start = p->start;
      d.cancel = p->cancel;
      d.ud = p->ud;
      d.ud_free = p->ud_free;
      rc = api->register_action(host, tp.pt, &d);
    } else {
      sam_process_desc d;

      memset(&d, 0, sizeof(d));
      d.struct_size = sizeof(d);
      d.flags = p->flags;
      d.timeout_ms = p->timeout_ms;
      d.process_id = p->id;
      d.display_name = p->id;
      d.start = p->start;
      d.cancel = p->cancel;
      d.ud = p->ud;
      d.ud_free = p->ud_free;
      rc = api->register_process(host, tp.pt, &d);
    }
    if (rc != 0) {
      snprintf(err, err_len, "register [%s] [%s]", p->id, sam_err_name(rc));
      return rc;
    }
  }
  memset(&g_ops, 0, sizeof(g_ops));
  g_ops.struct_size = sizeof(g_ops);
  g_ops.shutdown = tp_shutdown;
  *ops_out = &g_ops;
  return 0;
}

int tp_load(sam_test_host *th,
            const tp_proc *procs,
            size_t n,
            char *err,
            size_t err_len) {
  sam_host *h = NULL;
  int rc;

  g_procs = procs;
  g_n = n;
  rc = sam__plugin_create(sam_test_host_runtime(th), "tp", "1.0.0", "", &h);
  if (rc != 0)
    return rc;
  rc = sam__plugin_run_init(h, tp_init, NULL, err, err_len);
  if (rc != 0) {
    sam__plugin_rollback(h);
    return rc;
  }
  return sam__plugin_post_init(h, err, err_len);
}

void tp_setup(uv_loop_t *loop,
              sam_test_host **th,
              const sam_test_host_opts *opts) {
  memset(&tp, 0, sizeof(tp));
  EXPECT_EQ_INT(0, uv_loop_init(loop));
  EXPECT_EQ_INT(0, sam_test_host_new(loop, opts, th));
}

void tp_teardown(uv_loop_t *loop, sam_test_host *th) {
  sam_test_host_shutdown(th);
  sam_test_host_free(th);
  EXPECT_EQ_INT(0, uv_run(loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(loop));
}

void tp_run_until(uv_loop_t *loop, const int *flag) {
  while (!*flag) {
    if (uv_run(loop, UV_RUN_ONCE) == 0 && !*flag)
      SAM_T_FAIL("loop ran dry before the condition held");
  }
}
