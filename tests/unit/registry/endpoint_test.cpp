#include "registry/endpoint.hpp"

#include <gtest/gtest.h>

#include "oci/reference.hpp"

namespace grove::registry {
namespace {

constexpr std::string_view kDigest =
    "sha256:16e1ebe037584d2c4f2073fba90ef8bbc4d9d8632ee833b7d7366e161a3229bd";

TEST(Endpoint, ManifestUrlsUseTheTagOrTheDigest) {
    const Endpoint hub{.base_url = "https://registry-1.docker.io", .host_key = "docker.io"};
    auto ref = oci::Reference::parse("busybox");
    ASSERT_TRUE(ref);
    EXPECT_EQ(manifest_url(hub, ref->repository, ref->tag_or_digest()),
              "https://registry-1.docker.io/v2/library/busybox/manifests/latest");

    auto pinned = oci::Reference::parse("127.0.0.1:5000/team/app:1.0@" + std::string(kDigest));
    ASSERT_TRUE(pinned);
    const Endpoint local{.base_url = "http://127.0.0.1:5000", .host_key = "127.0.0.1:5000"};
    EXPECT_EQ(manifest_url(local, pinned->repository, pinned->tag_or_digest()),
              "http://127.0.0.1:5000/v2/team/app/manifests/" + std::string(kDigest));
}

TEST(Endpoint, BlobUrlsKeepAMirrorPath) {
    const Endpoint mirror{
        .base_url = "https://mirror.example/cache", .host_key = "mirror.example", .mirror = true};
    auto digest = base::Digest::parse(kDigest);
    ASSERT_TRUE(digest);
    EXPECT_EQ(blob_url(mirror, "library/busybox", *digest),
              "https://mirror.example/cache/v2/library/busybox/blobs/" + std::string(kDigest));
}

TEST(Endpoint, PercentEncodesAllButUnreserved) {
    EXPECT_EQ(percent_encode("repository:library/busybox:pull,push"),
              "repository%3Alibrary%2Fbusybox%3Apull%2Cpush");
    EXPECT_EQ(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
    EXPECT_EQ(percent_encode("sp ace&=?\xc3\xa9"), "sp%20ace%26%3D%3F%C3%A9");
}

}  // namespace
}  // namespace grove::registry
