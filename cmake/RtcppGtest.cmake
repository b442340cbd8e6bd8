# rtcpp_add_gtests(<target> <prefix> <label>): registers a googletest binary with ctest.
# By default each test case is a ctest test of its own (gtest_discover_tests), for precise
# reports. With RTCPP_TEST_SHARDS=N the binary runs as N shards instead (googletest's
# GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX), which ctest runs in parallel: under a sanitizer a
# process start costs about a second, so one process per case would cost minutes.
set(RTCPP_TEST_SHARDS 0 CACHE STRING "Run each googletest binary as this many shards (0: one ctest test per case)")

function(rtcpp_add_gtests target prefix label)
  if(RTCPP_TEST_SHARDS GREATER 0)
    math(EXPR last "${RTCPP_TEST_SHARDS} - 1")
    foreach(shard RANGE ${last})
      set(name "${prefix}${target}.shard${shard}")
      add_test(NAME ${name} COMMAND ${target})
      set_tests_properties(${name} PROPERTIES LABELS ${label} ENVIRONMENT
        "GTEST_TOTAL_SHARDS=${RTCPP_TEST_SHARDS};GTEST_SHARD_INDEX=${shard}")
    endforeach()
  else()
    gtest_discover_tests(${target} TEST_PREFIX "${prefix}" PROPERTIES LABELS ${label})
  endif()
endfunction()
