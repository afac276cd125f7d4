# Unit tests of the Reclaim process's pure decisions (dsg_reclaim_check.c)
# and the candidate key (dsg_reclaim_util.c), linked against dsg_core.
sam_add_test(test-dsg-reclaim-check
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-reclaim-check.c LIBS dsg_core)
