# Admin pages (host-sdk/web):
#   test-web-form  unit tests of the form model and the progress helpers
#                  under Node (node --test), no browser needed;
#   test-web-e2e   the browser flow: Playwright (playwright-core, pinned in
#                  tests/e2e/package-lock.json) drives Debian's Chromium
#                  (/usr/bin/chromium) against `samhost serve --test-mode`
#                  and the DocuSign simulator. It prints SKIP and exits 77
#                  when chromium or node_modules/playwright-core is missing;
#                  screenshots of every step land in
#                  <build>/e2e-screenshots (printed at the end);
#   test-web-e2e-mock  the same pages against mock-host.mjs (below).
# Setup (CI): apt-get install chromium; npm ci in tests/e2e. A fresh clone
# runs `npm ci` here at configure time when npm exists (like sim.cmake).
find_program(SAM_E2E_NODE node)
if(NOT SAM_E2E_NODE)
  message(STATUS "node not found: test-web-form and test-web-e2e are not "
                 "registered (install nodejs)")
  return()
endif()

add_test(NAME test-web-form
  COMMAND ${SAM_E2E_NODE} --test ${CMAKE_CURRENT_LIST_DIR}/form.test.mjs
          ${CMAKE_CURRENT_LIST_DIR}/progress.test.mjs)
set_tests_properties(test-web-form PROPERTIES TIMEOUT 60 LABELS "web;unit")

option(SAM_NPM_INSTALL "npm ci the Node test packages when missing" ON)
find_program(SAM_E2E_NPM npm)
set(SAM_E2E_DIR ${CMAKE_CURRENT_LIST_DIR})
if(SAM_E2E_NPM AND SAM_NPM_INSTALL
   AND NOT EXISTS ${SAM_E2E_DIR}/node_modules/playwright-core)
  message(STATUS "npm ci in ${SAM_E2E_DIR} (playwright-core for test-web-e2e)")
  execute_process(
    COMMAND ${SAM_E2E_NPM} ci --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY ${SAM_E2E_DIR}
    RESULT_VARIABLE e2e_npm_rc OUTPUT_QUIET TIMEOUT 300)
  if(NOT e2e_npm_rc EQUAL 0)
    message(STATUS "npm ci failed [${e2e_npm_rc}]: test-web-e2e will SKIP; "
                   "run npm ci in ${SAM_E2E_DIR} by hand")
  endif()
endif()
if(NOT EXISTS /usr/bin/chromium)
  message(STATUS "/usr/bin/chromium not found: test-web-e2e will SKIP "
                 "(apt-get install chromium)")
endif()

# The pages against mock-host.mjs (hostsvc's shapes with data the real
# backend cannot make yet: 100,000 rows, live progress with a rate-limit
# wait, Undo); it also enforces X-SAM-CSRF on writes.
add_test(NAME test-web-e2e-mock
  COMMAND ${SAM_E2E_NODE} ${SAM_E2E_DIR}/e2e-mock.mjs
          --web-dir ${PROJECT_SOURCE_DIR}/host-sdk/web
          --schema ${PROJECT_SOURCE_DIR}/schemas/docusign-profile-form.schema.json
          --shots ${PROJECT_BINARY_DIR}/e2e-screenshots-mock)
set_tests_properties(test-web-e2e-mock PROPERTIES TIMEOUT 300
                     SKIP_RETURN_CODE 77 LABELS "web;e2e")

if(TARGET samhost_exe AND TARGET docusign-sim AND TARGET sam_docusign)
  add_test(NAME test-web-e2e
    COMMAND ${SAM_E2E_NODE} ${SAM_E2E_DIR}/e2e.mjs
            --samhost $<TARGET_FILE:samhost_exe>
            --sim $<TARGET_FILE:docusign-sim>
            --plugin ${PROJECT_BINARY_DIR}/plugin/plugin.manifest.json
            --web-dir ${PROJECT_SOURCE_DIR}/host-sdk/web
            --shots ${PROJECT_BINARY_DIR}/e2e-screenshots)
  set_tests_properties(test-web-e2e PROPERTIES TIMEOUT 600
                       SKIP_RETURN_CODE 77 LABELS "web;e2e")
endif()
