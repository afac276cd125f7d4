/*
 * test-host-has.c: SAM_HOST_HAS is false for a table whose struct_size does
 * not cover the member, or whose member is NULL (ABI.md 7); the host's own
 * table covers and sets every v1.0 member.
 */
#include <string.h>

#include "sam/sam_plugin.h"
#include "sam_core.h"
#include "sam_test.h"

static void dummy_free(sam_host *h, void *p) {
  (void)h;
  (void)p;
}

static void truncated_struct_size(void) {
  sam_host_api api;

  memset(&api, 0, sizeof(api));
  api.mem_free = dummy_free;
  api.struct_size = sizeof(api);
  EXPECT_TRUE(SAM_HOST_HAS(&api, mem_free));
  api.struct_size = (uint32_t)offsetof(sam_host_api, mem_free);
  EXPECT_TRUE(!SAM_HOST_HAS(&api, mem_free));
  api.struct_size = (uint32_t)(offsetof(sam_host_api, mem_free) + 4);
  EXPECT_TRUE(!SAM_HOST_HAS(&api, mem_free));
  api.struct_size = 16;
  EXPECT_TRUE(!SAM_HOST_HAS(&api, mem_free));
  EXPECT_TRUE(!SAM_HOST_HAS(&api, get_loop));
}

static void null_member(void) {
  sam_host_api api;

  memset(&api, 0, sizeof(api));
  api.struct_size = sizeof(api);
  EXPECT_TRUE(!SAM_HOST_HAS(&api, mem_free));
  EXPECT_TRUE(!SAM_HOST_HAS(&api, post));
}

static void v1_0_size(void) {
  /* v1.0 is the whole table today; a v1.1 member appends after mem_free. */
  EXPECT_EQ_INT(sizeof(sam_host_api), SAM_HOST_API_V1_0_SIZE);
}

static void host_table_is_complete(void) {
  const sam_host_api *api = sam__host_api();

  EXPECT_EQ_INT(sizeof(sam_host_api), api->struct_size);
  EXPECT_EQ_INT(SAM_ABI_MAJOR, api->abi_major);
  EXPECT_EQ_INT(SAM_ABI_MINOR, api->abi_minor);
  EXPECT_EQ_INT(0, api->reserved0);
  EXPECT_TRUE(SAM_HOST_HAS(api, get_loop));
  EXPECT_TRUE(SAM_HOST_HAS(api, post));
  EXPECT_TRUE(SAM_HOST_HAS(api, shutdown_done));
  EXPECT_TRUE(SAM_HOST_HAS(api, register_profile_type));
  EXPECT_TRUE(SAM_HOST_HAS(api, register_record_type));
  EXPECT_TRUE(SAM_HOST_HAS(api, register_process));
  EXPECT_TRUE(SAM_HOST_HAS(api, register_model));
  EXPECT_TRUE(SAM_HOST_HAS(api, register_rule_template));
  EXPECT_TRUE(SAM_HOST_HAS(api, register_action));
  EXPECT_TRUE(SAM_HOST_HAS(api, job_set_data));
  EXPECT_TRUE(SAM_HOST_HAS(api, job_progress));
  EXPECT_TRUE(SAM_HOST_HAS(api, job_complete));
  EXPECT_TRUE(SAM_HOST_HAS(api, store_get));
  EXPECT_TRUE(SAM_HOST_HAS(api, store_put_batch));
  EXPECT_TRUE(SAM_HOST_HAS(api, store_query));
  EXPECT_TRUE(SAM_HOST_HAS(api, store_delete));
  EXPECT_TRUE(SAM_HOST_HAS(api, op_cancel));
  EXPECT_TRUE(SAM_HOST_HAS(api, secret_put));
  EXPECT_TRUE(SAM_HOST_HAS(api, secret_get));
  EXPECT_TRUE(SAM_HOST_HAS(api, log_write));
  EXPECT_TRUE(SAM_HOST_HAS(api, mem_alloc));
  EXPECT_TRUE(SAM_HOST_HAS(api, mem_free));
}

static void mem_pair(void) {
  const sam_host_api *api = sam__host_api();
  void *p = api->mem_alloc(NULL, 64);

  EXPECT_TRUE(p != NULL);
  memset(p, 1, 64);
  api->mem_free(NULL, p);
  api->mem_free(NULL, NULL); /* NULL-safe */
}

int main(void) {
  SAM_T_RUN(truncated_struct_size);
  SAM_T_RUN(null_member);
  SAM_T_RUN(v1_0_size);
  SAM_T_RUN(host_table_is_complete);
  SAM_T_RUN(mem_pair);
  return 0;
}
