# Unit tests of the DocuSign plugin's pure download and reclamation logic,
# linked against dsg_core (records checked against schemas/ with the host's
# validator from samhost_static).
sam_add_test(test-dsg-dates
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-dates.c LIBS dsg_core)
sam_add_test(test-dsg-user-map
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-user-map.c
  LIBS dsg_core samhost_static m)
foreach(t exclusions page-parse paging governor)
  sam_add_test(test-dsg-${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-${t}.c LIBS dsg_core)
endforeach()
