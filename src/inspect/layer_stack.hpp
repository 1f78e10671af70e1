#pragma once

// LayerStack reads an image's filesystem from its unpacked layer directories without mounting
// anything, the way overlayfs would merge them:
// - an upper layer's entry hides the same name below it;
// - a whiteout (a 0/0 character device) hides the name in every lower layer;
// - an opaque directory (xattr trusted.overlay.opaque=y) hides the lower layers' contents of
//   that directory;
// - a directory merges with the directories of the same path below it.
//
// Paths are resolved as openat2(RESOLVE_IN_ROOT) resolves them: symlinks are followed by this
// code, component by component, with absolute targets and ".." confined to the image root, so a
// hostile image can never make a lookup reach the host. The kernel never follows a symlink for
// us: every open inside a layer uses RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::inspect {

// A resolved path: where an entry of the merged filesystem lives.
struct Node {
    std::string path;            // canonical absolute path inside the image: "/", "/etc/passwd"
    struct stat st {};           // of the topmost layer's entry
    std::vector<size_t> layers;  // layers holding it, top first: several only for directories
};

struct DirEntry {
    std::string name;
    struct stat st {};
    size_t layer = 0;  // the layer the entry comes from
};

enum class Follow { kFinal, kNoFinal };

class LayerStack {
public:
    // `layers` are directories in overlayfs' on-disk form, topmost first.
    static Result<LayerStack> open(const std::vector<std::filesystem::path>& layers);

    Result<Node> lookup(std::string_view path, Follow follow = Follow::kFinal) const;
    // The merged entries of a directory, sorted by name.
    Result<std::vector<DirEntry>> list(const Node& dir) const;
    // The entry `name` (one component, as list() returns them) in merged directory `dir`, never
    // followed: NotFound when absent or whited out. A walk descends with it one level at a time
    // instead of looking every directory up from the root.
    Result<Node> child(const Node& dir, const std::string& name) const;
    // Opens a regular file for reading (O_RDONLY). FailedPrecondition for other types.
    Result<base::UniqueFd> open_file(const Node& file) const;
    // Opens the topmost layer's copy of a directory (O_RDONLY | O_DIRECTORY), whose xattrs are
    // the merged directory's. FailedPrecondition for other types.
    Result<base::UniqueFd> open_directory(const Node& dir) const;
    Result<std::string> read_link(const Node& link) const;

private:
    explicit LayerStack(std::vector<base::UniqueFd> roots) : roots_(std::move(roots)) {}

    // openat2 beneath layer `layer`'s root; `rel` is "" for the root itself.
    Result<base::UniqueFd> open_in_layer(size_t layer, const std::string& rel, int flags) const;

    std::vector<base::UniqueFd> roots_;
};

}  // namespace grove::inspect
