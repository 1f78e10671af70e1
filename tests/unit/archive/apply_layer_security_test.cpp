// Untrusted tars: entries that try to leave the layer, hardlinks to outside it, limits, and
// corrupt streams. Each must fail the whole apply and write nothing outside the layer.

#include <fstream>

#include <gtest/gtest.h>

#include "archive/apply_layer.hpp"
#include "base/temp_dir.hpp"
#include "layer_fixture.hpp"

namespace grove::archive::testing {
namespace {

namespace fs = std::filesystem;

class ApplySecurityTest : public ApplyTest {
protected:
    void SetUp() override {
        ApplyTest::SetUp();
        auto outside = base::TempDir::create("grove-outside-");
        ASSERT_TRUE(outside);
        outside_.emplace(std::move(outside).value());
    }

    void expect_refused(const std::vector<TarEntry>& entries,
                        Code code,
                        std::string_view message_part) {
        auto stats = apply(entries);
        ASSERT_FALSE(stats) << "applied " << entries.back().name;
        EXPECT_EQ(stats.error().code(), code) << stats.error().to_string();
        EXPECT_NE(stats.error().message().find(message_part), std::string::npos)
            << stats.error().to_string();
    }

    // The layer's parent holds both temp dirs, so `../evil` from the layer lands beside it.
    std::optional<base::TempDir> outside_;
};

TEST_F(ApplySecurityTest, DotDotEntryIsRefused) {
    const std::string escape = "../" + root().filename().string() + "-evil";
    expect_refused({{.name = "ok", .data = "x"}, {.name = escape, .data = "evil"}},
                   Code::kInvalidArgument, "'" + escape + "' escapes the layer: '..' component");
    expect_refused({{.name = "a/../../evil", .data = "evil"}}, Code::kInvalidArgument,
                   "escapes the layer");
    EXPECT_FALSE(fs::exists(root().parent_path() / (root().filename().string() + "-evil")));
    EXPECT_FALSE(fs::exists(root().parent_path() / "evil"));
}

TEST_F(ApplySecurityTest, AbsoluteEntryIsRefused) {
    expect_refused({{.name = "/etc/grove-archive-test-x", .data = "evil"}}, Code::kInvalidArgument,
                   "layer entry '/etc/grove-archive-test-x' escapes the layer: absolute path");
    EXPECT_FALSE(fs::exists("/etc/grove-archive-test-x"));
    EXPECT_FALSE(fs::exists(path("etc")));
}

TEST_F(ApplySecurityTest, EntryThroughASymlinkIsRefused) {
    const fs::path outside = outside_->path();
    expect_refused({{.name = "link", .type = EntryType::kSymlink, .link = outside.string()},
                    {.name = "link/pwned", .data = "pwned"}},
                   Code::kInvalidArgument, "through a symlink");
    EXPECT_FALSE(fs::exists(outside / "pwned"));
    EXPECT_TRUE(fs::is_empty(outside));
}

TEST_F(ApplySecurityTest, DirectoryThroughARelativeSymlinkIsRefused) {
    const std::string up = "../" + outside_->path().filename().string();
    expect_refused({{.name = "a", .type = EntryType::kSymlink, .link = up},
                    {.name = "a/sub/", .type = EntryType::kDir}},
                   Code::kInvalidArgument, "through a symlink");
    expect_refused({{.name = "in", .type = EntryType::kDir},
                    {.name = "b", .type = EntryType::kSymlink, .link = "in"},
                    {.name = "b/x", .data = "x"}},
                   Code::kInvalidArgument, "through a symlink");
    EXPECT_TRUE(fs::is_empty(outside_->path()));
}

TEST_F(ApplySecurityTest, EntryUnderARegularFileIsRefused) {
    expect_refused({{.name = "f", .data = "x"}, {.name = "f/g", .data = "y"}},
                   Code::kInvalidArgument, "not a directory");
}

TEST_F(ApplySecurityTest, HardlinkOutsideTheLayerIsRefused) {
    expect_refused({{.name = "h", .type = EntryType::kHardlink, .link = "../etc/passwd"}},
                   Code::kInvalidArgument, "hardlink to '../etc/passwd' outside the layer");
    expect_refused({{.name = "h", .type = EntryType::kHardlink, .link = "/etc/passwd"}},
                   Code::kInvalidArgument, "outside the layer");
    EXPECT_FALSE(fs::exists(path("h")));
}

TEST_F(ApplySecurityTest, HardlinkToAMissingTargetIsRefused) {
    expect_refused({{.name = "h", .type = EntryType::kHardlink, .link = "missing"}},
                   Code::kInvalidArgument, "no such entry in this layer");
    expect_refused({{.name = "h", .type = EntryType::kHardlink, .link = "no/dir/file"}},
                   Code::kInvalidArgument, "outside the layer");
}

TEST_F(ApplySecurityTest, HardlinkThroughASymlinkIsRefused) {
    std::ofstream(outside_->path() / "secret") << "secret";
    expect_refused({{.name = "link", .type = EntryType::kSymlink, .link = outside_->path()},
                    {.name = "h", .type = EntryType::kHardlink, .link = "link/secret"}},
                   Code::kInvalidArgument, "through a symlink");
    EXPECT_EQ(fs::hard_link_count(outside_->path() / "secret"), 1u);
}

TEST_F(ApplySecurityTest, HardlinkToADirectoryIsRefused) {
    expect_refused({{.name = "d", .type = EntryType::kDir},
                    {.name = "h", .type = EntryType::kHardlink, .link = "d"}},
                   Code::kInvalidArgument, "a directory");
}

TEST_F(ApplySecurityTest, WhiteoutOfDotDotIsRefused) {
    expect_refused({{.name = "a/b/keep", .data = "k"}, {.name = "a/b/.wh...", .data = ""}},
                   Code::kInvalidArgument, "invalid whiteout");
    EXPECT_EQ(contents("a/b/keep"), "k");
}

TEST_F(ApplySecurityTest, EntryOverTheSizeLimitIsRefusedBeforeWriting) {
    auto stats = apply({{.name = "small", .data = "ok"}, {.name = "big", .data = "0123456789A"}},
                       {.limits = {.max_entry_size = 10}});
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code(), Code::kResourceExhausted);
    EXPECT_NE(stats.error().message().find("'big' is 11 bytes"), std::string::npos)
        << stats.error().to_string();
    EXPECT_FALSE(fs::exists(path("big")));
}

TEST_F(ApplySecurityTest, ClaimedSizeIsCheckedBeforeAnyDataIsRead) {
    // The header claims 8 GiB but no data follows: the limit must fire on the header alone.
    auto stats = apply_bytes(tar_claiming_size("huge", (uint64_t{8} << 30) - 1),
                             {.limits = {.max_entry_size = 1 << 20}});
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code(), Code::kResourceExhausted) << stats.error().to_string();
    EXPECT_FALSE(fs::exists(path("huge")));
}

