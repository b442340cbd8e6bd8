// Reading a whole file for the tools.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace rtcpp::tools {

// The file's bytes, or nullopt when it cannot be opened or read. Copied through the stream
// buffer in blocks (an istreambuf_iterator takes a byte at a time: over a second for 64 MiB);
// works for pipes too.
inline std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  if (in.peek() != std::ifstream::traits_type::eof() && !(bytes << in.rdbuf())) return std::nullopt;
  return std::move(bytes).str();
}

}  // namespace rtcpp::tools
