# Unit tests of the DocuSign plugin's pure download and reclamation logic
# (dsg_dates, dsg_user_map, dsg_page_parse, dsg_paging, dsg_governor,
# dsg_exclusions, dsg_consumption, dsg_candidates), linked against dsg_core.
# Tests that check records against schemas/ also link the host's validator.
foreach(t dates governor exclusions page-parse)
  sam_add_test(test-dsg-${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-${t}.c LIBS dsg_core)
endforeach()
foreach(t user-map consumption candidates paging)
  sam_add_test(test-dsg-${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dsg-${t}.c
    LIBS dsg_core samhost_static m)
  target_include_directories(test-dsg-${t} PRIVATE
    ${PROJECT_SOURCE_DIR}/host-sdk/src)
endforeach()
