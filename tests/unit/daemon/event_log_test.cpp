#include "daemon/event_log.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace grove::daemon {
namespace {

using std::chrono::milliseconds;

TEST(EventLog, ReadsAfterAnIdAndTakesUnsavedOnce) {
    EventLog log;
    EXPECT_EQ(log.append(0, "init", {{"a", 1}}), 0);
    EXPECT_EQ(log.append(1, "spawn", {}), 1);
    auto read = log.read(-1, milliseconds(0), {});
    ASSERT_EQ(read.events.size(), 2u);
    EXPECT_EQ(read.events[0].type, "init");
    EXPECT_EQ(read.events[0].data_json, R"({"a":1})");
    EXPECT_EQ(read.events[1].spid, 1);
    EXPECT_FALSE(read.closed);
    EXPECT_EQ(log.read(0, milliseconds(0), {}).events.size(), 1u) << "`after` is exclusive";

    EXPECT_EQ(log.take_unsaved().size(), 2u);
    EXPECT_TRUE(log.take_unsaved().empty());
    log.append(1, "stdout", {});
    const auto unsaved = log.take_unsaved();
    ASSERT_EQ(unsaved.size(), 1u);
    EXPECT_EQ(unsaved[0].id, 2);
}

TEST(EventLog, AReaderWaitsForTheNextEventOrTheClose) {
    EventLog log;
    log.append(0, "init", {});
    std::thread writer([&] {
        std::this_thread::sleep_for(milliseconds(50));
        log.append(1, "stdout", {});
        std::this_thread::sleep_for(milliseconds(50));
        log.close();
    });
    auto read = log.read(0, milliseconds(10'000), {});
    ASSERT_EQ(read.events.size(), 1u);
    EXPECT_EQ(read.events[0].type, "stdout");
    read = log.read(1, milliseconds(10'000), {});
    EXPECT_TRUE(read.events.empty());
    EXPECT_TRUE(read.closed);
    writer.join();
}

TEST(EventLog, AWaitEndsAtItsTimeoutOrOnStop) {
    EventLog log;
    auto read = log.read(-1, milliseconds(20), {});
    EXPECT_TRUE(read.events.empty());
    EXPECT_FALSE(read.closed);

    std::stop_source stop;
    std::thread stopper([&] {
        std::this_thread::sleep_for(milliseconds(50));
        stop.request_stop();
    });
    const auto started = std::chrono::steady_clock::now();
    read = log.read(-1, milliseconds(60'000), stop.get_token());
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
    EXPECT_TRUE(read.events.empty());
    stopper.join();
}

TEST(EventLog, TheLastEventIsReadableOnlyOncePublished) {
    EventLog log;
    log.append(0, "init", {});
    EXPECT_EQ(log.take_unsaved().size(), 1u);
    auto last = log.make_last(0, "completion", {{"status", "SUCCESS"}});
    EXPECT_EQ(last.id, 1);
    EXPECT_TRUE(log.take_unsaved().empty()) << "its writer persists it itself";
    const auto started = std::chrono::steady_clock::now();
    auto read = log.read(0, milliseconds(50), {});
    EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(50))
        << "a reserved event wakes nobody";
    EXPECT_TRUE(read.events.empty());
    EXPECT_FALSE(read.closed);

    std::thread writer([&] {
        std::this_thread::sleep_for(milliseconds(50));
        log.close_with(std::move(last));
    });
    read = log.read(0, milliseconds(10'000), {});
    writer.join();
    ASSERT_EQ(read.events.size(), 1u);
    EXPECT_EQ(read.events[0].type, "completion");
    EXPECT_EQ(read.events[0].data_json, R"({"status":"SUCCESS"})");
    EXPECT_TRUE(read.closed) << "published and closed at once";
    EXPECT_TRUE(log.take_unsaved().empty());
}

TEST(EventLog, StartsAtTheGivenId) {
    EventLog log(7);
    EXPECT_EQ(log.append(0, "completion", {}), 7);
}

}  // namespace
}  // namespace grove::daemon
