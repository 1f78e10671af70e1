#include "http/gzip.hpp"

#include <zlib.h>

#include <gtest/gtest.h>

#include "test_client.hpp"

namespace grove::http {
namespace {

TEST(Gzip, CompressesToAValidMember) {
    std::string data;
    for (int i = 0; i < 10000; ++i) {
        data += "line " + std::to_string(i) + "\n";
    }
    auto compressed = gzip_compress(data);
    ASSERT_TRUE(compressed.has_value());
    EXPECT_LT(compressed->size(), data.size() / 3);
    EXPECT_EQ(testing::gunzip(*compressed).value(), data);
    EXPECT_EQ(testing::gunzip(gzip_compress("").value()).value(), "");
}

TEST(Gzip, EveryFlushIsDecodableOnItsOwn) {
    auto encoder = GzipEncoder::create();
    ASSERT_TRUE(encoder.has_value());
    z_stream zs{};
    ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    std::string all;
    for (int i = 0; i < 3; ++i) {
        const std::string frame = "data: frame " + std::to_string(i) + "\n\n";
        auto piece = encoder->flush(frame);
        ASSERT_TRUE(piece.has_value());
        all += *piece;
        // Everything sent so far decodes to everything written so far: the stream is live.
        char out[256];
        zs.next_in = reinterpret_cast<Bytef*>(piece->data());  // NOLINT
        zs.avail_in = static_cast<uInt>(piece->size());
        zs.next_out = reinterpret_cast<Bytef*>(out);  // NOLINT
        zs.avail_out = sizeof(out);
        ASSERT_EQ(inflate(&zs, Z_SYNC_FLUSH), Z_OK);
        EXPECT_EQ(std::string(out, sizeof(out) - zs.avail_out), frame);
    }
    inflateEnd(&zs);
    auto tail = encoder->finish();
    ASSERT_TRUE(tail.has_value());
    all += *tail;
    EXPECT_EQ(testing::gunzip(all).value(), "data: frame 0\n\ndata: frame 1\n\ndata: frame 2\n\n");
    EXPECT_FALSE(testing::gunzip(all.substr(0, all.size() - 4)).has_value())
        << "a stream cut before its trailer must not pass";
    EXPECT_FALSE(encoder->flush("more").has_value());
}

}  // namespace
}  // namespace grove::http
