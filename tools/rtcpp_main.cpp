// rtcpp: the command-line tool. Subcommands grow with the stack (peer, serve, send, recv).
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "rtcpp/version.hpp"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: rtcpp <command> [options]\n"
               "\n"
               "commands:\n"
               "  version     print the library version\n"
               "  help        this text\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    std::cout << "rtcpp " << rtcpp::version() << "\n";
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "rtcpp: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
