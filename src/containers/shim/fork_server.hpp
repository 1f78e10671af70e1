#pragma once

// Starts grove-shims (shim.hpp) by fork instead of exec. groved forks this server before its
// first thread, while it is still small and single-threaded, and the shims are forks of it that
// run shim_main, where executing the grove-shim binary cost ~3.5 ms of every container start:
// the spawn from a large multi-threaded process, the dynamic linker (~1 ms for libstdc++, fmt,
// spdlog, seccomp) and the shim's start-up work, such as writing the reaper's memfd (the server
// makes it once: the shims inherit it). The server keeps one shim forked ahead, idle with a
// fresh network namespace (the costliest part of the container's clone), and hands each launch
// to it: the fork (~0.5 ms) is off the start's path too.
//
// A launched shim is what the grove-shim binary would be: stdin /dev/null, stdout `report`,
// stderr `log`, its argument the container directory, named "grove-shim". The server dies with
// its parent (PR_SET_PDEATHSIG); the shims it started do not: each setsid()s, and is init's once
// the server is gone, as the binary's shims are from the start (their first process exits).
// Without a server (the CLI on a local store, tests in one process) the manager executes the
// binary.

#include <filesystem>
#include <memory>
#include <mutex>
#include <sys/types.h>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::containers {

class ShimForkServer {
public:
    // FailedPrecondition when this process already has another thread: a fork of it could
    // inherit a lock some thread held.
    static Result<std::unique_ptr<ShimForkServer>> start();
    ~ShimForkServer();
    ShimForkServer(const ShimForkServer&) = delete;
    ShimForkServer& operator=(const ShimForkServer&) = delete;

    // The shim's pid. Unavailable when the server is gone; the caller may then execute the
    // binary instead.
    Result<pid_t> launch(const std::filesystem::path& dir, int report_fd, int log_fd);

private:
    ShimForkServer(base::UniqueFd socket, pid_t pid) : socket_(std::move(socket)), pid_(pid) {}

    std::mutex mutex_;  // one request at a time on the socket
    base::UniqueFd socket_;
    pid_t pid_;
};

}  // namespace grove::containers
