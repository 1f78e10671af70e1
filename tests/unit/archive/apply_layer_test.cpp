#include "archive/apply_layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "layer_fixture.hpp"

namespace grove::archive::testing {
namespace {

TEST_F(ApplyTest, RegularFilesKeepContentModeAndMtime) {
    auto stats = apply({{.name = "./etc/", .type = EntryType::kDir},
                        {.name = "./etc/hosts",
                         .data = "127.0.0.1 localhost\n",
                         .mode = 0640,
                         .mtime = 1'600'000'000,
                         .mtime_nsec = 123'456'789},
                        {.name = "./bin/tool", .data = "#!/bin/sh\n", .mode = 0755}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(contents("etc/hosts"), "127.0.0.1 localhost\n");
    const auto st = lstat_of("etc/hosts");
    ASSERT_TRUE(st);
    EXPECT_TRUE(S_ISREG(st->st_mode));
    EXPECT_EQ(st->st_mode & 07777, 0640u);
    EXPECT_EQ(st->st_mtim.tv_sec, 1'600'000'000);
    EXPECT_EQ(st->st_mtim.tv_nsec, 123'456'789);
    EXPECT_EQ(lstat_of("bin/tool")->st_mode & 07777, 0755u);
    EXPECT_EQ(stats->entries, 3u);
    EXPECT_EQ(stats->regular_bytes, 30u);
}

TEST_F(ApplyTest, MissingParentsAreCreatedWith0755) {
    ::umask(077);
    auto stats = apply({{.name = "a/b/c/file", .data = "x"}});
    ::umask(022);
    ASSERT_TRUE(stats) << stats.error().to_string();
    for (const char* dir : {"a", "a/b", "a/b/c"}) {
        const auto st = lstat_of(dir);
        ASSERT_TRUE(st) << dir;
        EXPECT_TRUE(S_ISDIR(st->st_mode)) << dir;
        EXPECT_EQ(st->st_mode & 07777, 0755u) << dir;
    }
    EXPECT_EQ(contents("a/b/c/file"), "x");
}

TEST_F(ApplyTest, DirectoryTimesAreSetAfterTheirChildren) {
    auto stats = apply({{.name = "d", .type = EntryType::kDir, .mode = 0750, .mtime = 1'000},
                        {.name = "d/sub", .type = EntryType::kDir, .mtime = 2'000},
                        {.name = "d/sub/f", .data = "f"},
                        {.name = "d/g", .data = "g"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(lstat_of("d")->st_mtim.tv_sec, 1'000);
    EXPECT_EQ(lstat_of("d")->st_mode & 07777, 0750u);
    EXPECT_EQ(lstat_of("d/sub")->st_mtim.tv_sec, 2'000);
}

TEST_F(ApplyTest, SymlinkTargetsAreStoredVerbatim) {
    auto stats = apply({{.name = "abs", .type = EntryType::kSymlink, .link = "/etc/passwd"},
                        {.name = "up", .type = EntryType::kSymlink, .link = "../../../etc"},
                        {.name = "dir/rel", .type = EntryType::kSymlink, .link = "sibling"},
                        {.name = "dangling", .type = EntryType::kSymlink, .link = "/no/such"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(std::filesystem::read_symlink(path("abs")), "/etc/passwd");
    EXPECT_EQ(std::filesystem::read_symlink(path("up")), "../../../etc");
    EXPECT_EQ(std::filesystem::read_symlink(path("dir/rel")), "sibling");
    EXPECT_EQ(std::filesystem::read_symlink(path("dangling")), "/no/such");
    EXPECT_EQ(lstat_of("abs")->st_mtim.tv_sec, kMtime);
}

TEST_F(ApplyTest, HardlinkSharesTheTargetsInode) {
    auto stats = apply({{.name = "./bin/busybox", .data = "elf", .mode = 0755},
                        {.name = "./bin/sh", .type = EntryType::kHardlink, .link = "./bin/busybox"},
                        {.name = "usr/ls", .type = EntryType::kHardlink, .link = "bin/busybox"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    const auto target = lstat_of("bin/busybox");
    ASSERT_TRUE(target);
    EXPECT_EQ(lstat_of("bin/sh")->st_ino, target->st_ino);
    EXPECT_EQ(lstat_of("usr/ls")->st_ino, target->st_ino);
    EXPECT_EQ(target->st_nlink, 3u);
}

TEST_F(ApplyTest, FifoIsCreated) {
    auto stats = apply({{.name = "run/fifo", .type = EntryType::kFifo, .mode = 0620}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    const auto st = lstat_of("run/fifo");
    ASSERT_TRUE(st);
    EXPECT_TRUE(S_ISFIFO(st->st_mode));
    EXPECT_EQ(st->st_mode & 07777, 0620u);
    EXPECT_EQ(st->st_mtim.tv_sec, kMtime);
}

TEST_F(ApplyTest, DevicesAreSkippedWithAWarning) {
    auto stats = apply(
        {{.name = "dev/null", .type = EntryType::kCharDevice}, {.name = "dev/keep", .data = "k"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(stats->skipped_devices, 1u);
    EXPECT_EQ(stats->entries, 2u);
    EXPECT_FALSE(lstat_of("dev/null"));
    EXPECT_EQ(contents("dev/keep"), "k");
    EXPECT_NE(logged().find("skip device node in layer entry=dev/null"), std::string::npos)
        << logged();
}

TEST_F(ApplyTest, UserXattrsAreApplied) {
    auto stats = apply({{.name = "f",
                         .data = "x",
                         .xattrs = {{"user.grove.test", "hello"}, {"user.grove.empty", ""}}},
                        {.name = "d", .type = EntryType::kDir, .xattrs = {{"user.k", "v"}}}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(xattr("f", "user.grove.test"), "hello");
    EXPECT_EQ(xattr("f", "user.grove.empty"), "");
    EXPECT_EQ(xattr("d", "user.k"), "v");
}

TEST_F(ApplyTest, OverlayAndSecurityXattrsFromTheTarAreSkipped) {
    auto stats = apply({{.name = "d",
                         .type = EntryType::kDir,
                         .xattrs = {{"trusted.overlay.opaque", "y"},
                                    {"user.overlay.redirect", "/x"},
                                    {"security.selinux", "system_u:object_r:bin_t:s0"}}}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_FALSE(xattr("d", "trusted.overlay.opaque"));
    EXPECT_FALSE(xattr("d", "user.overlay.redirect"));
    EXPECT_EQ(xattr("d", "security.selinux"), std::nullopt);
    EXPECT_NE(logged().find("xattr=trusted.overlay.opaque"), std::string::npos) << logged();
    EXPECT_NE(logged().find("xattr=security.selinux"), std::string::npos) << logged();
}

TEST_F(ApplyTest, LaterEntryReplacesAnEarlierOneOfTheSameName) {
    auto stats = apply({{.name = "f", .data = "first"},
                        {.name = "f", .data = "second", .mode = 0600},
                        {.name = "l", .type = EntryType::kSymlink, .link = "f"},
                        {.name = "l", .data = "now a file"},
                        {.name = "g", .data = "a file"},
                        {.name = "g", .type = EntryType::kSymlink, .link = "/etc"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(contents("f"), "second");
    EXPECT_EQ(lstat_of("f")->st_mode & 07777, 0600u);
    EXPECT_EQ(contents("l"), "now a file");
    EXPECT_EQ(std::filesystem::read_symlink(path("g")), "/etc");
}

TEST_F(ApplyTest, FileReplacesADirectoryTree) {
    auto stats = apply({{.name = "d/sub/deep", .data = "deep"},
                        {.name = "d/other", .data = "other"},
                        {.name = "d", .data = "now a file"},
                        {.name = "e/x", .data = "x"},
                        {.name = "e", .type = EntryType::kSymlink, .link = "d"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_TRUE(S_ISREG(lstat_of("d")->st_mode));
    EXPECT_EQ(contents("d"), "now a file");
    EXPECT_TRUE(S_ISLNK(lstat_of("e")->st_mode));
}

TEST_F(ApplyTest, DirectoryOverADirectoryKeepsItsContents) {
    auto stats = apply({{.name = "d/f", .data = "kept"},
                        {.name = "d", .type = EntryType::kDir, .mode = 0700},
                        {.name = "x", .data = "file first"},
                        {.name = "x", .type = EntryType::kDir}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(contents("d/f"), "kept");
    EXPECT_EQ(lstat_of("d")->st_mode & 07777, 0700u);
    EXPECT_TRUE(S_ISDIR(lstat_of("x")->st_mode));
}

TEST_F(ApplyTest, RootEntryDescribesTheLayerDirectory) {
    auto stats = apply({{.name = "./", .type = EntryType::kDir, .mode = 0711, .mtime = 5'000},
                        {.name = "./f", .data = "f"}});
    ASSERT_TRUE(stats) << stats.error().to_string();
    struct stat st {};
    ASSERT_EQ(::stat(root().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0711u);
    EXPECT_EQ(st.st_mtim.tv_sec, 5'000);
}

TEST_F(ApplyTest, EmptyTarAppliesNothing) {
    auto stats = apply({});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(stats->entries, 0u);
    EXPECT_TRUE(std::filesystem::is_empty(root()));
}

TEST_F(ApplyTest, ReadsAPipeSequentially) {
    const std::string bytes =
        make_tar({{.name = "from-pipe", .data = "piped"}}, Compression::kGzip);
    ASSERT_LT(bytes.size(), 4096u);  // fits the pipe buffer, so no writer thread is needed
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe);
    ASSERT_TRUE(base::write_all(pipe->write.get(), bytes));
    pipe->write.reset();
    auto root_fd = base::UniqueFd::open(root().string(), O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(root_fd);
    auto stats = apply_layer(pipe->read.get(), root_fd->get(), {.compression = Compression::kGzip});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(contents("from-pipe"), "piped");
}

class CompressedApplyTest : public ApplyTest, public ::testing::WithParamInterface<Compression> {};

TEST_P(CompressedApplyTest, AppliesCompressedStreams) {
    const std::string big(3 << 20, 'z');
    const std::string bytes =
        make_tar({{.name = "big", .data = big}, {.name = "small", .data = "s"}}, GetParam());
    auto stats = apply_bytes(bytes, {.compression = GetParam()});
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(std::filesystem::file_size(path("big")), big.size());
    EXPECT_EQ(contents("big"), big);
    EXPECT_EQ(contents("small"), "s");
}

INSTANTIATE_TEST_SUITE_P(All,
                         CompressedApplyTest,
                         ::testing::Values(Compression::kNone,
                                           Compression::kGzip,
                                           Compression::kZstd));

}  // namespace
}  // namespace grove::archive::testing
