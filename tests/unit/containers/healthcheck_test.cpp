#include <gtest/gtest.h>

#include "containers/manager.hpp"

namespace grove::containers {
namespace {

TEST(HealthcheckTest, TheSpecsOrTheImagesOrNone) {
    const auto image = base::parse_json(R"({"config":{"Healthcheck":{"Test":["CMD-SHELL","true"],
                                          "Interval":1000,"Retries":4}}})")
                           .value();
    auto from_image = resolve_healthcheck({}, image);
    ASSERT_TRUE(from_image && *from_image);
    EXPECT_EQ((*from_image)->test, (std::vector<std::string>{"CMD-SHELL", "true"}));
    EXPECT_EQ((*from_image)->interval_ns, 1000);
    EXPECT_EQ((*from_image)->retries, 4);

    auto given = resolve_healthcheck({.test = {"CMD", "check", "-v"}, .timeout_ns = 5}, image);
    ASSERT_TRUE(given && *given);
    EXPECT_EQ((*given)->test.size(), 3u);
    EXPECT_EQ((*given)->timeout_ns, 5);

    EXPECT_FALSE(resolve_healthcheck({.test = {"NONE"}}, image).value());
    EXPECT_FALSE(resolve_healthcheck({}, base::Json::object()).value());
    EXPECT_EQ(resolve_healthcheck({.test = {"CMD"}}, image).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(resolve_healthcheck({.test = {"bogus", "x"}}, image).error().code(),
              Code::kInvalidArgument);
}

}  // namespace
}  // namespace grove::containers
