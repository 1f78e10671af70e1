// ROOT_* tests: the host's real cgroupfs (v1 hybrid on the project's machines, v2 elsewhere).
// They skip when not root or when a needed controller is missing.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/cgroup/fs.hpp"

namespace grove::runtime::cgroup {
namespace {

constexpr uint64_t kMemoryLimit = 64ull << 20;
constexpr uint64_t kPidsLimit = 32;
const std::filesystem::path kCgroupfs = "/sys/fs/cgroup";

std::atomic<int> next_id{0};

// A shell that waits for a line on stdin before running `script`, so it is in the group
// before it allocates or forks anything.
struct GatedShell {
    base::ChildProcess child;
    base::UniqueFd gate;

    void open_gate() { ASSERT_TRUE(base::write_all(gate.get(), "\n").has_value()); }
};

class CgroupRoot : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root to create cgroups";
        }
        auto manager = Manager::detect(kCgroupfs);
        if (!manager.has_value()) {
            GTEST_SKIP() << "no usable cgroupfs: " << manager.error().message();
        }
        manager_ = std::move(*manager);
        name_ = "root-test-" + std::to_string(::getpid()) + "-" + std::to_string(next_id++);
        auto dir = base::TempDir::create("cgroot-");
        ASSERT_TRUE(dir.has_value());
        tmp_.emplace(std::move(*dir));
    }

    void TearDown() override {
        if (manager_) {
            EXPECT_TRUE(group_dirs().empty()) << "leaked cgroup " << group_dirs().front();
        }
    }

    // Every directory of this test's group: one per hierarchy on v1, one on v2.
    std::vector<std::filesystem::path> group_dirs() const {
        std::vector<std::filesystem::path> dirs;
        std::vector<std::filesystem::path> roots = {kCgroupfs};
        for (const auto& entry : std::filesystem::directory_iterator(kCgroupfs)) {
            if (entry.is_directory() && !entry.is_symlink()) {
                roots.push_back(entry.path());
            }
        }
        for (const auto& root : roots) {
            const auto dir = root / kParentGroup / name_;
            if (std::filesystem::exists(dir)) {
                dirs.push_back(dir);
            }
        }
        return dirs;
    }

    // nullptr (and the test skipped) when the host lacks a controller the limits need.
    std::unique_ptr<Cgroup> create(const Limits& limits) {
        auto group = manager_->create(name_, limits);
        if (!group.has_value() && group.error().code() == Code::kUnimplemented) {
            skip_reason_ = group.error().message();
            return nullptr;
        }
        EXPECT_TRUE(group.has_value()) << group.error().message();
        return group.has_value() ? std::move(*group) : nullptr;
    }

    GatedShell start(Cgroup& group, const std::string& script) {
        auto pipe = base::Pipe::create();
        EXPECT_TRUE(pipe.has_value());
        auto err = base::UniqueFd::open((tmp_->path() / "stderr").string(),
                                        O_WRONLY | O_CREAT | O_TRUNC, 0600);
        EXPECT_TRUE(err.has_value());
        base::SpawnOptions options;
        options.argv = {"/bin/sh", "-c", "read gate; " + script};
        options.stdin_fd = pipe->read.get();
        options.stderr_fd = err->get();
        auto child = base::ChildProcess::spawn(options);
        EXPECT_TRUE(child.has_value()) << child.error().message();
        auto added = group.add_process(child->pid());
        EXPECT_TRUE(added.has_value()) << added.error().message();
        return GatedShell{std::move(*child), std::move(pipe->write)};
    }

    std::string child_stderr() const {
        auto text = read_text(tmp_->path() / "stderr");
        return text.has_value() ? *text : std::string();
    }

    std::unique_ptr<Manager> manager_;
    std::string name_;
    std::string skip_reason_;
    std::optional<base::TempDir> tmp_;
};

