// cgroup v2 against a fake cgroupfs: what gets written, stats parsing, create/remove.

#include "runtime/cgroup/v2.hpp"

#include <chrono>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fake_cgroupfs.hpp"

namespace grove::runtime::cgroup {
namespace {

using testing::FakeCgroupfs;

struct V2Fixture {
    explicit V2Fixture(FakeCgroupfs::Options options = {})
        : fs(FakeCgroupfs::Layout::kV2, std::move(options)), manager(fs.root(), fs.hooks()) {}
    FakeCgroupfs fs;
    V2Manager manager;
};

TEST(CgroupV2, CreateEnablesControllersAndWritesLimits) {
    V2Fixture f;
    auto group = f.manager.create("run1", {.memory_bytes = 64 << 20, .pids = 32, .cpus = 0.5});
    ASSERT_TRUE(group.has_value()) << group.error().message();
    EXPECT_EQ(f.fs.read("cgroup.subtree_control"), "+memory +pids +cpu +io");
    EXPECT_EQ(f.fs.read("grove/cgroup.subtree_control"), "+memory +pids +cpu +io");
    EXPECT_EQ(f.fs.read("grove/run1/memory.max"), "67108864");
    EXPECT_EQ(f.fs.read("grove/run1/memory.swap.max"), "0");
    EXPECT_EQ(f.fs.read("grove/run1/pids.max"), "32");
    EXPECT_EQ(f.fs.read("grove/run1/cpu.max"), "50000 100000");
    EXPECT_TRUE((*group)->dir_fd().has_value());
}

TEST(CgroupV2, NoLimitsLeavesDefaults) {
    V2Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value()) << group.error().message();
    EXPECT_EQ(f.fs.read("grove/run1/memory.max"), "max\n");
    EXPECT_EQ(f.fs.read("grove/run1/cpu.max"), "max 100000\n");
}

TEST(CgroupV2, AlreadyEnabledControllersAreNotRequestedAgain) {
    V2Fixture f;
    f.fs.put("cgroup.subtree_control", "cpu io memory pids\n");
    ASSERT_TRUE(f.manager.create("run1", {}).has_value());
    EXPECT_EQ(f.fs.read("cgroup.subtree_control"), "cpu io memory pids\n");
}

TEST(CgroupV2, MissingControllerFailsOnlyWhenALimitNeedsIt) {
    V2Fixture f({.offered = "memory pids"});
    auto group = f.manager.create("run1", {.cpus = 1.0});
    ASSERT_FALSE(group.has_value());
    EXPECT_EQ(group.error().code(), Code::kUnimplemented);
    EXPECT_FALSE(f.fs.exists("grove/run1")) << "a failed create must remove its group";
    EXPECT_EQ(f.fs.read("grove/cgroup.subtree_control"), "+memory +pids");
    auto other = f.manager.create("run2", {.memory_bytes = 1 << 20});
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(f.fs.read("grove/run2/memory.max"), "1048576");
}

TEST(CgroupV2, NoSwapAccountingSkipsSwapMax) {
    V2Fixture f({.has_swap = false});
    auto group = f.manager.create("run1", {.memory_bytes = 1 << 20});
    ASSERT_TRUE(group.has_value());
    EXPECT_EQ(f.fs.read("grove/run1/memory.max"), "1048576");
    EXPECT_FALSE(f.fs.exists("grove/run1/memory.swap.max"));
}

TEST(CgroupV2, RejectsBadNamesAndDuplicates) {
    V2Fixture f;
    for (const char* bad : {"", ".", "..", "a/b", "../x"}) {
        auto group = f.manager.create(bad, {});
        ASSERT_FALSE(group.has_value()) << bad;
        EXPECT_EQ(group.error().code(), Code::kInvalidArgument) << bad;
    }
    auto first = f.manager.create("run1", {});
    ASSERT_TRUE(first.has_value());
    auto second = f.manager.create("run1", {});
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
    EXPECT_TRUE(f.fs.exists("grove/run1")) << "the duplicate must not remove the original";
}

TEST(CgroupV2, RejectsNonPositiveCpus) {
    V2Fixture f;
    auto group = f.manager.create("run1", {.cpus = 0.0});
    ASSERT_FALSE(group.has_value());
    EXPECT_EQ(group.error().code(), Code::kInvalidArgument);
    EXPECT_FALSE(f.fs.exists("grove/run1"));
}

TEST(CgroupV2, AddProcessWritesProcs) {
    V2Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    ASSERT_TRUE((*group)->add_process(4242).has_value());
    EXPECT_EQ(f.fs.read("grove/run1/cgroup.procs"), "4242");
    f.fs.put("grove/run1/cgroup.procs", "");  // as if it exited
}

TEST(CgroupV2, StatsParsesKernelFiles) {
    V2Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    f.fs.put("grove/run1/memory.peak", "1048576\n");
    f.fs.put("grove/run1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    f.fs.put("grove/run1/pids.current", "7\n");
    f.fs.put("grove/run1/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    auto stats = (*group)->stats();
    ASSERT_TRUE(stats.has_value()) << stats.error().message();
    EXPECT_EQ(stats->memory_peak_bytes, 1048576u);
    EXPECT_EQ(stats->cpu_usage_ns, 1500000u);
    EXPECT_EQ(stats->pids_current, 7u);
    EXPECT_TRUE(stats->oom_killed);
}

TEST(CgroupV2, StatsWithoutMemoryPeakKeepsHighestCurrent) {
    V2Fixture f({.has_peak = false});
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    f.fs.put("grove/run1/memory.current", "5000\n");
    ASSERT_EQ((*group)->stats()->memory_peak_bytes, 5000u);
    f.fs.put("grove/run1/memory.current", "100\n");
    EXPECT_EQ((*group)->stats()->memory_peak_bytes, 5000u);
    EXPECT_FALSE((*group)->stats()->oom_killed);
}

TEST(CgroupV2, StatsRejectsGarbage) {
    V2Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    f.fs.put("grove/run1/pids.current", "lots\n");
    auto stats = (*group)->stats();
    ASSERT_FALSE(stats.has_value());
    EXPECT_EQ(stats.error().code(), Code::kDataLoss);
}

TEST(CgroupV2, KillAllUsesCgroupKill) {
    V2Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    ASSERT_TRUE((*group)->kill_all().has_value()) << "an empty group needs no kill";
    EXPECT_EQ(f.fs.read("grove/run1/cgroup.kill"), "");
    f.fs.put("grove/run1/cgroup.procs", "101\n102\n");
    // The fake "kernel": empties the group once cgroup.kill is written.
    std::thread kernel([&] {
        while (f.fs.read("grove/run1/cgroup.kill") != "1") {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        f.fs.put("grove/run1/cgroup.procs", "");
    });
    auto killed = (*group)->kill_all();
    kernel.join();
    ASSERT_TRUE(killed.has_value()) << killed.error().message();
    EXPECT_TRUE(f.fs.signals.empty());
}

TEST(CgroupV2, KillAllWithoutCgroupKillSignalsEveryPidFrozen) {
    V2Fixture f({.has_kill = false});
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    f.fs.put("grove/run1/cgroup.procs", "101\n102\n");
    f.fs.put("grove/run1/cgroup.events", "populated 1\nfrozen 1\n");
    ASSERT_TRUE((*group)->kill_all().has_value());
    ASSERT_EQ(f.fs.signals.size(), 2u);
    EXPECT_EQ(f.fs.signals[0], std::make_pair(pid_t{101}, SIGKILL));
    EXPECT_EQ(f.fs.signals[1], std::make_pair(pid_t{102}, SIGKILL));
    EXPECT_EQ(f.fs.read("grove/run1/cgroup.freeze"), "0") << "left thawed";
}

TEST(CgroupV2, CloseRemovesTheGroupButKeepsTheParent) {
    V2Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    ASSERT_TRUE((*group)->close().has_value());
    EXPECT_FALSE(f.fs.exists("grove/run1"));
    EXPECT_TRUE(f.fs.exists("grove"));
    EXPECT_FALSE((*group)->dir_fd().has_value());
    EXPECT_TRUE((*group)->close().has_value()) << "close is idempotent";
}

TEST(CgroupV2, DestructorRemovesAnUnclosedGroup) {
    V2Fixture f;
    {
        auto group = f.manager.create("run1", {});
        ASSERT_TRUE(group.has_value());
        ASSERT_TRUE(f.fs.exists("grove/run1"));
    }
    EXPECT_FALSE(f.fs.exists("grove/run1"));
}

TEST(CgroupV2, OpenFindsALeftGroupToUpdateFreezeAndCollect) {
    V2Fixture f;
    EXPECT_EQ(f.manager.open("ctr1").error().code(), Code::kNotFound);
    ASSERT_TRUE(testing::leave_behind(f.manager, "ctr1", {.pids = 10}));
    f.fs.put("grove/cgroup.subtree_control", "memory pids cpu\n");  // as the kernel shows it
    auto group = f.manager.open("ctr1");
    ASSERT_TRUE(group.has_value()) << group.error().message();
    ASSERT_TRUE((*group)->update({.memory_bytes = 1 << 20}).has_value());
    EXPECT_EQ(f.fs.read("grove/ctr1/memory.max"), "1048576");
    EXPECT_EQ(f.fs.read("grove/ctr1/pids.max"), "10") << "unset limits are kept";
    f.fs.put("grove/ctr1/cgroup.events", "populated 1\nfrozen 1\n");
    ASSERT_TRUE((*group)->freeze(true).has_value());
    EXPECT_EQ(f.fs.read("grove/ctr1/cgroup.freeze"), "1");
    ASSERT_TRUE((*group)->freeze(false).has_value());
    EXPECT_EQ(f.fs.read("grove/ctr1/cgroup.freeze"), "0");
    ASSERT_TRUE((*group)->close().has_value());
    EXPECT_FALSE(f.fs.exists("grove/ctr1"));
}

}  // namespace
}  // namespace grove::runtime::cgroup
