#include "registry/registry_config.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"

namespace grove::registry {
namespace {

std::vector<Endpoint> endpoints_of(const RegistryConfig& config, std::string_view domain) {
    auto endpoints = config.endpoints(domain);
    EXPECT_TRUE(endpoints) << endpoints.error().to_string();
    return endpoints.value_or(std::vector<Endpoint>{});
}

TEST(RegistryConfig, DefaultsMatchDocker) {
    const RegistryConfig config;
    EXPECT_EQ(config.max_attempts, 4);
    EXPECT_EQ(config.backoff, std::chrono::milliseconds(200));
    EXPECT_TRUE(config.user_agent.starts_with("grove/")) << config.user_agent;

    const auto hub = endpoints_of(config, "docker.io");
    ASSERT_EQ(hub.size(), 1u);
    EXPECT_EQ(hub[0].base_url, "https://registry-1.docker.io");
    EXPECT_EQ(hub[0].host_key, "docker.io");
    EXPECT_FALSE(hub[0].mirror);

    EXPECT_EQ(endpoints_of(config, "ghcr.io")[0].base_url, "https://ghcr.io");
    EXPECT_EQ(endpoints_of(config, "registry.example:8443")[0].base_url,
              "https://registry.example:8443");
}

TEST(RegistryConfig, LoopbackIsInsecureByDefault) {
    const RegistryConfig config;
    for (const std::string_view host :
         {"localhost", "localhost:5000", "127.0.0.1:5000", "127.8.9.10", "[::1]:5000", "[::1]"}) {
        SCOPED_TRACE(host);
        EXPECT_TRUE(config.is_insecure(host));
        EXPECT_TRUE(endpoints_of(config, host)[0].base_url.starts_with("http://"));
    }
    for (const std::string_view host :
         {"128.0.0.1:5000", "localhost.example", "[::2]", "ghcr.io"}) {
        SCOPED_TRACE(host);
        EXPECT_FALSE(config.is_insecure(host));
    }
}

TEST(RegistryConfig, InsecureHostsUsePlainHttp) {
    RegistryConfig config;
    ASSERT_TRUE(config.add_insecure("registry.lan:5000"));
    EXPECT_EQ(endpoints_of(config, "registry.lan:5000")[0].base_url, "http://registry.lan:5000");
    EXPECT_FALSE(config.add_insecure("http://registry.lan"));
    EXPECT_FALSE(config.add_insecure("no/slashes"));
    EXPECT_FALSE(config.add_insecure(""));
}

TEST(RegistryConfig, MirrorsComeFirstInOrder) {
    RegistryConfig config;
    ASSERT_TRUE(config.add_mirror("docker.io=http://127.0.0.1:5000"));
    ASSERT_TRUE(config.add_mirror("docker.io=https://mirror.example/cache/"));
    const auto endpoints = endpoints_of(config, "docker.io");
    ASSERT_EQ(endpoints.size(), 3u);
    EXPECT_EQ(endpoints[0].base_url, "http://127.0.0.1:5000");
    EXPECT_EQ(endpoints[0].host_key, "127.0.0.1:5000");
    EXPECT_TRUE(endpoints[0].mirror);
    EXPECT_EQ(endpoints[1].base_url, "https://mirror.example/cache");
    EXPECT_EQ(endpoints[1].host_key, "mirror.example");
    EXPECT_EQ(endpoints[2].base_url, "https://registry-1.docker.io");
    EXPECT_FALSE(endpoints[2].mirror);
    // Other domains are untouched.
    EXPECT_EQ(endpoints_of(config, "ghcr.io").size(), 1u);
}

TEST(RegistryConfig, MirrorUrlsAreValidated) {
    for (const std::string_view bad :
         {"docker.io", "=http://x", "docker.io=127.0.0.1:5000", "docker.io=ftp://x",
          "docker.io=http://", "docker.io=http://user@x", "docker.io=http://x:0",
          "docker.io=http://x:65536", "docker.io=http://x:port", "docker.io=http://x/a?b=c",
          "docker.io=http://x/#f", "docker.io=http://-x", "docker.io=http://[::1"}) {
        SCOPED_TRACE(bad);
        RegistryConfig config;
        const auto added = config.add_mirror(bad);
        ASSERT_FALSE(added);
        EXPECT_EQ(added.error().code(), Code::kInvalidArgument);
    }
    RegistryConfig config;
    config.hosts["docker.io"].mirrors.push_back("not a url");
    EXPECT_FALSE(config.endpoints("docker.io"));
}

TEST(RegistryConfig, EndpointUrlParts) {
    const auto url = parse_endpoint_url("https://[::1]:5000/a/b/");
    ASSERT_TRUE(url) << url.error().to_string();
    EXPECT_EQ(url->scheme, "https");
    EXPECT_EQ(url->authority, "[::1]:5000");
    EXPECT_EQ(url->path, "/a/b");
}

TEST(RegistryConfig, CredentialsFromAuthFiles) {
    auto dir = base::TempDir::create("grove-registry-config-");
    ASSERT_TRUE(dir);
    const auto path = dir->path() / "auth.json";
    std::ofstream(path) << R"({"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"},
                                         "127.0.0.1:5000": {"username": "a", "password": "b"}}})";
    auto config = RegistryConfig::from_flags({.mirrors = {"docker.io=http://127.0.0.1:5000"},
                                              .insecure = {"registry.lan"},
                                              .auth_files = {path}});
    ASSERT_TRUE(config) << config.error().to_string();
    EXPECT_EQ(config->credentials("docker.io"), (Credentials{"u", "p"}));
    // A mirror's credentials are keyed by its own host.
    EXPECT_EQ(config->credentials("127.0.0.1:5000"), (Credentials{"a", "b"}));
    EXPECT_EQ(config->credentials("ghcr.io"), std::nullopt);
    EXPECT_TRUE(config->is_insecure("registry.lan"));

    const auto missing = RegistryConfig::from_flags({.auth_files = {dir->path() / "nope.json"}});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace grove::registry
