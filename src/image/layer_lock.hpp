#pragma once

// LayerLock is an exclusive flock on locks/<hex of the layer key>, held while a process creates
// that layer, so concurrent imports of one layer (threads or processes) unpack it once: the
// second waits, then finds the layer ready.

#include <filesystem>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "base/unique_fd.hpp"

namespace grove::image {

class LayerLock {
public:
    static Result<LayerLock> acquire(const std::filesystem::path& locks_dir,
                                     const base::Digest& key);

private:
    explicit LayerLock(base::UniqueFd fd) : fd_(std::move(fd)) {}

    base::UniqueFd fd_;  // closing it releases the lock
};

}  // namespace grove::image
