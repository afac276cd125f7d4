# The whole flow end to end through the real reference host (`samhost
# serve` + CLI + REST) and the real DocuSign simulator over HTTPS with a
# throwaway CA made by the openssl CLI (tests/integration/test-flow-lib.sh):
#   test-flow-rest      issue 5 through the REST API with curl
#   test-flow-cli       the same through the samhost CLI (--json checks)
#   test-flow-download  issue 6/7: related lists after publish, reclaim dry
#                       run, reclaim under the cap, Undo
# Each needs curl, openssl and node (JSON) and exits 77 (SKIP) without them.
if(TARGET samhost_exe AND TARGET docusign-sim AND TARGET sam_docusign)
  foreach(t rest cli download)
    add_test(NAME test-flow-${t}
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/test-flow-${t}.sh)
    set_tests_properties(test-flow-${t} PROPERTIES
      TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS "integration;flow"
      ENVIRONMENT "SAMHOST=$<TARGET_FILE:samhost_exe>;SIM=$<TARGET_FILE:docusign-sim>;PLUGIN=${PROJECT_BINARY_DIR}/plugin/plugin.manifest.json")
  endforeach()
endif()
