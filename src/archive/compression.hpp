#pragma once

// The compression of an OCI or Docker layer blob, named by its descriptor's media type.

#include <string_view>

#include <grove/result.hpp>

namespace grove::archive {

enum class Compression { kNone, kGzip, kZstd };

// "application/vnd.oci.image.layer.v1.tar" (and the non-distributable variants) is kNone,
// "...tar+gzip" and Docker's "application/vnd.docker.image.rootfs.diff.tar.gzip" are kGzip,
// "...tar+zstd" is kZstd; any other media type is InvalidArgument.
Result<Compression> compression_of(std::string_view media_type);

}  // namespace grove::archive
