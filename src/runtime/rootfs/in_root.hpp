#pragma once

// Path resolution confined to a rootfs, shared by the parent (prepare_mountpoints) and the
// child's async-signal-safe executor: a raw openat2 syscall, no allocation, no errno reliance.

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace grove::runtime::rootfs {

// openat2(root_fd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks
// in the image resolve as if root_fd were "/", so they cannot leave the rootfs. Returns the fd
// or -errno.
inline int open_in_root(int root_fd, const char* path, int flags, mode_t mode = 0) noexcept {
    struct open_how how = {};
    how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace grove::runtime::rootfs