TEST_F(ApplySecurityTest, TotalSizeAndEntryCountLimits) {
    const std::vector<TarEntry> entries{{.name = "a", .data = "12345"},
                                        {.name = "b", .data = "12345"},
                                        {.name = "c", .data = "12345"}};
    auto total = apply(entries, {.limits = {.max_total_size = 12}});
    ASSERT_FALSE(total);
    EXPECT_EQ(total.error().code(), Code::kResourceExhausted);
    EXPECT_NE(total.error().message().find("'c'"), std::string::npos) << total.error().message();
    auto count = apply(entries, {.limits = {.max_entries = 2}});
    ASSERT_FALSE(count);
    EXPECT_EQ(count.error().code(), Code::kResourceExhausted);
}

TEST_F(ApplySecurityTest, OverlongNameIsRefused) {
    auto stats =
        apply({{.name = std::string(200, 'n'), .data = "x"}}, {.limits = {.max_path_length = 100}});
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code(), Code::kInvalidArgument);
    EXPECT_NE(stats.error().message().find("name longer than 100 bytes"), std::string::npos)
        << stats.error().to_string();
    EXPECT_TRUE(fs::is_empty(root()));
}

TEST_F(ApplySecurityTest, TruncatedGzipStreamFails) {
    std::string noise(1 << 20, '\0');
    uint32_t x = 1;
    for (char& c : noise) {
        x = x * 1103515245 + 12345;
        c = static_cast<char>(x >> 24);
    }
    std::string bytes = make_tar({{.name = "noise", .data = noise}}, Compression::kGzip);
    bytes.resize(bytes.size() / 2);
    auto stats = apply_bytes(bytes, {.compression = Compression::kGzip});
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code(), Code::kDataLoss) << stats.error().to_string();
}

TEST_F(ApplySecurityTest, GarbageStreamFails) {
    auto stats = apply_bytes(std::string(4096, 'x'));
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code(), Code::kDataLoss) << stats.error().to_string();
}

}  // namespace
}  // namespace grove::archive::testing