TEST_F(CgroupRoot, ROOT_ProcessIsAddedKilledAndRemoved) {
    auto group = create({.memory_bytes = kMemoryLimit, .pids = kPidsLimit});
    if (!group) {
        GTEST_SKIP() << skip_reason_;
    }
    const auto dirs = group_dirs();
    ASSERT_FALSE(dirs.empty());
    auto shell = start(*group, "sleep 30 & sleep 30");
    shell.open_gate();
    for (const auto& dir : dirs) {
        auto pids = read_pids(dir / "cgroup.procs");
        ASSERT_TRUE(pids.has_value());
        EXPECT_NE(std::find(pids->begin(), pids->end(), shell.child.pid()), pids->end()) << dir;
    }
    auto running = wait_until(
        [&]() -> Result<bool> {
            GROVE_ASSIGN_OR_RETURN(auto stats, group->stats());
            return stats.pids_current >= 3;
        },
        std::chrono::seconds(5));
    ASSERT_TRUE(running.has_value() && *running) << "the shell and its two sleeps never ran";

    ASSERT_TRUE(group->kill_all().has_value());
    auto status = shell.child.wait_for(std::chrono::seconds(5));
    ASSERT_TRUE(status.has_value() && status->has_value()) << "the shell survived kill_all";
    EXPECT_EQ((*status)->kind, base::ExitStatus::Kind::kSignaled);
    EXPECT_EQ((*status)->code, SIGKILL);
    // cgroup.procs empties when the tasks exit; pids.current drops only once their new
    // parent (init or a subreaper) reaps the orphaned sleeps.
    auto released = wait_until(
        [&]() -> Result<bool> {
            GROVE_ASSIGN_OR_RETURN(auto stats, group->stats());
            return stats.pids_current == 0;
        },
        std::chrono::seconds(5));
    EXPECT_TRUE(released.has_value() && *released) << group->stats()->pids_current;

    auto closed = group->close();
    ASSERT_TRUE(closed.has_value()) << closed.error().message();
    for (const auto& dir : dirs) {
        EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
    }
}

TEST_F(CgroupRoot, ROOT_ForkBombIsCapped) {
    auto group = create({.memory_bytes = kMemoryLimit, .pids = kPidsLimit});
    if (!group) {
        GTEST_SKIP() << skip_reason_;
    }
    auto shell = start(*group, "for i in $(seq 100); do sleep 5 & done; wait");
    shell.open_gate();
    auto status = shell.child.wait_for(std::chrono::seconds(20));
    ASSERT_TRUE(status.has_value() && status->has_value()) << "the fork loop never ended";
    EXPECT_FALSE((*status)->success()) << "forking past pids.max must fail";
    EXPECT_NE(child_stderr().find("fork"), std::string::npos) << child_stderr();
    auto stats = group->stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_LE(stats->pids_current, kPidsLimit);
    EXPECT_GE(stats->pids_current, 2u) << "the sleeps started before the cap must still run";

    ASSERT_TRUE(group->close().has_value());
    EXPECT_TRUE(group_dirs().empty());
}

TEST_F(CgroupRoot, ROOT_MemoryHogIsOomKilled) {
    auto group = create({.memory_bytes = kMemoryLimit, .pids = kPidsLimit});
    if (!group) {
        GTEST_SKIP() << skip_reason_;
    }
    // The shell keeps the substitution's 200 MB in memory: far past the 64 MiB limit, and
    // swap is capped to the same total.
    auto shell = start(*group, "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived >&2");
    shell.open_gate();
    auto status = shell.child.wait_for(std::chrono::seconds(30));
    ASSERT_TRUE(status.has_value() && status->has_value()) << "the hog was never stopped";
    EXPECT_FALSE((*status)->success()) << (*status)->to_string();
    EXPECT_EQ(child_stderr().find("survived"), std::string::npos);
    auto stats = group->stats();
    ASSERT_TRUE(stats.has_value()) << stats.error().message();
    EXPECT_TRUE(stats->oom_killed);
    EXPECT_GT(stats->memory_peak_bytes, kMemoryLimit / 2);
    EXPECT_LE(stats->memory_peak_bytes, kMemoryLimit);
    ASSERT_TRUE(group->close().has_value());
}

