#include "runtime/rootfs/tmpfs_options.hpp"

#include <sys/mount.h>

#include <gtest/gtest.h>

namespace grove::runtime::rootfs {
namespace {

TEST(TmpfsOptions, DockersDefaultsAndOverrides) {
    auto none = parse_tmpfs_options("");
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->flags, static_cast<unsigned long>(MS_NOEXEC | MS_NOSUID | MS_NODEV));
    EXPECT_EQ(none->data, "");

    auto given = parse_tmpfs_options("rw,exec,size=64m,mode=1777,uid=1000,size=1m,rprivate");
    ASSERT_TRUE(given.has_value()) << given.error().to_string();
    EXPECT_EQ(given->flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
    EXPECT_EQ(given->data, "mode=1777,uid=1000,size=1m");  // the last size wins

    auto read_only = parse_tmpfs_options("ro,noatime");
    ASSERT_TRUE(read_only.has_value());
    EXPECT_EQ(read_only->flags & (MS_RDONLY | MS_NOATIME),
              static_cast<unsigned long>(MS_RDONLY | MS_NOATIME));
}

TEST(TmpfsOptions, RefusesWhatTmpfsWouldNotTake) {
    for (const char* bad : {"size=lots", "mode=999", "mode=12345", "uid=-1", "fancy", "huge=yes",
                            "size=", "context=x", "size=1m,nosuchflag"}) {
        auto parsed = parse_tmpfs_options(bad);
        ASSERT_FALSE(parsed.has_value()) << bad;
        EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << bad;
        EXPECT_NE(parsed.error().message().find("invalid tmpfs option"), std::string::npos);
    }
}

}  // namespace
}  // namespace grove::runtime::rootfs
