# Unit tests of the DocuSign plugin's pure logic (linked against dsg_core).
sam_add_test(test-dsg-config
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-config.c LIBS dsg_core)
sam_add_test(test-dsg-status
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-status.c LIBS dsg_core)
# The plugin's JSON against the host's schemas, with the host's validator.
sam_add_test(test-dsg-schemas
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-schemas.c
  LIBS dsg_core samhost_static m)
