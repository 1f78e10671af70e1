#pragma once

// The container's mount plan: a pure list of operations computed in the parent (testable
// without root) and applied by apply_plan() in the child after clone(CLONE_NEWNS). The child may
// only make async-signal-safe calls, so every string the executor needs is built here.
//
// Targets are relative to the rootfs and are resolved in the child with openat2(RESOLVE_IN_ROOT),
// then mounted on through /proc/self/fd/N, so a symlink in an untrusted image can never send a
// mount outside the rootfs. Sources of binds are host paths (trusted, prepared by grove).
//
// The rootfs may come as a detached mount (an fsmount fd) that the child attaches inside its own
// namespace: the host never sees it, nothing is left to unmount, and the attach point can be any
// directory, shared by every run. Generated files (etc/hostname, ...) are written by the child to
// a private tmpfs, so a run creates no files on the host for them.

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

namespace grove::runtime::rootfs {

enum class OpKind {
    kMakeRootPrivate,  // mount --make-rprivate /: nothing the child mounts propagates to the host
    kBindRootfs,       // attach the detached rootfs, or bind the rootfs path onto itself, so
                       // that it is a mount point pivot_root accepts
    kMount,            // mount(source, target, fstype, flags, data)
    kBind,             // bind host `source` onto `target`; recursive with MS_REC in flags,
                       // read-only (recursively) with MS_RDONLY
    kMkdir,            // mkdir `target` (mode); existing is fine
    kDevice,           // a character device `target` (`device`, mode 0666), as runc makes them
                       // outside a user namespace: cheaper than a bind, and no mount to undo
    kSymlink,          // symlink `target` -> `source`
    kMask,             // Docker's masked path: /dev/null over a file, empty ro tmpfs over a dir
    kReadOnly,         // bind `target` onto itself and make it read-only
    kWriteFile,        // bind a file holding `data` (on a private tmpfs) onto `target`
    kPivotRoot,        // pivot_root(".", ".") + umount2(".", MNT_DETACH) + chdir("/")
};

struct MountOp {
    OpKind kind;
    std::string target;  // relative to the rootfs, no leading '/'
    std::string source;
    std::string fstype;
    unsigned long flags = 0;
    std::string data;
    mode_t mode = 0;
    dev_t device = 0;       // kDevice: makedev(major, minor)
    bool optional = false;  // a target missing from the image is skipped, not an error

    friend bool operator==(const MountOp&, const MountOp&) = default;
};

struct Plan {
    std::string rootfs;  // host path of the rootfs, or where the child attaches rootfs_fd
    int rootfs_fd = -1;  // a detached mount to attach at `rootfs`; -1: `rootfs` is mounted already
    std::vector<MountOp> ops;
};

// A file the run sees instead of the image's: etc/hostname, etc/hosts, etc/resolv.conf.
struct GeneratedFile {
    std::string target;  // relative to the rootfs, e.g. "etc/hosts"
    std::string content;

    friend bool operator==(const GeneratedFile&, const GeneratedFile&) = default;
};

// A mount the container asked for (Docker's binds, volumes and tmpfs): on top of grove's own,
// before the masked and read-only paths, so none of them can unmask /proc.
struct UserMount {
    std::string target;  // relative to the rootfs, no leading '/'
    std::string source;  // a host path bound recursively; empty: a tmpfs
    bool read_only = false;
    bool directory = true;    // false: a file is bound, and needs a file to mount on
    unsigned long flags = 0;  // tmpfs: MS_* flags (tmpfs_options.hpp)
    std::string data;         // tmpfs: its options ("size=65536k,mode=1777")

    friend bool operator==(const UserMount&, const UserMount&) = default;
};

struct RootfsOptions {
    std::filesystem::path rootfs;
    // The rootfs as a detached mount (not owned) to attach at `rootfs` in the child; -1 when
    // `rootfs` is mounted already (an OCI runtime needs a path).
    int rootfs_fd = -1;
    std::vector<GeneratedFile> generated_files;
    std::vector<UserMount> mounts;
    std::vector<std::string> masked_paths;    // defaults to kDefaultMaskedPaths when empty
    std::vector<std::string> readonly_paths;  // defaults to kDefaultReadonlyPaths when empty
    std::string dev_size = "65536k";
    std::string shm_size = "64m";
};

// Docker's defaults (moby oci/defaults.go).
extern const std::vector<std::string> kDefaultMaskedPaths;
extern const std::vector<std::string> kDefaultReadonlyPaths;
// The device nodes of the container's /dev, Docker's set, made by init (the container itself
// cannot: no CAP_MKNOD).
struct DeviceNode {
    std::string name;  // under dev/
    unsigned major;
    unsigned minor;
};
extern const std::vector<DeviceNode> kDeviceNodes;

Plan build_plan(const RootfsOptions& options);

// /etc/hostname, /etc/hosts and /etc/resolv.conf for a container named `hostname`: on the
// host's network (`host_network`) the host's resolver configuration, else none.
std::vector<GeneratedFile> identity_files(const std::string& hostname, bool host_network);
// The same on a bridge network, as Docker writes them: `address` in /etc/hosts, the host's
// resolver configuration without its loopback nameservers.
std::vector<GeneratedFile> bridge_identity_files(const std::string& hostname,
                                                 const std::string& address);

// A path the plan mounts on, which must exist in the image.
struct Mountpoint {
    std::string path;  // relative, e.g. "proc", "etc/hosts"
    bool directory = false;

    friend bool operator==(const Mountpoint&, const Mountpoint&) = default;
};

// proc, dev, sys and the targets of the generated files and of the mounts, parents before
// children.
std::vector<Mountpoint> mountpoints(const RootfsOptions& options);

// Creates, in the parent, the mount points that the rootfs (`root_fd`, a directory or mount fd)
// lacks, resolved with RESOLVE_IN_ROOT. They land in the run's upper directory as Docker's do;
// the returned relative paths are the ones created here, so snapshot code can leave exactly
// those out of a result layer.
Result<std::vector<std::string>> prepare_mountpoints(int root_fd, const RootfsOptions& options);

}  // namespace grove::runtime::rootfs
