# The scheduler's time arithmetic (host-sdk/src/sched_time.c): next and
# previous due instants, spread, RFC 3339 formatting and parsing.
sam_add_test(test-sched-time
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test-sched-time.c
          ${PROJECT_SOURCE_DIR}/host-sdk/src/sched_time.c
  LABELS unit sched)
target_include_directories(test-sched-time PRIVATE
  ${PROJECT_SOURCE_DIR}/host-sdk/src)
target_link_libraries(test-sched-time PRIVATE PkgConfig::UV)
