# The Download subscriptions process against the DocuSign simulator over
# HTTPS with a throwaway CA (issue 6 item 11): one executable, one ctest per
# case (see the list at the top of test-dsg-download.c).
if(TARGET docusign-sim AND TARGET samhost_test)
  sam_add_test(test-dsg-download
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-download.c
            ${CMAKE_CURRENT_LIST_DIR}/test-dsg-download-common.c
            ${CMAKE_CURRENT_LIST_DIR}/test-dsg-oauth-common.c
            ${CMAKE_CURRENT_LIST_DIR}/sim/sim_child.c
            ${PROJECT_SOURCE_DIR}/tests/common/test_tls.c
    LIBS samhost_static PkgConfig::CURL PkgConfig::JSONC PkgConfig::OPENSSL
         PkgConfig::UV PkgConfig::SQLITE m
    ARGS sizes
    LABELS integration download
    ENV SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas
    TIMEOUT 300)
  target_include_directories(test-dsg-download PRIVATE
    ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_LIST_DIR}/sim
    ${PROJECT_SOURCE_DIR}/host-sdk/src)
  target_compile_definitions(test-dsg-download PRIVATE
    SIM_EXE="$<TARGET_FILE:docusign-sim>")
  add_dependencies(test-dsg-download docusign-sim sam_docusign)
  foreach(c large changes shift faults cancel restart crash reseller models
            limits pause consent lastcalls)
    add_test(NAME test-dsg-download-${c} COMMAND test-dsg-download ${c})
    set_tests_properties(test-dsg-download-${c} PROPERTIES TIMEOUT 300
      LABELS "integration;download"
      ENVIRONMENT "SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas")
  endforeach()
endif()
