#include "api/query.hpp"

#include <gtest/gtest.h>

namespace grove::api {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kNow = 1'700'000'000 * kS;

http::QueryParams query(std::string_view text) {
    auto parsed = http::QueryParams::parse(text);
    EXPECT_TRUE(parsed);
    return parsed.value_or(http::QueryParams{});
}

TEST(Query, Pages) {
    EXPECT_EQ(parse_page(query(""))->limit, kMaxPage);
    EXPECT_EQ(parse_page(query("limit=5&offset=10"))->offset, 10u);
    EXPECT_EQ(parse_page(query("limit=1000"))->limit, 1000u);
    for (const auto* bad : {"limit=0", "limit=1001", "limit=x", "limit=-1"}) {
        auto page = parse_page(query(bad));
        ASSERT_FALSE(page) << bad;
        EXPECT_EQ(page.error().message(), "limit must be between 1 and 1000");
    }
    EXPECT_FALSE(parse_page(query("offset=-3")));
}

TEST(Query, TimesInEveryFormTheClientsSend) {
    EXPECT_EQ(*parse_time_value("15m", kNow), kNow - 900 * kS);
    EXPECT_EQ(*parse_time_value("1w", kNow), kNow - 7 * 86400 * kS);
    EXPECT_EQ(*parse_time_value("3600", kNow), kNow - 3600 * kS) << "bare seconds: a duration";
    EXPECT_EQ(*parse_time_value("3600s", kNow), kNow - 3600 * kS);
    EXPECT_EQ(*parse_time_value("2024-01-01T12:00:00+00:00", kNow), 1'704'110'400 * kS);
    EXPECT_EQ(*parse_time_value("2024-01-01T12:00:00Z", kNow), 1'704'110'400 * kS);
    EXPECT_EQ(*parse_time_value("2024-01-01T12:00:00", kNow), 1'704'110'400 * kS)
        << "naive isoformat() is UTC";
    EXPECT_EQ(*parse_time_value("2024-01-01T12:00:00.500000", kNow), 1'704'110'400 * kS + kS / 2);
    EXPECT_FALSE(parse_time_value("yesterday", kNow));
    EXPECT_FALSE(*parse_time(query("since="), "since", kNow));
    EXPECT_FALSE(*parse_time(query(""), "since", kNow));
    EXPECT_EQ(**parse_time(query("until=1h"), "until", kNow), kNow - 3600 * kS);
}

TEST(Query, Flags) {
    EXPECT_TRUE(flag(query("tagged=1"), "tagged"));
    EXPECT_TRUE(flag(query("text"), "text"));
    EXPECT_TRUE(flag(query("text="), "text"));
    EXPECT_FALSE(flag(query("tagged=0"), "tagged"));
    EXPECT_FALSE(flag(query("tagged=false"), "tagged"));
    EXPECT_FALSE(flag(query(""), "tagged"));
}

}  // namespace
}  // namespace grove::api
