# The plugin's OAuth actions, token cache and Validate Connection against
# the DocuSign simulator over HTTPS with a throwaway CA (issue 5).
if(TARGET docusign-sim AND TARGET samhost_test)
  foreach(t test-dsg-oauth test-dsg-oauth-tokens)
    sam_add_test(${t}
      SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c
              ${CMAKE_CURRENT_LIST_DIR}/test-dsg-oauth-common.c
              ${CMAKE_CURRENT_LIST_DIR}/sim/sim_child.c
              ${PROJECT_SOURCE_DIR}/tests/common/test_tls.c
      LIBS samhost_static dsg_core PkgConfig::CURL PkgConfig::JSONC PkgConfig::OPENSSL
           PkgConfig::UV m
      LABELS integration
      TIMEOUT 300)
    target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}
      ${CMAKE_CURRENT_LIST_DIR}/sim ${PROJECT_SOURCE_DIR}/host-sdk/src)
    target_compile_definitions(${t} PRIVATE
      SIM_EXE="$<TARGET_FILE:docusign-sim>")
    add_dependencies(${t} docusign-sim sam_docusign)
  endforeach()
endif()
