// The test images round-trip through a real registry: Debian's docker-registry, fed by skopeo.
// These tests guard the fixtures every pull test of grove depends on: digests survive the push
// byte for byte (so grove's pulls can be checked against MANIFEST.json), every layer media type
// is served, platform selection has two platforms to choose from, Docker schema 2 is available,
// and the basic-auth variant really rejects anonymous clients.

#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/digest.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "helpers/registry_fixture.hpp"

namespace grove::testing {
namespace {

using base::Json;

class RegistryTest : public RegistryFixture {
protected:
    // skopeo inspect [--raw] of `repo_tag`: the raw bytes, failing the test on error.
    static std::string inspect(const LocalRegistry& registry,
                               const std::string& repo_tag,
                               std::vector<std::string> flags = {"--raw"}) {
        flags.insert(flags.begin(), "inspect");
        flags.push_back(registry.docker_ref(repo_tag));
        auto out = registry.skopeo(std::move(flags));
        EXPECT_TRUE(out) << out.error().to_string();
        EXPECT_TRUE(out->status.success()) << out->err;
        return out->out;
    }

    static Json parse(const std::string& text) {
        auto json = base::parse_json(text);
        EXPECT_TRUE(json) << json.error().to_string() << "\n" << text;
        return json.value_or(Json::object());
    }
};

TEST_F(RegistryTest, EveryFixtureImageRoundTripsByteForByte) {
    const LocalRegistry registry = start_registry();
    for (const std::string name : {"busybox", "layers", "multiarch"}) {
        SCOPED_TRACE(name);
        // --preserve-digests stops skopeo from gzipping the uncompressed layer on the way.
        ASSERT_TRUE(registry.push(images().oci_ref(name), name + ":latest",
                                  {"--all", "--preserve-digests"}));
        const std::string raw = inspect(registry, name + ":latest");
        EXPECT_EQ(base::Digest::sha256_of(raw).str(),
                  images().image(name).at("manifest_digest").get<std::string>());
    }
}

TEST_F(RegistryTest, LayersImageServesGzipZstdAndUncompressedLayers) {
    const LocalRegistry registry = start_registry();
    ASSERT_TRUE(registry.push(images().oci_ref("layers"), "layers:latest", {"--preserve-digests"}));
    const Json manifest = parse(inspect(registry, "layers:latest"));
    std::set<std::string> media_types;
    for (const auto& layer : manifest.at("layers")) {
        media_types.insert(layer.at("mediaType").get<std::string>());
    }
    EXPECT_EQ(media_types, (std::set<std::string>{"application/vnd.oci.image.layer.v1.tar",
                                                  "application/vnd.oci.image.layer.v1.tar+gzip",
                                                  "application/vnd.oci.image.layer.v1.tar+zstd"}));

    // Pull it back into a fresh OCI layout: every blob the registry serves matches its digest.
    auto dir = base::TempDir::create("grove-pulled-");
    ASSERT_TRUE(dir);
    auto out = registry.skopeo({"copy", "--quiet", "--preserve-digests",
                                registry.docker_ref("layers:latest"),
                                "oci:" + (dir->path() / "layers").string() + ":latest"});
    ASSERT_TRUE(out && out->status.success()) << (out ? out->err : out.error().to_string());
    for (const auto& layer : images().image("layers").at("layers")) {
        const std::string digest = layer.at("digest").get<std::string>();
        const auto blob = dir->path() / "layers" / "blobs" / "sha256" / digest.substr(7);
        EXPECT_TRUE(std::filesystem::exists(blob)) << digest;
        EXPECT_EQ(std::filesystem::file_size(blob), layer.at("size").get<uintmax_t>()) << digest;
    }
}

TEST_F(RegistryTest, MultiPlatformIndexSelectsEachPlatform) {
    const LocalRegistry registry = start_registry();
    ASSERT_TRUE(registry.push(images().oci_ref("multiarch"), "multiarch:latest",
                              {"--all", "--preserve-digests"}));
    const Json index = parse(inspect(registry, "multiarch:latest"));
    EXPECT_EQ(index.at("mediaType"), "application/vnd.oci.image.index.v1+json");
    ASSERT_EQ(index.at("manifests").size(), 2u);

    for (const auto& expected : images().image("multiarch").at("platforms")) {
        const Json& platform = expected.at("platform");
        std::vector<std::string> flags = {"--override-os", platform.at("os"), "--override-arch",
                                          platform.at("architecture")};
        if (platform.contains("variant")) {
            flags.insert(flags.end(), {"--override-variant", platform.at("variant")});
        }
        const Json selected = parse(inspect(registry, "multiarch:latest", flags));
        EXPECT_EQ(selected.at("Architecture"), platform.at("architecture"));
        // skopeo reports the index's digest; the layers tell which manifest it chose.
        std::vector<std::string> layers;
        for (const auto& layer : expected.at("layers")) {
            layers.push_back(layer.at("digest"));
        }
        EXPECT_EQ(selected.at("Layers"), Json(layers));
    }
}

TEST_F(RegistryTest, DockerSchema2ManifestIsServed) {
    const LocalRegistry registry = start_registry();
    ASSERT_TRUE(registry.push(images().oci_ref("busybox"), "busybox:v2s2", {"--format=v2s2"}));
    const Json manifest = parse(inspect(registry, "busybox:v2s2"));
    EXPECT_EQ(manifest.at("schemaVersion"), 2);
    EXPECT_EQ(manifest.at("mediaType"), "application/vnd.docker.distribution.manifest.v2+json");
    EXPECT_EQ(manifest.at("config").at("mediaType"),
              "application/vnd.docker.container.image.v1+json");
    ASSERT_EQ(manifest.at("layers").size(), 1u);
    const Json& layer = manifest.at("layers")[0];
    EXPECT_EQ(layer.at("mediaType"), "application/vnd.docker.image.rootfs.diff.tar.gzip");
    // Converting the manifest format keeps the layer blob itself.
    EXPECT_EQ(layer.at("digest"), images().image("busybox").at("layers")[0].at("digest"));
}

TEST_F(RegistryTest, BasicAuthRegistryRejectsAnonymousAndWrongPassword) {
    const LocalRegistry registry = start_registry(
        {.auth = RegistryOptions::Auth::kBasic, .user = "agent", .password = "s3cret"});
    ASSERT_TRUE(registry.push(images().oci_ref("busybox"), "busybox:latest"));
    EXPECT_EQ(base::Digest::sha256_of(inspect(registry, "busybox:latest")).str(),
              images().image("busybox").at("manifest_digest").get<std::string>());

    auto anonymous = registry.skopeo({"inspect", "--raw", registry.docker_ref("busybox:latest")},
                                     LocalRegistry::Credentials::kOmit);
    ASSERT_TRUE(anonymous);
    EXPECT_FALSE(anonymous->status.success());
    EXPECT_NE(anonymous->err.find("unauthorized"), std::string::npos) << anonymous->err;

    auto wrong = registry.skopeo(
        {"inspect", "--raw", "--creds", "agent:wrong", registry.docker_ref("busybox:latest")},
        LocalRegistry::Credentials::kOmit);
    ASSERT_TRUE(wrong);
    EXPECT_FALSE(wrong->status.success());
    EXPECT_NE(wrong->err.find("unauthorized"), std::string::npos) << wrong->err;
}

TEST_F(RegistryTest, TokenRegistryGrantsByCredentialsAndScope) {
    GROVE_REQUIRE(missing_program("openssl"));
    const LocalRegistry registry = start_registry(
        {.auth = RegistryOptions::Auth::kToken, .user = "agent", .password = "t0ken"});
    // With credentials the token carries push and pull.
    ASSERT_TRUE(registry.push(images().oci_ref("busybox"), "busybox:latest"));
    ASSERT_TRUE(registry.push(images().oci_ref("busybox"), "private/busybox:latest"));
    EXPECT_EQ(base::Digest::sha256_of(inspect(registry, "private/busybox:latest")).str(),
              images().image("busybox").at("manifest_digest").get<std::string>());

    auto anonymous = [&](std::vector<std::string> args) {
        auto out = registry.skopeo(std::move(args), LocalRegistry::Credentials::kOmit);
        EXPECT_TRUE(out) << out.error().to_string();
        return out.value_or(base::CommandOutput{});
    };
    // Anonymous clients get a pull-only token for public repositories...
    const auto pull = anonymous({"inspect", "--raw", registry.docker_ref("busybox:latest")});
    EXPECT_TRUE(pull.status.success()) << pull.err;
    EXPECT_EQ(base::Digest::sha256_of(pull.out).str(),
              images().image("busybox").at("manifest_digest").get<std::string>());
    // ...no access to private ones, and cannot push anywhere.
    const auto private_pull =
        anonymous({"inspect", "--raw", registry.docker_ref("private/busybox:latest")});
    EXPECT_FALSE(private_pull.status.success());
    EXPECT_NE(private_pull.err.find("unauthorized"), std::string::npos) << private_pull.err;
    const auto push = anonymous(
        {"copy", "--quiet", images().oci_ref("busybox"), registry.docker_ref("busybox:anonymous")});
    EXPECT_FALSE(push.status.success());
    // Wrong credentials are refused by the token server itself.
    const auto wrong = anonymous(
        {"inspect", "--raw", "--creds", "agent:wrong", registry.docker_ref("busybox:latest")});
    EXPECT_FALSE(wrong.status.success());
    EXPECT_NE(wrong.err.find("wrong credentials"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace grove::testing
