# Host core integration tests: the in-test plugin "tp" (test-core-common.c)
# against the test host (runtime + in-memory backend).
set(SAM_CORE_COMMON ${CMAKE_CURRENT_LIST_DIR}/test-core-common.c)
foreach(t jobs cancel store-contract secret-contract redaction registry
          shutdown)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test-${t}.c)
    sam_add_test(test-${t}
                 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-${t}.c ${SAM_CORE_COMMON}
                 LIBS samhost_test)
  endif()
endforeach()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test-post-threads.c)
  sam_add_test(test-post-threads
               SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-post-threads.c
                       ${SAM_CORE_COMMON}
               LIBS samhost_test LABELS tsan)
endif()
