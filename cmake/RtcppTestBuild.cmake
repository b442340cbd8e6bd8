# rtcpp_test_build_options(<target> [PRECOMPILE_GTEST]): how a test binary's own sources are
# compiled; the library under test keeps the preset's flags. In optimised builds test code is
# compiled at -O1 with line tables only (-g1): enough for a failure's backtrace, and about half
# the compile time of -O2 -g on googletest's macros. PRECOMPILE_GTEST parses googletest's header
# once per binary. GCC 12 loses the system-header mark of the standard headers that come in
# through a precompiled header, and then reports its false -Warray-bounds and -Wstringop-*
# findings inside std::string's inlined copies; those three are off for such targets (the
# sanitizer build checks bounds for real).
function(rtcpp_test_build_options target)
  cmake_parse_arguments(ARG "PRECOMPILE_GTEST" "" "" ${ARGN})
  if(CMAKE_BUILD_TYPE MATCHES "^(RelWithDebInfo|Release)$")
    target_compile_options(${target} PRIVATE -O1 -g1)
  endif()
  if(ARG_PRECOMPILE_GTEST)
    target_precompile_headers(${target} PRIVATE <gtest/gtest.h> <algorithm> <string> <vector>)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${target} PRIVATE -Wno-array-bounds -Wno-stringop-overflow
        -Wno-stringop-overread)
    endif()
  endif()
endfunction()
