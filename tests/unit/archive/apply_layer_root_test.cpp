// What needs root: owners other than our own, device nodes (whiteouts) and trusted.* xattrs.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "archive/apply_layer.hpp"
#include "layer_fixture.hpp"

namespace grove::archive::testing {
namespace {

#define GROVE_ARCHIVE_NEEDS_ROOT()    \
    if (::geteuid() != 0) {           \
        GTEST_SKIP() << "needs root"; \
    }

TEST_F(ApplyTest, ROOT_OwnersAreNumericAndSetuidSurvivesChown) {
    GROVE_ARCHIVE_NEEDS_ROOT();
    auto stats = apply(
        {{.name = "suid", .data = "x", .mode = 04755, .uid = 1000, .gid = 1000},
         {.name = "sgid", .data = "x", .mode = 02755, .uid = 0, .gid = 50},
         {.name = "dir", .type = EntryType::kDir, .mode = 02775, .uid = 7, .gid = 8},
         {.name = "dir/inherits", .data = "x", .uid = 9, .gid = 10},
         {.name = "link", .type = EntryType::kSymlink, .uid = 11, .gid = 12, .link = "/nowhere"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    const auto suid = lstat_of("suid");
    EXPECT_EQ(suid->st_uid, 1000u);
    EXPECT_EQ(suid->st_gid, 1000u);
    EXPECT_EQ(suid->st_mode & 07777, 04755u);
    EXPECT_EQ(lstat_of("sgid")->st_gid, 50u);
    EXPECT_EQ(lstat_of("sgid")->st_mode & 07777, 02755u);
    EXPECT_EQ(lstat_of("dir")->st_mode & 07777, 02775u);
    EXPECT_EQ(lstat_of("dir")->st_uid, 7u);
    // The tar's gid wins over the one a setgid directory would hand down.
    EXPECT_EQ(lstat_of("dir/inherits")->st_gid, 10u);
    EXPECT_EQ(lstat_of("link")->st_uid, 11u);
    EXPECT_EQ(lstat_of("link")->st_gid, 12u);
}

TEST_F(ApplyTest, ROOT_WhiteoutBecomesACharDevice00) {
    GROVE_ARCHIVE_NEEDS_ROOT();
    auto stats = apply({{.name = "data/.wh.gone.txt"}, {.name = ".wh.top"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(stats->whiteouts, 2u);
    for (const char* name : {"data/gone.txt", "top"}) {
        const auto st = lstat_of(name);
        ASSERT_TRUE(st) << name;
        EXPECT_TRUE(S_ISCHR(st->st_mode)) << name;
        EXPECT_EQ(st->st_rdev, makedev(0, 0)) << name;
    }
    EXPECT_FALSE(lstat_of("data/.wh.gone.txt"));
    EXPECT_TRUE(S_ISDIR(lstat_of("data")->st_mode));
}

TEST_F(ApplyTest, ROOT_WhiteoutDoesNotHideAnEntryOfItsOwnLayer) {
    GROVE_ARCHIVE_NEEDS_ROOT();
    auto stats = apply({{.name = "before", .data = "kept"},
                        {.name = ".wh.before"},
                        {.name = ".wh.after"},
                        {.name = "after", .data = "replaces the whiteout"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(contents("before"), "kept");
    EXPECT_EQ(contents("after"), "replaces the whiteout");
}

TEST_F(ApplyTest, ROOT_OpaqueMarkerSetsTheOverlayXattr) {
    GROVE_ARCHIVE_NEEDS_ROOT();
    auto stats = apply({{.name = "replaced/", .type = EntryType::kDir},
                        {.name = "replaced/.wh..wh..opq"},
                        {.name = "replaced/new.txt", .data = "new"},
                        {.name = "implicit/.wh..wh..opq"},
                        {.name = ".wh..wh.plnk/123.456"},
                        {.name = "x/.wh..wh.aufs"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(xattr("replaced", "trusted.overlay.opaque"), "y");
    EXPECT_EQ(xattr("implicit", "trusted.overlay.opaque"), "y");
    EXPECT_EQ(contents("replaced/new.txt"), "new");
    EXPECT_FALSE(lstat_of("replaced/.wh..wh..opq"));
    EXPECT_FALSE(lstat_of("x/.wh..wh.aufs"));
    EXPECT_EQ(stats->whiteouts, 2u);
}

TEST_F(ApplyTest, ROOT_TrustedXattrsAndCapabilitiesAreAppliedAfterChown) {
    GROVE_ARCHIVE_NEEDS_ROOT();
    // vfs_cap_data revision 2, effective, permitted = CAP_NET_BIND_SERVICE (10).
    const std::string cap(
        "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00",
        20);
    auto stats = apply(
        {{.name = "ping",
          .data = "elf",
          .mode = 0755,
          .uid = 1000,
          .xattrs = {{"security.capability", cap}, {"trusted.grove", "t"}}},
         {.name = "d", .type = EntryType::kDir, .xattrs = {{"trusted.overlay.opaque", "y"}}}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(xattr("ping", "security.capability"), cap);
    EXPECT_EQ(xattr("ping", "trusted.grove"), "t");
    EXPECT_EQ(xattr("d", "trusted.overlay.opaque"), std::nullopt);
}

}  // namespace
}  // namespace grove::archive::testing
