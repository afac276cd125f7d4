# The loader's tests (ABI.md 8 and 14.1): the fixture table and the crash
# probe (test-loader), the fixtures that break a rule after loading
# (test-loader-jobs), and the exported-symbols check of the real plugin.
if(TARGET samhost_test AND TARGET sam-plugin-probe)
  sam_add_test(test-loader
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-loader.c
    LIBS samhost_test samhost_static ${CMAKE_DL_LIBS} m
    LABELS loader integration)
  target_compile_definitions(test-loader PRIVATE
    SAM_FIXTURE_DIR="${SAM_FIXTURE_DIR}"
    SAM_PROBE_EXE="$<TARGET_FILE:sam-plugin-probe>")
  add_dependencies(test-loader sam_fixtures sam-plugin-probe)

  sam_add_test(test-loader-jobs
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-loader-jobs.c
    LIBS samhost_test samhost_static m
    LABELS loader integration)
  target_compile_definitions(test-loader-jobs PRIVATE
    SAM_FIXTURE_DIR="${SAM_FIXTURE_DIR}")
  add_dependencies(test-loader-jobs sam_fixtures)
endif()

# nm/ldd/readelf on the real plugin. Release tree only: a sanitizer build
# links its runtime into the plugin and drops -z defs on purpose.
add_test(NAME test-plugin-exports
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/test-plugin-exports.sh
          $<TARGET_FILE:sam_docusign>)
set_tests_properties(test-plugin-exports PROPERTIES
  LABELS "loader;nosan" TIMEOUT 60)

# The real plugin passes every load step, init and its async shutdown, in
# the probe (a private test host), with no configuration.
if(TARGET sam-plugin-probe)
  add_test(NAME test-plugin-loads
    COMMAND sam-plugin-probe $<TARGET_FILE_DIR:sam_docusign>/plugin.manifest.json)
  set_tests_properties(test-plugin-loads PROPERTIES
    LABELS "loader;integration" TIMEOUT 60
    PASS_REGULAR_EXPRESSION "{\"status\":0,")
endif()
