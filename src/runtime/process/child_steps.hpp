#pragma once

// What every process grove clones does first, in the child, where only async-signal-safe calls
// are allowed: the container's init (container_init.cpp) and the helper that starts a process
// in a running sandbox (sandbox_exec.cpp).

#include <cstddef>

namespace grove::runtime::process::detail {

// exit_group directly: the sanitizers intercept _exit() to run their leak check, which would
// allocate and clone in a process that may only make async-signal-safe calls.
[[noreturn]] void exit_now(int code) noexcept;

// Closes every fd but `keep` (negative entries are ignored): the child inherits the whole fd
// table of a daemon it must not pin, e.g. the write end of another run's output pipe. Sorts
// `keep` in place, on the stack: no allocation. 0 or -errno.
int close_all_but(int* keep, size_t count) noexcept;

// Every handler back to SIG_DFL: the daemon's handlers must never run in these processes.
void reset_signal_handlers() noexcept;

}  // namespace grove::runtime::process::detail
