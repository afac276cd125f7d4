# tools/bench/bench-http-trust.c (globbed by tools/bench/CMakeLists.txt)
# also needs the plugin's core (dsg_http), the simulator harness, the
# throwaway TLS files and the simulator, made in sibling directories: wired
# at the end of the top-level directory, like bench-download.
function(bench_http_trust_wire)
  if(TARGET bench-http-trust AND TARGET dsg_core AND TARGET docusign-sim)
    set(t ${PROJECT_SOURCE_DIR}/tests)
    target_sources(bench-http-trust PRIVATE
      ${t}/integration/sim/sim_child.c
      ${t}/common/test_tls.c)
    target_include_directories(bench-http-trust PRIVATE
      ${PROJECT_SOURCE_DIR}/plugin/src ${t}/integration/sim ${t}/common)
    target_link_libraries(bench-http-trust PRIVATE dsg_core PkgConfig::CURL
      PkgConfig::JSONC PkgConfig::OPENSSL PkgConfig::UV)
    target_compile_definitions(bench-http-trust PRIVATE
      SIM_EXE="$<TARGET_FILE:docusign-sim>")
    add_dependencies(bench-http-trust docusign-sim)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR}
               CALL bench_http_trust_wire)
