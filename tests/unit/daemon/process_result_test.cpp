#include "daemon/process_result.hpp"

#include <gtest/gtest.h>

#include "daemon/event_data.hpp"
#include "daemon/event_log.hpp"
#include "daemon/output_events.hpp"

namespace grove::daemon {
namespace {

using std::chrono::milliseconds;

std::vector<EventRecord> all(const EventLog& log) {
    return log.read(-1, milliseconds(0), {}).events;
}

TEST(ProcessResult, FoldsOneProcessWithMinusOneWhileItRuns) {
    EventLog log;
    log.append(kMainSpid, kSpawnEvent, {{"pid", 2}});
    log.append(2, kSpawnEvent, {{"pid", 7}});
    OutputEvents main_output(log, 100, kMainSpid);
    OutputEvents output(log, 4, 2);
    main_output.add(engine::Stream::kStdout, "main\n");
    output.add(engine::Stream::kStdout, "sub\n");
    output.add(engine::Stream::kStderr, "e");

    auto running = fold_process_result(all(log), 2);
    ASSERT_TRUE(running) << running.error().to_string();
    EXPECT_EQ((*running)["state"]["exit_code"], -1);
    EXPECT_EQ((*running)["state"]["signal"], -1);
    EXPECT_EQ((*running)["state"]["pid"], 7);
    EXPECT_EQ((*running)["stdout"]["value"], "sub\n");
    EXPECT_EQ((*running)["stdout"]["truncated"], false);
    EXPECT_EQ((*running)["stderr"]["value"], "e");
    EXPECT_FALSE(running->contains("resources"));

    output.add(engine::Stream::kStdout, "more");
    output.finish();
    ProcessExit exit{.code = -1, .signal = 15, .duration_ns = 1'500'000'000, .pid = 7};
    exit.usage.ru_utime = {.tv_sec = 1, .tv_usec = 250'000};
    exit.usage.ru_maxrss = 1234;
    log.append(2, kExitEvent, exit_event_data(exit));

    auto ended = fold_process_result(all(log), 2);
    ASSERT_TRUE(ended) << ended.error().to_string();
    EXPECT_EQ((*ended)["state"]["exit_code"], -1) << "killed by a signal";
    EXPECT_EQ((*ended)["state"]["signal"], 15);
    EXPECT_EQ((*ended)["state"]["timed_out"], false);
    EXPECT_EQ((*ended)["stdout"]["value"], "sub\n") << "up to truncate_at";
    EXPECT_EQ((*ended)["stdout"]["truncated"], true);
    EXPECT_EQ((*ended)["stderr"]["truncated"], false);
    EXPECT_EQ((*ended)["resources"]["max_rss"], 1234);
    EXPECT_DOUBLE_EQ((*ended)["resources"]["user_cpu_time"].get<double>(), 1.25);
    EXPECT_DOUBLE_EQ((*ended)["resources"]["elapsed_time"].get<double>(), 1.5);

    auto main = fold_process_result(all(log), kMainSpid);
    ASSERT_TRUE(main);
    EXPECT_EQ((*main)["stdout"]["value"], "main\n");

    auto missing = fold_process_result(all(log), 3);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST(ProcessResult, ExitEventsRoundTrip) {
    ProcessExit exit{
        .code = 3, .signal = -1, .timed_out = true, .duration_ns = 42'000'000, .pid = 9};
    exit.usage.ru_stime = {.tv_sec = 0, .tv_usec = 7};
    exit.usage.ru_nvcsw = 5;
    const ProcessExit back = process_exit_from_event(exit_event_data(exit));
    EXPECT_EQ(back.code, 3);
    EXPECT_EQ(back.signal, -1);
    EXPECT_TRUE(back.timed_out);
    EXPECT_EQ(back.duration_ns, 42'000'000);
    EXPECT_EQ(back.pid, 9);
    EXPECT_EQ(back.usage.ru_stime.tv_usec, 7);
    EXPECT_EQ(back.usage.ru_nvcsw, 5);
}

}  // namespace
}  // namespace grove::daemon
