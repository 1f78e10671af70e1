#include "runtime/rootfs/mount_plan.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

const std::vector<DeviceNode> kDeviceNodes = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

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
    plan.rootfs_fd = options.rootfs_fd;
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
        MountOp op = simple_op(OpKind::kDevice, "dev/" + node.name);
        op.device = makedev(node.major, node.minor);
        ops.push_back(std::move(op));
    }
    ops.push_back(simple_op(OpKind::kSymlink, "dev/ptmx", "pts/ptmx"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/fd", "/proc/self/fd"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/stdin", "/proc/self/fd/0"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/stdout", "/proc/self/fd/1"));
    ops.push_back(simple_op(OpKind::kSymlink, "dev/stderr", "/proc/self/fd/2"));
    ops.push_back(mount_op("sys", "sysfs", kNoSuidDevExec | MS_RDONLY, ""));
    // /sys/fs/cgroup is left to the cgroup module: a read-only view needs CLONE_NEWCGROUP and
    // differs between v1 hybrid and v2 hosts, and the sysfs mount above already hides the host's.
    for (const auto& file : options.generated_files) {
        MountOp op = simple_op(OpKind::kWriteFile, file.target);
        op.data = file.content;
        ops.push_back(std::move(op));
    }
    for (const auto& mount : options.mounts) {
        const unsigned long read_only = mount.read_only ? MS_RDONLY : 0;
        if (mount.source.empty()) {
            ops.push_back(mount_op(mount.target, "tmpfs", mount.flags | read_only, mount.data));
        } else {
            MountOp op = simple_op(OpKind::kBind, mount.target, mount.source);
            op.flags = MS_REC | read_only;
            ops.push_back(std::move(op));
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

namespace {

// Adds `path` to `out` after its parent directories.
void add_with_parents(std::vector<Mountpoint>& out, const std::string& path, bool directory) {
    std::string parent;
    for (const auto& part : std::filesystem::path(path).parent_path()) {
        parent = parent.empty() ? part.string() : parent + "/" + part.string();
        if (std::ranges::find(out, Mountpoint{parent, true}) == out.end()) {
            out.push_back({parent, true});
        }
    }
    if (std::ranges::find(out, Mountpoint{path, directory}) == out.end()) {
        out.push_back({path, directory});
    }
}

}  // namespace

std::vector<Mountpoint> mountpoints(const RootfsOptions& options) {
    std::vector<Mountpoint> out = {{"proc", true}, {"dev", true}, {"sys", true}};
    for (const auto& file : options.generated_files) {
        add_with_parents(out, file.target, false);
    }
    for (const auto& mount : options.mounts) {
        add_with_parents(out, mount.target, mount.directory);
    }
    return out;
}

Result<std::vector<std::string>> prepare_mountpoints(int root_fd, const RootfsOptions& options) {
    std::vector<std::string> created;
    for (const auto& point : mountpoints(options)) {
        const size_t slash = point.path.rfind('/');
        const std::string parent = slash == std::string::npos ? "" : point.path.substr(0, slash);
        const std::string name = point.path.substr(slash + 1);
        GROVE_ASSIGN_OR_RETURN(const bool made,
                               ensure_entry(root_fd, parent, name, point.directory));
        if (made) {
            created.push_back(point.path);
        }
    }
    return created;
}

namespace {

std::string host_resolv_conf() {
    std::ifstream in("/etc/resolv.conf");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::vector<GeneratedFile> identity_files(const std::string& hostname, bool host_network) {
    return {{"etc/hostname", hostname + "\n"},
            {"etc/hosts",
             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" +
                 hostname + "\n"},
            {"etc/resolv.conf", host_network ? host_resolv_conf() : "# no network\n"}};
}

std::vector<GeneratedFile> bridge_identity_files(const std::string& hostname,
                                                 const std::string& address) {
    // The host's resolver minus loopback nameservers, which mean nothing in the container's
    // namespace; Google's when none is left (both as Docker).
    std::string resolv_conf;
    bool nameserver = false;
    std::istringstream lines(host_resolv_conf());
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string key;
        std::string value;
        words >> key >> value;
        if (key == "nameserver") {
            if (value.starts_with("127.") || value == "::1") {
                continue;
            }
            nameserver = true;
        }
        resolv_conf += line + "\n";
    }
    if (!nameserver) {
        resolv_conf += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    }
    return {{"etc/hostname", hostname + "\n"},
            {"etc/hosts",
             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
             "ff02::2\tip6-allrouters\n" +
                 address + "\t" + hostname + "\n"},
            {"etc/resolv.conf", std::move(resolv_conf)}};
}

}  // namespace grove::runtime::rootfs
