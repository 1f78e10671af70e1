#pragma once

// Exports a file or a tree of an image as a tar stream, as `docker export` and `docker cp` do:
// PAX format, names relative to "/" ("etc/passwd", "etc/"), a directory's entry before its
// entries, symlinks verbatim and never followed below the start path, hardlinks within the
// export as tar hardlinks, xattrs as SCHILY.xattr records, owners numeric with the image's names,
// and mtimes kept. Whiteouts never appear (LayerStack hides them), nor do overlayfs' xattrs or
// host security labels (the same rule as layer import, archive::xattr_allowed), nor sockets,
// which tar cannot hold.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"
#include "inspect/user_db.hpp"

namespace grove::inspect {

struct TarOptions {
    Follow follow = Follow::kFinal;  // kNoFinal: a final symlink is exported as itself
    // Set: the exported path's entry is named this, and those below it accordingly (Docker's
    // archive of a container path: "passwd" for /etc/passwd, "etc/passwd" for /etc), instead of
    // names relative to "/". Ignored when exporting the root.
    std::optional<std::string> top_name;
};

// Writes the tar of `path` to `out_fd`, which is borrowed and written sequentially, so it may be
// a blocking pipe or socket. The image root itself gets no entry. `users` may be null (numeric
// owners only).
Result<void> write_tar(const LayerStack& stack,
                       std::string_view path,
                       int out_fd,
                       const UserDb* users,
                       const TarOptions& options = {});

// Writes one layer directory in overlayfs' form as an OCI layer tar, as docker's overlay2 driver
// diffs an upper directory: its entries as write_tar() writes them, and in each directory an
// empty ".wh.<name>" for a whiteout (a 0/0 device) and ".wh..wh..opq" when it is opaque. The
// same directory gives the same bytes, so a pushed layer's digest is stable.
Result<void> write_layer_tar(const std::filesystem::path& layer, int out_fd);

}  // namespace grove::inspect
