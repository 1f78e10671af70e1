#pragma once

// The container's mount plan: a pure list of operations computed in the parent (testable
// without root) and applied by apply_plan() in the child after clone(CLONE_NEWNS). The child may
// only make async-signal-safe calls, so every string the executor needs is built here.
//
// Targets are relative to the rootfs and are resolved in the child with openat2(RESOLVE_IN_ROOT),
// then mounted on through /proc/self/fd/N, so a symlink in an untrusted image can never send a
// mount outside the rootfs. Sources of binds are host paths (trusted, prepared by grove).

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

namespace grove::runtime::rootfs {

enum class OpKind {
    kMakeRootPrivate,  // mount --make-rprivate /: nothing the child mounts propagates to the host
    kBindRootfs,       // bind the rootfs onto itself so it is a mount point pivot_root accepts
    kMount,            // mount(source, target, fstype, flags, data)
    kBind,             // bind host `source` onto `target`; read-only when flags has MS_RDONLY
    kMkdir,            // mkdir `target` (mode); existing is fine
    kCreateFile,       // create an empty file `target` to bind a file onto
    kSymlink,          // symlink `target` -> `source`
    kMask,             // Docker's masked path: /dev/null over a file, empty ro tmpfs over a dir
    kReadOnly,         // bind `target` onto itself and make it read-only
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
    bool optional = false;  // a target missing from the image is skipped, not an error

    friend bool operator==(const MountOp&, const MountOp&) = default;
};

struct Plan {
    std::string rootfs;  // host path of the rootfs (the attached overlay)
    std::vector<MountOp> ops;
};

struct RootfsOptions {
    std::filesystem::path rootfs;
    // Files the parent wrote for the run; an empty path leaves the image's file alone.
    std::filesystem::path hostname_file;
    std::filesystem::path hosts_file;
    std::filesystem::path resolv_conf_file;
    std::vector<std::string> masked_paths;    // defaults to kDefaultMaskedPaths when empty
    std::vector<std::string> readonly_paths;  // defaults to kDefaultReadonlyPaths when empty
    std::string dev_size = "65536k";
    std::string shm_size = "64m";
};

// Docker's defaults (moby oci/defaults.go).
extern const std::vector<std::string> kDefaultMaskedPaths;
extern const std::vector<std::string> kDefaultReadonlyPaths;
// Host device nodes bound into the container's /dev (mknod is not allowed there).
extern const std::vector<std::string> kDeviceNodes;

Plan build_plan(const RootfsOptions& options);

// Creates, in the parent, the mount points the plan needs that the image lacks (proc, dev, sys,
// etc/hostname, etc/hosts, etc/resolv.conf), relative to the rootfs fd with RESOLVE_IN_ROOT.
// They land in the run's upper directory as Docker's do; the returned relative paths are the
// ones created here, so snapshot code can leave exactly those out of a result layer.
Result<std::vector<std::string>> prepare_mountpoints(const RootfsOptions& options);

}  // namespace grove::runtime::rootfs
