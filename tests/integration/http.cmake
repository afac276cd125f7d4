# The HTTP surface and the `samhost` executable: serve as a child process
# with the DocuSign plugin, driven over HTTP on 127.0.0.1:0 and through the
# CLI (auth, limits, static files, shutdown, persistence, exit codes).
if(TARGET samhost_exe AND TARGET sam_docusign)
  sam_add_test(test-samhost
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-samhost.c
            ${CMAKE_CURRENT_LIST_DIR}/test-samhost-common.c
    LIBS PkgConfig::CURL PkgConfig::JSONC
    LABELS integration http
    TIMEOUT 300)
  target_compile_definitions(test-samhost PRIVATE
    SAMHOST_EXE="$<TARGET_FILE:samhost_exe>"
    DSG_MANIFEST="${PROJECT_BINARY_DIR}/plugin/plugin.manifest.json")
  add_dependencies(test-samhost samhost_exe sam_docusign)
endif()

# The generic h2o server in process (graceful close with a request in
# flight, refused connections after it, no handle left) and the admin token.
if(TARGET samhost_static)
  sam_add_test(test-http
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-http.c
    LIBS samhost_static PkgConfig::CURL PkgConfig::UV PkgConfig::H2O
    LABELS integration http)
  target_include_directories(test-http PRIVATE
    ${PROJECT_SOURCE_DIR}/host-sdk/src)
endif()

# The same executable with the hostsvc fixture plugin: the OAuth redirect,
# validate, publish, jobs and `job run --wait` end to end, and SIGTERM
# while an action waits.
if(TARGET samhost_exe AND TARGET samhost_test)
  if(NOT TARGET sam_fx_hostsvc)
    add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fixtures/plugins/hostsvc_fixture
                     ${PROJECT_BINARY_DIR}/tests/fixtures/hostsvc_fixture)
  endif()
  sam_add_test(test-samhost-jobs
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-samhost-jobs.c
            ${CMAKE_CURRENT_LIST_DIR}/test-samhost-common.c
    LIBS PkgConfig::CURL PkgConfig::JSONC PkgConfig::UV
    LABELS integration http
    TIMEOUT 300)
  target_compile_definitions(test-samhost-jobs PRIVATE
    SAMHOST_EXE="$<TARGET_FILE:samhost_exe>"
    DSG_MANIFEST="${PROJECT_BINARY_DIR}/tests/fixtures/hostsvc_fixture/plugin.manifest.json")
  add_dependencies(test-samhost-jobs samhost_exe sam_fx_hostsvc)
endif()
