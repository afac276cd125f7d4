/*
 * test-registry.c: registration (ABI.md 8.4, 9.3, 10): only inside init,
 * descriptors through sam__copy_in ([struct_size=4] rejected, a non-zero
 * tail SAM_ENOTSUP, non-zero reserved and unknown flags SAM_EINVAL), the
 * validation rules, ud ownership at the call, staging until post_init, and
 * rollback calling every ud_free exactly once.
 */
#include <stdio.h>
#include <string.h>

#include "test-core-common.h"

static int frees[8];

static void count_free(void *ud) {
  frees[(int *)ud - frees]++;
}

static int start_nop(sam_job *job, const sam_job_input *in, void *ud) {
  (void)in;
  (void)ud;
  return tp.api->job_complete(job, SAM_OK, "ok", NULL, 0);
}

static void cancel_nop(sam_job *job, void *ud) {
  (void)job;
  (void)ud;
}

/* What the plugin under test does in init. */
static int (*scenario)(const sam_host_api *api,
                       sam_host *host,
                       char *err,
                       size_t err_len);
static int scenario_rc[16];
static sam_plugin_ops ops;
static int ops_shutdowns;

static void ops_shutdown(void *ud, sam_done *done) {
  (void)ud;
  ops_shutdowns++;
  tp.api->shutdown_done(done);
}

static int init_fn(const sam_host_api *api,
                   sam_host *host,
                   const sam_init_args *args,
                   const sam_plugin_ops **ops_out,
                   char *err,
                   size_t err_len) {
  int rc;

  EXPECT_EQ_INT(sizeof(sam_init_args), args->struct_size);
  EXPECT_EQ_STR("samhost", args->host_name);
  tp.api = api;
  tp.host = host;
  rc = scenario(api, host, err, err_len);
  memset(&ops, 0, sizeof(ops));
  ops.struct_size = sizeof(ops);
  ops.shutdown = ops_shutdown;
  *ops_out = &ops;
  return rc;
}

static sam_profile_type *pt;

static int reg_pt(const sam_host_api *api, sam_host *host) {
  sam_profile_type_desc d;

  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.type_id = "rg_profile";
  d.display_name = "R";
  d.form_schema_json = tp_form_schema;
  return api->register_profile_type(host, &d, &pt);
}

static sam_process_desc proc(const char *id, int ud_index) {
  sam_process_desc d;

  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.process_id = id;
  d.start = start_nop;
  if (ud_index >= 0) {
    d.ud = &frees[ud_index];
    d.ud_free = count_free;
  }
  return d;
}

static int load(sam_test_host *th,
                const char *name,
                sam_host **out,
                char *err,
                size_t err_len) {
  sam_host *h = NULL;
  int rc;

  memset(frees, 0, sizeof(frees));
  memset(scenario_rc, 0, sizeof(scenario_rc));
  ops_shutdowns = 0;
  EXPECT_EQ_INT(
      0, sam__plugin_create(sam_test_host_runtime(th), name, "1.0", "", &h));
  *out = h;
  rc = sam__plugin_run_init(h, init_fn, NULL, err, err_len);
  if (rc != 0) {
    sam__plugin_rollback(h);
    return rc;
  }
  return sam__plugin_post_init(h, err, err_len);
}

/* ---- scenarios ---- */

static int sc_rollback(const sam_host_api *api,
                       sam_host *host,
                       char *err,
                       size_t err_len) {
  sam_process_desc p;
  sam_action_desc a;

  scenario_rc[0] = reg_pt(api, host);
  p = proc("one", 0);
  scenario_rc[1] = api->register_process(host, pt, &p);
  p = proc("two", 1);
  scenario_rc[2] = api->register_process(host, pt, &p);
  memset(&a, 0, sizeof(a));
  a.struct_size = sizeof(a);
  a.action_id = "act";
  a.start = start_nop;
  a.ud = &frees[2];
  a.ud_free = count_free;
  scenario_rc[3] = api->register_action(host, pt, &a);
  snprintf(err, err_len, "failing on purpose");
  return SAM_EIO;
}

static int sc_short_desc(const sam_host_api *api,
                         sam_host *host,
                         char *err,
                         size_t err_len) {
  sam_process_desc p = proc("short", 0);

  (void)err;
  (void)err_len;
  scenario_rc[0] = reg_pt(api, host);
  p.struct_size = 4;
  scenario_rc[1] = api->register_process(host, pt, &p);
  return 0; /* init ignores the failure: post_init must catch it */
}

