// CgroupPool against a fake v1 cgroupfs: groups made ahead of time, limits written at take(),
// retired groups removed in the background, nothing left once the pool is gone.

#include "engine/cgroup_pool.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/cgroup/v1.hpp"
#include "unit/runtime/cgroup/fake_cgroupfs.hpp"

namespace grove::engine {
namespace {

namespace fs = std::filesystem;
using runtime::cgroup::testing::FakeCgroupfs;

struct Fixture {
    Fixture()
        : cgroupfs(FakeCgroupfs::Layout::kV1, {}),
          manager(*runtime::cgroup::find_v1_hierarchies(cgroupfs.root()), cgroupfs.hooks()) {}

    // The groups under the memory hierarchy's grove parent.
    size_t groups() const {
        const fs::path parent = cgroupfs.root() / "memory/grove";
        size_t n = 0;
        if (fs::exists(parent)) {
            for (const auto& entry : fs::directory_iterator(parent)) {
                n += entry.is_directory();
            }
        }
        return n;
    }
    // Polls until there are `n` groups, for up to 5 s.
    bool wait_for_groups(size_t n) const {
        for (int i = 0; i < 500 && groups() != n; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return groups() == n;
    }

    FakeCgroupfs cgroupfs;
    runtime::cgroup::V1Manager manager;
};

TEST(CgroupPool, MakesGroupsAheadAndRemovesRetiredOnes) {
    Fixture f;
    {
        CgroupPool pool(f.manager, 2, base::Logger::stderr_text());
        auto first = pool.take({.memory_bytes = 64 << 20});
        ASSERT_TRUE(first.has_value()) << first.error().to_string();
        EXPECT_TRUE(f.wait_for_groups(3)) << "two spares besides the one in use";

        auto second = pool.take({.pids = 7});
        ASSERT_TRUE(second.has_value()) << second.error().to_string();
        EXPECT_TRUE(f.wait_for_groups(4)) << "the spare taken is made again";
        size_t limited = 0;
        for (const auto& entry : fs::directory_iterator(f.cgroupfs.root() / "pids/grove")) {
            limited +=
                f.cgroupfs.read(fs::relative(entry.path() / "pids.max", f.cgroupfs.root())) == "7";
        }
        EXPECT_EQ(limited, 1u) << "a spare gets the run's limits when taken";

        pool.retire(std::move(*first));
        pool.retire(std::move(*second));
        EXPECT_TRUE(f.wait_for_groups(2)) << "retired groups are removed in the background";
    }
    EXPECT_EQ(f.groups(), 0u) << "the spares go with the pool";
}

TEST(CgroupPool, WithoutSparesWorksInTheCallersThread) {
    Fixture f;
    CgroupPool pool(f.manager, 0, base::Logger::stderr_text());
    auto group = pool.take({});
    ASSERT_TRUE(group.has_value()) << group.error().to_string();
    EXPECT_EQ(f.groups(), 1u);
    pool.retire(std::move(*group));
    EXPECT_EQ(f.groups(), 0u);
}

}  // namespace
}  // namespace grove::engine
