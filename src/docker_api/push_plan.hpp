#pragma once

// What `docker push` sends for one image: its layer blobs, its config blob and the manifest
// that names them.
// - An image imported from a manifest (or a tag of one: same layers, same config) goes as it
//   was fetched: the stored manifest, config and layer blobs, so its digest is unchanged.
// - A run's or a commit's image over such an import goes as its real layer chain: the
//   import's layers as fetched (same digests: a registry that has the base says "Layer already
//   exists") and one gzip layer per run above it, exported from the run's upper directory with
//   its whiteouts (inspect::write_layer_tar), with a config whose diff_ids and history name
//   them. Layers compress the same way every time, so a re-push finds them there.
// - Any other image (no imported root, or one whose blobs are gone) is flattened as `docker
//   save` does (flat_image.hpp) into one gzip layer.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "image/image_store.hpp"
#include "oci/descriptor.hpp"

namespace grove::docker_api {

struct Blob {
    oci::Descriptor descriptor;
    base::UniqueFd fd;  // the blob's bytes, from offset 0
};

struct PushPlan {
    std::vector<Blob> layers;    // bottom first
    std::optional<Blob> config;  // always set once planned
    std::string manifest;
    std::string media_type;
};

// Writes the blobs it makes (run layers, a flattened layer, a rewritten config) under `scratch`.
Result<PushPlan> push_plan(image::ImageStore& images,
                           const store::ImageRecord& image,
                           const std::filesystem::path& scratch);

}  // namespace grove::docker_api
