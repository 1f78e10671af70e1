// Layout detection and the shared file helpers.

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "fake_cgroupfs.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/cgroup/fs.hpp"

namespace grove::runtime::cgroup {
namespace {

using testing::FakeCgroupfs;

TEST(CgroupDetect, UnifiedRootIsV2) {
    FakeCgroupfs fs(FakeCgroupfs::Layout::kV2, {});
    auto manager = Manager::detect(fs.root());
    ASSERT_TRUE(manager.has_value()) << manager.error().message();
    EXPECT_EQ((*manager)->version(), "v2");
}

TEST(CgroupDetect, HybridIsV1) {
    FakeCgroupfs fs(FakeCgroupfs::Layout::kV1, {});
    auto manager = Manager::detect(fs.root());
    ASSERT_TRUE(manager.has_value()) << manager.error().message();
    EXPECT_EQ((*manager)->version(), "v1");
}

TEST(CgroupDetect, NoCgroupfsFails) {
    auto dir = base::TempDir::create("nocg-");
    ASSERT_TRUE(dir.has_value());
    auto manager = Manager::detect(dir->path());
    ASSERT_FALSE(manager.has_value());
    EXPECT_EQ(manager.error().code(), Code::kFailedPrecondition);
    EXPECT_FALSE(Manager::detect(dir->path() / "missing").has_value());
}

TEST(CgroupFs, KeyedValue) {
    EXPECT_EQ(keyed_value("oom 1\noom_kill 3\n", "oom_kill"), 3u);
    EXPECT_EQ(keyed_value("oom 1\noom_kill 3\n", "oom"), 1u);
    EXPECT_EQ(keyed_value("oom_kill x\n", "oom_kill"), std::nullopt);
    EXPECT_EQ(keyed_value("", "oom_kill"), std::nullopt);
}

TEST(CgroupFs, ParseU64) {
    EXPECT_EQ(*parse_u64("42\n", "f"), 42u);
    EXPECT_EQ(*parse_u64("max\n", "f"), UINT64_MAX);
    EXPECT_FALSE(parse_u64("-1\n", "f").has_value());
    EXPECT_FALSE(parse_u64("", "f").has_value());
}

TEST(CgroupFs, ValidateName) {
    EXPECT_TRUE(validate_name("run-1.x").has_value());
    EXPECT_FALSE(validate_name(std::string_view("a\0b", 3)).has_value());
    EXPECT_FALSE(validate_name("..").has_value());
}

}  // namespace
}  // namespace grove::runtime::cgroup
