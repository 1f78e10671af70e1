#include "docker_api/docker_tar.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace grove::docker_api {
namespace {

// A tar written by write_tar_file is one GNU tar lists and extracts, and read_tar_file finds
// its entries back.
TEST(DockerTar, WritesArchivesTarReadsAndFindsFilesInThem) {
    auto dir = base::TempDir::create("grove-docker-tar-");
    ASSERT_TRUE(dir);
    const auto path = dir->path() / "out.tar";
    std::string archive;
    const TarSink sink = [&](std::string_view data) -> Result<void> {
        archive += data;
        return {};
    };
    ASSERT_TRUE(sink(tar_header("abc/", 0, true, 0)));
    ASSERT_TRUE(write_tar_file(sink, "abc/VERSION", "1.0"));
    ASSERT_TRUE(write_tar_file(sink, "manifest.json", std::string(1000, 'x')));
    ASSERT_TRUE(sink(tar_end()));
    EXPECT_EQ(archive.size() % 512, 0u);
    {
        auto fd = base::UniqueFd::open(path.string(), O_WRONLY | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        ASSERT_EQ(::write(fd->get(), archive.data(), archive.size()),
                  static_cast<ssize_t>(archive.size()));
    }
    auto listed =
        base::run_command({.argv = {"tar", "-tf", path.string()}}, std::chrono::seconds(10));
    ASSERT_TRUE(listed);
    EXPECT_TRUE(listed->status.success()) << listed->err;
    EXPECT_EQ(listed->out, "abc/\nabc/VERSION\nmanifest.json\n");

    auto fd = base::UniqueFd::open(path.string(), O_RDONLY);
    ASSERT_TRUE(fd);
    auto manifest = read_tar_file(fd->get(), "manifest.json", 4096);
    ASSERT_TRUE(manifest);
    EXPECT_EQ(*manifest, std::string(1000, 'x'));
    auto version = read_tar_file(fd->get(), "abc/VERSION", 4096);
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, "1.0");
    auto missing = read_tar_file(fd->get(), "nothing", 4096);
    ASSERT_TRUE(missing);
    EXPECT_EQ(*missing, std::nullopt);
    auto too_big = read_tar_file(fd->get(), "manifest.json", 10);
    EXPECT_FALSE(too_big);
}

TEST(DockerTar, GarbageIsNoArchive) {
    auto dir = base::TempDir::create("grove-docker-tar-");
    ASSERT_TRUE(dir);
    const auto path = dir->path() / "junk";
    {
        auto fd = base::UniqueFd::open(path.string(), O_WRONLY | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        const std::string junk(2048, 'z');
        ASSERT_EQ(::write(fd->get(), junk.data(), junk.size()), 2048);
    }
    auto fd = base::UniqueFd::open(path.string(), O_RDONLY);
    ASSERT_TRUE(fd);
    EXPECT_FALSE(read_tar_file(fd->get(), "manifest.json", 4096));
}

}  // namespace
}  // namespace grove::docker_api
