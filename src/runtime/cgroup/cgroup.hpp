#pragma once

// The per-run cgroup of a sandbox behind one interface (crun's vtable, youki's trait), with a
// v2 implementation for most servers and a v1 one for hosts like ours (v1 hybrid, which crun
// refuses). Every group lives under a shared parent "grove" group, so a crashed daemon's groups
// can be found on disk and collected (style §6.4: RAII does not survive SIGKILL).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::runtime::cgroup {

// The parent of every run's group, directly under the cgroupfs root (of each v1 hierarchy).
inline constexpr std::string_view kParentGroup = "grove";

struct Limits {
    std::optional<uint64_t> memory_bytes;  // swap is capped to the same total
    std::optional<uint64_t> pids;
    std::optional<double> cpus;  // CPUs' worth of time per period, e.g. 0.5
};

// One block I/O counter of one device, in Docker's blkio_stats shape.
struct BlkioEntry {
    uint64_t major = 0;
    uint64_t minor = 0;
    std::string op;  // v1's own words ("Read", "Write", "Sync", "Async", "Discard", "Total"),
                     // v2's "read" and "write", as dockerd reports each
    uint64_t value = 0;

    friend bool operator==(const BlkioEntry&, const BlkioEntry&) = default;
};

struct Stats {
    uint64_t memory_peak_bytes = 0;
    uint64_t cpu_usage_ns = 0;
    uint64_t pids_current = 0;
    bool oom_killed = false;
    // Bytes and operations per device and op, as the kernel accounts them (blkio.hpp).
    std::vector<BlkioEntry> io_service_bytes;
    std::vector<BlkioEntry> io_serviced;
};

// One run's cgroup. Move-only through unique_ptr. close() reports failure; the destructor of an
// unclosed group does the same cleanup best effort and logs what leaked.
class Cgroup {
public:
    Cgroup() = default;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    virtual ~Cgroup() = default;

    // Moves `pid` (the whole thread group) into the group, in every hierarchy on v1.
    virtual Result<void> add_process(pid_t pid) = 0;
    // v2 only: the group's directory fd for clone3(CLONE_INTO_CGROUP); nullopt on v1.
    virtual std::optional<int> dir_fd() const = 0;
    // The group's cgroup.procs files, open for writing, one per hierarchy: a process joins by
    // writing "0" (itself) to each, which is how a sandbox's init joins a v1 group.
    virtual Result<std::vector<base::UniqueFd>> open_procs() const = 0;
    virtual Result<Stats> stats() const = 0;
    // Changes the limits of a live group (docker update); unset fields stay as they are.
    virtual Result<void> update(const Limits& limits) = 0;
    // Freezes or thaws every process in the group (docker pause/unpause).
    virtual Result<void> freeze(bool frozen) = 0;
    // SIGKILLs every process in the group and waits until it is empty.
    virtual Result<void> kill_all() = 0;
    // kill_all, then removes the group's directories.
    virtual Result<void> close() = 0;
};

class Manager {
public:
    Manager() = default;
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;
    virtual ~Manager() = default;

    // v2 when the root has cgroup.controllers; otherwise v1 (legacy or hybrid), from the
    // controller hierarchies mounted under the root.
    static Result<std::unique_ptr<Manager>> detect(
        std::filesystem::path cgroupfs_root = "/sys/fs/cgroup");

    // Creates <parent>/<name> with `limits`; AlreadyExists if such a group exists.
    virtual Result<std::unique_ptr<Cgroup>> create(std::string_view name, const Limits& limits) = 0;
    // The existing group <parent>/<name>, e.g. one a killed process left behind (closing it
    // collects it); NotFound if there is none.
    virtual Result<std::unique_ptr<Cgroup>> open(std::string_view name) = 0;
    virtual std::string_view version() const = 0;  // "v1" or "v2"
};

// A group name is one path component: not empty, no '/', not "." or "..", no NUL.
Result<void> validate_name(std::string_view name);

}  // namespace grove::runtime::cgroup
