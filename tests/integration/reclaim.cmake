# The Reclaim process, its protections, the crash reconciliation and Undo
# against the DocuSign simulator over HTTPS with a throwaway CA (issue 7
# item 8): one executable, one ctest per case (see the top of
# test-dsg-reclaim.c). The pure decisions are in tests/unit (reclaim-check).
if(TARGET docusign-sim AND TARGET samhost_test)
  sam_add_test(test-dsg-reclaim
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-reclaim.c
            ${CMAKE_CURRENT_LIST_DIR}/test-dsg-download-common.c
            ${CMAKE_CURRENT_LIST_DIR}/test-dsg-oauth-common.c
            ${CMAKE_CURRENT_LIST_DIR}/sim/sim_child.c
            ${PROJECT_SOURCE_DIR}/tests/common/test_tls.c
    LIBS samhost_static PkgConfig::CURL PkgConfig::JSONC PkgConfig::OPENSSL
         PkgConfig::UV m
    ARGS basic
    LABELS integration reclaim
    ENV SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas
    TIMEOUT 300)
  target_include_directories(test-dsg-reclaim PRIVATE
    ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_LIST_DIR}/sim
    ${PROJECT_SOURCE_DIR}/host-sdk/src)
  target_compile_definitions(test-dsg-reclaim PRIVATE
    SIM_EXE="$<TARGET_FILE:docusign-sim>")
  add_dependencies(test-dsg-reclaim docusign-sim sam_docusign)
  foreach(c dry cap between off crash partial cancel notify shutdown
            boundary refresh paced limit429 deadline cancelwait
            order)
    add_test(NAME test-dsg-reclaim-${c} COMMAND test-dsg-reclaim ${c})
    set_tests_properties(test-dsg-reclaim-${c} PROPERTIES TIMEOUT 300
      LABELS "integration;reclaim"
      ENVIRONMENT "SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas")
  endforeach()
endif()
