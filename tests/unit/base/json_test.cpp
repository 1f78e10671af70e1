#include "base/json.hpp"

#include <gtest/gtest.h>

namespace grove::base {
namespace {

TEST(Json, ParsesValidText) {
    auto j = parse_json(R"({"a": 1, "b": "x"})");
    ASSERT_TRUE(j);
    EXPECT_EQ((*j)["a"], 1);
}

TEST(Json, MalformedTextIsInvalidArgumentWithPosition) {
    auto j = parse_json(R"({"a": )");
    ASSERT_FALSE(j);
    EXPECT_EQ(j.error().code(), Code::kInvalidArgument);
    EXPECT_NE(j.error().message().find("parse json: parse error at line 1"), std::string::npos)
        << j.error().message();
}

TEST(Json, FieldReadsTypedValues) {
    const Json obj = {{"name", "busybox"}, {"size", 42}, {"tags", {"a", "b"}}};
    EXPECT_EQ(*json_field<std::string>(obj, "name"), "busybox");
    EXPECT_EQ(*json_field<int64_t>(obj, "size"), 42);
    EXPECT_EQ(json_field<std::vector<std::string>>(obj, "tags")->size(), 2u);
}

TEST(Json, FieldErrorsNameTheField) {
    const Json obj = {{"size", "not a number"}};
    auto missing = json_field<std::string>(obj, "name");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(), "missing field 'name'");
    auto wrong = json_field<int64_t>(obj, "size");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(wrong.error().message().rfind("field 'size': ", 0), 0u) << wrong.error().message();
    auto not_object = json_field<int>(Json::array(), "x");
    ASSERT_FALSE(not_object);
    EXPECT_EQ(not_object.error().message(), "expected a JSON object, got array");
}

TEST(Json, OptionalFieldTreatsAbsentAndNullAlike) {
    const Json obj = {{"a", nullptr}, {"b", 7}};
    EXPECT_EQ(*json_optional_field<int>(obj, "a"), std::nullopt);
    EXPECT_EQ(*json_optional_field<int>(obj, "missing"), std::nullopt);
    EXPECT_EQ(*json_optional_field<int>(obj, "b"), 7);
    EXPECT_FALSE(json_optional_field<std::string>(obj, "b"));
}

}  // namespace
}  // namespace grove::base
