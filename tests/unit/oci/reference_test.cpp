#include "oci/reference.hpp"

#include <gtest/gtest.h>

namespace grove::oci {
namespace {

struct Case {
    const char* input;
    const char* domain;
    const char* repository;
    const char* tag;  // nullptr: none
    const char* familiar;
};

class ReferenceParse : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceParse, Normalises) {
    const Case& c = GetParam();
    auto ref = Reference::parse(c.input);
    ASSERT_TRUE(ref) << c.input << ": " << ref.error().to_string();
    EXPECT_EQ(ref->domain, c.domain);
    EXPECT_EQ(ref->repository, c.repository);
    EXPECT_EQ(ref->tag, c.tag ? std::optional<std::string>(c.tag) : std::nullopt);
    EXPECT_EQ(ref->familiar(), c.familiar);
}

INSTANTIATE_TEST_SUITE_P(
    Docker,
    ReferenceParse,
    ::testing::Values(
        Case{"busybox", "docker.io", "library/busybox", "latest", "busybox:latest"},
        Case{"busybox:1.36", "docker.io", "library/busybox", "1.36", "busybox:1.36"},
        Case{"docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest",
             "busybox:latest"},
        Case{"index.docker.io/library/busybox", "docker.io", "library/busybox", "latest",
             "busybox:latest"},
        Case{"team/agent", "docker.io", "team/agent", "latest", "team/agent:latest"},
        Case{"docker://ghcr.io/o/i:tag", "ghcr.io", "o/i", "tag", "ghcr.io/o/i:tag"},
        Case{"localhost/x", "localhost", "x", "latest", "localhost/x:latest"},
        Case{"localhost:5000/a/b/c:v1.0-rc_1", "localhost:5000", "a/b/c", "v1.0-rc_1",
             "localhost:5000/a/b/c:v1.0-rc_1"},
        Case{"127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest",
             "127.0.0.1:5000/busybox:latest"},
        Case{"[::1]:5000/img", "[::1]:5000", "img", "latest", "[::1]:5000/img:latest"},
        Case{"a.b-c/x__y.z--w", "a.b-c", "x__y.z--w", "latest", "a.b-c/x__y.z--w:latest"}));

TEST(Reference, DigestWithoutTagGetsNoLatest) {
    const std::string digest = "sha256:" + std::string(64, 'a');
    auto ref = Reference::parse("127.0.0.1:5000/path/img@" + digest);
    ASSERT_TRUE(ref) << ref.error().to_string();
    EXPECT_EQ(ref->tag, std::nullopt);
    ASSERT_TRUE(ref->digest);
    EXPECT_EQ(ref->digest->str(), digest);
    EXPECT_EQ(ref->tag_or_digest(), digest);
    EXPECT_EQ(ref->to_string(), "127.0.0.1:5000/path/img@" + digest);
}

TEST(Reference, TagAndDigestKeepsBoth) {
    const std::string digest = "sha256:" + std::string(64, 'b');
    auto ref = Reference::parse("busybox:1.36@" + digest);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->tag, "1.36");
    EXPECT_EQ(ref->tag_or_digest(), digest);
    EXPECT_EQ(ref->to_string(), "docker.io/library/busybox:1.36@" + digest);
}

TEST(Reference, RejectsMalformed) {
    for (const char* bad : {"", ":tag", "Busybox", "upper/X", "a//b", "-a/b", "a/b-",
                            "a/b:", "a/b:-tag", "a/b:t@g", "busybox@sha256:short", "host:port/x",
                            "a/b@md5:d41d8cd98f00b204e9800998ecf8427e", "/abs", "a/b/"}) {
        auto ref = Reference::parse(bad);
        EXPECT_FALSE(ref) << "'" << bad << "' parsed as " << (ref ? ref->to_string() : "");
        if (!ref) {
            EXPECT_EQ(ref.error().code(), Code::kInvalidArgument) << bad;
            EXPECT_NE(ref.error().message().find("invalid reference"), std::string::npos);
        }
    }
}

TEST(Reference, UppercaseRepositoryExplainsWhy) {
    auto ref = Reference::parse("ghcr.io/Owner/img");
    ASSERT_FALSE(ref);
    EXPECT_EQ(ref.error().message(),
              "invalid reference 'ghcr.io/Owner/img': repository name must be lowercase");
}

TEST(Reference, TagLengthLimit) {
    EXPECT_TRUE(Reference::parse("x:" + std::string(128, 't')));
    EXPECT_FALSE(Reference::parse("x:" + std::string(129, 't')));
}

TEST(Reference, NameLengthLimit) {
    EXPECT_FALSE(Reference::parse("example.com/" + std::string(250, 'a')));
}

}  // namespace
}  // namespace grove::oci
