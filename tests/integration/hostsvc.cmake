# The service layer (sam_hostsvc.h) driven through sam_hostsvc_call on the
# test host (in-memory backend) with the scheduler and the hostsvc fixture
# plugin. The fixture is built here: the loader's fixture list names its
# own fixtures only.
if(TARGET samhost_test)
  if(NOT TARGET sam_fx_hostsvc)
    add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fixtures/plugins/hostsvc_fixture
                     ${PROJECT_BINARY_DIR}/tests/fixtures/hostsvc_fixture)
  endif()
  sam_add_test(test-hostsvc
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-hostsvc.c
            ${CMAKE_CURRENT_LIST_DIR}/test-hostsvc-util.c
            ${CMAKE_CURRENT_LIST_DIR}/test-hostsvc-lists.c
    LIBS samhost_test samhost_static PkgConfig::JSONC PkgConfig::UV m
    LABELS hostsvc integration
    ENV SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas)
  target_include_directories(test-hostsvc PRIVATE
    ${PROJECT_SOURCE_DIR}/host-sdk/src)
  target_compile_definitions(test-hostsvc PRIVATE
    SAM_HSFX_MANIFEST="${PROJECT_BINARY_DIR}/tests/fixtures/hostsvc_fixture/plugin.manifest.json")
  add_dependencies(test-hostsvc sam_fx_hostsvc)
endif()

# The same flow on the reference host's store: SQLite in a file, with the
# database scanned for clear-text secrets at the end.
if(TARGET test-hostsvc)
  add_test(NAME test-hostsvc-sqlite COMMAND test-hostsvc)
  set_tests_properties(test-hostsvc-sqlite PROPERTIES
    TIMEOUT 300 LABELS "hostsvc;integration"
    ENVIRONMENT "SAM_SCHEMA_DIR=${PROJECT_SOURCE_DIR}/schemas;HOSTSVC_BACKEND=sqlite")
endif()
