#include "client/frames.hpp"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace grove::client {
namespace {

std::string frame(uint8_t stream, std::string_view payload) {
    std::string out{static_cast<char>(stream), 0, 0, 0};
    const auto size = static_cast<uint32_t>(payload.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((size >> shift) & 0xff));
    }
    return out.append(payload);
}

using Frames = std::vector<std::pair<uint8_t, std::string>>;

TEST(FrameReader, ReassemblesFramesCutAnywhere) {
    const std::string big(70'000, 'x');
    const std::string stream = frame(1, "out\n") + frame(2, "") + frame(2, "err\n") +
                               frame(1, big) + frame(3, R"({"exit_code": 3})");
    const Frames want{{1, "out\n"}, {2, ""}, {2, "err\n"}, {1, big}, {3, R"({"exit_code": 3})"}};
    for (size_t piece : {size_t{1}, size_t{3}, size_t{8}, size_t{9}, size_t{4096}, stream.size()}) {
        Frames got;
        FrameReader reader([&](uint8_t kind, std::string_view payload) {
            got.emplace_back(kind, std::string(payload));
        });
        for (size_t at = 0; at < stream.size(); at += piece) {
            reader.feed(std::string_view(stream).substr(at, piece));
        }
        EXPECT_EQ(got, want) << "pieces of " << piece;
        EXPECT_FALSE(reader.partial());
    }
}

TEST(FrameReader, KeepsACutFrameAsPartial) {
    Frames got;
    FrameReader reader([&](uint8_t kind, std::string_view payload) {
        got.emplace_back(kind, std::string(payload));
    });
    reader.feed(frame(1, "whole") + frame(1, "cut").substr(0, 10));
    EXPECT_EQ(got, (Frames{{1, "whole"}}));
    EXPECT_TRUE(reader.partial());
}

}  // namespace
}  // namespace grove::client
