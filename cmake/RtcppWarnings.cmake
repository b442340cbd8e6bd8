# rtcpp_set_warnings(<target>): the project's warning set, errors when RTCPP_WERROR is on.
function(rtcpp_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    # C++20 designated initializers leave defaulted members out on purpose.
    -Wno-missing-field-initializers)
  if(RTCPP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
