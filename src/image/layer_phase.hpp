#pragma once

// A layer's import phase as words on the wire: groved's import progress events and the client
// library's ImportProgress::phase ("cached", "downloading", "unpacking", "done").

#include <string_view>

#include "image/importer.hpp"

namespace grove::image {

std::string_view phase_name(LayerProgress::Phase phase);

}  // namespace grove::image
