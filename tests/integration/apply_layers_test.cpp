// Applies every layer of the `layers` test image (scripts/build-test-images.py), each into its
// own directory as the image store does, and checks the rules the generator exercises. Runs when
// $GROVE_TEST_IMAGES points at the built images (CTest sets it for integration tests).

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "archive/apply_layer.hpp"
#include "base/digest.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace grove::archive {
namespace {

namespace fs = std::filesystem;

constexpr int kBaseLayer = 1;     // gzip: big.bin, many/, links, xattrs, odd names
constexpr int kChangesLayer = 2;  // zstd: whiteout and opaque directory
constexpr int kPlainLayer = 3;    // uncompressed: whiteout of a directory

struct stat lstat_or_fail(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

std::string xattr_of(const fs::path& path, const char* key) {
    std::string value(64, '\0');
    const ssize_t n = ::lgetxattr(path.c_str(), key, value.data(), value.size());
    value.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return value;
}

TEST(TestImageLayers, ROOT_AppliesEveryLayerOfTheLayersImage) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root";
    }
    const char* images = std::getenv("GROVE_TEST_IMAGES");
    if (images == nullptr || *images == '\0') {
        GTEST_SKIP() << "GROVE_TEST_IMAGES is not set";
    }
    auto manifest_fd = base::UniqueFd::open(fs::path(images) / "MANIFEST.json", O_RDONLY);
    ASSERT_TRUE(manifest_fd) << manifest_fd.error().to_string();
    auto manifest = base::parse_json(base::read_all(manifest_fd->get()).value());
    ASSERT_TRUE(manifest) << manifest.error().to_string();
    const base::Json& image = (*manifest)["layers"];
    const base::Json& layers = image["layers"];
    ASSERT_EQ(layers.size(), 4u);

    std::vector<base::TempDir> dirs;
    for (size_t i = 0; i < layers.size(); ++i) {
        const auto digest = layers[i]["digest"].get<std::string>();
        const auto media_type = layers[i]["mediaType"].get<std::string>();
        const fs::path blob =
            fs::path(images) / "layers/blobs/sha256" / digest.substr(digest.find(':') + 1);
        auto compression = compression_of(media_type);
        ASSERT_TRUE(compression) << compression.error().to_string();
        auto dir = base::TempDir::create("grove-image-layer-");
        ASSERT_TRUE(dir);
        auto input = base::UniqueFd::open(blob, O_RDONLY);
        ASSERT_TRUE(input) << input.error().to_string();
        auto dir_fd = base::UniqueFd::open(dir->path(), O_RDONLY | O_DIRECTORY);
        ASSERT_TRUE(dir_fd);

        const auto start = std::chrono::steady_clock::now();
        auto stats = apply_layer(input->get(), dir_fd->get(), {.compression = *compression});
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        ASSERT_TRUE(stats) << "layer " << i << ": " << stats.error().to_string();
        ASSERT_TRUE(stats->diff_id);
        EXPECT_EQ(stats->diff_id->str(), layers[i]["diff_id"].get<std::string>()) << "layer " << i;
        const double mib = static_cast<double>(stats->regular_bytes) / (1 << 20);
        std::cout << fmt::format(
            "layer {} ({}, {} bytes): {} entries, {:.1f} MiB of files in {:.3f} s = {:.0f} MiB/s\n",
            i, media_type, layers[i]["size"].get<uint64_t>(), stats->entries, mib, took.count(),
            mib / took.count());
        dirs.push_back(std::move(dir).value());
    }

    const fs::path base = dirs[kBaseLayer].path();
    const auto& big = image["files"]["data/big.bin"];
    EXPECT_EQ(fs::file_size(base / "data/big.bin"), big["size"].get<uint64_t>());
    auto big_fd = base::UniqueFd::open(base / "data/big.bin", O_RDONLY);
    ASSERT_TRUE(big_fd);
    EXPECT_EQ(base::sha256_fd(big_fd->get())->encoded(), big["sha256"].get<std::string>());
    const auto many = std::distance(fs::directory_iterator(base / "data/many"), {});
    EXPECT_EQ(many, image["files"]["data/many"]["entries"].get<int>());
    EXPECT_EQ(lstat_or_fail(base / "data/hard.txt").st_ino,
              lstat_or_fail(base / "data/keep.txt").st_ino);
    EXPECT_EQ(lstat_or_fail(base / "data/setuid").st_mode & 07777, 04755u);
    EXPECT_EQ(lstat_or_fail(base / "data/sgid-dir").st_mode & 07777, 02775u);
    EXPECT_EQ(lstat_or_fail(base / "data/owned-1000").st_uid, 1000u);
    EXPECT_EQ(lstat_or_fail(base / "data/old-mtime").st_mtim.tv_sec, 981'158'400);
    EXPECT_TRUE(S_ISFIFO(lstat_or_fail(base / "data/fifo").st_mode));
    EXPECT_EQ(fs::read_symlink(base / "data/abs-link"), "/etc/passwd");
    EXPECT_EQ(fs::read_symlink(base / "data/up-link"), "../etc/passwd");
    EXPECT_EQ(xattr_of(base / "data/xattr.txt", "user.grove.test"), "hello");
    EXPECT_TRUE(fs::exists(base / "data/odd/ünïcødé-文件.txt"));
    EXPECT_EQ(std::distance(fs::directory_iterator(base / "data/odd"), {}), 4);

    const fs::path changes = dirs[kChangesLayer].path();
    const struct stat gone = lstat_or_fail(changes / "data/gone.txt");
    EXPECT_TRUE(S_ISCHR(gone.st_mode));
    EXPECT_EQ(gone.st_rdev, makedev(0, 0));
    EXPECT_EQ(xattr_of(changes / "data/replaced", "trusted.overlay.opaque"), "y");
    EXPECT_TRUE(fs::exists(changes / "data/replaced/new.txt"));
    EXPECT_FALSE(fs::exists(changes / "data/replaced/.wh..wh..opq"));

    const struct stat sgid_dir = lstat_or_fail(dirs[kPlainLayer].path() / "data/sgid-dir");
    EXPECT_TRUE(S_ISCHR(sgid_dir.st_mode));
    EXPECT_TRUE(fs::exists(dirs[0].path() / "bin/busybox"));
}

}  // namespace
}  // namespace grove::archive
