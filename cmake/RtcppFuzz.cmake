# rtcpp_add_fuzz_target(<name> SOURCE <file> [<file>...] CORPUS <dir>)
#
# Declares a libFuzzer target. The first source defines LLVMFuzzerTestOneInput; any others
# are code under test that is not in the library (the tools' signaling lines). With RTCPP_FUZZ
# (the `fuzz` preset, clang) it becomes a libFuzzer binary `fuzz_<name>`; in every other build
# it is linked with a replay driver and each file of its seed corpus runs as a ctest test, so
# that the corpora are regression tests on every CI run. The asan preset leaves the replays out
# (RTCPP_FUZZ_REPLAY=OFF): the fuzz preset starts each run from the same corpora under ASan
# and UBSan.
function(rtcpp_add_fuzz_target name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCE" ${ARGN})
  if(NOT ARG_SOURCE OR NOT ARG_CORPUS)
    message(FATAL_ERROR "rtcpp_add_fuzz_target(${name}) needs SOURCE and CORPUS")
  endif()
  set(target fuzz_${name})
  if(RTCPP_FUZZ)
    add_executable(${target} ${ARG_SOURCE})
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  else()
    if(NOT TARGET rtcpp_fuzz_replay_main)
      add_library(rtcpp_fuzz_replay_main OBJECT ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
      rtcpp_set_warnings(rtcpp_fuzz_replay_main)
    endif()
    add_executable(${target} ${ARG_SOURCE} $<TARGET_OBJECTS:rtcpp_fuzz_replay_main>)
    rtcpp_test_build_options(${target})
    add_test(NAME fuzz_corpus.${name} COMMAND ${target} ${ARG_CORPUS})
    set_tests_properties(fuzz_corpus.${name} PROPERTIES LABELS fuzz)
  endif()
  target_link_libraries(${target} PRIVATE rtcpp)
  rtcpp_set_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY RTCPP_FUZZ_TARGETS "${target}|${ARG_CORPUS}")
endfunction()
