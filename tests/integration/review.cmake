# Regression tests for bugs found in review (plugin token cache, API calls,
# HTTP client), against a fake host table written in the test.
sam_add_test(test-dsg-review
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-review.c LIBS dsg_core)
# Host core: the in-test plugin "tp" on the test host.
if(TARGET samhost_test)
  sam_add_test(test-review-core
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-review-core.c
            ${CMAKE_CURRENT_LIST_DIR}/test-core-common.c
    LIBS samhost_test)
endif()
