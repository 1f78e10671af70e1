#include "registry/auth_file.hpp"

#include <gtest/gtest.h>

namespace grove::registry {
namespace {

TEST(AuthFile, ReadsAuthFieldAndUsernamePassword) {
    const auto creds = parse_auth_file(R"({
        "auths": {
            "https://index.docker.io/v1/": {"auth": "dXNlcjpwYTpzcw=="},
            "ghcr.io": {"username": "octo", "password": "tok"},
            "http://127.0.0.1:5000/v2/": {"auth": "Z3JvdmU6c2VjcmV0"},
            "quay.io": {},
            "helper.example": {"identitytoken": "refresh"}
        },
        "credsStore": "desktop"
    })");
    ASSERT_TRUE(creds) << creds.error().to_string();
    EXPECT_EQ(creds->size(), 3u);
    // The password may itself contain ':'; only the first one separates.
    EXPECT_EQ(creds->at("docker.io"), (Credentials{"user", "pa:ss"}));
    EXPECT_EQ(creds->at("ghcr.io"), (Credentials{"octo", "tok"}));
    EXPECT_EQ(creds->at("127.0.0.1:5000"), (Credentials{"grove", "secret"}));
}

TEST(AuthFile, NoAuthsIsEmpty) {
    const auto creds = parse_auth_file(R"({"credHelpers": {"gcr.io": "gcloud"}})");
    ASSERT_TRUE(creds);
    EXPECT_TRUE(creds->empty());
}

TEST(AuthFile, BadEntriesAreInvalidArgumentNamingTheKey) {
    for (const std::string_view bad :
         {R"({"auths": {"r.io": {"auth": "not base64!"}}})",
          R"({"auths": {"r.io": {"auth": "bm9jb2xvbg=="}}})",  // "nocolon"
          R"({"auths": {"r.io": {"auth": 42}}})", R"({"auths": []})", R"({"auths": )"}) {
        SCOPED_TRACE(bad);
        const auto creds = parse_auth_file(bad);
        ASSERT_FALSE(creds);
        EXPECT_EQ(creds.error().code(), Code::kInvalidArgument);
    }
    EXPECT_NE(
        parse_auth_file(R"({"auths": {"r.io": {"auth": "x"}}})").error().message().find("r.io"),
        std::string::npos);
}

TEST(AuthFile, NormalizesKeys) {
    EXPECT_EQ(normalize_auth_key("https://index.docker.io/v1/"), "docker.io");
    EXPECT_EQ(normalize_auth_key("registry-1.docker.io"), "docker.io");
    EXPECT_EQ(normalize_auth_key("docker.io"), "docker.io");
    EXPECT_EQ(normalize_auth_key("HTTPS://Ghcr.IO/"), "ghcr.io");
    EXPECT_EQ(normalize_auth_key("localhost:5000"), "localhost:5000");
    EXPECT_EQ(normalize_auth_key("[::1]:5000/v2"), "[::1]:5000");
}

}  // namespace
}  // namespace grove::registry
