#include "oci/manifest.hpp"

#include <gtest/gtest.h>

#include "oci/image_config.hpp"
#include "oci/media_types.hpp"

namespace grove::oci {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string manifest_json(const std::string& layer_type = std::string(media_type::kOciLayerGzip)) {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
           kA + R"(","size":7},
        "layers":[{"mediaType":")" +
           layer_type + R"(","digest":")" + kB + R"(","size":1234,
                   "annotations":{"k":"v"}}]})";
}

std::string index_json() {
    return R"({"schemaVersion":2,"manifests":[
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
           kA + R"(","size":10,
         "platform":{"os":"linux","architecture":"amd64"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
           kB + R"(","size":11,
         "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
           kC + R"(","size":12}]})";
}

TEST(Manifest, ParsesOciManifest) {
    auto m = parse_manifest(manifest_json());
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(m->media_type, media_type::kOciManifest);
    EXPECT_EQ(m->config.digest.str(), kA);
    EXPECT_EQ(m->config.size, 7);
    ASSERT_EQ(m->layers.size(), 1u);
    EXPECT_EQ(m->layers[0].digest.str(), kB);
    EXPECT_EQ(m->layers[0].annotations.at("k"), "v");
}

TEST(Manifest, AcceptsEveryLayerMediaType) {
    for (auto type : {media_type::kOciLayer, media_type::kOciLayerGzip, media_type::kOciLayerZstd,
                      media_type::kDockerLayerGzip}) {
        EXPECT_TRUE(parse_manifest(manifest_json(std::string(type)))) << type;
    }
    auto foreign =
        parse_manifest(manifest_json("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"));
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code(), Code::kUnimplemented);
}

TEST(Manifest, RejectsBadDocuments) {
    EXPECT_EQ(parse_manifest("{").error().code(), Code::kInvalidArgument);
    EXPECT_EQ(parse_manifest("[]").error().code(), Code::kInvalidArgument);
    EXPECT_EQ(parse_manifest(R"({"schemaVersion":1})").error().code(), Code::kUnimplemented);
    EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"layers":[]})"));  // no config
    std::string bad_digest = manifest_json();
    bad_digest.replace(bad_digest.find(kB), kB.size(), "sha256:nothex");
    EXPECT_FALSE(parse_manifest(bad_digest));
    std::string negative = manifest_json();
    negative.replace(negative.find("1234"), 4, "-5");
    EXPECT_FALSE(parse_manifest(negative));
    EXPECT_EQ(parse_manifest(std::string(kMaxManifestSize + 1, ' ')).error().code(),
              Code::kOutOfRange);
    EXPECT_FALSE(parse_manifest(index_json())) << "an index is not a manifest";
}

TEST(Manifest, DetectsDocumentKind) {
    EXPECT_EQ(*detect_document("application/vnd.oci.image.index.v1+json", ""),
              DocumentKind::kIndex);
    EXPECT_EQ(*detect_document(std::string(media_type::kDockerManifest) + "; charset=utf-8", ""),
              DocumentKind::kManifest);
    // Generic content types fall back to the document.
    EXPECT_EQ(*detect_document("application/json", manifest_json()), DocumentKind::kManifest);
    EXPECT_EQ(*detect_document("", index_json()), DocumentKind::kIndex);
    EXPECT_FALSE(detect_document("", R"({"schemaVersion":2})"));
}

TEST(Index, SelectsByPlatform) {
    auto index = parse_index(index_json());
    ASSERT_TRUE(index) << index.error().to_string();
    ASSERT_EQ(index->manifests.size(), 3u);
    EXPECT_EQ(index->select(*Platform::parse("linux/amd64"))->digest.str(), kA);
    EXPECT_EQ(index->select(*Platform::parse("linux/arm64"))->digest.str(), kB);
    auto missing = index->select(*Platform::parse("linux/s390x"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
    EXPECT_EQ(missing.error().message(),
              "no manifest for platform 'linux/s390x' (the index offers: linux/amd64, "
              "linux/arm64/v8)");
}

TEST(ImageConfig, ParsesRuntimeFields) {
    const std::string json =
        R"({"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
        "config":{"User":"1000:1000","Env":["PATH=/bin","A=b"],"Entrypoint":["/init"],
                  "Cmd":["sh"],"WorkingDir":"/w","Labels":{"l":"v"},
                  "ExposedPorts":{"80/tcp":{},"53/udp":{}},"StopSignal":"SIGINT"},
        "rootfs":{"type":"layers","diff_ids":[")" +
        kA + R"(",")" + kB + R"("]}})";
    auto config = parse_image_config(json);
    ASSERT_TRUE(config) << config.error().to_string();
    EXPECT_EQ(config->platform.to_string(), "linux/amd64");
    EXPECT_EQ(config->user, "1000:1000");
    EXPECT_EQ(config->env, (std::vector<std::string>{"PATH=/bin", "A=b"}));
    EXPECT_EQ(config->entrypoint, std::vector<std::string>{"/init"});
    EXPECT_EQ(config->cmd, std::vector<std::string>{"sh"});
    EXPECT_EQ(config->working_dir, "/w");
    EXPECT_EQ(config->labels.at("l"), "v");
    EXPECT_EQ(config->exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
    EXPECT_EQ(config->stop_signal, "SIGINT");
    EXPECT_EQ(config->created, "2024-01-01T00:00:00Z");
    ASSERT_EQ(config->diff_ids.size(), 2u);
    EXPECT_EQ(config->diff_ids[1].str(), kB);
}

TEST(ImageConfig, MinimalAndBadConfigs) {
    EXPECT_TRUE(parse_image_config(R"({"rootfs":{"type":"layers","diff_ids":[]}})"));
    EXPECT_FALSE(parse_image_config(R"({})"));
    EXPECT_FALSE(parse_image_config(R"({"rootfs":{"diff_ids":["nope"]}})"));
    EXPECT_FALSE(parse_image_config(R"({"config":{"Env":"not a list"},"rootfs":{"diff_ids":[]}})"));
}

TEST(ChainId, FollowsTheOciDefinition) {
    const std::vector<base::Digest> diff_ids = {*base::Digest::parse(kA), *base::Digest::parse(kB),
                                                *base::Digest::parse(kC)};
    const auto chain = chain_ids(diff_ids);
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0].str(), kA);
    // Computed independently: sha256("<chain0> <diff1>"), then sha256("<chain1> <diff2>").
    EXPECT_EQ(chain[1].str(),
              "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
    EXPECT_EQ(chain[2].str(),
              "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
    EXPECT_TRUE(chain_ids({}).empty());
}

}  // namespace
}  // namespace grove::oci
