#include "reap.hpp"

#include <cerrno>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/error.hpp"

namespace grove::runtime::process::detail {

Result<std::optional<Reaped>> reap(int pidfd,
                                   pid_t pid,
                                   std::optional<std::chrono::milliseconds> timeout) {
    GROVE_ASSIGN_OR_RETURN(const bool exited, base::wait_readable(pidfd, timeout));
    if (!exited) {
        return std::optional<Reaped>{};
    }
    // The raw 5-argument waitid: glibc's wrapper has no rusage, and wait4 cannot take a pidfd.
    Reaped reaped;
    while (::syscall(SYS_waitid, P_PIDFD, pidfd, &reaped.info, WEXITED, &reaped.usage) != 0) {
        if (errno != EINTR) {
            return base::last_errno_error("waitid {}", pid);
        }
    }
    return std::optional(reaped);
}

std::optional<RunExit> read_exit(int status_fd, const rusage& usage) {
    int status = 0;
    if (::read(status_fd, &status, sizeof(status)) != static_cast<ssize_t>(sizeof(status))) {
        return std::nullopt;
    }
    const int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return RunExit{.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + signal,
                   .signal = signal,
                   .usage = usage};
}

}  // namespace grove::runtime::process::detail
