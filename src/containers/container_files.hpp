#pragma once

// A container's files beyond its own processes: what its upper directory changed over the
// image (docker diff) and a tar extracted into its filesystem (docker cp into it). Reading its
// files needs nothing here: the upper over the image's layers is an inspect::LayerStack.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "archive/apply_layer.hpp"
#include "inspect/layer_stack.hpp"

namespace grove::containers {

// Docker's change kinds, with its numbers.
enum class ChangeKind { kModified = 0, kAdded = 1, kDeleted = 2 };

struct Change {
    std::string path;  // absolute inside the container
    ChangeKind kind = ChangeKind::kModified;
};

// The changes the overlay upper directory `upper` makes over `lowers` (the image's layers),
// sorted by path: a whiteout or an opaque directory is a deletion (an opaque directory's entries
// are all added), an entry the lowers hold too a modification (directories holding a change
// included), anything else an addition. Walks only the upper.
Result<std::vector<Change>> upper_changes(const std::filesystem::path& upper,
                                          const inspect::LayerStack& lowers);

// Extracts the plain tar read from `input_fd` into the directory `path` of the filesystem whose
// root is `root_fd`, `path` resolved as if `root_fd` were "/" (openat2 RESOLVE_IN_ROOT), so no
// symlink can lead outside; the entries themselves are written by archive::LayerWriter's rules
// (no symlink followed, no name escaping). NotFound for a missing `path`, InvalidArgument when
// it is not a directory.
Result<void> extract_tar(int root_fd,
                         std::string_view path,
                         int input_fd,
                         const archive::ApplyOptions& options);

}  // namespace grove::containers
