#pragma once

#include <cstddef>
#include <filesystem>

#include "image/janitor.hpp"

namespace grove::testing {

// The run directories under `runs` that belong to runs (in flight or leaked), not the janitor's
// spares made ahead of time.
inline size_t run_dirs_left(const std::filesystem::path& runs) {
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(runs)) {
        count += entry.path().filename().string().starts_with(image::Janitor::kSparePrefix) ? 0 : 1;
    }
    return count;
}

}  // namespace grove::testing
