#pragma once

// LayerTree resolves and changes paths inside a layer directory strictly relative to its fd:
// every lookup is openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so no
// symlink a layer planted can redirect a later write, and no path is ever joined onto a host
// path. Paths given to it are clean entry names (entry_name.hpp).

#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::archive {

class LayerTree {
public:
    // `root_fd` is borrowed: the layer directory, opened O_RDONLY | O_DIRECTORY.
    explicit LayerTree(int root_fd) : root_fd_(root_fd) {}

    int root() const { return root_fd_; }

    // The directory `path` ("" is the root), creating missing components with mode 0755 as
    // containerd does when a tar omits parents. A component that is a symlink or not a
    // directory fails with InvalidArgument. The fd is borrowed from a one-entry cache (tars list
    // siblings together) and stays valid until the next call on this tree.
    Result<int> make_dir(std::string_view path);

    // The existing directory `path`, created nowhere; the same no-symlink rule applies.
    Result<base::UniqueFd> open_dir(std::string_view path) const;

    // Removes `name` from the directory `dirfd` whatever it is, a whole directory tree included;
    // a missing name is success.
    Result<void> remove(int dirfd, const char* name);

private:
    Result<base::UniqueFd> make_dir_walk(std::string_view path);

    int root_fd_;
    // The last directory make_dir returned. Removing a directory tree forgets its path, so the
    // next make_dir reopens rather than trusting an fd that may have left the tree, but keeps the
    // fd open: the caller may still be using it.
    std::string cached_path_;
    base::UniqueFd cached_fd_;
};

}  // namespace grove::archive
