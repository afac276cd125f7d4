# Build rules for SAM plugins (ABI.md section 6).
#
# sam_add_plugin(<target> MANIFEST <path> SOURCES <src>... [LIBS <lib>...]
#                [NO_VERSION_SCRIPT])
#   Builds a MODULE library with -fvisibility=hidden, a linker version script
#   that exports only the two ABI entry symbols, and -Wl,-z,defs. The output
#   file name is the manifest's "library"; the manifest is copied next to the
#   library in the build tree, so the loader finds it there. Fixtures that
#   need hand-written entry points pass NO_VERSION_SCRIPT.

set(SAM_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/sam_plugin.map)
set(SAM_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/SamEmbed.cmake)

function(sam_add_plugin target)
  cmake_parse_arguments(P "NO_VERSION_SCRIPT" "MANIFEST" "SOURCES;LIBS" ${ARGN})
  if(NOT P_MANIFEST)
    message(FATAL_ERROR "sam_add_plugin(${target}): MANIFEST is required")
  endif()
  file(READ ${P_MANIFEST} _m)
  string(JSON _lib GET "${_m}" library)
  string(REGEX REPLACE "^lib" "" _base "${_lib}")
  string(REGEX REPLACE "\\.so$" "" _base "${_base}")
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${_base}
    PREFIX lib
    SUFFIX .so
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  target_include_directories(${target} PRIVATE
    ${PROJECT_SOURCE_DIR}/host-sdk/include)
  # libuv is always the shared system library: one libuv per process.
  target_link_libraries(${target} PRIVATE PkgConfig::UV ${P_LIBS})
  if(NOT SAM_SANITIZE AND NOT SAM_TSAN)
    # Sanitizer runtimes resolve their symbols from the executable.
    target_link_options(${target} PRIVATE -Wl,-z,defs)
  endif()
  if(NOT P_NO_VERSION_SCRIPT)
    target_link_options(${target} PRIVATE
      -Wl,--version-script=${SAM_PLUGIN_VERSION_SCRIPT})
    set_property(TARGET ${target} APPEND PROPERTY
      LINK_DEPENDS ${SAM_PLUGIN_VERSION_SCRIPT})
  endif()
  configure_file(${P_MANIFEST} ${CMAKE_CURRENT_BINARY_DIR}/plugin.manifest.json
                 COPYONLY)
endfunction()

# sam_embed_files(<out.c> <symbol_prefix> <file>...)
#   Generates a C file that defines, for each file, a NUL-terminated
#   `const char <prefix>_<stem>[]` and `const size_t <prefix>_<stem>_len`,
#   where <stem> is the file name up to its first dot, with '-' made '_'.
#   Schemas are compiled into the binary so that a plugin never depends on a
#   file path at run time.
function(sam_embed_files out prefix)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DPREFIX=${prefix}
            "-DFILES=${ARGN}" -P ${SAM_EMBED_SCRIPT}
    DEPENDS ${ARGN} ${SAM_EMBED_SCRIPT}
    COMMENT "Embedding ${prefix} files"
    VERBATIM)
endfunction()
