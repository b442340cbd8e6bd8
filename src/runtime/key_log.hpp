// SSLKEYLOGFILE support: the DTLS core hands its secrets to a callback (it writes no files);
// this is the callback that appends them to the file the environment names.
#pragma once

#include <functional>
#include <string_view>

namespace rtcpp::runtime {

// A writer that appends NSS key log lines to $SSLKEYLOGFILE (each line whole, even with
// several connections writing at once), or an empty function when the variable is unset.
std::function<void(std::string_view line)> key_log_file_from_environment();

}  // namespace rtcpp::runtime
