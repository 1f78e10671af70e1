#include "base/log.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "base/json.hpp"

namespace grove::base {
namespace {

struct Captured {
    std::ostringstream out;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink =
        std::make_shared<spdlog::sinks::ostream_sink_mt>(out, /*force_flush=*/true);
};

TEST(Log, JsonRecordsAreOneObjectPerLine) {
    Captured c;
    Logger log(c.sink, LogFormat::kJson, LogLevel::kInfo);
    log.with({{"request_id", "r1"}})
        .info("snapshot \"committed\"", {{"key", "k1"}, {"layers", 3}, {"ok", true}});
    const std::string line = c.out.str();
    ASSERT_EQ(line.back(), '\n');
    auto record = parse_json(line);
    ASSERT_TRUE(record) << line;
    EXPECT_EQ((*record)["level"], "info");
    EXPECT_EQ((*record)["msg"], "snapshot \"committed\"");
    EXPECT_EQ((*record)["request_id"], "r1");
    EXPECT_EQ((*record)["key"], "k1");
    EXPECT_EQ((*record)["layers"], 3);
    EXPECT_EQ((*record)["ok"], true);
    EXPECT_EQ((*record)["ts"].get<std::string>().back(), 'Z');
}

TEST(Log, TextRecordsQuoteOnlyWhenNeeded) {
    Captured c;
    Logger log(c.sink, LogFormat::kText, LogLevel::kDebug);
    log.warn("pull failed", {{"ref", "busybox:latest"}, {"reason", "no route"}, {"n", -2}});
    const std::string line = c.out.str();
    EXPECT_NE(line.find(" warning pull failed ref=busybox:latest reason=\"no route\" n=-2\n"),
              std::string::npos)
        << line;
}

TEST(Log, RecordsBelowLevelAreDropped) {
    Captured c;
    Logger log(c.sink, LogFormat::kText, LogLevel::kWarn);
    EXPECT_FALSE(log.enabled(LogLevel::kInfo));
    log.info("hidden");
    log.debug("hidden");
    EXPECT_EQ(c.out.str(), "");
    log.error("shown");
    EXPECT_NE(c.out.str().find("shown"), std::string::npos);
}

TEST(Log, WithDoesNotChangeTheOriginal) {
    Captured c;
    Logger base(c.sink, LogFormat::kText, LogLevel::kInfo);
    Logger child = base.with({{"container_id", "c1"}});
    base.info("a");
    child.info("b");
    const std::string text = c.out.str();
    EXPECT_NE(text.find("info a\n"), std::string::npos) << text;
    EXPECT_NE(text.find("info b container_id=c1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace grove::base
