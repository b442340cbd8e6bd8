// rtcpp/rtcpp.hpp: everything public in one include.
#pragma once

#include "rtcpp/certificate.hpp"  // IWYU pragma: export
#include "rtcpp/error.hpp"        // IWYU pragma: export
#include "rtcpp/version.hpp"      // IWYU pragma: export
