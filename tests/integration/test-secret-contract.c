/*
 * test-secret-contract.c: ABI.md 9.7 against the core and the in-memory
 * backend: put/get/delete, SAM_ENOENT, x-sam-secret form fields read-only
 * to the plugin, and a sealed blob bound to (profile, name): copied to
 * another name or profile it fails to open.
 */
#include <stdio.h>
#include <string.h>

#include "sam_backend_memory.h"
#include "test-core-common.h"

static int in_call;

typedef struct sec_rec {
  int calls;
  int status;
  char value[128];
  size_t len;
} sec_rec;

static void on_secret(int status, const char *value, size_t len, void *ud) {
  sec_rec *r = ud;

  EXPECT_EQ_INT(0, in_call);
  r->calls++;
  r->status = status;
  r->len = len;
  r->value[0] = '\0';
  if (value != NULL)
    snprintf(r->value, sizeof(r->value), "%.*s", (int)len, value);
  else
    EXPECT_EQ_INT(0, len);
}

static int sput(sam_test_host *th,
                const char *profile,
                const char *name,
                const char *value,
                sec_rec *r) {
  int rc;

  memset(r, 0, sizeof(*r));
  in_call = 1;
  rc = tp.api->secret_put(tp.host, profile, name, value,
                          value ? strlen(value) : 0, on_secret, r, NULL);
  in_call = 0;
  if (rc == 0) {
    EXPECT_EQ_INT(0, r->calls);
    sam_test_host_drain(th);
    EXPECT_EQ_INT(1, r->calls);
    return r->status;
  }
  return rc;
}

static int
sget(sam_test_host *th, const char *profile, const char *name, sec_rec *r) {
  int rc;

  memset(r, 0, sizeof(*r));
  in_call = 1;
  rc = tp.api->secret_get(tp.host, profile, name, on_secret, r, NULL);
  in_call = 0;
  if (rc == 0) {
    EXPECT_EQ_INT(0, r->calls);
    sam_test_host_drain(th);
    EXPECT_EQ_INT(1, r->calls);
    return r->status;
  }
  return rc;
}

static void setup(uv_loop_t *loop, sam_test_host **th) {
  char err[256];

  tp_setup(loop, th, NULL);
  EXPECT_EQ_INT(0, tp_load(*th, NULL, 0, err, sizeof(err)));
}

static void put_get_delete(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sec_rec r;

  setup(&loop, &th);
  EXPECT_EQ_INT(SAM_ENOENT, sget(th, "p1", "access_token", &r));
  EXPECT_EQ_INT(SAM_OK, sput(th, "p1", "access_token", "tok-123456789", &r));
  EXPECT_EQ_INT(SAM_OK, sget(th, "p1", "access_token", &r));
  EXPECT_EQ_STR("tok-123456789", r.value);
  EXPECT_EQ_INT(13, r.len);
  /* another profile does not see it */
  EXPECT_EQ_INT(SAM_ENOENT, sget(th, "p2", "access_token", &r));
  /* overwrite, then delete with NULL/0 */
  EXPECT_EQ_INT(SAM_OK, sput(th, "p1", "access_token", "{\"t\":\"v2\"}", &r));
  EXPECT_EQ_INT(SAM_OK, sget(th, "p1", "access_token", &r));
  EXPECT_EQ_STR("{\"t\":\"v2\"}", r.value);
  EXPECT_EQ_INT(SAM_OK, sput(th, "p1", "access_token", NULL, &r));
  EXPECT_EQ_INT(SAM_ENOENT, sget(th, "p1", "access_token", &r));
  /* an empty (non-NULL) value is a value */
  EXPECT_EQ_INT(SAM_OK, sput(th, "p1", "empty", "", &r));
  EXPECT_EQ_INT(SAM_OK, sget(th, "p1", "empty", &r));
  EXPECT_EQ_INT(0, r.len);
  tp_teardown(&loop, th);
}

