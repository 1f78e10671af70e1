#include "image/layer_phase.hpp"

namespace grove::image {

std::string_view phase_name(LayerProgress::Phase phase) {
    switch (phase) {
        case LayerProgress::Phase::kCached:
            return "cached";
        case LayerProgress::Phase::kDownloading:
            return "downloading";
        case LayerProgress::Phase::kUnpacking:
            return "unpacking";
        case LayerProgress::Phase::kDone:
            return "done";
    }
    return "";
}

}  // namespace grove::image
