#pragma once

// `rootfs:<path>`: an image of one layer made from a plain root filesystem, either a directory
// (packed by write_rootfs_tar into a temporary file) or a tarball, plain, gzip or zstd by its
// magic bytes, used as it is. The config names the host's platform, sets the usual PATH and
// carries no `created` time, so the same content always makes the same manifest digest and
// importing it again is a no-op.

#include <filesystem>
#include <memory>

#include <grove/result.hpp>

#include "image_source.hpp"

namespace grove::image {

// `scratch` receives the packed tar of a directory ($TMPDIR when empty); it is removed with the
// source.
Result<std::unique_ptr<ImageSource>> open_rootfs(const std::filesystem::path& path,
                                                 const std::filesystem::path& scratch);

}  // namespace grove::image
