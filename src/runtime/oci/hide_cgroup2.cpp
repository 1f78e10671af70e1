#include "runtime/oci/hide_cgroup2.hpp"

#include <fstream>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include "base/error.hpp"

namespace grove::runtime::oci {
namespace {

bool is_fs(const std::filesystem::path& path, long magic) {
    struct statfs info {};
    return ::statfs(path.c_str(), &info) == 0 && static_cast<long>(info.f_type) == magic;
}

}  // namespace

bool crun_refuses_host_cgroups(const std::filesystem::path& cgroupfs_root) {
    // crun's libcrun_get_cgroup_mode() and the check in libcrun_cgroup_enter(), in that order.
    const auto unified = cgroupfs_root / "unified";
    if (!is_fs(cgroupfs_root, TMPFS_MAGIC) || !is_fs(unified, CGROUP2_SUPER_MAGIC)) {
        return false;
    }
    std::ifstream controllers(unified / "cgroup.controllers");
    return controllers && controllers.peek() != std::ifstream::traits_type::eof();
}

Result<void> hide_cgroup2_in_this_thread(const std::filesystem::path& cgroupfs_root) {
    if (::unshare(CLONE_NEWNS) != 0) {
        return base::last_errno_error("unshare a mount namespace to hide cgroup2 from crun");
    }
    // Private first: a namespace copied from the host keeps its shared peer groups, and the
    // tmpfs below would otherwise propagate to the host's /sys/fs/cgroup/unified.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return base::last_errno_error("make mounts private to hide cgroup2 from crun");
    }
    // Writable: crun in v1 mode still maps the "0::" line of /proc/self/cgroup to "unified" and
    // creates the run's directory there; on this throwaway tmpfs that is harmless.
    const auto unified = cgroupfs_root / "unified";
    if (::mount("tmpfs", unified.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") !=
        0) {
        return base::last_errno_error("cover '{}' to hide cgroup2 from crun", unified.string());
    }
    return {};
}

}  // namespace grove::runtime::oci
