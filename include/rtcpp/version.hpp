// rtcpp/version.hpp: the library's version.
#pragma once

#include <string_view>

namespace rtcpp {

// "MAJOR.MINOR.PATCH" of the linked library (which may differ from the headers' version).
std::string_view version() noexcept;

inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 1;
inline constexpr int kVersionPatch = 0;

}  // namespace rtcpp
