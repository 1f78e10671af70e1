#pragma once

// Moving a process into a cgroup (writing cgroup.procs, which v1 hosts must do for every run)
// takes the kernel's global cgroup_threadgroup_rwsem for writing, and that waits for an RCU grace
// period: 5-8 ms per run on our v1 hybrid VM, a third of a whole run. The cgroup2 mount option
// `favordynmods` (Linux >= 6.0) keeps the lock in its writer-friendly mode, so a migration costs
// ~0.15 ms, for slightly costlier fork and exit host-wide (the kernel's documented trade-off).
// The lock is global: the cgroup2 mount of a v1 hybrid host turns it on for the v1 hierarchies
// too. It is a host setting that outlives grove, so callers make it an option (on by default).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::runtime::cgroup {

struct Cgroup2Mount {
    std::filesystem::path mount_point;
    std::string mount_options;  // per mount point, e.g. "rw,nosuid,nodev,noexec,relatime"
    std::string super_options;  // per filesystem, e.g. "rw,nsdelegate,memory_recursiveprot"
};

// The first cgroup2 mount in a /proc/<pid>/mountinfo text.
std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo);

// MS_REMOUNT with the mount point's own flags: a remount sets them to exactly what it is given,
// so leaving nosuid/nodev/noexec out would drop them.
unsigned long remount_flags(std::string_view mount_options);

// The data for remounting with favordynmods: cgroup2 replaces its flags on reconfigure, so the
// mount's own options (nsdelegate, memory_recursiveprot...) are kept; rw/ro are not flags.
std::string favordynmods_remount_data(std::string_view super_options);

// Remounts this namespace's cgroup2 mount with favordynmods unless it has it. Returns the mount
// point, or nullopt when the host has no cgroup2 mount.
Result<std::optional<std::filesystem::path>> favor_dynamic_modifications();

}  // namespace grove::runtime::cgroup
