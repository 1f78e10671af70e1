#include "daemon/output_events.hpp"

#include <gtest/gtest.h>

#include "daemon/stream_repr.hpp"

namespace grove::daemon {
namespace {

using std::chrono::milliseconds;

std::vector<EventRecord> all(const EventLog& log) {
    return log.read(-1, milliseconds(0), {}).events;
}

std::string text(const EventRecord& event) {
    auto data = base::parse_json(event.data_json);
    EXPECT_TRUE(data);
    return decode_stream_repr(*data).value_or("?");
}

TEST(OutputEvents, EachChunkIsAnEventUpToTheLimit) {
    EventLog log;
    OutputEvents output(log, 10);
    output.add(engine::Stream::kStdout, "hello ");
    output.add(engine::Stream::kStderr, "oops");
    output.add(engine::Stream::kStdout, "world, and more");
    output.add(engine::Stream::kStdout, "dropped");
    output.finish();
    const auto events = all(log);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].type, "stdout");
    EXPECT_EQ(text(events[0]), "hello ");
    EXPECT_EQ(events[1].type, "stderr");
    EXPECT_EQ(text(events[2]), "worl");
    EXPECT_EQ(events[3].type, "truncated");
    auto truncated = base::parse_json(events[3].data_json);
    EXPECT_EQ((*truncated)["stream"], "stdout");
    EXPECT_EQ((*truncated)["bytes_emitted"], 10);
    EXPECT_EQ((*truncated)["bytes_dropped"], 18);
}

TEST(OutputEvents, ManySmallWritesAreGatheredAfterTheLiveEvents) {
    EventLog log;
    OutputEvents output(log, 1 << 30);
    const size_t writes = OutputEvents::kLiveEvents + OutputEvents::kBatchBytes + 10;
    for (size_t i = 0; i < writes; ++i) {
        output.add(engine::Stream::kStdout, "x");
    }
    EXPECT_EQ(all(log).size(), OutputEvents::kLiveEvents + 1) << "one full batch so far";
    output.finish();
    const auto events = all(log);
    ASSERT_EQ(events.size(), OutputEvents::kLiveEvents + 2);
    size_t bytes = 0;
    for (const auto& event : events) {
        bytes += text(event).size();
    }
    EXPECT_EQ(bytes, writes) << "nothing is lost";
}

}  // namespace
}  // namespace grove::daemon
