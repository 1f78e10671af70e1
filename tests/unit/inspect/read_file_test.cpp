#include "inspect/read_file.hpp"

#include <fcntl.h>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "image_fixture.hpp"

namespace grove::inspect {
namespace {

class ReadFileTest : public ImageFixture {
protected:
    // The bytes of `path` from `offset`, at most `limit`; the Result's value is the file size.
    Result<uint64_t> read(const LayerStack& s,
                          std::string_view path,
                          std::string& out,
                          uint64_t offset = 0,
                          std::optional<uint64_t> limit = std::nullopt) {
        out.clear();
        chunks_ = 0;
        return read_file(
            s, path,
            [&](std::span<const std::byte> chunk) -> Result<void> {
                EXPECT_LE(chunk.size(), kReadChunkSize);
                ++chunks_;
                out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
                return {};
            },
            offset, limit);
    }

    int chunks_ = 0;
};

TEST_F(ReadFileTest, ReadsContentAndRanges) {
    file("bottom", "data/a.txt", "hello, world\n");
    const LayerStack s = stack();
    std::string out;
    EXPECT_EQ(read(s, "/data/a.txt", out).value_or(0), 13u);
    EXPECT_EQ(out, "hello, world\n");
    EXPECT_EQ(read(s, "data/a.txt", out, 7).value_or(0), 13u);
    EXPECT_EQ(out, "world\n");
    EXPECT_EQ(read(s, "/data/a.txt", out, 7, 3).value_or(0), 13u);
    EXPECT_EQ(out, "wor");
    EXPECT_EQ(read(s, "/data/a.txt", out, 13).value_or(0), 13u);
    EXPECT_EQ(out, "");
    EXPECT_EQ(read(s, "/data/a.txt", out, 14).error().code(), Code::kOutOfRange);
}

TEST_F(ReadFileTest, StreamsLargeFilesInChunks) {
    std::string big(kReadChunkSize * 2 + 100, '\0');
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>('a' + i % 26);
    }
    file("mid", "big", big);
    const LayerStack s = stack();
    std::string out;
    EXPECT_EQ(read(s, "/big", out).value_or(0), big.size());
    EXPECT_EQ(out, big);
    EXPECT_EQ(chunks_, 3);
    EXPECT_TRUE(read(s, "/big", out, 5, kReadChunkSize + 1));
    EXPECT_EQ(out, big.substr(5, kReadChunkSize + 1));
}

TEST_F(ReadFileTest, AbsoluteSymlinksResolveInTheImageNotOnTheHost) {
    const std::string image_passwd = "root:x:0:0:not the host's:/root:/bin/sh\n";
    file("bottom", "etc/passwd", image_passwd);
    link("top", "link", "/etc/passwd");
    link("top", "escape", "../../../../../etc/passwd");
    auto host = base::UniqueFd::open("/etc/passwd", O_RDONLY);
    ASSERT_TRUE(host);
    ASSERT_NE(base::read_all(host->get()).value_or(""), image_passwd);
    const LayerStack s = stack();
    std::string out;
    ASSERT_TRUE(read(s, "/link", out));
    EXPECT_EQ(out, image_passwd);
    ASSERT_TRUE(read(s, "/escape", out));
    EXPECT_EQ(out, image_passwd);
}

TEST_F(ReadFileTest, DirectoriesMissingFilesAndSinkErrorsFail) {
    file("bottom", "data/a.txt", "a\n");
    const LayerStack s = stack();
    std::string out;
    EXPECT_EQ(read(s, "/data", out).error().code(), Code::kFailedPrecondition);
    EXPECT_EQ(read(s, "/data/none", out).error().code(), Code::kNotFound);
    auto failed = read_file(s, "/data/a.txt", [](std::span<const std::byte>) -> Result<void> {
        return Error(Code::kCancelled, "client went away");
    });
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), Code::kCancelled);
}

}  // namespace
}  // namespace grove::inspect
