#pragma once

// Packs a root filesystem directory into an uncompressed PAX tar, the layer of a `rootfs:<dir>`
// image. The tar is deterministic: the same tree (names, contents, owners, modes, mtimes, xattrs)
// always gives the same bytes, hence the same diff_id and manifest digest, so importing an
// unchanged tree again is a no-op. To that end entries are written depth first in bytewise name
// order, with numeric owners only (no user names, which depend on the host's passwd), no atime
// or ctime, and hardlinks pointing at the first name in that order.
//
// The tree is walked relative to fds and never follows a symlink (openat with O_NOFOLLOW), so a
// symlink in it cannot make grove pack a file from outside. What is kept: directories, regular
// files, symlinks, fifos, hardlinks, owners, modes (setuid/setgid/sticky), mtimes, and the xattrs
// a layer may carry (archive::xattr_allowed, so the tar never holds what unpacking would
// refuse). What is not: device nodes and sockets (a container gets /dev from the runtime), the
// root directory's own metadata (the image root is the layer directory), and the contents of
// other filesystems mounted inside the tree (a /proc left mounted after debootstrap), whose mount
// points are written as empty directories, as `tar --one-file-system` does.

#include <grove/result.hpp>

namespace grove::image {

// Writes the tar of the tree under the directory `dir_fd` to `out_fd` (both borrowed). A file
// that shrinks while it is read is Aborted.
Result<void> write_rootfs_tar(int dir_fd, int out_fd);

}  // namespace grove::image
