#include "api/auth.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"

namespace grove::api {
namespace {

TEST(Auth, ReadsTokenFiles) {
    auto dir = base::TempDir::create("grove-auth-");
    ASSERT_TRUE(dir);
    const auto path = dir->path() / "tokens";
    std::ofstream(path) << "# comment\n\n  alpha  \r\nbeta\n";
    auto tokens = Authenticator::read_token_file(path);
    ASSERT_TRUE(tokens) << tokens.error().to_string();
    EXPECT_EQ(*tokens, (std::vector<std::string>{"alpha", "beta"}));

    std::ofstream(path) << "# only a comment\n";
    EXPECT_EQ(Authenticator::read_token_file(path).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(Authenticator::read_token_file(dir->path() / "missing").error().code(),
              Code::kNotFound);
}

TEST(Auth, KnowsWhetherItHasTokens) {
    EXPECT_FALSE(Authenticator({}).has_tokens());
    EXPECT_TRUE(Authenticator({.tokens = {"t"}}).has_tokens());
}

}  // namespace
}  // namespace grove::api