static int sc_validation(const sam_host_api *api,
                         sam_host *host,
                         char *err,
                         size_t err_len) {
  struct {
    sam_process_desc d;
    uint64_t extra;
  } big;
  sam_process_desc p;
  sam_action_desc a;
  sam_record_type_desc r;
  sam_model_desc m;
  sam_rule_template_desc t;
  sam_profile_type *pt2 = NULL;
  sam_profile_type_desc ptd;

  (void)err;
  (void)err_len;
  scenario_rc[0] = reg_pt(api, host);
  /* a second profile type */
  memset(&ptd, 0, sizeof(ptd));
  ptd.struct_size = sizeof(ptd);
  ptd.type_id = "rg_other";
  ptd.display_name = "O";
  ptd.form_schema_json = tp_form_schema;
  scenario_rc[1] = api->register_profile_type(host, &ptd, &pt2);
  /* bad id */
  p = proc("Bad-Id", 0);
  scenario_rc[2] = api->register_process(host, pt, &p);
  /* unknown flag bit */
  p = proc("flags", 1);
  p.flags = 1u << 20;
  scenario_rc[3] = api->register_process(host, pt, &p);
  /* CANCELLABLE without cancel */
  p = proc("nocancel", 2);
  p.flags = SAM_PROC_CANCELLABLE;
  scenario_rc[4] = api->register_process(host, pt, &p);
  /* larger struct with a non-zero tail */
  memset(&big, 0, sizeof(big));
  big.d = proc("bigger", 3);
  big.d.struct_size = sizeof(big);
  big.extra = 1;
  scenario_rc[5] = api->register_process(host, pt, &big.d);
  /* larger struct with a zero tail: fine */
  big.d = proc("bigger_ok", 4);
  big.d.struct_size = sizeof(big);
  big.extra = 0;
  scenario_rc[6] = api->register_process(host, pt, &big.d);
  /* two OAUTH_START actions */
  memset(&a, 0, sizeof(a));
  a.struct_size = sizeof(a);
  a.flags = SAM_ACTION_OAUTH_START | SAM_ACTION_UI;
  a.action_id = "oauth_a";
  a.start = start_nop;
  a.cancel = cancel_nop;
  scenario_rc[7] = api->register_action(host, pt, &a);
  a.action_id = "oauth_b";
  scenario_rc[8] = api->register_action(host, pt, &a);
  /* record types: wrong prefix, reserved prefix, non-zero reserved0, bad
   * schema keyword */
  memset(&r, 0, sizeof(r));
  r.struct_size = sizeof(r);
  r.record_type = "other_item";
  r.schema_json = tp_item_schema;
  r.key_pointer = "/id";
  scenario_rc[9] = api->register_record_type(host, pt, &r);
  r.record_type = "sam_item";
  scenario_rc[10] = api->register_record_type(host, pt, &r);
  r.record_type = "rg_item";
  r.reserved0 = 1;
  scenario_rc[11] = api->register_record_type(host, pt, &r);
  r.reserved0 = 0;
  r.schema_json = "{\"type\":\"object\",\"frobnicate\":true}";
  scenario_rc[12] = api->register_record_type(host, pt, &r);
  /* model with non-zero reserved0; template that is not JSON */
  memset(&m, 0, sizeof(m));
  m.struct_size = sizeof(m);
  m.reserved0 = 1;
  m.identifier = "x";
  m.model_json = "{}";
  scenario_rc[13] = api->register_model(host, pt, &m);
  memset(&t, 0, sizeof(t));
  t.struct_size = sizeof(t);
  t.template_id = "rg_t";
  t.rule_json = "{nope";
  scenario_rc[14] = api->register_rule_template(host, pt, &t);
  /* a bogus profile type handle */
  p = proc("badpt", 5);
  scenario_rc[15] = api->register_process(host, (sam_profile_type *)&m, &p);
  return 0;
}

static int
sc_good(const sam_host_api *api, sam_host *host, char *err, size_t err_len) {
  sam_process_desc p = proc("run", 0);
  sam_model_desc m;
  sam_rule_template_desc t;

  (void)err;
  (void)err_len;
  scenario_rc[0] = reg_pt(api, host);
  scenario_rc[1] = api->register_process(host, pt, &p);
  memset(&m, 0, sizeof(m));
  m.struct_size = sizeof(m);
  m.identifier = "DocuSign Business Pro";
  m.model_json = "{\"publisher\":\"DocuSign\"}";
  scenario_rc[2] = api->register_model(host, pt, &m);
  memset(&t, 0, sizeof(t));
  t.struct_size = sizeof(t);
  t.template_version = 2;
  t.template_id = "rg_assigned_60d";
  t.rule_json = "{\"days\":60}";
  scenario_rc[3] = api->register_rule_template(host, pt, &t);
  return 0;
}

static int sc_no_profile_type(const sam_host_api *api,
                              sam_host *host,
                              char *err,
                              size_t err_len) {
  (void)api;
  (void)host;
  (void)err;
  (void)err_len;
  return 0;
}

/* ---- tests ---- */

static void rollback_frees_each_ud_once(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_host *h;
  char before[4096], err[256];

  tp_setup(&loop, &th, NULL);
  snprintf(before, sizeof(before), "%s", sam_test_host_registry_json(th));
  scenario = sc_rollback;
  EXPECT_EQ_INT(SAM_EIO, load(th, "rg", &h, err, sizeof(err)));
  EXPECT_EQ_STR("failing on purpose", err);
  EXPECT_EQ_INT(0, scenario_rc[1]);
  EXPECT_EQ_INT(0, scenario_rc[3]);
  EXPECT_EQ_INT(1, frees[0]);
  EXPECT_EQ_INT(1, frees[1]);
  EXPECT_EQ_INT(1, frees[2]);
  EXPECT_EQ_STR(before, sam_test_host_registry_json(th));
  EXPECT_EQ_INT(SAM__PHASE_STOPPED, sam__plugin_phase(h));
  tp_teardown(&loop, th);
  EXPECT_EQ_INT(1, frees[0]);
  EXPECT_EQ_INT(1, frees[1]);
  EXPECT_EQ_INT(1, frees[2]);
}

