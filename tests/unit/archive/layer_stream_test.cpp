// The diff_id that apply_layer reports is the sha256 of the whole uncompressed tar, whatever the
// compression, and a damaged compressed stream is DataLoss, never a silently short layer.

#include "archive/layer_stream.hpp"

#include <fcntl.h>

#include <gtest/gtest.h>

#include "layer_fixture.hpp"

namespace grove::archive::testing {
namespace {

const std::vector<TarEntry> kEntries = {
    {.name = "dir", .type = EntryType::kDir},
    {.name = "dir/file", .data = std::string(300'000, 'x')},
    {.name = "dir/small", .data = "small\n"},
};

TEST_F(ApplyTest, DiffIdIsTheSha256OfThePlainTarForEveryCompression) {
    const std::string plain = make_tar(kEntries);
    const base::Digest expected = base::Digest::sha256_of(plain);
    for (const auto compression : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
        auto dir = base::TempDir::create("grove-diffid-");
        ASSERT_TRUE(dir);
        auto dir_fd = base::UniqueFd::open(dir->path(), O_RDONLY | O_DIRECTORY);
        ASSERT_TRUE(dir_fd);
        auto input = memfd_with(make_tar(kEntries, compression));
        auto stats = apply_layer(input.get(), dir_fd->get(), {.compression = compression});
        ASSERT_TRUE(stats) << stats.error().to_string();
        ASSERT_TRUE(stats->diff_id);
        EXPECT_EQ(*stats->diff_id, expected) << static_cast<int>(compression);
    }
}

Result<base::Digest> drain(const std::string& bytes, Compression compression) {
    auto input = memfd_with(bytes);
    GROVE_ASSIGN_OR_RETURN(LayerStream stream, LayerStream::open(input.get(), compression));
    return stream.finish();
}

TEST(LayerStream, ConcatenatedGzipMembersAreOneStream) {
    const std::string plain = make_tar({{.name = "a", .data = "a"}});
    const std::string member = make_tar({{.name = "a", .data = "a"}}, Compression::kGzip);
    auto digest = drain(member + member, Compression::kGzip);
    ASSERT_TRUE(digest) << digest.error().to_string();
    EXPECT_EQ(*digest, base::Digest::sha256_of(plain + plain));
}

TEST(LayerStream, TruncatedStreamsAreDataLoss) {
    const std::string plain = make_tar(kEntries);
    for (const auto compression : {Compression::kGzip, Compression::kZstd}) {
        const std::string whole = make_tar(kEntries, compression);
        auto digest = drain(whole.substr(0, whole.size() / 2), compression);
        ASSERT_FALSE(digest) << static_cast<int>(compression);
        EXPECT_EQ(digest.error().code(), Code::kDataLoss);
        EXPECT_NE(digest.error().message().find("truncated"), std::string::npos)
            << digest.error().message();
    }
}

TEST(LayerStream, CorruptStreamsAreDataLoss) {
    for (const auto compression : {Compression::kGzip, Compression::kZstd}) {
        std::string bytes = make_tar(kEntries, compression);
        for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; ++i) {
            bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
        }
        auto digest = drain(bytes, compression);
        ASSERT_FALSE(digest) << static_cast<int>(compression);
        EXPECT_EQ(digest.error().code(), Code::kDataLoss) << digest.error().to_string();
    }
}

TEST_F(ApplyTest, TruncatedLayerFailsTheApplyWithTheStreamsError) {
    const std::string whole = make_tar(kEntries, Compression::kZstd);
    auto stats =
        apply_bytes(whole.substr(0, whole.size() - 10), {.compression = Compression::kZstd});
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code(), Code::kDataLoss);
    EXPECT_NE(stats.error().message().find("truncated zstd stream"), std::string::npos)
        << stats.error().message();
}

}  // namespace
}  // namespace grove::archive::testing
