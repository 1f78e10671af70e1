// cgroup v1 against a fake hybrid cgroupfs: one directory per hierarchy.

#include "runtime/cgroup/v1.hpp"

#include <gtest/gtest.h>

#include "fake_cgroupfs.hpp"

namespace grove::runtime::cgroup {
namespace {

using testing::FakeCgroupfs;

struct V1Fixture {
    explicit V1Fixture(FakeCgroupfs::Options options = {})
        : fs(FakeCgroupfs::Layout::kV1, std::move(options)),
          manager(*find_v1_hierarchies(fs.root()), fs.hooks()) {}
    FakeCgroupfs fs;
    V1Manager manager;
};

TEST(CgroupV1, FindsHierarchiesAndIgnoresUnified) {
    FakeCgroupfs fs(FakeCgroupfs::Layout::kV1, {});
    auto found = find_v1_hierarchies(fs.root());
    ASSERT_TRUE(found.has_value());
    ASSERT_EQ(found->size(), 5u);
    EXPECT_EQ(found->at("memory"), fs.root() / "memory");
    EXPECT_EQ(found->at("cpuacct"), fs.root() / "cpuacct");
    EXPECT_EQ(found->at("freezer"), fs.root() / "freezer");
}

TEST(CgroupV1, JoinedCpuHierarchyIsOneDirectory) {
    V1Fixture f({.joined_cpu = true});
    auto found = find_v1_hierarchies(f.fs.root());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->at("cpu"), f.fs.root() / "cpu,cpuacct");
    EXPECT_EQ(found->at("cpuacct"), f.fs.root() / "cpu,cpuacct");
    auto group = f.manager.create("run1", {.cpus = 2.0});
    ASSERT_TRUE(group.has_value()) << group.error().message();
    EXPECT_EQ(f.fs.read("cpu,cpuacct/grove/run1/cpu.cfs_quota_us"), "200000");
    ASSERT_TRUE((*group)->add_process(77).has_value());
    EXPECT_EQ(f.fs.read("cpu,cpuacct/grove/run1/cgroup.procs"), "77");
    f.fs.put("cpu,cpuacct/grove/run1/cpuacct.usage", "123456789\n");
    EXPECT_EQ((*group)->stats()->cpu_usage_ns, 123456789u);
    ASSERT_TRUE((*group)->close().has_value());
    EXPECT_FALSE(f.fs.exists("cpu,cpuacct/grove/run1"));
}

TEST(CgroupV1, CreateMakesAGroupInEveryHierarchyAndWritesLimits) {
    V1Fixture f;
    auto group = f.manager.create("run1", {.memory_bytes = 64 << 20, .pids = 32, .cpus = 0.5});
    ASSERT_TRUE(group.has_value()) << group.error().message();
    for (const char* h : {"memory", "pids", "cpu", "cpuacct", "freezer"}) {
        EXPECT_TRUE(f.fs.exists(std::filesystem::path(h) / "grove/run1")) << h;
    }
    EXPECT_FALSE(f.fs.exists("cpuset/grove")) << "cpuset needs cpus and mems set; unused";
    EXPECT_EQ(f.fs.read("memory/grove/run1/memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(f.fs.read("memory/grove/run1/memory.memsw.limit_in_bytes"), "67108864");
    EXPECT_EQ(f.fs.read("pids/grove/run1/pids.max"), "32");
    EXPECT_EQ(f.fs.read("cpu/grove/run1/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(f.fs.read("cpu/grove/run1/cpu.cfs_quota_us"), "50000");
    EXPECT_FALSE((*group)->dir_fd().has_value());
}

TEST(CgroupV1, TinyCpuQuotaIsRaisedToTheKernelMinimum) {
    V1Fixture f;
    auto group = f.manager.create("run1", {.cpus = 0.001});
    ASSERT_TRUE(group.has_value());
    EXPECT_EQ(f.fs.read("cpu/grove/run1/cpu.cfs_quota_us"), "1000");
}

TEST(CgroupV1, NoSwapAccountingSkipsMemsw) {
    V1Fixture f({.has_swap = false});
    auto group = f.manager.create("run1", {.memory_bytes = 1 << 20});
    ASSERT_TRUE(group.has_value());
    EXPECT_EQ(f.fs.read("memory/grove/run1/memory.limit_in_bytes"), "1048576");
    EXPECT_FALSE(f.fs.exists("memory/grove/run1/memory.memsw.limit_in_bytes"));
}

TEST(CgroupV1, MissingHierarchyFailsALimitAndRemovesEverything) {
    V1Fixture f({.v1_controllers = {"memory", "cpu", "cpuacct", "freezer"}});
    auto group = f.manager.create("run1", {.pids = 10});
    ASSERT_FALSE(group.has_value());
    EXPECT_EQ(group.error().code(), Code::kUnimplemented);
    for (const char* h : {"memory", "cpu", "cpuacct", "freezer"}) {
        EXPECT_FALSE(f.fs.exists(std::filesystem::path(h) / "grove/run1")) << h;
    }
}

TEST(CgroupV1, DuplicateNameFailsWithoutRemovingTheOriginal) {
    V1Fixture f;
    auto first = f.manager.create("run1", {});
    ASSERT_TRUE(first.has_value());
    auto second = f.manager.create("run1", {});
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
    EXPECT_TRUE(f.fs.exists("memory/grove/run1"));
    EXPECT_FALSE(f.manager.create("a/b", {}).has_value());
}

TEST(CgroupV1, AddProcessWritesEveryHierarchy) {
    V1Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    ASSERT_TRUE((*group)->add_process(4242).has_value());
    for (const char* h : {"memory", "pids", "cpu", "cpuacct", "freezer"}) {
        EXPECT_EQ(f.fs.read(std::filesystem::path(h) / "grove/run1/cgroup.procs"), "4242") << h;
        f.fs.put(std::filesystem::path(h) / "grove/run1/cgroup.procs", "");  // as if it exited
    }
}

TEST(CgroupV1, StatsParsesKernelFiles) {
    V1Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    f.fs.put("memory/grove/run1/memory.max_usage_in_bytes", "2097152\n");
    f.fs.put("memory/grove/run1/memory.oom_control",
             "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    f.fs.put("cpuacct/grove/run1/cpuacct.usage", "999\n");
    f.fs.put("pids/grove/run1/pids.current", "3\n");
    auto stats = (*group)->stats();
    ASSERT_TRUE(stats.has_value()) << stats.error().message();
    EXPECT_EQ(stats->memory_peak_bytes, 2097152u);
    EXPECT_EQ(stats->cpu_usage_ns, 999u);
    EXPECT_EQ(stats->pids_current, 3u);
    EXPECT_TRUE(stats->oom_killed);
}

TEST(CgroupV1, OldKernelsFallBackToFailcnt) {
    V1Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    f.fs.put("memory/grove/run1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
    EXPECT_FALSE((*group)->stats()->oom_killed);
    f.fs.put("memory/grove/run1/memory.failcnt", "12\n");
    EXPECT_TRUE((*group)->stats()->oom_killed);
}

TEST(CgroupV1, KillAllFreezesSignalsAndThaws) {
    V1Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    ASSERT_TRUE((*group)->kill_all().has_value()) << "an empty group needs no signal";
    EXPECT_TRUE(f.fs.signals.empty());
    for (const char* h : {"memory", "pids", "cpu", "cpuacct", "freezer"}) {
        f.fs.put(std::filesystem::path(h) / "grove/run1/cgroup.procs", "11\n12\n13\n");
    }
    ASSERT_TRUE((*group)->kill_all().has_value());
    EXPECT_EQ(f.fs.signals.size(), 3u);
    EXPECT_EQ(f.fs.read("freezer/grove/run1/freezer.state"), "THAWED");
}

TEST(CgroupV1, CloseRemovesEveryDirectoryAndDestructorToo) {
    V1Fixture f;
    auto group = f.manager.create("run1", {});
    ASSERT_TRUE(group.has_value());
    ASSERT_TRUE((*group)->close().has_value());
    for (const char* h : {"memory", "pids", "cpu", "cpuacct", "freezer"}) {
        EXPECT_FALSE(f.fs.exists(std::filesystem::path(h) / "grove/run1")) << h;
        EXPECT_TRUE(f.fs.exists(std::filesystem::path(h) / "grove")) << h;
    }
    {
        auto other = f.manager.create("run2", {});
        ASSERT_TRUE(other.has_value());
    }
    EXPECT_FALSE(f.fs.exists("memory/grove/run2"));
}

TEST(CgroupV1, OpenFindsALeftGroupToUpdateFreezeAndCollect) {
    V1Fixture f;
    EXPECT_EQ(f.manager.open("ctr1").error().code(), Code::kNotFound);
    ASSERT_TRUE(testing::leave_behind(f.manager, "ctr1", {.pids = 10}));
    auto group = f.manager.open("ctr1");
    ASSERT_TRUE(group.has_value()) << group.error().message();
    ASSERT_TRUE((*group)->update({.memory_bytes = 1 << 20}).has_value());
    EXPECT_EQ(f.fs.read("memory/grove/ctr1/memory.limit_in_bytes"), "1048576");
    EXPECT_EQ(f.fs.read("pids/grove/ctr1/pids.max"), "10") << "unset limits are kept";
    f.fs.put("freezer/grove/ctr1/freezer.state", "FROZEN\n");
    ASSERT_TRUE((*group)->freeze(true).has_value());
    EXPECT_EQ(f.fs.read("freezer/grove/ctr1/freezer.state"), "FROZEN");
    ASSERT_TRUE((*group)->freeze(false).has_value());
    EXPECT_EQ(f.fs.read("freezer/grove/ctr1/freezer.state"), "THAWED");
    ASSERT_TRUE((*group)->close().has_value());
    EXPECT_FALSE(f.fs.exists("memory/grove/ctr1"));
}

}  // namespace
}  // namespace grove::runtime::cgroup
