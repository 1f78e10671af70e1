#include "runtime/rootfs/apply_plan.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/rootfs/in_root.hpp"

namespace grove::runtime::rootfs {
namespace {

// "/proc/self/fd/N" for mounting onto an fd resolved inside the rootfs (crun's approach): the
// path names exactly the inode openat2 found, whatever symlinks the image holds.
struct FdPath {
    explicit FdPath(int fd) noexcept {
        constexpr char kPrefix[] = "/proc/self/fd/";
        std::memcpy(buf, kPrefix, sizeof(kPrefix));
        char digits[16];
        int n = 0;
        unsigned value = static_cast<unsigned>(fd);
        do {
            digits[n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        size_t at = sizeof(kPrefix) - 1;
        while (n > 0) {
            buf[at++] = digits[--n];
        }
        buf[at] = '\0';
    }
    char buf[32];
};

// An fd that closes itself; close() is async-signal-safe.
struct Fd {
    explicit Fd(int owned) noexcept : fd(owned) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    int fd;
};

int neg_errno() noexcept {
    return errno != 0 ? -errno : -EIO;
}

// Opens the parent directory of `target` inside the rootfs and points *name at the last component.
int open_parent(int root_fd, const char* target, const char** name) noexcept {
    char parent[PATH_MAX];
    const size_t len = std::strlen(target);
    if (len >= sizeof(parent)) {
        return -ENAMETOOLONG;
    }
    const char* slash = std::strrchr(target, '/');
    if (slash == nullptr) {
        *name = target;
        return open_in_root(root_fd, ".", O_PATH | O_DIRECTORY);
    }
    const size_t parent_len = static_cast<size_t>(slash - target);
    std::memcpy(parent, target, parent_len);
    parent[parent_len] = '\0';
    *name = slash + 1;
    return open_in_root(root_fd, parent, O_PATH | O_DIRECTORY);
}

int make_read_only(int root_fd, const char* target) noexcept {
    // Reopen: an fd from before a mount names the covered inode, not the new mount on top.
    Fd fd(open_in_root(root_fd, target, O_PATH));
    if (fd.fd < 0) {
        return fd.fd;
    }
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (mount_setattr(fd.fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
        return neg_errno();
    }
    return 0;
}

int apply_op(const Plan& plan, const MountOp& op, int* root_fd) noexcept {
    const char* target = op.target.c_str();
    switch (op.kind) {
        case OpKind::kMakeRootPrivate:
            return mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 ? 0
                                                                                   : neg_errno();
        case OpKind::kBindRootfs: {
            const char* rootfs = plan.rootfs.c_str();
            if (mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
                return neg_errno();
            }
            *root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
            return *root_fd >= 0 ? 0 : neg_errno();
        }
        case OpKind::kMount:
        case OpKind::kBind: {
            Fd fd(open_in_root(*root_fd, target, O_PATH));
            if (fd.fd < 0) {
                return fd.fd;
            }
            const FdPath path(fd.fd);
            const bool bind = op.kind == OpKind::kBind;
            const int rc = bind ? mount(op.source.c_str(), path.buf, nullptr, MS_BIND, nullptr)
                                : mount(op.source.c_str(), path.buf, op.fstype.c_str(), op.flags,
                                        op.data.empty() ? nullptr : op.data.c_str());
            if (rc != 0) {
                return neg_errno();
            }
            return bind && (op.flags & MS_RDONLY) != 0 ? make_read_only(*root_fd, target) : 0;
        }
        case OpKind::kMkdir:
        case OpKind::kCreateFile:
        case OpKind::kSymlink: {
            const char* name = nullptr;
            Fd dir(open_parent(*root_fd, target, &name));
            if (dir.fd < 0) {
                return dir.fd;
            }
            int rc = 0;
            if (op.kind == OpKind::kMkdir) {
                rc = mkdirat(dir.fd, name, op.mode);
            } else if (op.kind == OpKind::kSymlink) {
                rc = symlinkat(op.source.c_str(), dir.fd, name);
            } else {
                Fd file(openat(dir.fd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
                rc = file.fd >= 0 ? 0 : -1;
            }
            return rc == 0 || errno == EEXIST ? 0 : neg_errno();
        }
        case OpKind::kMask: {
            Fd fd(open_in_root(*root_fd, target, O_PATH));
            if (fd.fd < 0) {
                return fd.fd == -ENOENT && op.optional ? 0 : fd.fd;
            }
            struct stat st;
            if (fstat(fd.fd, &st) != 0) {
                return neg_errno();
            }
            const FdPath path(fd.fd);
            const int rc = S_ISDIR(st.st_mode)
                               ? mount("tmpfs", path.buf, "tmpfs",
                                       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr)
                               : mount("/dev/null", path.buf, nullptr, MS_BIND, nullptr);
            return rc == 0 ? 0 : neg_errno();
        }
        case OpKind::kReadOnly: {
            {
                Fd fd(open_in_root(*root_fd, target, O_PATH));
                if (fd.fd < 0) {
                    return fd.fd == -ENOENT && op.optional ? 0 : fd.fd;
                }
                const FdPath path(fd.fd);
                if (mount(path.buf, path.buf, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
                    return neg_errno();
                }
            }
            return make_read_only(*root_fd, target);
        }
        case OpKind::kPivotRoot:
            // pivot_root(".", ".") stacks the old root on top of the new one; detaching "."
            // then drops the old root without needing a directory for it inside the image.
            if (fchdir(*root_fd) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
                umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
                return neg_errno();
            }
            return 0;
    }
    return -EINVAL;
}

}  // namespace

int apply_plan(const Plan& plan, int* failed_step) noexcept {
    int root_fd = -1;
    int rc = 0;
    for (size_t i = 0; i < plan.ops.size(); ++i) {
        errno = 0;
        rc = apply_op(plan, plan.ops[i], &root_fd);
        if (rc != 0) {
            if (failed_step != nullptr) {
                *failed_step = static_cast<int>(i);
            }
            break;
        }
    }
    if (root_fd >= 0) {
        close(root_fd);
    }
    return rc;
}

}  // namespace grove::runtime::rootfs
