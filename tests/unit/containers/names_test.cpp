#include "containers/names.hpp"

#include <csignal>

#include <gtest/gtest.h>

namespace grove::containers {
namespace {

TEST(NamesTest, IdsAre64HexDigitsAndDiffer) {
    const auto a = new_container_id();
    const auto b = new_container_id();
    EXPECT_EQ(a.size(), 64u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
}

TEST(NamesTest, DockersNameRule) {
    EXPECT_TRUE(validate_name("web"));
    EXPECT_TRUE(validate_name("my_app.v1-2"));
    EXPECT_TRUE(validate_name(generated_name()));
    EXPECT_FALSE(validate_name("a"));
    EXPECT_FALSE(validate_name("_web"));
    EXPECT_FALSE(validate_name("we b"));
    EXPECT_FALSE(validate_name("web/1"));
    EXPECT_FALSE(validate_name(""));
}

TEST(NamesTest, SignalsByNameOrNumber) {
    EXPECT_EQ(parse_signal("SIGTERM").value_or(0), SIGTERM);
    EXPECT_EQ(parse_signal("term").value_or(0), SIGTERM);
    EXPECT_EQ(parse_signal("KILL").value_or(0), SIGKILL);
    EXPECT_EQ(parse_signal("SIGWINCH").value_or(0), SIGWINCH);
    EXPECT_EQ(parse_signal("9").value_or(0), 9);
    EXPECT_FALSE(parse_signal("0"));
    EXPECT_FALSE(parse_signal("SIGNOPE"));
    EXPECT_FALSE(parse_signal(""));
}

}  // namespace
}  // namespace grove::containers
