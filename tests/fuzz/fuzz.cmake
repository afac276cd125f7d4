# libFuzzer targets, built only with clang and -DSAM_FUZZ=ON:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSAM_FUZZ=ON
#   make -C build-fuzz fuzz-dsg-page-parse fuzz-dsg-consumption fuzz-sam-schema
#   mkdir -p /tmp/corpus && build-fuzz/tests/fuzz-dsg-page-parse \
#       /tmp/corpus tests/fuzz/corpus-dsg-page-parse
# ctest (label fuzz; tools/test runs it) then also replays each seed corpus
# and runs a short, fixed number of random inputs (no time limit involved).
option(SAM_FUZZ "Build the libFuzzer targets (clang only)" OFF)

# sam_fuzz_target(NAME SOURCES src... INCLUDES dir... LIBS lib...
#                 [DEFINES def...]): tests/fuzz/NAME.c plus the code under
# test, compiled into the target (not linked from a library) so that
# libFuzzer's coverage instrumentation reaches it; its seed corpus is
# tests/fuzz/corpus-<NAME without "fuzz-">.
function(sam_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;INCLUDES;LIBS;DEFINES" ${ARGN})
  string(REGEX REPLACE "^fuzz-" "" stem ${name})
  add_executable(${name} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${name}.c
                 ${F_SOURCES})
  target_include_directories(${name} PRIVATE ${F_INCLUDES}
                             ${PROJECT_SOURCE_DIR}/host-sdk/include)
  target_compile_definitions(${name} PRIVATE ${F_DEFINES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  # New inputs go to the first directory, in the build tree, never into
  # the checked-in seed corpus.
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME ${name}
    COMMAND ${name} -runs=20000 -seed=1 ${work}
            ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/corpus-${stem})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
endfunction()

if(SAM_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(DSG_SRC ${PROJECT_SOURCE_DIR}/plugin/src)
  set(SAM_SRC ${PROJECT_SOURCE_DIR}/host-sdk/src)

  # A users page through the download's parse and mapping.
  sam_fuzz_target(fuzz-dsg-page-parse
    SOURCES ${DSG_SRC}/dsg_page_parse.c ${DSG_SRC}/dsg_user_map.c
            ${DSG_SRC}/dsg_exclusions.c ${DSG_SRC}/dsg_dates.c
    INCLUDES ${DSG_SRC}
    LIBS PkgConfig::JSONC PkgConfig::OPENSSL)

  # The consumption record from DocuSign's account and billing replies.
  sam_fuzz_target(fuzz-dsg-consumption
    SOURCES ${DSG_SRC}/dsg_consumption.c ${DSG_SRC}/dsg_dates.c
    INCLUDES ${DSG_SRC}
    LIBS PkgConfig::JSONC)

  # The host's JSON Schema validator: forms and record type schemas.
  sam_fuzz_target(fuzz-sam-schema
    SOURCES ${SAM_SRC}/schema_compile.c ${SAM_SRC}/schema_format.c
            ${SAM_SRC}/schema_json.c ${SAM_SRC}/schema_keywords.c
            ${SAM_SRC}/schema_meta.c ${SAM_SRC}/schema_ref.c
            ${SAM_SRC}/schema_uri.c ${SAM_SRC}/schema_validate.c
    INCLUDES ${SAM_SRC}
    LIBS PkgConfig::JSONC PkgConfig::PCRE2 m
    DEFINES SAM_FUZZ_SCHEMA_DIR="${SAM_SCHEMA_DIR}")
elseif(SAM_FUZZ)
  message(STATUS "SAM_FUZZ needs clang; fuzz targets skipped")
endif()
