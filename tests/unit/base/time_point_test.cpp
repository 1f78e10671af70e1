#include "base/time_point.hpp"

#include <gtest/gtest.h>

namespace grove::base {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kNow = 1'700'000'000 * kS;

TEST(TimePoint, DurationsCountBackFromNow) {
    EXPECT_EQ(*parse_time_point("30s", kNow), kNow - 30 * kS);
    EXPECT_EQ(*parse_time_point("15m", kNow), kNow - 900 * kS);
    EXPECT_EQ(*parse_time_point("2h", kNow), kNow - 7200 * kS);
    EXPECT_EQ(*parse_time_point("1d", kNow), kNow - 86400 * kS);
    EXPECT_EQ(*parse_time_point("1w", kNow), kNow - 7 * 86400 * kS);
    EXPECT_EQ(*parse_time_point("1h30m", kNow), kNow - 5400 * kS);
}

TEST(TimePoint, AbsoluteTimes) {
    EXPECT_EQ(*parse_time_point("1700000000", kNow), 1'700'000'000 * kS);
    EXPECT_EQ(*parse_time_point("2024-01-02", kNow), 1'704'153'600 * kS);
    EXPECT_EQ(*parse_time_point("2024-01-02T03:04:05Z", kNow), (1'704'153'600 + 11045) * kS);
    EXPECT_EQ(*parse_time_point("2024-01-02T03:04:05.5Z", kNow),
              (1'704'153'600 + 11045) * kS + kS / 2);
    EXPECT_EQ(*parse_time_point("2024-01-02T05:04:05+02:00", kNow), (1'704'153'600 + 11045) * kS);
    EXPECT_EQ(*parse_time_point("2024-01-02T01:04:05-02:00", kNow), (1'704'153'600 + 11045) * kS);
}

TEST(TimePoint, RejectsGarbage) {
    for (const char* bad : {"", "15x", "m", "-5m", "2024-13-01", "2024-01-02T03:04:05",
                            "2024-01-02T03:04Z", "yesterday", "1h30"}) {
        auto t = parse_time_point(bad, kNow);
        EXPECT_FALSE(t) << bad;
        if (!t) {
            EXPECT_EQ(t.error().code(), Code::kInvalidArgument);
        }
    }
}

TEST(TimePoint, TimesBeyondInt64NanosecondsAreRefusedNotWrapped) {
    EXPECT_TRUE(parse_time_point("2200-01-01", kNow));
    EXPECT_FALSE(parse_time_point("2999-01-01", kNow));
    EXPECT_FALSE(parse_time_point("99999999999", kNow));
    EXPECT_FALSE(parse_time_point("999999999999w", kNow));
}

}  // namespace
}  // namespace grove::base
