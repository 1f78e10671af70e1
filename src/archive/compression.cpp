#include "archive/compression.hpp"

#include <array>
#include <utility>

#include "base/error.hpp"

namespace grove::archive {

namespace {

constexpr std::array<std::pair<std::string_view, Compression>, 10> kLayerMediaTypes{{
    {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
    {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
    {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
    // Deprecated by the image spec but still found in older images.
    {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
    // Docker image manifest v2 schema 2.
    {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
    {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::kZstd},
}};

}  // namespace

Result<Compression> compression_of(std::string_view media_type) {
    for (const auto& [name, compression] : kLayerMediaTypes) {
        if (name == media_type) {
            return compression;
        }
    }
    return base::make_error(Code::kInvalidArgument, "unsupported layer media type '{}'",
                            media_type);
}

}  // namespace grove::archive
