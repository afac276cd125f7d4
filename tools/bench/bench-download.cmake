# tools/bench/bench-download.c (globbed by tools/bench/CMakeLists.txt, linked
# with samhost only) also needs its helpers, the simulator harness, the
# throwaway TLS files, libcurl/json-c/OpenSSL, the simulator and the built
# plugin. The simulator's target is made in a sibling directory, so wire
# it up at the end of the top-level directory.
function(bench_download_wire)
  if(TARGET bench-download)
    set(t ${PROJECT_SOURCE_DIR}/tests)
    target_sources(bench-download PRIVATE
      ${PROJECT_SOURCE_DIR}/tools/bench/bench_dl_host.c
      ${PROJECT_SOURCE_DIR}/tools/bench/bench_dl_stacks.c
      ${PROJECT_SOURCE_DIR}/tools/bench/bench_dl_util.c
      ${t}/integration/sim/sim_child.c
      ${t}/common/test_tls.c)
    target_include_directories(bench-download PRIVATE
      ${PROJECT_SOURCE_DIR}/tools/bench ${t}/integration ${t}/common)
    target_link_libraries(bench-download PRIVATE PkgConfig::CURL
      PkgConfig::JSONC PkgConfig::OPENSSL PkgConfig::UV PkgConfig::SQLITE m pthread)
    target_compile_definitions(bench-download PRIVATE
      SIM_EXE="$<TARGET_FILE:docusign-sim>"
      PLUGIN_MANIFEST="${PROJECT_BINARY_DIR}/plugin/plugin.manifest.json"
      BASELINE_SCRIPT="${PROJECT_SOURCE_DIR}/tools/bench/baseline/download-baseline.mjs")
    add_dependencies(bench-download docusign-sim sam_docusign)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR}
               CALL bench_download_wire)
