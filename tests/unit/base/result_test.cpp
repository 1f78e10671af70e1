#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <grove/result.hpp>

namespace grove {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) {
        return Error(Code::kInvalidArgument, "not positive");
    }
    return v;
}

Result<int> doubled(int v) {
    GROVE_ASSIGN_OR_RETURN(int x, parse_positive(v));
    return 2 * x;
}

Result<void> check(int v) {
    GROVE_TRY(parse_positive(v));
    return {};
}

TEST(Result, HoldsValue) {
    Result<std::string> r = std::string("hi");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(static_cast<bool>(r));
    EXPECT_EQ(*r, "hi");
    EXPECT_EQ(r->size(), 2u);
    EXPECT_EQ(r.value_or("x"), "hi");
}

TEST(Result, HoldsError) {
    Result<std::string> r = Error(Code::kNotFound, "image 'x' not found");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kNotFound);
    EXPECT_EQ(r.error().message(), "image 'x' not found");
    EXPECT_EQ(r.value_or("fallback"), "fallback");
}

TEST(Result, MoveOnlyValues) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 7);
}

TEST(Result, AssignOrReturnPropagates) {
    EXPECT_EQ(*doubled(4), 8);
    const auto bad = doubled(-1);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

TEST(Result, TryPropagatesForVoid) {
    EXPECT_TRUE(check(1));
    const auto bad = check(0);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "not positive");
}

TEST(Result, ContextPrependsOnlyOnError) {
    auto ok = Result<int>(1).context("never shown");
    EXPECT_EQ(*ok, 1);
    auto bad = parse_positive(0).context("read size");
    EXPECT_EQ(bad.error().message(), "read size: not positive");
    auto bad_void = check(0).context("validate");
    EXPECT_EQ(bad_void.error().message(), "validate: not positive");
    EXPECT_EQ(bad_void.error().code(), Code::kInvalidArgument);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
    Result<int> r = Error(Code::kInternal, "boom");
    EXPECT_DEATH((void)r.value(), "value\\(\\) of a failed Result: internal: boom");
}

TEST(ResultDeathTest, ErrorOfValueAborts) {
    Result<int> r = 3;
    EXPECT_DEATH((void)r.error(), "error\\(\\) of a successful Result");
}

}  // namespace
}  // namespace grove
