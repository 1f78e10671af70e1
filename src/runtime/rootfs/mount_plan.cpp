#include "runtime/rootfs/mount_plan.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/rootfs/in_root.hpp"

namespace grove::runtime::rootfs {

const std::vector<std::string> kDefaultMaskedPaths = {
    "proc/asound",
    "proc/acpi",
    "proc/kcore",
    "proc/keys",
    "proc/latency_stats",
    "proc/timer_list",
    "proc/timer_stats",
    "proc/sched_debug",
    "proc/scsi",
    "sys/firmware",
    "sys/devices/virtual/powercap",
};

const std::vector<std::string> kDefaultReadonlyPaths = {
    "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

const std::vector<std::string> kDeviceNodes = {"null", "zero", "full", "random", "urandom", "tty"};

namespace {

constexpr unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

MountOp mount_op(std::string target, std::string fstype, unsigned long flags, std::string data) {
    MountOp op{OpKind::kMount, std::move(target)};
    op.source = op.fstype = std::move(fstype);
    op.flags = flags;
    op.data = std::move(data);
    return op;
}

MountOp mkdir_op(std::string target, mode_t mode) {
    MountOp op{OpKind::kMkdir, std::move(target)};
    op.mode = mode;
    return op;
}

MountOp simple_op(OpKind kind, std::string target, std::string source = {}) {
    MountOp op{kind, std::move(target)};
    op.source = std::move(source);
    return op;
}

}  // namespace

Plan build_plan(const RootfsOptions& options) {
    Plan plan;
    plan.rootfs = options.rootfs.string();
    auto& ops = plan.ops;
    ops.push_back(simple_op(OpKind::kMakeRootPrivate, ""));
    ops.push_back(simple_op(OpKind::kBindRootfs, ""));
    ops.push_back(mount_op("proc", "proc", kNoSuidDevExec, ""));
    ops.push_back(
        mount_op("dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=" + options.dev_size));
    ops.push_back(mkdir_op("dev/pts", 0755));
    ops.push_back(mount_op("dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                           "newinstance,ptmxmode=0666,mode=0620,gid=5"));
    ops.push_back(mkdir_op("dev/shm", 01777));
    ops.push_back(
        mount_op("dev/shm", "tmpfs", kNoSuidDevExec, "mode=1777,size=" + options.shm_size));
    ops.push_back(mkdir_op("dev/mqueue", 0755));
    ops.push_back(mount_op("dev/mqueue", "mqueue", kNoSuidDevExec, ""));
    for (const auto& node : kDeviceNodes) {
        ops.push_back(simple_op(OpKind::kCreateFile, "dev/" + node));
        ops.push_back(simple_op(OpKind::kBind, "dev/" + node, "/dev/" + node));
    }
    ops.push_back(simple_op(OpKind::kSymlink, "dev/ptmx", "pts/ptmx"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/fd", "/proc/self/fd"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/stdin", "/proc/self/fd/0"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/stdout", "/proc/self/fd/1"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/stderr", "/proc/self/fd/2"));
    ops.push_back(mount_op("sys", "sysfs", kNoSuidDevExec | MS_RDONLY, ""));
    // /sys/fs/cgroup is left to the cgroup module: a read-only view needs CLONE_NEWCGROUP and
    // differs between v1 hybrid and v2 hosts, and the sysfs mount above already hides the host's.
    const std::pair<const std::filesystem::path*, const char*> etc_files[] = {
        {&options.hostname_file, "etc/hostname"},
        {&options.hosts_file, "etc/hosts"},
        {&options.resolv_conf_file, "etc/resolv.conf"}};
    for (const auto& [host, target] : etc_files) {
        if (!host->empty()) {
            ops.push_back(simple_op(OpKind::kBind, target, host->string()));
        }
    }
    const auto& masked = options.masked_paths.empty() ? kDefaultMaskedPaths : options.masked_paths;
    for (const auto& path : masked) {
        MountOp op = simple_op(OpKind::kMask, path);
        op.optional = true;  // /proc/acpi and others exist only on some kernels and machines
        ops.push_back(std::move(op));
    }
    const auto& readonly =
        options.readonly_paths.empty() ? kDefaultReadonlyPaths : options.readonly_paths;
    for (const auto& path : readonly) {
        MountOp op = simple_op(OpKind::kReadOnly, path);
        op.optional = true;
        ops.push_back(std::move(op));
    }
    ops.push_back(simple_op(OpKind::kPivotRoot, ""));
    return plan;
}

namespace {

// mkdir or create `name` under the confined `parent`; true when it was created here.
Result<bool> ensure_entry(int root_fd,
                          const std::string& parent,
                          const std::string& name,
                          bool directory) {
    const std::string rel = parent.empty() ? name : parent + "/" + name;
    int fd = open_in_root(root_fd, parent.empty() ? "." : parent.c_str(), O_PATH | O_DIRECTORY);
    if (fd < 0) {
        return base::errno_error(-fd, "open '{}' in rootfs", parent);
    }
    base::UniqueFd dir(fd);
    if (directory) {
        if (mkdirat(dir.get(), name.c_str(), 0755) == 0) {
            return true;
        }
        if (errno != EEXIST) {
            return base::last_errno_error("mkdir '{}' in rootfs", rel);
        }
        return false;
    }
    // A dangling symlink (resolv.conf -> ../run/...) would make the child's bind fail; it is
    // replaced by a plain file, which is what the bind shows anyway.
    const int existing = open_in_root(root_fd, rel.c_str(), O_PATH);
    if (existing >= 0) {
        ::close(existing);
        return false;
    }
    if (existing != -ENOENT) {
        return base::errno_error(-existing, "open '{}' in rootfs", rel);
    }
    if (unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        return base::last_errno_error("remove dangling '{}' in rootfs", rel);
    }
    base::UniqueFd file(openat(dir.get(), name.c_str(),
                               O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file) {
        return base::last_errno_error("create '{}' in rootfs", rel);
    }
    return true;
}

}  // namespace

Result<std::vector<std::string>> prepare_mountpoints(const RootfsOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto root,
                           base::UniqueFd::open(options.rootfs.string(), O_PATH | O_DIRECTORY));
    std::vector<std::string> created;
    auto ensure = [&](const std::string& parent, const std::string& name,
                      bool directory) -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(bool made, ensure_entry(root.get(), parent, name, directory));
        if (made) {
            created.push_back(parent.empty() ? name : parent + "/" + name);
        }
        return {};
    };
    for (const char* dir : {"proc", "dev", "sys"}) {
        GROVE_TRY(ensure("", dir, true));
    }
    const std::pair<const std::filesystem::path*, const char*> etc_files[] = {
        {&options.hostname_file, "hostname"},
        {&options.hosts_file, "hosts"},
        {&options.resolv_conf_file, "resolv.conf"}};
    for (const auto& [host, name] : etc_files) {
        if (!host->empty()) {
            GROVE_TRY(ensure("", "etc", true));
            GROVE_TRY(ensure("etc", name, false));
        }
    }
    return created;
}

}  // namespace grove::runtime::rootfs
