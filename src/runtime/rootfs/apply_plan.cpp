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

// `prefix` followed by the decimal `number`, built without allocating. As "/proc/self/fd/N" it
// mounts onto an fd resolved inside the rootfs (crun's approach): the path names exactly the
// inode openat2 found, whatever symlinks the image holds.
struct NumberedName {
    NumberedName(const char* prefix, size_t number) noexcept {
        size_t at = 0;
        while (*prefix != '\0' && at < 16) {
            buf[at++] = *prefix++;
        }
        char digits[24];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + number % 10);
            number /= 10;
        } while (number != 0);
        while (n > 0) {
            buf[at++] = digits[--n];
        }
        buf[at] = '\0';
    }
    char buf[48];
};

NumberedName fd_path(int fd) noexcept {
    return {"/proc/self/fd/", static_cast<size_t>(fd)};
}

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

// The executor's state between steps.
struct State {
    int root_fd = -1;
    int staging_fd = -1;  // the private tmpfs holding generated files, made on first use
};

int open_staging() noexcept {
    Fd fs_fd(fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (fs_fd.fd < 0) {
        return neg_errno();
    }
    if (fsconfig(fs_fd.fd, FSCONFIG_SET_STRING, "size", "1m", 0) != 0 ||
        fsconfig(fs_fd.fd, FSCONFIG_SET_STRING, "mode", "0755", 0) != 0 ||
        fsconfig(fs_fd.fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
        return neg_errno();
    }
    const int mnt = fsmount(fs_fd.fd, FSMOUNT_CLOEXEC,
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    return mnt >= 0 ? mnt : neg_errno();
}

// Writes op.data to a staging file and moves a bind of it onto the target. The staging tmpfs
// itself stays detached; the binds keep it alive for as long as the container's namespace.
int write_file(State& state, const MountOp& op, size_t step) noexcept {
    if (state.staging_fd < 0 && (state.staging_fd = open_staging()) < 0) {
        return state.staging_fd;
    }
    const NumberedName name("f", step);  // unique within the staging tmpfs
    {
        Fd file(openat(state.staging_fd, name.buf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
        if (file.fd < 0) {
            return neg_errno();
        }
        for (size_t done = 0; done < op.data.size();) {
            const ssize_t n = write(file.fd, op.data.data() + done, op.data.size() - done);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return neg_errno();
            }
            done += static_cast<size_t>(n);
        }
    }
    Fd bind(open_tree(state.staging_fd, name.buf, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (bind.fd < 0) {
        return neg_errno();
    }
    Fd target(open_in_root(state.root_fd, op.target.c_str(), O_PATH));
    if (target.fd < 0) {
        return target.fd;
    }
    if (move_mount(bind.fd, "", target.fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) !=
        0) {
        return neg_errno();
    }
    return 0;
}

int apply_op(const Plan& plan, const MountOp& op, size_t step, State& state) noexcept {
    const char* target = op.target.c_str();
    int* root_fd = &state.root_fd;
    switch (op.kind) {
        case OpKind::kMakeRootPrivate:
            return mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 ? 0
                                                                                   : neg_errno();
        case OpKind::kBindRootfs: {
            const char* rootfs = plan.rootfs.c_str();
            const int rc =
                plan.rootfs_fd >= 0
                    ? move_mount(plan.rootfs_fd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH)
                    : mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr);
            if (rc != 0) {
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
            const NumberedName path = fd_path(fd.fd);
            const bool bind = op.kind == OpKind::kBind;
            const int rc = bind ? mount(op.source.c_str(), path.buf, nullptr,
                                        MS_BIND | (op.flags & MS_REC), nullptr)
                                : mount(op.source.c_str(), path.buf, op.fstype.c_str(), op.flags,
                                        op.data.empty() ? nullptr : op.data.c_str());
            if (rc != 0) {
                return neg_errno();
            }
            return bind && (op.flags & MS_RDONLY) != 0 ? make_read_only(*root_fd, target) : 0;
        }
        case OpKind::kMkdir:
        case OpKind::kDevice:
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
                // chmod after: mknod's mode went through init's umask.
                rc = mknodat(dir.fd, name, S_IFCHR | 0666, op.device);
                if (rc == 0) {
                    return fchmodat(dir.fd, name, 0666, 0) == 0 ? 0 : neg_errno();
                }
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
            const NumberedName path = fd_path(fd.fd);
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
                const NumberedName path = fd_path(fd.fd);
                if (mount(path.buf, path.buf, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
                    return neg_errno();
                }
            }
            return make_read_only(*root_fd, target);
        }
        case OpKind::kWriteFile:
            return write_file(state, op, step);
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
    State state;
    int rc = 0;
    for (size_t i = 0; i < plan.ops.size(); ++i) {
        errno = 0;
        rc = apply_op(plan, plan.ops[i], i, state);
        if (rc != 0) {
            if (failed_step != nullptr) {
                *failed_step = static_cast<int>(i);
            }
            break;
        }
    }
    for (const int fd : {state.root_fd, state.staging_fd}) {
        if (fd >= 0) {
            close(fd);
        }
    }
    return rc;
}

}  // namespace grove::runtime::rootfs
