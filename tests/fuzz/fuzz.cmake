# libFuzzer targets, built only with clang and -DSAM_FUZZ=ON:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSAM_FUZZ=ON
#   make -C build-fuzz fuzz-dsg-page-parse
#   mkdir -p /tmp/corpus && build-fuzz/tests/fuzz-dsg-page-parse \
#       /tmp/corpus tests/fuzz/corpus-dsg-page-parse
# ctest then also replays the seed corpus and runs a short, fixed number of
# random inputs (no time limit involved).
option(SAM_FUZZ "Build the libFuzzer targets (clang only)" OFF)
if(SAM_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # The code under test is compiled into the target (not linked from
  # dsg_core) so that libFuzzer's coverage instrumentation reaches it.
  set(DSG_SRC ${PROJECT_SOURCE_DIR}/plugin/src)
  add_executable(fuzz-dsg-page-parse
    ${CMAKE_CURRENT_LIST_DIR}/fuzz-dsg-page-parse.c
    ${DSG_SRC}/dsg_page_parse.c ${DSG_SRC}/dsg_user_map.c
    ${DSG_SRC}/dsg_exclusions.c ${DSG_SRC}/dsg_dates.c)
  target_include_directories(fuzz-dsg-page-parse PRIVATE
    ${DSG_SRC} ${PROJECT_SOURCE_DIR}/host-sdk/include)
  target_compile_options(fuzz-dsg-page-parse PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz-dsg-page-parse PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz-dsg-page-parse PRIVATE PkgConfig::JSONC)
  # New inputs go to the first directory, in the build tree, never into
  # the checked-in seed corpus.
  set(DSG_FUZZ_WORK ${CMAKE_CURRENT_BINARY_DIR}/fuzz-dsg-page-parse-corpus)
  file(MAKE_DIRECTORY ${DSG_FUZZ_WORK})
  add_test(NAME fuzz-dsg-page-parse
    COMMAND fuzz-dsg-page-parse -runs=20000 -seed=1 ${DSG_FUZZ_WORK}
            ${CMAKE_CURRENT_LIST_DIR}/corpus-dsg-page-parse)
  set_tests_properties(fuzz-dsg-page-parse PROPERTIES TIMEOUT 300)
elseif(SAM_FUZZ)
  message(STATUS "SAM_FUZZ needs clang; fuzz targets skipped")
endif()
