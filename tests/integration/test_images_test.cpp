// The `layers` test image must hold every layer rule it promises (whiteouts, opaque directories,
// links, xattrs, special modes, a fifo, odd names, a big file, a wide directory), or grove's
// import tests would pass without exercising them. Each layer is extracted on its own with GNU
// tar, as root so owners, setuid bits and xattrs survive, and inspected.

#include "helpers/test_images.hpp"

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/digest.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/requirements.hpp"

namespace grove::testing {
namespace {

namespace fs = std::filesystem;

struct stat stat_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

std::string content_of(const fs::path& path) {
    auto fd = base::UniqueFd::open(path.string(), O_RDONLY);
    return fd ? base::read_all(fd->get()).value_or("") : "";
}

class TestImagesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto loaded = TestImages::load();
        ASSERT_TRUE(loaded) << loaded.error().to_string();
        images_.emplace(std::move(loaded).value());
    }

    // Extracts layer `index` of the layers image into a new directory under `into`.
    fs::path extract_layer(const fs::path& into, size_t index) {
        const auto& layer = images_->image("layers").at("layers").at(index);
        const std::string digest = layer.at("digest");
        const std::string media_type = layer.at("mediaType");
        const fs::path blob = images_->dir() / "layers" / "blobs" / "sha256" / digest.substr(7);
        const fs::path dir = into / std::to_string(index);
        fs::create_directories(dir);
        std::vector<std::string> argv = {"tar",
                                         "--xattrs",
                                         "--xattrs-include=*",
                                         "--same-owner",
                                         "--numeric-owner",
                                         "-xpf",
                                         blob.string(),
                                         "-C",
                                         dir.string()};
        if (media_type.ends_with("+zstd")) {
            argv.insert(argv.begin() + 1, "--zstd");
        } else if (media_type.ends_with("+gzip")) {
            argv.insert(argv.begin() + 1, "--gzip");
        }
        auto out = base::run_command({.argv = argv}, std::chrono::minutes(2));
        EXPECT_TRUE(out && out->status.success())
            << media_type << ": " << (out ? out->err : out.error().to_string());
        return dir;
    }

    std::optional<TestImages> images_;
};

TEST_F(TestImagesTest, LayersImageHasOneLayerOfEachMediaType) {
    const auto& layers = images_->image("layers").at("layers");
    ASSERT_EQ(layers.size(), 4u);
    EXPECT_EQ(layers[1].at("mediaType"), "application/vnd.oci.image.layer.v1.tar+gzip");
    EXPECT_EQ(layers[2].at("mediaType"), "application/vnd.oci.image.layer.v1.tar+zstd");
    EXPECT_EQ(layers[3].at("mediaType"), "application/vnd.oci.image.layer.v1.tar");
    // An uncompressed layer's digest is its diff_id.
    EXPECT_EQ(layers[3].at("digest"), layers[3].at("diff_id"));
}

TEST_F(TestImagesTest, ROOT_LayersImageHoldsEveryLayerRule) {
    GROVE_REQUIRE(missing_root());
    GROVE_REQUIRE(missing_program("tar"));
    GROVE_REQUIRE(missing_program("zstd"));
    auto tmp = base::TempDir::create("grove-layers-");
    ASSERT_TRUE(tmp);

    const fs::path base = extract_layer(tmp->path(), 1) / "data";
    EXPECT_EQ(stat_of(base / "hard.txt").st_ino, stat_of(base / "keep.txt").st_ino);
    EXPECT_EQ(stat_of(base / "setuid").st_mode & 07777, 04755u);
    EXPECT_EQ(stat_of(base / "setgid").st_mode & 07777, 02755u);
    EXPECT_EQ(stat_of(base / "sgid-dir").st_mode & 07777, 02775u);
    EXPECT_TRUE(S_ISFIFO(stat_of(base / "fifo").st_mode));
    EXPECT_EQ(stat_of(base / "owned-1000").st_uid, 1000u);
    EXPECT_EQ(stat_of(base / "owned-1000").st_gid, 1000u);
    EXPECT_EQ(stat_of(base / "old-mtime").st_mtime, 981158400);  // 2001-02-03T00:00:00Z
    EXPECT_EQ(fs::read_symlink(base / "rel-link"), "keep.txt");
    EXPECT_EQ(fs::read_symlink(base / "up-link"), "../etc/passwd");
    EXPECT_EQ(fs::read_symlink(base / "abs-link"), "/etc/passwd");
    char value[16] = {};
    EXPECT_EQ(::lgetxattr((base / "xattr.txt").c_str(), "user.grove.test", value, sizeof(value)),
              5);
    EXPECT_STREQ(value, "hello");
    EXPECT_TRUE(fs::exists(base / "odd" / "with space.txt"));
    EXPECT_TRUE(fs::exists(base / "odd" / "ünïcødé-文件.txt"));
    EXPECT_TRUE(fs::exists(base / "odd" / "-leading-dash"));

    const auto& files = images_->image("layers").at("files");
    const auto big = files.at("data/big.bin");
    EXPECT_EQ(fs::file_size(base / "big.bin"), big.at("size").get<uintmax_t>());
    EXPECT_GE(fs::file_size(base / "big.bin"), 64u << 20);
    auto big_fd = base::UniqueFd::open((base / "big.bin").string(), O_RDONLY);
    ASSERT_TRUE(big_fd);
    EXPECT_EQ(base::sha256_fd(big_fd->get())->encoded(), big.at("sha256").get<std::string>());
    const auto many =
        std::distance(fs::directory_iterator(base / "many"), fs::directory_iterator());
    EXPECT_GE(many, 10000);

    const fs::path changes = extract_layer(tmp->path(), 2) / "data";
    EXPECT_TRUE(fs::is_regular_file(changes / ".wh.gone.txt"));
    EXPECT_TRUE(fs::is_regular_file(changes / "replaced" / ".wh..wh..opq"));
    EXPECT_EQ(content_of(changes / "keep.txt"), "keep: modified by the zstd changes layer\n");

    const fs::path plain = extract_layer(tmp->path(), 3) / "data";
    EXPECT_TRUE(fs::is_regular_file(plain / ".wh.sgid-dir"));
}

TEST(Requirements, ReportWhatIsMissing) {
    EXPECT_EQ(missing_program("sh"), std::nullopt);
    EXPECT_NE(missing_program("grove-no-such-tool"), std::nullopt);
    EXPECT_NE(missing_cgroup_controller("grove-no-such-controller"), std::nullopt);
    if (::geteuid() == 0) {
        EXPECT_EQ(missing_root(), std::nullopt);
    } else {
        EXPECT_NE(missing_root(), std::nullopt);
    }
}

}  // namespace
}  // namespace grove::testing
