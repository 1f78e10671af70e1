#pragma once

// What a container takes from its image's config when the request leaves it open, shared by
// runs (runner.cpp) and long-lived containers (src/containers): the Env and the User.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grove/result.hpp>

#include "image/image_store.hpp"
#include "oci/image_config.hpp"

namespace grove::engine {

// The image's Env with `overrides` on top, by key; PATH is always set.
std::vector<std::string> merged_env(const oci::ImageConfig& config,
                                    const std::vector<std::string>& overrides);

// Docker's USER rules for `spec` ("user[:group]", each a name or a number), answered by the
// image's own /etc/passwd and /etc/group: without a group, the user's primary group, else 0. A
// name the image does not know is NotFound. Empty, "root" or "0" is 0:0 without reading files.
Result<std::pair<uint32_t, uint32_t>> resolve_image_user(image::ImageStore& store,
                                                         const store::ImageRecord& image,
                                                         std::string_view spec);

}  // namespace grove::engine
