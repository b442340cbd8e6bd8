#include "base/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtcpp {
namespace {

class RecordingSink : public LogSink {
 public:
  struct Record {
    LogLevel level;
    std::string component;
    std::string message;
  };
  void write(LogLevel level, std::string_view component, std::string_view message) override {
    records.push_back({level, std::string(component), std::string(message)});
  }
  std::vector<Record> records;
};

struct CountsFormatting {
  int* count;
};
std::ostream& operator<<(std::ostream& out, const CountsFormatting& c) {
  ++*c.count;
  return out << "formatted";
}

TEST(Log, FiltersByLevelAndTagsComponent) {
  auto sink = std::make_shared<RecordingSink>();
  sink->set_level(LogLevel::kInfo);
  Logger log("sctp", sink);
  log.debug("hidden");
  log.info("cwnd=", 4380, " ssthresh=", 65535);
  log.error("boom");
  ASSERT_EQ(sink->records.size(), 2u);
  EXPECT_EQ(sink->records[0].component, "sctp");
  EXPECT_EQ(sink->records[0].message, "cwnd=4380 ssthresh=65535");
  EXPECT_EQ(sink->records[0].level, LogLevel::kInfo);
  EXPECT_EQ(sink->records[1].level, LogLevel::kError);
}

TEST(Log, DisabledLevelsAreNotFormatted) {
  auto sink = std::make_shared<RecordingSink>();
  sink->set_level(LogLevel::kError);
  Logger log("ice", sink);
  int formatted = 0;
  log.debug(CountsFormatting{&formatted});
  EXPECT_EQ(formatted, 0);
  log.error(CountsFormatting{&formatted});
  EXPECT_EQ(formatted, 1);
}

TEST(Log, DefaultSinkIsReplaceable) {
  auto sink = std::make_shared<RecordingSink>();
  sink->set_level(LogLevel::kTrace);
  set_default_log_sink(sink);
  Logger log("dtls");
  log.trace("hello");
  ASSERT_EQ(sink->records.size(), 1u);
  EXPECT_EQ(sink->records[0].message, "hello");
  set_default_log_sink(nullptr);
  EXPECT_NE(default_log_sink(), sink);
  Logger after("dtls");
  after.error("to stderr, not the recording sink");
  EXPECT_EQ(sink->records.size(), 1u);
}

// A logger made before the default sink changes follows the change, as the connections'
// component loggers must (they are made long before an application picks its sink).
TEST(Log, LoggersFollowTheDefaultSinkAndItsLevel) {
  Logger early("api");
  auto sink = std::make_shared<RecordingSink>();
  set_default_log_sink(sink);
  set_log_level(LogLevel::kDebug);
  early.debug("after the change");
  early.trace("below the level");
  set_log_level(LogLevel::kError);
  early.warning("below the new level");
  set_default_log_sink(nullptr);
  early.error("to stderr again");
  ASSERT_EQ(sink->records.size(), 1u);
  EXPECT_EQ(sink->records[0].component, "api");
  EXPECT_EQ(sink->records[0].message, "after the change");
}

TEST(Log, ParsesLevels) {
  LogLevel level = LogLevel::kNone;
  EXPECT_TRUE(parse_log_level("debug", level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(parse_log_level("verbose", level));
  EXPECT_EQ(level, LogLevel::kDebug);
}

}  // namespace
}  // namespace rtcpp
