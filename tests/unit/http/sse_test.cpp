#include "http/sse.hpp"

#include <gtest/gtest.h>

namespace grove::http {
namespace {

TEST(Sse, FormatsIdEventAndData) {
    EXPECT_EQ(format_sse_event({.id = "3", .event = "stdout", .data = R"({"id":3})"}),
              "id: 3\nevent: stdout\ndata: {\"id\":3}\n\n");
    EXPECT_EQ(format_sse_event({.data = "x"}), "data: x\n\n");
}

TEST(Sse, SplitsMultiLineDataAndSanitisesFields) {
    EXPECT_EQ(format_sse_event({.id = "1\n2", .event = "a\r\nb", .data = "l1\nl2\r\nl3\rl4"}),
              "id: 1 2\nevent: a  b\ndata: l1\ndata: l2\ndata: l3\ndata: l4\n\n");
    EXPECT_EQ(format_sse_event({.data = ""}), "data: \n\n");
}

TEST(Sse, FormatsComments) {
    EXPECT_EQ(format_sse_comment("keepalive"), ": keepalive\n\n");
    EXPECT_EQ(format_sse_comment("stream ended with error, retry since last event id"),
              ": stream ended with error, retry since last event id\n\n");
    EXPECT_EQ(format_sse_comment("a\nb"), ": a\n: b\n\n");
}

}  // namespace
}  // namespace grove::http
