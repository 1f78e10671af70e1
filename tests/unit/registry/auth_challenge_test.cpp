#include "registry/auth_challenge.hpp"

#include <gtest/gtest.h>

namespace grove::registry {
namespace {

std::vector<Challenge> parse_ok(std::string_view header) {
    auto parsed = parse_challenges(header);
    EXPECT_TRUE(parsed) << parsed.error().to_string();
    return parsed.value_or(std::vector<Challenge>{});
}

TEST(AuthChallenge, BearerWithEveryParameter) {
    const auto challenges =
        parse_ok(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
                 R"(scope="repository:library/busybox:pull",error="insufficient_scope")");
    ASSERT_EQ(challenges.size(), 1u);
    const Challenge& c = challenges[0];
    EXPECT_EQ(c.scheme, "bearer");
    EXPECT_EQ(c.param("realm"), "https://auth.docker.io/token");
    EXPECT_EQ(c.param("service"), "registry.docker.io");
    EXPECT_EQ(c.param("scope"), "repository:library/busybox:pull");
    EXPECT_EQ(c.param("error"), "insufficient_scope");
    EXPECT_EQ(c.param("missing"), std::nullopt);
}

TEST(AuthChallenge, SchemeAndParameterNamesAreCaseInsensitive) {
    const auto challenges = parse_ok(R"(BASIC Realm="Registry Realm")");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].scheme, "basic");
    EXPECT_EQ(challenges[0].param("realm"), "Registry Realm");
}

TEST(AuthChallenge, SeveralChallengesInOneHeader) {
    const auto challenges =
        parse_ok(R"(Negotiate, Basic realm="a", Bearer realm="https://t/token",service=s)");
    ASSERT_EQ(challenges.size(), 3u);
    EXPECT_EQ(challenges[0].scheme, "negotiate");
    EXPECT_TRUE(challenges[0].params.empty());
    EXPECT_EQ(challenges[1].scheme, "basic");
    EXPECT_EQ(challenges[1].param("realm"), "a");
    EXPECT_EQ(challenges[2].scheme, "bearer");
    EXPECT_EQ(challenges[2].param("realm"), "https://t/token");
    EXPECT_EQ(challenges[2].param("service"), "s");
    EXPECT_EQ(find_challenge(challenges, "bearer"), &challenges[2]);
    EXPECT_EQ(find_challenge(challenges, "digest"), nullptr);
}

TEST(AuthChallenge, QuotedCommasEscapesAndSpaces) {
    const auto challenges = parse_ok(
        "Bearer  realm = \"https://x/t?a=1,b=2\" , scope=\"repository:a:pull,push "
        "repository:b:pull\", note=\"say \\\"hi\\\" \\\\ bye\"");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].param("realm"), "https://x/t?a=1,b=2");
    EXPECT_EQ(challenges[0].param("scope"), "repository:a:pull,push repository:b:pull");
    EXPECT_EQ(challenges[0].param("note"), R"(say "hi" \ bye)");
}

TEST(AuthChallenge, Token68AndEmptyListElements) {
    const auto challenges = parse_ok("Custom abc/+def==, , Basic realm=x,,");
    ASSERT_EQ(challenges.size(), 2u);
    EXPECT_EQ(challenges[0].token68, "abc/+def==");
    EXPECT_EQ(challenges[1].param("realm"), "x");
}

TEST(AuthChallenge, EmptyHeaderHasNoChallenges) {
    EXPECT_TRUE(parse_ok("").empty());
    EXPECT_TRUE(parse_ok("  , ").empty());
}

TEST(AuthChallenge, GarbageIsInvalidArgument) {
    for (const std::string_view bad :
         {R"(Bearer realm="unterminated)", R"("quoted" realm=x)", R"(Bearer realm="x" junk)",
          R"(Bearer realm="x", =y)", "=== realm", R"(Bearer realm="x",service=)",
          "Bearer realm=\"a\\"}) {
        SCOPED_TRACE(bad);
        const auto parsed = parse_challenges(bad);
        ASSERT_FALSE(parsed);
        EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
    }
}

}  // namespace
}  // namespace grove::registry
