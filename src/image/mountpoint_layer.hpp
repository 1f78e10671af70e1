#pragma once

// Mount point layers (Docker's "init layer"): the runtime mounts /proc, /dev, /sys and binds
// etc/hostname, etc/hosts and etc/resolv.conf, so those paths must exist in every rootfs. An
// image that lacks some would get them created in each run's upper directory, which costs a
// copy-up of /etc and four creates and unlinks per run and has to be left out of every snapshot.
// Instead a tiny read-only layer holding just the missing entries is stacked on top of the
// image's layers. It is built once per distinct set of entries, under <root>/stubs/<digest>/,
// and shared by every run of every image that needs the same set.
//
// A missing directory that holds a needed entry gets the image's mode, owner and mtime when the
// image has it (only the entry is new: overlay merges the two directories). An entry whose
// parent is a symlink or not a directory in the image is left out: stacking a directory there
// would change what the image shows, so the runtime creates such a mount point in the upper as
// before. A symlink where a file is needed (resolv.conf -> ../run/...) is hidden by an empty
// file, which is what the bind shows anyway.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"

namespace grove::image {

struct MountpointNeed {
    std::string path;  // relative: "proc", "etc/hosts"; parents listed before children
    bool directory = false;
};

// The layer for `image` (its layers as one stack) under `stubs`, built if missing; nullopt when
// the image has every mount point already.
Result<std::optional<std::filesystem::path>> mountpoint_layer(
    const std::filesystem::path& stubs,
    const inspect::LayerStack& image,
    const std::vector<MountpointNeed>& needs);

}  // namespace grove::image
