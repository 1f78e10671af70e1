#pragma once

// Runs a function in a forked child that has installed a seccomp program. The filter never touches
// the test process: once installed it cannot be removed, and it would outlive the test.
// The gtest process is single-threaded, so fork() is safe; the child only makes raw syscalls.

#include <cerrno>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp/filter.hpp"

namespace grove::runtime::seccomp::testing {

// Exit codes above any errno the bodies report.
inline constexpr int kSetupFailed = 250;

// The sanitizers intercept _exit() to run their leak check, which needs syscalls a test filter may
// deny (LSan clones and ptraces); exit_group itself is what the filter must allow.
[[noreturn]] inline void exit_now(int code) {
    syscall(SYS_exit_group, code);
    __builtin_unreachable();
}

// Returns the child's exit code (the body's errno, 0 for success), or 256 + signal number.
template <typename Body>
int run_filtered(const Program* program, Body body) {
    const pid_t pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            exit_now(kSetupFailed);
        }
        if (program != nullptr && install(*program) != 0) {
            exit_now(kSetupFailed);
        }
        exit_now(body());
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        return 256 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

// errno of a raw syscall's failure, 0 on success: the bodies' return convention.
inline int result_errno(long rc) {
    return rc < 0 ? errno : 0;
}

}  // namespace grove::runtime::seccomp::testing
