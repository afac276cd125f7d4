# libFuzzer targets, built only with clang and -DSAM_FUZZ=ON:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSAM_FUZZ=ON
#   make -C build-fuzz fuzz-dsg-page-parse fuzz-dsg-consumption fuzz-sam-schema
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
  target_link_libraries(fuzz-dsg-page-parse PRIVATE PkgConfig::JSONC
    PkgConfig::OPENSSL)
  # New inputs go to the first directory, in the build tree, never into
  # the checked-in seed corpus.
  set(DSG_FUZZ_WORK ${CMAKE_CURRENT_BINARY_DIR}/fuzz-dsg-page-parse-corpus)
  file(MAKE_DIRECTORY ${DSG_FUZZ_WORK})
  add_test(NAME fuzz-dsg-page-parse
    COMMAND fuzz-dsg-page-parse -runs=20000 -seed=1 ${DSG_FUZZ_WORK}
            ${CMAKE_CURRENT_LIST_DIR}/corpus-dsg-page-parse)
  set_tests_properties(fuzz-dsg-page-parse PROPERTIES TIMEOUT 300 LABELS fuzz)

  # The consumption record from DocuSign's account and billing replies.
  add_executable(fuzz-dsg-consumption
    ${CMAKE_CURRENT_LIST_DIR}/fuzz-dsg-consumption.c
    ${DSG_SRC}/dsg_consumption.c ${DSG_SRC}/dsg_dates.c)
  target_include_directories(fuzz-dsg-consumption PRIVATE
    ${DSG_SRC} ${PROJECT_SOURCE_DIR}/host-sdk/include)
  target_compile_options(fuzz-dsg-consumption PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz-dsg-consumption PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz-dsg-consumption PRIVATE PkgConfig::JSONC)
  set(DSG_FUZZ_CONS_WORK
      ${CMAKE_CURRENT_BINARY_DIR}/fuzz-dsg-consumption-corpus)
  file(MAKE_DIRECTORY ${DSG_FUZZ_CONS_WORK})
  add_test(NAME fuzz-dsg-consumption
    COMMAND fuzz-dsg-consumption -runs=20000 -seed=1 ${DSG_FUZZ_CONS_WORK}
            ${CMAKE_CURRENT_LIST_DIR}/corpus-dsg-consumption)
  set_tests_properties(fuzz-dsg-consumption PROPERTIES TIMEOUT 300
                       LABELS fuzz)

  # The host's JSON Schema validator: forms and record type schemas.
  set(SAM_SRC ${PROJECT_SOURCE_DIR}/host-sdk/src)
  add_executable(fuzz-sam-schema
    ${CMAKE_CURRENT_LIST_DIR}/fuzz-sam-schema.c
    ${SAM_SRC}/schema_compile.c ${SAM_SRC}/schema_format.c
    ${SAM_SRC}/schema_json.c ${SAM_SRC}/schema_keywords.c
    ${SAM_SRC}/schema_meta.c ${SAM_SRC}/schema_ref.c
    ${SAM_SRC}/schema_uri.c ${SAM_SRC}/schema_validate.c)
  target_include_directories(fuzz-sam-schema PRIVATE
    ${SAM_SRC} ${PROJECT_SOURCE_DIR}/host-sdk/include)
  target_compile_definitions(fuzz-sam-schema PRIVATE
    SAM_FUZZ_SCHEMA_DIR="${SAM_SCHEMA_DIR}")
  target_compile_options(fuzz-sam-schema PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz-sam-schema PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz-sam-schema PRIVATE PkgConfig::JSONC
    PkgConfig::PCRE2 m)
  set(SAM_FUZZ_SCHEMA_WORK ${CMAKE_CURRENT_BINARY_DIR}/fuzz-sam-schema-corpus)
  file(MAKE_DIRECTORY ${SAM_FUZZ_SCHEMA_WORK})
  add_test(NAME fuzz-sam-schema
    COMMAND fuzz-sam-schema -runs=20000 -seed=1 ${SAM_FUZZ_SCHEMA_WORK}
            ${CMAKE_CURRENT_LIST_DIR}/corpus-sam-schema)
  set_tests_properties(fuzz-sam-schema PROPERTIES TIMEOUT 300 LABELS fuzz)
elseif(SAM_FUZZ)
  message(STATUS "SAM_FUZZ needs clang; fuzz targets skipped")
endif()
