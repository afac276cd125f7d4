/*
 * test-abi-layout.c: the LP64 layout of every ABI struct, pinned against
 * golden values (ABI.md 4 and 14.2). Changing one of these numbers is a
 * deliberate ABI edit: a field above the latest v1.N banner moved, which
 * is a major change. The same header is also compiled as C11, as C++ and
 * for i386/armv7 with -Wpadded -Werror by separate ctests (core.cmake).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

#if UINTPTR_MAX == UINT64_MAX
static void layout_lp64(void) {
  static_assert(sizeof(sam_init_args) == 40, "size sam_init_args");
  static_assert(offsetof(sam_init_args, struct_size) == 0,
                "sam_init_args.struct_size");
  static_assert(offsetof(sam_init_args, reserved0) == 4,
                "sam_init_args.reserved0");
  static_assert(offsetof(sam_init_args, host_name) == 8,
                "sam_init_args.host_name");
  static_assert(offsetof(sam_init_args, host_version) == 16,
                "sam_init_args.host_version");
  static_assert(offsetof(sam_init_args, config_json) == 24,
                "sam_init_args.config_json");
  static_assert(offsetof(sam_init_args, config_len) == 32,
                "sam_init_args.config_len");
  static_assert(sizeof(sam_plugin_ops) == 24, "size sam_plugin_ops");
  static_assert(offsetof(sam_plugin_ops, reserved0) == 4,
                "sam_plugin_ops.reserved0");
  static_assert(offsetof(sam_plugin_ops, plugin_ud) == 8,
                "sam_plugin_ops.plugin_ud");
  static_assert(offsetof(sam_plugin_ops, shutdown) == 16,
                "sam_plugin_ops.shutdown");
  static_assert(sizeof(sam_profile_type_desc) == 40,
                "size sam_profile_type_desc");
  static_assert(offsetof(sam_profile_type_desc, form_schema_version) == 4,
                "sam_profile_type_desc.form_schema_version");
  static_assert(offsetof(sam_profile_type_desc, type_id) == 8,
                "sam_profile_type_desc.type_id");
  static_assert(offsetof(sam_profile_type_desc, display_name) == 16,
                "sam_profile_type_desc.display_name");
  static_assert(offsetof(sam_profile_type_desc, form_schema_json) == 24,
                "sam_profile_type_desc.form_schema_json");
  static_assert(offsetof(sam_profile_type_desc, form_schema_len) == 32,
                "sam_profile_type_desc.form_schema_len");
  static_assert(sizeof(sam_record_type_desc) == 56,
                "size sam_record_type_desc");
  static_assert(offsetof(sam_record_type_desc, schema_version) == 4,
                "sam_record_type_desc.schema_version");
  static_assert(offsetof(sam_record_type_desc, record_type) == 8,
                "sam_record_type_desc.record_type");
  static_assert(offsetof(sam_record_type_desc, schema_json) == 16,
                "sam_record_type_desc.schema_json");
  static_assert(offsetof(sam_record_type_desc, schema_len) == 24,
                "sam_record_type_desc.schema_len");
  static_assert(offsetof(sam_record_type_desc, key_pointer) == 32,
                "sam_record_type_desc.key_pointer");
  static_assert(offsetof(sam_record_type_desc, indexes_json) == 40,
                "sam_record_type_desc.indexes_json");
  static_assert(offsetof(sam_record_type_desc, flags) == 48,
                "sam_record_type_desc.flags");
  static_assert(offsetof(sam_record_type_desc, reserved0) == 52,
                "sam_record_type_desc.reserved0");
  static_assert(sizeof(sam_process_desc) == 80, "size sam_process_desc");
  static_assert(offsetof(sam_process_desc, flags) == 4,
                "sam_process_desc.flags");
  static_assert(offsetof(sam_process_desc, timeout_ms) == 8,
                "sam_process_desc.timeout_ms");
  static_assert(offsetof(sam_process_desc, process_id) == 16,
                "sam_process_desc.process_id");
  static_assert(offsetof(sam_process_desc, display_name) == 24,
                "sam_process_desc.display_name");
  static_assert(offsetof(sam_process_desc, input_schema_json) == 32,
                "sam_process_desc.input_schema_json");
  static_assert(offsetof(sam_process_desc, input_schema_len) == 40,
                "sam_process_desc.input_schema_len");
  static_assert(offsetof(sam_process_desc, start) == 48,
                "sam_process_desc.start");
  static_assert(offsetof(sam_process_desc, cancel) == 56,
                "sam_process_desc.cancel");
  static_assert(offsetof(sam_process_desc, ud) == 64, "sam_process_desc.ud");
  static_assert(offsetof(sam_process_desc, ud_free) == 72,
                "sam_process_desc.ud_free");
  static_assert(sizeof(sam_action_desc) == 64, "size sam_action_desc");
  static_assert(offsetof(sam_action_desc, flags) == 4, "sam_action_desc.flags");
  static_assert(offsetof(sam_action_desc, timeout_ms) == 8,
                "sam_action_desc.timeout_ms");
  static_assert(offsetof(sam_action_desc, action_id) == 16,
                "sam_action_desc.action_id");
  static_assert(offsetof(sam_action_desc, display_name) == 24,
                "sam_action_desc.display_name");
  static_assert(offsetof(sam_action_desc, start) == 32,
                "sam_action_desc.start");
  static_assert(offsetof(sam_action_desc, cancel) == 40,
                "sam_action_desc.cancel");
  static_assert(offsetof(sam_action_desc, ud) == 48, "sam_action_desc.ud");
  static_assert(offsetof(sam_action_desc, ud_free) == 56,
                "sam_action_desc.ud_free");
  static_assert(sizeof(sam_model_desc) == 32, "size sam_model_desc");
  static_assert(offsetof(sam_model_desc, reserved0) == 4,
                "sam_model_desc.reserved0");
  static_assert(offsetof(sam_model_desc, identifier) == 8,
                "sam_model_desc.identifier");
  static_assert(offsetof(sam_model_desc, model_json) == 16,
                "sam_model_desc.model_json");
  static_assert(offsetof(sam_model_desc, model_len) == 24,
                "sam_model_desc.model_len");
  static_assert(sizeof(sam_rule_template_desc) == 32,
                "size sam_rule_template_desc");
  static_assert(offsetof(sam_rule_template_desc, template_version) == 4,
                "sam_rule_template_desc.template_version");
  static_assert(offsetof(sam_rule_template_desc, template_id) == 8,
                "sam_rule_template_desc.template_id");
  static_assert(offsetof(sam_rule_template_desc, rule_json) == 16,
                "sam_rule_template_desc.rule_json");
  static_assert(offsetof(sam_rule_template_desc, rule_len) == 24,
                "sam_rule_template_desc.rule_len");
  static_assert(sizeof(sam_job_input) == 104, "size sam_job_input");
  static_assert(offsetof(sam_job_input, kind) == 4, "sam_job_input.kind");
  static_assert(offsetof(sam_job_input, flags) == 8, "sam_job_input.flags");
  static_assert(offsetof(sam_job_input, reserved0) == 12,
                "sam_job_input.reserved0");
  static_assert(offsetof(sam_job_input, deadline_ms) == 16,
                "sam_job_input.deadline_ms");
  static_assert(offsetof(sam_job_input, job_id) == 24, "sam_job_input.job_id");
  static_assert(offsetof(sam_job_input, profile_id) == 32,
                "sam_job_input.profile_id");
  static_assert(offsetof(sam_job_input, profile_json) == 40,
                "sam_job_input.profile_json");
  static_assert(offsetof(sam_job_input, profile_len) == 48,
                "sam_job_input.profile_len");
  static_assert(offsetof(sam_job_input, params_json) == 56,
                "sam_job_input.params_json");
  static_assert(offsetof(sam_job_input, params_len) == 64,
                "sam_job_input.params_len");
  static_assert(offsetof(sam_job_input, redirect_uri) == 72,
                "sam_job_input.redirect_uri");
  static_assert(offsetof(sam_job_input, oauth_state) == 80,
                "sam_job_input.oauth_state");
  static_assert(offsetof(sam_job_input, oauth_code) == 88,
                "sam_job_input.oauth_code");
  static_assert(offsetof(sam_job_input, reserved_p0) == 96,
                "sam_job_input.reserved_p0");
  static_assert(sizeof(sam_record) == 56, "size sam_record");
  static_assert(offsetof(sam_record, reserved0) == 4, "sam_record.reserved0");
  static_assert(offsetof(sam_record, if_version) == 8, "sam_record.if_version");
  static_assert(offsetof(sam_record, version) == 16, "sam_record.version");
  static_assert(offsetof(sam_record, key) == 24, "sam_record.key");
  static_assert(offsetof(sam_record, json) == 32, "sam_record.json");
  static_assert(offsetof(sam_record, json_len) == 40, "sam_record.json_len");
  static_assert(offsetof(sam_record, reserved_p0) == 48,
                "sam_record.reserved_p0");
  static_assert(sizeof(sam_store_result) == 32, "size sam_store_result");
  static_assert(offsetof(sam_store_result, reserved0) == 4,
                "sam_store_result.reserved0");
  static_assert(offsetof(sam_store_result, recs) == 8, "sam_store_result.recs");
  static_assert(offsetof(sam_store_result, n) == 16, "sam_store_result.n");
  static_assert(offsetof(sam_store_result, next_cursor) == 24,
                "sam_store_result.next_cursor");
  static_assert(sizeof(sam_plugin_info) == 48, "size sam_plugin_info");
  static_assert(offsetof(sam_plugin_info, abi_major) == 4,
                "sam_plugin_info.abi_major");
  static_assert(offsetof(sam_plugin_info, abi_minor_min) == 8,
                "sam_plugin_info.abi_minor_min");
  static_assert(offsetof(sam_plugin_info, abi_minor_built) == 12,
                "sam_plugin_info.abi_minor_built");
  static_assert(offsetof(sam_plugin_info, ptr_size) == 16,
                "sam_plugin_info.ptr_size");
  static_assert(offsetof(sam_plugin_info, uv_major) == 20,
                "sam_plugin_info.uv_major");
  static_assert(offsetof(sam_plugin_info, name) == 24, "sam_plugin_info.name");
  static_assert(offsetof(sam_plugin_info, version) == 32,
                "sam_plugin_info.version");
  static_assert(offsetof(sam_plugin_info, description) == 40,
                "sam_plugin_info.description");
  static_assert(sizeof(sam_host_api) == 192, "size sam_host_api");
  static_assert(offsetof(sam_host_api, abi_major) == 4,
                "sam_host_api.abi_major");
  static_assert(offsetof(sam_host_api, abi_minor) == 8,
                "sam_host_api.abi_minor");
  static_assert(offsetof(sam_host_api, reserved0) == 12,
                "sam_host_api.reserved0");
  static_assert(offsetof(sam_host_api, get_loop) == 16,
                "sam_host_api.get_loop");
  static_assert(offsetof(sam_host_api, post) == 24, "sam_host_api.post");
  static_assert(offsetof(sam_host_api, shutdown_done) == 32,
                "sam_host_api.shutdown_done");
  static_assert(offsetof(sam_host_api, register_profile_type) == 40,
                "sam_host_api.register_profile_type");
  static_assert(offsetof(sam_host_api, register_record_type) == 48,
                "sam_host_api.register_record_type");
  static_assert(offsetof(sam_host_api, register_process) == 56,
                "sam_host_api.register_process");
  static_assert(offsetof(sam_host_api, register_model) == 64,
                "sam_host_api.register_model");
  static_assert(offsetof(sam_host_api, register_rule_template) == 72,
                "sam_host_api.register_rule_template");
  static_assert(offsetof(sam_host_api, register_action) == 80,
                "sam_host_api.register_action");
  static_assert(offsetof(sam_host_api, job_set_data) == 88,
                "sam_host_api.job_set_data");
  static_assert(offsetof(sam_host_api, job_progress) == 96,
                "sam_host_api.job_progress");
  static_assert(offsetof(sam_host_api, job_complete) == 104,
                "sam_host_api.job_complete");
  static_assert(offsetof(sam_host_api, store_get) == 112,
                "sam_host_api.store_get");
  static_assert(offsetof(sam_host_api, store_put_batch) == 120,
                "sam_host_api.store_put_batch");
  static_assert(offsetof(sam_host_api, store_query) == 128,
                "sam_host_api.store_query");
  static_assert(offsetof(sam_host_api, store_delete) == 136,
                "sam_host_api.store_delete");
  static_assert(offsetof(sam_host_api, op_cancel) == 144,
                "sam_host_api.op_cancel");
  static_assert(offsetof(sam_host_api, secret_put) == 152,
                "sam_host_api.secret_put");
  static_assert(offsetof(sam_host_api, secret_get) == 160,
                "sam_host_api.secret_get");
  static_assert(offsetof(sam_host_api, log_write) == 168,
                "sam_host_api.log_write");
  static_assert(offsetof(sam_host_api, mem_alloc) == 176,
                "sam_host_api.mem_alloc");
  static_assert(offsetof(sam_host_api, mem_free) == 184,
                "sam_host_api.mem_free");
  static_assert(SAM_HOST_API_V1_0_SIZE == 192, "v1.0 table");
  static_assert(SAM_PLUGIN_INFO_V1_0_SIZE == 48, "v1.0 info");
  static_assert(SAM_PLUGIN_OPS_V1_0_SIZE == 24, "v1.0 ops");
}
#endif

/* Every struct starts with the same 8-byte head (ABI.md 4). */
static void head_is_8_bytes(void) {
  EXPECT_EQ_INT(0, offsetof(sam_record, struct_size));
  EXPECT_EQ_INT(8, offsetof(sam_record, if_version));
  EXPECT_EQ_INT(8, offsetof(sam_process_desc, timeout_ms));
  EXPECT_EQ_INT(16, offsetof(sam_job_input, deadline_ms));
  EXPECT_EQ_INT(0, offsetof(sam_host_api, struct_size));
  EXPECT_EQ_INT(16, offsetof(sam_host_api, get_loop));
}

int main(void) {
#if UINTPTR_MAX == UINT64_MAX
  SAM_T_RUN(layout_lp64);
#endif
  SAM_T_RUN(head_is_8_bytes);
  return 0;
}
