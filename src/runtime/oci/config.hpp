#pragma once

// An OCI runtime-spec config.json (version 1.0.2) for crun, runc or runsc, computed from the same
// description grove's own runtime gets, so that a run means the same thing on either backend:
//
//   ProcessSpec      -> process (args, env, cwd, user, capabilities, rlimits), hostname,
//                       the network namespace
//   RootfsOptions    -> root, mounts (proc, dev, devpts, shm, mqueue, ro sysfs, the etc files),
//                       maskedPaths, readonlyPaths
//   cgroup::Limits   -> linux.resources (memory + swap, pids, cpu quota)
//   seccomp::Profile -> linux.seccomp, moby's default profile as OCI JSON
//
// Pure: no file is read or written, so it is unit-tested without root. The JSON stays at this
// edge: RuntimeProcess writes it into the bundle and nothing else reads it.

#include <string>

#include <grove/result.hpp>

#include "base/json.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/process/sandbox_process.hpp"
#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/seccomp/profile.hpp"

namespace grove::runtime::oci {

inline constexpr const char* kOciVersion = "1.0.2";
// The CFS period limits.cpus is a share of, as the native cgroup code uses.
inline constexpr uint64_t kCpuPeriodUs = 100000;

struct ContainerSpec {
    // argv, env, cwd, uid/gid/groups, hostname, capabilities, rlimits, new_network and the stdio
    // fds are used; plan, seccomp (a compiled program) and cgroup_fd belong to the native runtime
    // and are ignored, since the OCI runtime mounts, filters and joins cgroups itself.
    process::ProcessSpec process;
    // rootfs (the host path of the prepared root), the generated files to bind, masked and
    // read-only paths (Docker's defaults when empty) and the /dev and /dev/shm sizes.
    rootfs::RootfsOptions rootfs;
    // Where the generated files are on the host, each at generated_file_path(files_dir, target).
    // RuntimeProcess writes them into its run directory.
    std::filesystem::path files_dir;
    cgroup::Limits limits;
    // Emitted as linux.seccomp; nullptr runs the container without a filter.
    const seccomp::Profile* seccomp = &seccomp::default_profile();
    // linux.cgroupsPath; empty lets the runtime choose. RuntimeProcess fills in "/grove/<id>".
    std::string cgroups_path;
};

// <dir>/etc_hosts for "etc/hosts": one flat directory holds every generated file.
std::filesystem::path generated_file_path(const std::filesystem::path& dir,
                                          const std::string& target);

// The whole config.json. InvalidArgument for what the spec cannot express: an empty argv, a
// relative rootfs or cwd, a capability bit or rlimit resource this build does not know, a
// non-positive cpus value.
Result<base::Json> make_config(const ContainerSpec& spec);

// A seccomp Profile as the OCI runtime-spec's linux.seccomp object, which is moby's
// default.json format: defaultAction/defaultErrnoRet, architectures, syscalls[].
base::Json seccomp_json(const seccomp::Profile& profile);

// "RLIMIT_NOFILE" for RLIMIT_NOFILE, ...; empty for an unknown resource.
std::string rlimit_name(int resource);

}  // namespace grove::runtime::oci
