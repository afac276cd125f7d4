# The host's JSON Schema validator: host-sdk/src/schema_*.c (sam_schema.h).
# test-schema: the project's own cases (refusals, form rules, messages,
# garbage input, the manifest and store-filter schemas); it also validates
# from four threads at once, so the TSan run includes it.
# test-schema-suite: the official JSON-Schema-Test-Suite, draft7 (Debian
# package json-schema-test-suite; $SAM_JSTS_DIR overrides the path).
sam_add_test(test-schema
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test-schema.c
  LIBS samhost_static
  LABELS unit tsan)
sam_add_test(test-schema-suite
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test-schema-suite.c
  LIBS samhost_static
  LABELS unit)
target_compile_definitions(test-schema-suite PRIVATE
  SAM_JSTS_DIR="/usr/share/json-schema-test-suite/tests/draft7")