TEST_F(CgroupRoot, ROOT_CpuLimitAndUsage) {
    auto group = create({.cpus = 0.5});
    if (!group) {
        GTEST_SKIP() << skip_reason_;
    }
    auto shell = start(*group, "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done");
    shell.open_gate();
    auto status = shell.child.wait_for(std::chrono::seconds(30));
    ASSERT_TRUE(status.has_value() && status->has_value());
    EXPECT_TRUE((*status)->success());
    auto stats = group->stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_GT(stats->cpu_usage_ns, 1000000u) << "the busy loop used at least 1 ms of CPU";
    EXPECT_FALSE(stats->oom_killed);
    ASSERT_TRUE(group->close().has_value());
}

TEST_F(CgroupRoot, ROOT_DestructorCleansUp) {
    {
        auto group = create({.pids = kPidsLimit});
        if (!group) {
            GTEST_SKIP() << skip_reason_;
        }
        auto shell = start(*group, "sleep 30");
        shell.open_gate();
        ASSERT_FALSE(group_dirs().empty());
    }
    EXPECT_TRUE(group_dirs().empty());
}

// The v2 code on a real kernel even on a hybrid host: its cgroup2 mount has no controllers,
// so no limits, but processes, cgroup.kill, cpu.stat, the dir fd and rmdir are real.
TEST(CgroupRootV2, ROOT_UnifiedHierarchyWithoutControllers) {
    const std::filesystem::path root = std::filesystem::exists(kCgroupfs / "cgroup.controllers")
                                           ? kCgroupfs
                                           : kCgroupfs / "unified";
    if (::geteuid() != 0 || !std::filesystem::exists(root / "cgroup.controllers")) {
        GTEST_SKIP() << "needs root and a cgroup2 mount";
    }
    auto manager = Manager::detect(root);
    ASSERT_TRUE(manager.has_value()) << manager.error().message();
    ASSERT_EQ((*manager)->version(), "v2");
    const std::string name = "root-test-v2-" + std::to_string(::getpid());
    const auto dir = root / kParentGroup / name;
    auto group = (*manager)->create(name, {});
    ASSERT_TRUE(group.has_value()) << group.error().message();
    ASSERT_TRUE((*group)->dir_fd().has_value());
    ASSERT_TRUE(std::filesystem::exists(dir));

    // The shell waits on stdin until it is in the group, so its sleeps start inside it.
    auto gate = base::Pipe::create();
    ASSERT_TRUE(gate.has_value());
    base::SpawnOptions options;
    options.argv = {"/bin/sh", "-c", "read gate; sleep 30 & sleep 30"};
    options.stdin_fd = gate->read.get();
    auto child = base::ChildProcess::spawn(options);
    ASSERT_TRUE(child.has_value());
    ASSERT_TRUE((*group)->add_process(child->pid()).has_value());
    ASSERT_TRUE(base::write_all(gate->write.get(), "\n").has_value());
    auto running = wait_until(
        [&]() -> Result<bool> {
            GROVE_ASSIGN_OR_RETURN(auto listed, read_pids(dir / "cgroup.procs"));
            return listed.size() >= 3;
        },
        std::chrono::seconds(5));
    ASSERT_TRUE(running.has_value() && *running) << "the shell and its two sleeps never ran";
    auto pids = read_pids(dir / "cgroup.procs");
    ASSERT_TRUE(pids.has_value());
    EXPECT_NE(std::find(pids->begin(), pids->end(), child->pid()), pids->end());
    EXPECT_TRUE((*group)->stats().has_value());

    ASSERT_TRUE((*group)->kill_all().has_value());
    auto status = child->wait_for(std::chrono::seconds(5));
    ASSERT_TRUE(status.has_value() && status->has_value());
    EXPECT_EQ((*status)->code, SIGKILL);
    ASSERT_TRUE((*group)->close().has_value());
    EXPECT_FALSE(std::filesystem::exists(dir));
    EXPECT_FALSE((*group)->dir_fd().has_value());
}

}  // namespace
}  // namespace grove::runtime::cgroup