static void bad_names(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sec_rec r;
  char long_name[80];

  setup(&loop, &th);
  memset(long_name, 'a', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  EXPECT_EQ_INT(SAM_EINVAL, sput(th, "p1", "Bad-Name", "x", &r));
  EXPECT_EQ_INT(SAM_EINVAL, sput(th, "p1", "", "x", &r));
  EXPECT_EQ_INT(SAM_EINVAL, sput(th, "p1", long_name, "x", &r));
  EXPECT_EQ_INT(SAM_EINVAL, sput(th, "", "ok", "x", &r));
  EXPECT_EQ_INT(SAM_EINVAL, sget(th, "p1", "a/b", &r));
  EXPECT_EQ_INT(SAM_EINVAL, tp.api->secret_put(tp.host, "p1", "ok", NULL, 3,
                                               on_secret, &r, NULL));
  EXPECT_EQ_INT(0, r.calls);
  tp_teardown(&loop, th);
}

static void form_secret_read_only(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sec_rec r;

  setup(&loop, &th);
  EXPECT_EQ_INT(SAM_EINVAL, sput(th, "p1", "client_secret", "mine", &r));
  EXPECT_EQ_INT(0, r.calls);
  EXPECT_CONTAINS(sam_test_host_log(th), "read-only");
  /* the host writes it (form submission), the plugin reads it */
  EXPECT_EQ_INT(0, sam_test_host_set_secret(th, "p1", "client_secret",
                                            "cs-0123456789abcdef"));
  EXPECT_EQ_INT(SAM_OK, sget(th, "p1", "client_secret", &r));
  EXPECT_EQ_STR("cs-0123456789abcdef", r.value);
  tp_teardown(&loop, th);
}

static void blob_bound_to_profile_and_name(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sec_rec r;

  setup(&loop, &th);
  EXPECT_EQ_INT(SAM_OK, sput(th, "p1", "refresh_token", "rt-abcdefgh", &r));
  /* Someone with access to the database copies the sealed blob. */
  EXPECT_EQ_INT(0, sam__backend_memory_blob_copy(sam_test_host_backend(th),
                                                 "p1", "refresh_token", "p1",
                                                 "other_name"));
  EXPECT_EQ_INT(0, sam__backend_memory_blob_copy(sam_test_host_backend(th),
                                                 "p1", "refresh_token", "p2",
                                                 "refresh_token"));
  EXPECT_EQ_INT(SAM_EIO, sget(th, "p1", "other_name", &r));
  EXPECT_EQ_STR("", r.value);
  EXPECT_EQ_INT(SAM_EIO, sget(th, "p2", "refresh_token", &r));
  EXPECT_EQ_STR("", r.value);
  EXPECT_CONTAINS(sam_test_host_log(th), "secret failed to open");
  EXPECT_NOT_CONTAINS(sam_test_host_log(th), "rt-abcdefgh");
  /* the original still opens */
  EXPECT_EQ_INT(SAM_OK, sget(th, "p1", "refresh_token", &r));
  EXPECT_EQ_STR("rt-abcdefgh", r.value);
  tp_teardown(&loop, th);
}

static void cancel_secret_op(void) {
  uv_loop_t loop;
  sam_test_host *th;
  sam_op *op = NULL;
  sec_rec r;

  setup(&loop, &th);
  memset(&r, 0, sizeof(r));
  EXPECT_EQ_INT(0, tp.api->secret_put(tp.host, "p1", "pending", "value-1234",
                                      10, on_secret, &r, &op));
  EXPECT_EQ_INT(0, tp.api->op_cancel(op));
  sam_test_host_drain(th);
  EXPECT_EQ_INT(1, r.calls);
  EXPECT_EQ_INT(SAM_ECANCELED, r.status);
  EXPECT_EQ_INT(SAM_ENOENT, sget(th, "p1", "pending", &r));
  tp_teardown(&loop, th);
}

int main(void) {
  SAM_T_RUN(put_get_delete);
  SAM_T_RUN(bad_names);
  SAM_T_RUN(form_secret_read_only);
  SAM_T_RUN(blob_bound_to_profile_and_name);
  SAM_T_RUN(cancel_secret_op);
  return 0;
}
