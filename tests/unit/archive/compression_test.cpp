#include "archive/compression.hpp"

#include <gtest/gtest.h>

namespace grove::archive {
namespace {

TEST(Compression, FromOciAndDockerMediaTypes) {
    const std::pair<const char*, Compression> cases[] = {
        {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
        {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
        {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
        {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
        {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
        {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
        {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::kZstd},
    };
    for (const auto& [media_type, expected] : cases) {
        auto compression = compression_of(media_type);
        ASSERT_TRUE(compression) << media_type;
        EXPECT_EQ(*compression, expected) << media_type;
    }
}

TEST(Compression, UnknownMediaTypeIsInvalidArgument) {
    for (const char* media_type : {"application/vnd.oci.image.layer.v1.tar+bzip2",
                                   "application/vnd.oci.image.config.v1+json", "", "tar"}) {
        auto compression = compression_of(media_type);
        ASSERT_FALSE(compression) << media_type;
        EXPECT_EQ(compression.error().code(), Code::kInvalidArgument);
    }
}

}  // namespace
}  // namespace grove::archive
