#pragma once

// `grove images prune` (the CLI on a local store, groved's /grove/v1/images/prune): removes the
// untagged images no image was built from, repeatedly, so an untagged chain goes from its leaf
// up, then collects the layers and blobs nothing references any more. An image a session's
// history or a container pins stays. Docker's prune (docker_api) is narrower on purpose: it only
// takes root images, as Docker's "dangling" has no idea of grove's tree.

#include <string>
#include <vector>

#include <grove/result.hpp>

#include "image/image_store.hpp"

namespace grove::image {

struct PruneResult {
    std::vector<std::string> removed;  // UUIDs, leaves first
    GcStats collected;
};

Result<PruneResult> prune_untagged(ImageStore& store);

}  // namespace grove::image
