#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/mounts.hpp"
#include "runtime/rootfs/overlay_mount.hpp"

namespace grove::runtime::rootfs {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class OverlayRootTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) {
            GTEST_SKIP() << "needs root";
        }
        auto dir = base::TempDir::create("grove-ovl-test-");
        ASSERT_TRUE(dir.has_value());
        dir_.emplace(std::move(*dir));
        before_ = testing::mounts_under(dir_->path());
    }
    void TearDown() override {
        if (dir_) {
            EXPECT_EQ(testing::mounts_under(dir_->path()), before_) << "a mount leaked";
        }
    }
    fs::path path(const std::string& rel) const { return dir_->path() / rel; }
    fs::path mkdir(const std::string& rel) const {
        fs::create_directories(path(rel));
        return path(rel);
    }

    // Three layers (bottom 1, top 3): 2 whites out gone.txt and makes dir/ opaque.
    std::vector<fs::path> three_layers() const {
        write_file(path("1/a.txt"), "1");
        write_file(path("1/gone.txt"), "x");
        write_file(path("1/keep.txt"), "k");
        write_file(path("1/dir/old.txt"), "o");
        write_file(path("2/a.txt"), "2");
        EXPECT_EQ(mknod(path("2/gone.txt").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);
        write_file(path("2/dir/new.txt"), "n");
        EXPECT_EQ(setxattr(path("2/dir").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
        write_file(path("3/top.txt"), "t");
        return {path("3"), path("2"), path("1")};
    }

    void expect_merged_view(const fs::path& merged) const {
        EXPECT_EQ(read_file(merged / "a.txt"), "2");
        EXPECT_EQ(read_file(merged / "top.txt"), "t");
        EXPECT_EQ(read_file(merged / "keep.txt"), "k");
        EXPECT_FALSE(fs::exists(merged / "gone.txt"));
        EXPECT_TRUE(fs::exists(merged / "dir/new.txt"));
        EXPECT_FALSE(fs::exists(merged / "dir/old.txt")) << "opaque dir shows a lower entry";
    }

    std::optional<base::TempDir> dir_;
    std::string before_;
};

TEST_F(OverlayRootTest, ROOT_ThreeLayersMergeAndWritesLandInUpper) {
    const auto lowers = three_layers();
    auto mount = OverlayMount::create(lowers, mkdir("upper"), mkdir("work"));
    ASSERT_TRUE(mount.has_value()) << mount.error().to_string();
    // Usable while detached, through its fd.
    base::UniqueFd top(openat(mount->fd(), "top.txt", O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(top.valid());
    top.reset();

    const fs::path merged = mkdir("merged");
    ASSERT_TRUE(mount->attach(merged).has_value());
    EXPECT_EQ(mount->target(), merged);
    expect_merged_view(merged);
    EXPECT_NE(testing::mounts_under(merged).find("fsync=volatile"), std::string::npos)
        << "no syncfs of the host filesystem at unmount";

    write_file(merged / "new.txt", "w");
    fs::remove(merged / "keep.txt");
    EXPECT_EQ(read_file(path("upper/new.txt")), "w");
    struct stat st = {};
    ASSERT_EQ(lstat(path("upper/keep.txt").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
    EXPECT_EQ(read_file(path("1/keep.txt")), "k") << "a lower layer changed";
    EXPECT_TRUE(mount->close().has_value());
    EXPECT_FALSE(fs::exists(merged / "a.txt"));
}

TEST_F(OverlayRootTest, ROOT_LegacyApiGivesTheSameView) {
    const auto lowers = three_layers();
    auto mount = OverlayMount::create(lowers, mkdir("upper"), mkdir("work"), MountApi::kLegacy);
    ASSERT_TRUE(mount.has_value()) << mount.error().to_string();
    ASSERT_TRUE(mount->attach(mkdir("merged")).has_value());
    expect_merged_view(path("merged"));
    EXPECT_NE(testing::mounts_under(path("merged")).find("fsync=volatile"), std::string::npos);
}

TEST_F(OverlayRootTest, ROOT_DeepChains) {
    for (size_t depth : {size_t{128}, kMaxLowerLayers}) {
        std::vector<fs::path> lowers;
        for (size_t i = depth; i-- > 0;) {  // top first
            const std::string name = "d" + std::to_string(depth) + "/" + std::to_string(i);
            write_file(path(name + "/f" + std::to_string(i)), std::to_string(i));
            write_file(path(name + "/shared"), std::to_string(i));
            lowers.push_back(path(name));
        }
        const std::string tag = std::to_string(depth);
        auto mount = OverlayMount::create(lowers, mkdir("u" + tag), mkdir("w" + tag));
        ASSERT_TRUE(mount.has_value()) << depth << ": " << mount.error().to_string();
        const fs::path merged = mkdir("m" + tag);
        ASSERT_TRUE(mount->attach(merged).has_value());
        EXPECT_EQ(read_file(merged / "f0"), "0");
        EXPECT_EQ(read_file(merged / ("f" + std::to_string(depth - 1))), std::to_string(depth - 1));
        EXPECT_EQ(read_file(merged / "shared"), std::to_string(depth - 1));
    }
    std::vector<fs::path> too_many(kMaxLowerLayers + 1, path("d128/0"));
    auto refused = OverlayMount::create(too_many, path("u128"), path("w128"));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), Code::kOutOfRange);
}

TEST_F(OverlayRootTest, ROOT_ReadOnlyViews) {
    const auto lowers = three_layers();
    auto single = OverlayMount::create_read_only({path("1")});
    ASSERT_TRUE(single.has_value()) << single.error().to_string();
    ASSERT_TRUE(single->attach(mkdir("single")).has_value());
    EXPECT_EQ(read_file(path("single/a.txt")), "1");
    EXPECT_LT(open(path("single/x").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), 0);
    EXPECT_EQ(errno, EROFS);

    auto stacked = OverlayMount::create_read_only(lowers);
    ASSERT_TRUE(stacked.has_value()) << stacked.error().to_string();
    ASSERT_TRUE(stacked->attach(mkdir("stacked")).has_value());
    expect_merged_view(path("stacked"));
    EXPECT_LT(open(path("stacked/x").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), 0);
    EXPECT_EQ(errno, EROFS);
}

}  // namespace
}  // namespace grove::runtime::rootfs
