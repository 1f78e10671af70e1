#pragma once

// crun 1.8 refuses a cgroup v1 "hybrid" host whose cgroup2 mount (/sys/fs/cgroup/unified) offers
// any controller: "cgroups in hybrid mode not supported, drop all controllers from cgroupv2".
// Hosts like ours list hugetlb there (no v1 hierarchy claims it), and crun makes that check on
// every run, even with --cgroup-manager=disabled. It is the only thing crun objects to: with the
// cgroup2 mount covered by an empty tmpfs, crun sees a plain v1 host and creates v1 groups, as
// grove's own runtime does either way.
//
// The cover must not reach the host, so it lives in a private mount namespace. unshare(CLONE_NEWNS)
// is allowed in one thread of a multi-threaded process (it unshares that thread's fs_struct
// too), so a daemon gets the namespace on a short-lived thread of its own, and every process that
// thread spawns inherits the view; nothing else in the process changes.

#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include <grove/result.hpp>

namespace grove::runtime::oci {

// True on a host where crun refuses the cgroup layout: `cgroupfs_root` is a tmpfs, its
// "unified" entry a cgroup2 mount, and that mount's cgroup.controllers is not empty.
bool crun_refuses_host_cgroups(const std::filesystem::path& cgroupfs_root = "/sys/fs/cgroup");

// Moves the calling thread into a new mount namespace where every mount is private and
// <cgroupfs_root>/unified is covered by an empty tmpfs. Affects only this thread and
// the processes it spawns afterwards (a single-threaded program's start: the whole process).
Result<void> hide_cgroup2_in_this_thread(
    const std::filesystem::path& cgroupfs_root = "/sys/fs/cgroup");

// Runs `fn` on a new thread that first called hide_cgroup2_in_this_thread(), and returns what
// `fn` returned. The thread ends before this returns; processes it spawned keep the namespace.
template <typename T>
Result<T> with_cgroup2_hidden(const std::function<Result<T>()>& fn) {
    std::optional<Result<T>> out;
    std::thread worker([&] {
        Result<void> hidden = hide_cgroup2_in_this_thread();
        if (!hidden.has_value()) {
            out.emplace(std::move(hidden).error());
            return;
        }
        out.emplace(fn());
    });
    worker.join();
    return std::move(*out);
}

}  // namespace grove::runtime::oci
