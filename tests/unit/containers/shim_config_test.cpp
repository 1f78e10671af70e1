#include "containers/shim/shim_config.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "base/json.hpp"
#include "base/temp_dir.hpp"

namespace grove::containers {
namespace {

TEST(ShimConfigTest, RoundTrips) {
    const ShimConfig config{.id = std::string(64, 'a'),
                            .lowers = {"/l/2", "/l/1"},
                            .argv = {"/bin/sh", "-c", "echo hi"},
                            .env = {"PATH=/bin", "A=b c"},
                            .cwd = "/work",
                            .uid = 1000,
                            .gid = 100,
                            .hostname = "box",
                            .host_network = true,
                            .tty = true,
                            .open_stdin = true,
                            .read_only = true,
                            .init = true,
                            .limits = {.memory_bytes = 1 << 30, .pids = 64, .cpus = 0.5},
                            .log_max_bytes = 4096};
    const auto text = to_json(config);
    ASSERT_TRUE(text);
    const auto back = shim_config_from_json(*text);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->id, config.id);
    EXPECT_EQ(back->lowers, config.lowers);
    EXPECT_EQ(back->argv, config.argv);
    EXPECT_EQ(back->env, config.env);
    EXPECT_EQ(back->cwd, "/work");
    EXPECT_EQ(back->uid, 1000u);
    EXPECT_EQ(back->gid, 100u);
    EXPECT_EQ(back->hostname, "box");
    EXPECT_TRUE(back->host_network && back->tty && back->open_stdin && back->read_only &&
                back->init);
    EXPECT_EQ(back->limits.memory_bytes, config.limits.memory_bytes);
    EXPECT_EQ(back->limits.pids, config.limits.pids);
    EXPECT_EQ(back->limits.cpus, config.limits.cpus);
    EXPECT_EQ(back->log_max_bytes, 4096u);

    const auto none = limits_from_json(limits_to_json({}));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->memory_bytes || none->pids || none->cpus);
}

TEST(ShimConfigTest, CapabilitiesRoundTripAndOlderRecordsGetTheDefault) {
    ShimConfig config{.id = "c", .argv = {"true"}};
    config.capabilities = runtime::caps::cap_bit(CAP_NET_RAW);
    const auto text = to_json(config);
    ASSERT_TRUE(text);
    const auto back = shim_config_from_json(*text);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->capabilities, runtime::caps::cap_bit(CAP_NET_RAW));

    auto older = base::parse_json(*text);
    ASSERT_TRUE(older);
    older->erase("capabilities");
    const auto old_config = shim_config_from_json(base::dump_json(*older));
    ASSERT_TRUE(old_config) << old_config.error().to_string();
    EXPECT_EQ(old_config->capabilities, runtime::caps::kDockerDefaultCaps);
}

TEST(ShimConfigTest, ExitRecordIsWrittenWhole) {
    auto dir = base::TempDir::create("grove-exit-");
    ASSERT_TRUE(dir);
    const auto path = dir->path() / "exit.json";
    const ExitRecord record{
        .exit_code = 137, .signal = 9, .oom_killed = true, .finished_ns = 42, .error = "x"};
    ASSERT_TRUE(write_file_atomically(path, to_json(record)));
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto back = exit_record_from_json(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->exit_code, 137);
    EXPECT_EQ(back->signal, 9);
    EXPECT_TRUE(back->oom_killed);
    EXPECT_EQ(back->finished_ns, 42);
    EXPECT_EQ(back->error, "x");
    EXPECT_FALSE(exit_record_from_json("{\"exit_code\": 1}"));
}

TEST(ShimConfigTest, ExecRequestsAndStatsRoundTrip) {
    const ExecRequest request{.argv = {"cat"},
                              .env = {"A=1"},
                              .cwd = "/tmp",
                              .uid = 7,
                              .gid = 8,
                              .tty = true,
                              .open_stdin = true};
    const auto back = exec_request_from_json(to_json(request));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->argv, request.argv);
    EXPECT_EQ(back->env, request.env);
    EXPECT_EQ(back->cwd, "/tmp");
    EXPECT_EQ(back->uid, 7u);
    EXPECT_EQ(back->gid, 8u);
    EXPECT_TRUE(back->tty && back->open_stdin);
    EXPECT_EQ(to_json(request).find('\n'), std::string::npos) << "one line on the socket";

    const runtime::cgroup::Stats stats{.memory_peak_bytes = 1,
                                       .cpu_usage_ns = 2,
                                       .pids_current = 3,
                                       .oom_killed = true,
                                       .io_service_bytes = {{8, 0, "Write", 4096}},
                                       .io_serviced = {{8, 0, "Write", 1}, {8, 16, "Read", 2}}};
    const auto stats_back = stats_from_json(stats_to_json(stats));
    ASSERT_TRUE(stats_back);
    EXPECT_EQ(stats_back->memory_peak_bytes, 1u);
    EXPECT_EQ(stats_back->cpu_usage_ns, 2u);
    EXPECT_EQ(stats_back->pids_current, 3u);
    EXPECT_TRUE(stats_back->oom_killed);
    EXPECT_EQ(stats_back->io_service_bytes, stats.io_service_bytes);
    EXPECT_EQ(stats_back->io_serviced, stats.io_serviced);
    // A shim from before the blkio counters answers without them.
    const auto older = stats_from_json(
        R"({"memory_peak_bytes":1,"cpu_usage_ns":2,"pids_current":3,"oom_killed":false})");
    ASSERT_TRUE(older);
    EXPECT_TRUE(older->io_service_bytes.empty());
}

}  // namespace
}  // namespace grove::containers
