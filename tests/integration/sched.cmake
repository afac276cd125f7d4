# The scheduler (host-sdk/src/sched*.c) on the test host with its fixture
# plugin. The fixture directory is added here because the fixtures'
# CMakeLists.txt lists its subdirectories by name.
if(TARGET samhost_test)
  if(NOT TARGET sam_fx_sched)
    add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fixtures/plugins/sched_fixture
                     ${PROJECT_BINARY_DIR}/tests/fixtures/plugins/sched_fixture)
  endif()
  sam_add_test(test-sched
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-sched.c
    LIBS samhost_test samhost_static PkgConfig::JSONC PkgConfig::UV m
    ARGS ${PROJECT_BINARY_DIR}/tests/fixtures/plugins/sched_fixture/plugin.manifest.json
    LABELS integration sched)
  target_include_directories(test-sched PRIVATE
    ${PROJECT_SOURCE_DIR}/host-sdk/src)
  add_dependencies(test-sched sam_fx_sched)
endif()