static void short_descriptor_fails_post_init(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_host *h;
  char err[256];

  tp_setup(&loop, &th, NULL);
  scenario = sc_short_desc;
  EXPECT_EQ_INT(SAM_EINVAL, load(th, "rg", &h, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[1]);
  EXPECT_CONTAINS(err, "[struct_size=4]");
  EXPECT_CONTAINS(sam__plugin_last_error(h), "[struct_size=4]");
  EXPECT_CONTAINS(sam_test_host_log(th), "[struct_size=4]");
  EXPECT_NOT_CONTAINS(sam_test_host_registry_json(th), "rg_profile");
  /* the plugin had ops: its shutdown ran, then the rollback */
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, ops_shutdowns);
  tp_teardown(&loop, th);
}

static void validation_rules(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_host *h;
  char err[256];
  int i;

  tp_setup(&loop, &th, NULL);
  scenario = sc_validation;
  EXPECT_EQ_INT(SAM_EINVAL, load(th, "rg", &h, err, sizeof(err)));
  EXPECT_EQ_INT(0, scenario_rc[0]);
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[1]);  /* second profile type */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[2]);  /* bad id */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[3]);  /* unknown flag */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[4]);  /* cancellable, no cancel */
  EXPECT_EQ_INT(SAM_ENOTSUP, scenario_rc[5]); /* non-zero tail */
  EXPECT_EQ_INT(0, scenario_rc[6]);           /* zero tail */
  EXPECT_EQ_INT(0, scenario_rc[7]);
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[8]);  /* second OAUTH_START */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[9]);  /* not rg_ */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[10]); /* sam_ reserved */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[11]); /* reserved0 */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[12]); /* unknown keyword */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[13]); /* model reserved0 */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[14]); /* template not JSON */
  EXPECT_EQ_INT(SAM_EINVAL, scenario_rc[15]); /* bogus pt */
  EXPECT_CONTAINS(err, "a registration failed [count=13]");
  sam_test_host_drain(th);
  /* every ud given with a ud_free was freed exactly once, failed or not */
  for (i = 0; i <= 5; i++)
    EXPECT_EQ_INT(1, frees[i]);
  tp_teardown(&loop, th);
}

static void good_plugin_and_late_register(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_host *h;
  sam_process_desc p;
  const char *json;
  char err[256];

  tp_setup(&loop, &th, NULL);
  scenario = sc_good;
  EXPECT_EQ_INT(0, load(th, "rg", &h, err, sizeof(err)));
  EXPECT_EQ_INT(SAM__PHASE_RUNNING, sam__plugin_phase(h));
  EXPECT_EQ_STR("rg", sam__plugin_name(h));
  json = sam_test_host_registry_json(th);
  EXPECT_CONTAINS(json, "\"name\":\"rg\"");
  EXPECT_CONTAINS(json, "\"type_id\":\"rg_profile\"");
  EXPECT_CONTAINS(json, "\"secret_fields\":[\"client_secret\"]");
  EXPECT_CONTAINS(json, "\"process_id\":\"run\"");
  EXPECT_CONTAINS(json, "\"identifier\":\"DocuSign Business Pro\"");
  EXPECT_CONTAINS(json, "\"template_id\":\"rg_assigned_60d\"");
  /* after init: SAM_EBUSY, nothing registered, ud still freed once */
  p = proc("late", 6);
  EXPECT_EQ_INT(SAM_EBUSY, tp.api->register_process(h, pt, &p));
  EXPECT_NOT_CONTAINS(sam_test_host_registry_json(th), "\"late\"");
  EXPECT_EQ_INT(0, frees[6]);
  EXPECT_EQ_INT(0, sam_test_host_shutdown(th));
  EXPECT_EQ_INT(1, frees[6]);
  EXPECT_EQ_INT(1, frees[0]);
  EXPECT_EQ_INT(1, ops_shutdowns);
  tp_teardown(&loop, th);
}

static void exactly_one_profile_type(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_host *h;
  char err[256];

  tp_setup(&loop, &th, NULL);
  scenario = sc_no_profile_type;
  EXPECT_EQ_INT(SAM_EINVAL, load(th, "rg", &h, err, sizeof(err)));
  EXPECT_CONTAINS(err, "exactly one profile type");
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(rollback_frees_each_ud_once);
  SAM_T_RUN(short_descriptor_fails_post_init);
  SAM_T_RUN(validation_rules);
  SAM_T_RUN(good_plugin_and_late_register);
  SAM_T_RUN(exactly_one_profile_type);
  return 0;
}
