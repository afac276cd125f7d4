# The SQLite storage backend (host-sdk/src/backend_sqlite*.c).
#
# These tests exercise the backend on its own: they link the backend's and
# the sealing module's sources directly, not libsamhost, because the
# harness (test-backend-sqlite-common.c) provides doubles of the core's
# sam__req_begin()/sam__req_done().
file(GLOB SAM_SQLITE_BACKEND_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/host-sdk/src/backend_sqlite*.c)
list(APPEND SAM_SQLITE_BACKEND_SOURCES
  ${PROJECT_SOURCE_DIR}/host-sdk/src/seal.c
  ${PROJECT_SOURCE_DIR}/host-sdk/src/keyring.c
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/test-backend-sqlite-common.c)

foreach(t test-backend-sqlite test-backend-sqlite-tables
          test-backend-sqlite-crash test-backend-sqlite-model
          test-backend-sqlite-faults)
  sam_add_test(${t}
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.c
            ${SAM_SQLITE_BACKEND_SOURCES}
    LIBS PkgConfig::UV PkgConfig::SQLITE PkgConfig::OPENSSL
    LABELS integration store tsan
    TIMEOUT 300)
  target_include_directories(${t} PRIVATE
    ${PROJECT_SOURCE_DIR}/host-sdk/src
    ${CMAKE_CURRENT_SOURCE_DIR}/integration)
endforeach()

# The same backend behind the real host core (libsamhost), through the ABI.
sam_add_test(test-backend-sqlite-core
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test-backend-sqlite-core.c
  LIBS samhost_static
  LABELS integration store tsan
  TIMEOUT 300)
target_include_directories(test-backend-sqlite-core PRIVATE
  ${PROJECT_SOURCE_DIR}/host-sdk/src)

# The store benchmark at a tiny size, so it cannot rot (tools/bench).
if(TARGET bench-store)
  add_test(NAME bench-store-smoke COMMAND bench-store --rows 2000)
  set_tests_properties(bench-store-smoke PROPERTIES LABELS bench TIMEOUT 300)
endif()
