#include "http/uri.hpp"

#include <gtest/gtest.h>

#include "http/headers.hpp"

namespace grove::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlusInQueriesOnly) {
    EXPECT_EQ(percent_decode("a%20b%2Fc", DecodeMode::kPath).value(), "a b/c");
    EXPECT_EQ(percent_decode("a+b", DecodeMode::kPath).value(), "a+b");
    EXPECT_EQ(percent_decode("a+b%2B", DecodeMode::kQuery).value(), "a b+");
    EXPECT_EQ(percent_decode("%e2%82%AC", DecodeMode::kPath).value(), "\xe2\x82\xac");
}

TEST(PercentDecode, RejectsMalformedEscapesAndNul) {
    EXPECT_EQ(percent_decode("%", DecodeMode::kPath).error().code(), Code::kInvalidArgument);
    EXPECT_FALSE(percent_decode("%2", DecodeMode::kPath).has_value());
    EXPECT_FALSE(percent_decode("%g0", DecodeMode::kPath).has_value());
    EXPECT_FALSE(percent_decode("a%00b", DecodeMode::kQuery).has_value());
}

TEST(SplitTarget, SeparatesPathAndQuery) {
    EXPECT_EQ(split_target("/a/b?x=1&y"),
              std::make_pair(std::string_view("/a/b"), std::string_view("x=1&y")));
    EXPECT_EQ(split_target("/a"), std::make_pair(std::string_view("/a"), std::string_view()));
    EXPECT_EQ(split_target("/a?x=1#frag").second, "x=1");
}

TEST(QueryParams, ParsesRepeatsFlagsAndEscapes) {
    auto q = QueryParams::parse("names=a&names=b%20c&flag&empty=&since=-1&x=1+2&&");
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->get("names"), "a");
    EXPECT_EQ(q->get_all("names"), (std::vector<std::string_view>{"a", "b c"}));
    EXPECT_EQ(q->get("flag"), "");
    EXPECT_EQ(q->get("empty"), "");
    EXPECT_EQ(q->get("since"), "-1");
    EXPECT_EQ(q->get("x"), "1 2");
    EXPECT_FALSE(q->get("missing").has_value());
    EXPECT_EQ(q->items().size(), 6u);
    EXPECT_FALSE(QueryParams::parse("a=%zz").has_value());
}

TEST(Headers, CaseInsensitiveNamesAndTokens) {
    Headers h{{"Content-Type", "text/plain"}, {"connection", "keep-alive, Upgrade"}};
    EXPECT_EQ(h.get("content-type"), "text/plain");
    EXPECT_TRUE(h.has_token("Connection", "upgrade"));
    EXPECT_FALSE(h.has_token("Connection", "close"));
    h.set("CONTENT-TYPE", "application/json");
    EXPECT_EQ(h.size(), 2u);
    EXPECT_EQ(h.get("Content-Type"), "application/json");
    h.remove("content-type");
    EXPECT_FALSE(h.contains("Content-Type"));
}

}  // namespace
}  // namespace grove::http
