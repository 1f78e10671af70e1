#pragma once

// An image as one layer: its whole filesystem exported from its layer stack (inspect::write_tar),
// with the image's config rewritten for that layer (its diff_id, one history entry). A run's
// layers are directories with no tar of their own, so `docker save` writes every image this
// way, and `docker push` does for images that have no stored manifest.

#include <filesystem>
#include <string>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "base/unique_fd.hpp"
#include "image/image_store.hpp"

namespace grove::docker_api {

struct FlatImage {
    base::UniqueFd layer;  // the plain tar, at offset 0
    base::Digest diff_id;
    std::string config;   // the image config JSON, as it is to be stored
    std::string created;  // RFC 3339, the config's "created"
};

// Writes the layer to `layer_file` (created or truncated).
Result<FlatImage> flatten_image(image::ImageStore& images,
                                const store::ImageRecord& image,
                                const std::filesystem::path& layer_file);

}  // namespace grove::docker_api
