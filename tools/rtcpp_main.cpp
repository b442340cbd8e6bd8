// rtcpp: the command-line tool. Each subcommand answers --help; CLI11 parses the command line.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "rtcpp/version.hpp"
#include "tools/bench.hpp"
#include "tools/demo.hpp"
#include "tools/media_tools.hpp"
#include "tools/peer.hpp"
#include "tools/serve.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rtcpp: a WebRTC stack in C++ (the W3C WebRTC API as a native library)", "rtcpp"};
  app.set_version_flag("--version", "rtcpp " + std::string(rtcpp::version()));
  app.require_subcommand(1);
  app.fallthrough(false);

  rtcpp::tools::DemoOptions demo;
  auto* demo_command = rtcpp::tools::add_demo_command(app, demo);
  rtcpp::tools::PeerOptions peer;
  auto* peer_command = rtcpp::tools::add_peer_command(app, peer);
  rtcpp::tools::ServeOptions serve;
  auto* serve_command = rtcpp::tools::add_serve_command(app, serve);
  rtcpp::tools::TestsrcOptions testsrc;
  auto* testsrc_command = rtcpp::tools::add_testsrc_command(app, testsrc);
  rtcpp::tools::MediaCheckOptions media_check;
  auto* media_check_command = rtcpp::tools::add_media_check_command(app, media_check);
  rtcpp::tools::BenchOptions bench;
  auto* bench_command = rtcpp::tools::add_bench_command(app, bench);
  auto* version_command = app.add_subcommand("version", "Print the library version");
  auto* help_command = app.add_subcommand("help", "Print this help");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a bad command line exits 2, as before.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*demo_command) return rtcpp::tools::run_demo(demo);
  if (*peer_command) return rtcpp::tools::run_peer(peer);
  if (*serve_command) return rtcpp::tools::run_serve(serve);
  if (*testsrc_command) return rtcpp::tools::run_testsrc(testsrc);
  if (*media_check_command) return rtcpp::tools::run_media_check(media_check);
  if (*bench_command) return rtcpp::tools::run_bench(bench);
  if (*version_command) {
    std::cout << "rtcpp " << rtcpp::version() << "\n";
    return 0;
  }
  if (*help_command) {
    std::cout << app.get_formatter()->make_help(&app, "rtcpp", CLI::AppFormatMode::Normal);
    return 0;
  }
  return 2;
}
