#include "oci/platform.hpp"

#include <gtest/gtest.h>

namespace grove::oci {
namespace {

TEST(Platform, ParsesAndNormalises) {
    EXPECT_EQ(Platform::parse("linux/amd64")->to_string(), "linux/amd64");
    EXPECT_EQ(Platform::parse("linux/x86_64")->to_string(), "linux/amd64");
    EXPECT_EQ(Platform::parse("linux/arm64")->to_string(), "linux/arm64/v8");
    EXPECT_EQ(Platform::parse("linux/aarch64")->to_string(), "linux/arm64/v8");
    EXPECT_EQ(Platform::parse("arm64")->to_string(), "linux/arm64/v8");
    EXPECT_EQ(Platform::parse("linux/arm/v6")->to_string(), "linux/arm/v6");
    EXPECT_EQ(Platform::parse("linux/arm")->to_string(), "linux/arm/v7");
    EXPECT_EQ(Platform::parse("Linux/AMD64")->to_string(), "linux/amd64");
}

TEST(Platform, RejectsMalformed) {
    for (const char* bad : {"", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", "linux//v8"}) {
        auto p = Platform::parse(bad);
        EXPECT_FALSE(p) << bad;
    }
}

TEST(Platform, HostIsNormalised) {
    const Platform host = Platform::host();
    EXPECT_EQ(host.os, "linux");
    EXPECT_EQ(host, host.normalized());
    EXPECT_FALSE(host.architecture.empty());
}

TEST(Platform, Matching) {
    const auto arm64 = *Platform::parse("linux/arm64");
    EXPECT_TRUE(arm64.matches({"linux", "arm64", ""}));
    EXPECT_TRUE(arm64.matches({"linux", "aarch64", "v8"}));
    EXPECT_FALSE(arm64.matches({"linux", "amd64", ""}));
    EXPECT_FALSE(arm64.matches({"windows", "arm64", ""}));
    const auto arm = *Platform::parse("linux/arm/v6");
    EXPECT_FALSE(arm.matches({"linux", "arm", "v7"}));
    EXPECT_TRUE((Platform{"linux", "arm", ""}).matches({"linux", "arm", "v7"}));
}

}  // namespace
}  // namespace grove::oci
