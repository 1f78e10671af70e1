#pragma once

// The parent's side of a process grove cloned: waiting on its pidfd and reading the wait status
// its reaper (the sandbox's init, or an exec helper) hands back before exiting.

#include <chrono>
#include <optional>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <grove/result.hpp>

#include "sandbox_process.hpp"

namespace grove::runtime::process::detail {

struct Reaped {
    siginfo_t info{};
    rusage usage{};  // the process and everything it reaped
};

// Waits up to `timeout` (forever without one) for the child behind `pidfd` to exit and reaps
// it; nullopt when it still runs. `pid` names it in errors.
Result<std::optional<Reaped>> reap(int pidfd,
                                   pid_t pid,
                                   std::optional<std::chrono::milliseconds> timeout);

// The exit the reaper wrote on `status_fd` (a non-blocking pipe), or nullopt when it wrote none
// (it died first).
std::optional<RunExit> read_exit(int status_fd, const rusage& usage);

}  // namespace grove::runtime::process::detail
