#include "runtime/cgroup/tuning.hpp"

#include <fstream>
#include <sstream>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace grove::runtime::cgroup {
namespace {

constexpr std::string_view kSystemdHost =
    "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "26 25 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

constexpr std::string_view kHybridHost =
    "30 27 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "39 27 0:35 / /sys/fs/cgroup/my\\040unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupTuning, FindsTheCgroup2MountWithItsOptions) {
    const auto systemd = find_cgroup2_mount(kSystemdHost);
    ASSERT_TRUE(systemd.has_value());
    EXPECT_EQ(systemd->mount_point, "/sys/fs/cgroup");
    EXPECT_EQ(systemd->mount_options, "rw,nosuid,nodev,noexec,relatime");
    EXPECT_EQ(systemd->super_options, "rw,nsdelegate,memory_recursiveprot");
    const auto hybrid = find_cgroup2_mount(kHybridHost);
    ASSERT_TRUE(hybrid.has_value());
    EXPECT_EQ(hybrid->mount_point, "/sys/fs/cgroup/my unified");
    EXPECT_FALSE(find_cgroup2_mount("30 27 0:26 / /x rw - cgroup cgroup rw,cpu\n").has_value());
    EXPECT_FALSE(find_cgroup2_mount("garbage\n\n").has_value());
}

TEST(CgroupTuning, RemountKeepsTheMountsOwnFlagsAndOptions) {
    EXPECT_EQ(favordynmods_remount_data("rw,nsdelegate,memory_recursiveprot"),
              "nsdelegate,memory_recursiveprot,favordynmods");
    EXPECT_EQ(favordynmods_remount_data("rw"), "favordynmods");
    EXPECT_EQ(remount_flags("rw,nosuid,nodev,noexec,relatime"),
              MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
    EXPECT_EQ(remount_flags("ro,noatime"), MS_REMOUNT | MS_RDONLY | MS_NOATIME);
}

std::string mountinfo() {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(CgroupTuning, ROOT_TurnsFavordynmodsOnAndKeepsEverythingElse) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root";
    }
    const auto before = find_cgroup2_mount(mountinfo());
    if (!before) {
        GTEST_SKIP() << "this host has no cgroup2 mount";
    }
    auto tuned = favor_dynamic_modifications();
    ASSERT_TRUE(tuned.has_value()) << tuned.error().to_string();
    ASSERT_TRUE(tuned->has_value());
    EXPECT_EQ(**tuned, before->mount_point);
    const auto after = find_cgroup2_mount(mountinfo());
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->mount_options, before->mount_options);
    EXPECT_NE(after->super_options.find("favordynmods"), std::string::npos);
    EXPECT_EQ(favordynmods_remount_data(after->super_options),
              favordynmods_remount_data(before->super_options))
        << "only favordynmods was added";
    auto again = favor_dynamic_modifications();  // already on: nothing to do
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(find_cgroup2_mount(mountinfo())->super_options, after->super_options);
}

}  // namespace
}  // namespace grove::runtime::cgroup
