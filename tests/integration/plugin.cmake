# Integration tests of the DocuSign plugin.
# The HTTP client against an in-test HTTP/1.1 server on 127.0.0.1:0.
sam_add_test(test-dsg-http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-http.c LIBS dsg_core)
# A name resolution that hangs must not hold the loop when its request is
# cancelled, times out or its client closes (getaddrinfo interposed).
sam_add_test(test-dsg-http-dns
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-http-dns.c
  LIBS dsg_core ${CMAKE_DL_LIBS}
  LABELS integration tsan)
# The real plugin loaded through the test host.
if(TARGET samhost_test)
  sam_add_test(test-dsg-register
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-register.c
    LIBS samhost_test samhost_static m
    ARGS ${PROJECT_BINARY_DIR}/plugin/plugin.manifest.json)
  add_dependencies(test-dsg-register sam_docusign)
endif()
# dsg_init and the async shutdown against a fake host table.
sam_add_test(test-dsg-init
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-init.c LIBS dsg_core)
# The HTTP client over HTTPS against the simulator with a throwaway CA; the
# trusted CAs load in the thread pool, hence the tsan label.
if(TARGET docusign-sim)
  sam_add_test(test-dsg-http-tls
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-http-tls.c
            ${CMAKE_CURRENT_LIST_DIR}/sim/sim_child.c
            ${PROJECT_SOURCE_DIR}/tests/common/test_tls.c
    LIBS dsg_core PkgConfig::CURL PkgConfig::JSONC PkgConfig::OPENSSL
    LABELS integration tsan
    TIMEOUT 120)
  target_include_directories(test-dsg-http-tls PRIVATE
                             ${CMAKE_CURRENT_LIST_DIR}/sim)
  target_compile_definitions(test-dsg-http-tls PRIVATE
                             SIM_EXE="$<TARGET_FILE:docusign-sim>")
  add_dependencies(test-dsg-http-tls docusign-sim)
endif()

# bench-http-trust at one round, so the benchmark cannot rot (tools/bench).
if(TARGET bench-http-trust)
  add_test(NAME bench-http-trust-smoke COMMAND bench-http-trust --rounds 1)
  set_tests_properties(bench-http-trust-smoke PROPERTIES LABELS bench
                       TIMEOUT 120)
endif()
