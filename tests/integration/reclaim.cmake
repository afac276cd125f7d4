# The Reclaim process, its protections, the crash reconciliation and Undo
# against the DocuSign simulator over HTTPS with a throwaway CA (issue 7
# item 8): one executable per concern, all on the harness
# test-dsg-reclaim-common.c, one ctest per case. An executable's own ctest
# runs its first case, test-dsg-reclaim-<case> each other one (see the top
# of each file):
#
#   test-dsg-reclaim-run      basic, dry, off, partial (normal flow, Undo)
#   test-dsg-reclaim-safety   between, cap, order, conflict (re-checks,
#                             cap, a write between read and put)
#   test-dsg-reclaim-crash    crash, cancel, shutdown (runs stopped midway)
#   test-dsg-reclaim-refresh  refresh, boundary, notify (the candidates)
#   test-dsg-reclaim-paced    paced, limit429, deadline, cancelwait (limits)
#
# The pure decisions are in tests/unit (reclaim-check).
if(TARGET docusign-sim AND TARGET samhost_test)
  set(SAM_RECLAIM_CASES_run basic dry off partial)
  set(SAM_RECLAIM_CASES_safety between cap order conflict)
  set(SAM_RECLAIM_CASES_crash crash cancel shutdown)
  set(SAM_RECLAIM_CASES_refresh refresh boundary notify)
  set(SAM_RECLAIM_CASES_paced paced limit429 deadline cancelwait)
  foreach(g run safety crash refresh paced)
    set(t test-dsg-reclaim-${g})
    set(cases ${SAM_RECLAIM_CASES_${g}})
    list(GET cases 0 first)
    list(REMOVE_AT cases 0)
    sam_add_test(${t}
      SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c
              ${CMAKE_CURRENT_LIST_DIR}/test-dsg-reclaim-common.c
              ${CMAKE_CURRENT_LIST_DIR}/test-dsg-download-common.c
              ${CMAKE_CURRENT_LIST_DIR}/test-dsg-oauth-common.c
              ${CMAKE_CURRENT_LIST_DIR}/sim/sim_child.c
              ${PROJECT_SOURCE_DIR}/tests/common/test_tls.c
      LIBS samhost_static PkgConfig::CURL PkgConfig::JSONC PkgConfig::OPENSSL
           PkgConfig::UV m
      ARGS ${first}
      LABELS integration reclaim
      ENV SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas
      TIMEOUT 300)
    target_include_directories(${t} PRIVATE
      ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_LIST_DIR}/sim
      ${PROJECT_SOURCE_DIR}/host-sdk/src)
    target_compile_definitions(${t} PRIVATE
      SIM_EXE="$<TARGET_FILE:docusign-sim>")
    add_dependencies(${t} docusign-sim sam_docusign)
    foreach(c ${cases})
      add_test(NAME test-dsg-reclaim-${c} COMMAND ${t} ${c})
      set_tests_properties(test-dsg-reclaim-${c} PROPERTIES TIMEOUT 300
        LABELS "integration;reclaim"
        ENVIRONMENT "SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas")
    endforeach()
  endforeach()
endif()
