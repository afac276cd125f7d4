# Host core unit tests (ABI.md 14.2): copy-in, SAM_HOST_HAS, status codes,
# struct layout, and the header compiled as C11, C++ and for 32-bit targets.
sam_add_test(test-copy-in SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-copy-in.c
             LIBS samhost_static)
sam_add_test(test-host-has SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-host-has.c
             LIBS samhost_static)
sam_add_test(test-status SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-status.c)
sam_add_test(test-abi-layout SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-abi-layout.c)

set(SAM_ABI_HEADER ${PROJECT_SOURCE_DIR}/host-sdk/include/sam/sam_plugin.h)
add_test(NAME test-abi-header-c11
         COMMAND ${CMAKE_C_COMPILER} -x c -std=c11 -Wall -Wextra -Wpadded
                 -Werror -fsyntax-only ${SAM_ABI_HEADER})
find_program(SAM_CXX NAMES g++ clang++)
if(SAM_CXX)
  add_test(NAME test-abi-header-cxx
           COMMAND ${SAM_CXX} -x c++ -std=c++11 -Wall -Wextra -Wpadded -Werror
                   -fsyntax-only ${SAM_ABI_HEADER})
endif()
find_program(SAM_CLANG NAMES clang)
if(SAM_CLANG)
  foreach(target i386-linux-gnu armv7-none-eabi aarch64-linux-gnu)
    add_test(NAME test-abi-header-${target}
             COMMAND ${SAM_CLANG} --target=${target} -ffreestanding -x c
                     -std=c11 -fsyntax-only -Wpadded -Werror
                     ${SAM_ABI_HEADER})
  endforeach()
endif()
