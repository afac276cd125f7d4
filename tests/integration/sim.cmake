# tools/docusign-sim: behaviour (test-sim), wire faults, limits and TLS
# (test-sim-faults), a million users (test-sim-scale, prints load time and
# RSS, asserts nothing about time), OpenAPI fidelity and the official Node
# SDK (when node is installed).
set(SIM_CHILD ${CMAKE_CURRENT_LIST_DIR}/sim/sim_child.c)
foreach(t test-sim test-sim-oauth test-sim-faults test-sim-scale)
  sam_add_test(${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c ${SIM_CHILD}
            ${PROJECT_SOURCE_DIR}/tests/common/test_tls.c
    LIBS PkgConfig::CURL PkgConfig::JSONC PkgConfig::OPENSSL
    LABELS integration sim
    TIMEOUT 300)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_compile_definitions(${t} PRIVATE
    SIM_EXE="$<TARGET_FILE:docusign-sim>")
  add_dependencies(${t} docusign-sim)
endforeach()

find_program(SAM_NODE node)
# The OpenAPI file sits beside the checkout (../shared/docusign-openapi).
set(SIM_OPENAPI
    ${PROJECT_SOURCE_DIR}/../shared/docusign-openapi/esignature.rest.swagger-v2.1.json)
if(SAM_NODE AND EXISTS ${SIM_OPENAPI})
  add_test(NAME test-sim-openapi
    COMMAND ${SAM_NODE} ${CMAKE_CURRENT_LIST_DIR}/sim/openapi-fidelity.mjs
            $<TARGET_FILE:docusign-sim>
            ${SIM_OPENAPI})
  set_tests_properties(test-sim-openapi PROPERTIES TIMEOUT 120
                       LABELS "integration;sim")
else()
  message(STATUS "node or ${SIM_OPENAPI} not found: test-sim-openapi is "
                 "skipped (install nodejs to run it)")
endif()

# The official Node SDK (docusign-esign 10.0.0, pinned by the lock file in
# tests/integration/node). A fresh clone (CI) has no node_modules: configure
# runs `npm ci` there once when npm exists. ctest reports SKIP (exit 77)
# when the module is still not installed.
option(SAM_NPM_INSTALL "npm ci the Node SDK test's pinned packages" ON)
find_program(SAM_NPM npm)
set(SIM_NODE_DIR ${CMAKE_CURRENT_LIST_DIR}/node)
if(SAM_NODE AND SAM_NPM AND SAM_NPM_INSTALL
   AND NOT EXISTS ${SIM_NODE_DIR}/node_modules/docusign-esign)
  message(STATUS "npm ci in ${SIM_NODE_DIR} (docusign-esign for "
                 "test-sim-node-sdk)")
  execute_process(
    COMMAND ${SAM_NPM} ci --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY ${SIM_NODE_DIR}
    RESULT_VARIABLE sim_npm_rc OUTPUT_QUIET TIMEOUT 300)
  if(NOT sim_npm_rc EQUAL 0)
    message(STATUS "npm ci failed [${sim_npm_rc}]: test-sim-node-sdk will "
                   "SKIP; run npm ci in ${SIM_NODE_DIR} by hand")
  endif()
endif()
if(SAM_NODE)
  add_test(NAME test-sim-node-sdk
    COMMAND ${SAM_NODE} ${CMAKE_CURRENT_LIST_DIR}/node/sdk-test.mjs
            $<TARGET_FILE:docusign-sim>)
  set_tests_properties(test-sim-node-sdk PROPERTIES TIMEOUT 120
                       SKIP_RETURN_CODE 77 LABELS "integration;sim")
  if(NOT EXISTS ${CMAKE_CURRENT_LIST_DIR}/node/node_modules/docusign-esign)
    message(STATUS "docusign-esign not installed: test-sim-node-sdk will "
                   "SKIP (run npm ci in tests/integration/node)")
  endif()
else()
  message(STATUS "node not found: test-sim-node-sdk is not registered")
endif()

# bench-sim smoke run (tiny), so the benchmark cannot rot.
add_test(NAME bench-sim-smoke
  COMMAND bench-sim --seconds 0.3 --conns 2 --users 300)
set_tests_properties(bench-sim-smoke PROPERTIES TIMEOUT 60 LABELS "bench;sim")
