#pragma once

// Where an image store keeps things under its root (default /var/lib/grove):
//   content/        blobs by digest (store/content)
//   layers/<id>/    unpacked layers in overlayfs' on-disk form, named by their short metadata id
//                   (short names keep overlay's lowerdir option small); merged layers too
//   layers/new-<id>/  a merged layer being built, renamed to layers/<id> once complete
//   runs/<run-id>/  a run's upper and work directories, until its commit renames the upper into
//                   layers/ (same filesystem, so the rename is O(1)) or the run is discarded
//   stubs/<digest>/ mount point layers stacked over images that lack a runtime mount point
//                   (mountpoint_layer.hpp); stubs/tmp-<uuid>/ while one is built
//   locks/          one lock file per layer key being unpacked, shared by every process
//   metadata.db     SQLite: images, tags, layers, blob references (store/metadata)

#include <cstdint>
#include <filesystem>
#include <string>

namespace grove::image {

struct StorePaths {
    std::filesystem::path root;

    std::filesystem::path content() const { return root / "content"; }
    std::filesystem::path layers() const { return root / "layers"; }
    std::filesystem::path layer(int64_t id) const { return layers() / std::to_string(id); }
    std::filesystem::path new_layer(int64_t id) const {
        return layers() / ("new-" + std::to_string(id));
    }
    std::filesystem::path runs() const { return root / "runs"; }
    std::filesystem::path stubs() const { return root / "stubs"; }
    std::filesystem::path locks() const { return root / "locks"; }
    std::filesystem::path database() const { return root / "metadata.db"; }
};

}  // namespace grove::image
