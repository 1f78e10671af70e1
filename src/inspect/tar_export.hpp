#pragma once

// Exports a file or a tree of an image as a tar stream, as `docker export` and `docker cp` do:
// PAX format, names relative to "/" ("etc/passwd", "etc/"), a directory's entry before its
// entries, symlinks verbatim and never followed below the start path, hardlinks within the
// export as tar hardlinks, xattrs as SCHILY.xattr records, owners numeric with the image's names,
// and mtimes kept. Whiteouts never appear (LayerStack hides them), nor do overlayfs' xattrs or
// host security labels (the same rule as layer import, archive::xattr_allowed), nor sockets,
// which tar cannot hold.

#include <string_view>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"
#include "inspect/user_db.hpp"

namespace grove::inspect {

// Writes the tar of `path` (its final symlink followed) to `out_fd`, which is borrowed and
// written sequentially, so it may be a blocking pipe or socket. The image root itself gets no
// entry. `users` may be null (numeric owners only).
Result<void> write_tar(const LayerStack& stack,
                       std::string_view path,
                       int out_fd,
                       const UserDb* users);

}  // namespace grove::inspect
