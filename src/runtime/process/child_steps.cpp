#include "child_steps.hpp"

#include <cerrno>
#include <csignal>
#include <sys/syscall.h>
#include <unistd.h>

namespace grove::runtime::process::detail {

void exit_now(int code) noexcept {
    ::syscall(SYS_exit_group, code);
    __builtin_unreachable();
}

int close_all_but(int* keep, size_t count) noexcept {
    for (size_t i = 1; i < count; ++i) {
        for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
            const int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    }
    unsigned next = 0;
    for (size_t i = 0; i < count; ++i) {
        if (keep[i] < 0 || static_cast<unsigned>(keep[i]) < next) {
            continue;
        }
        if (static_cast<unsigned>(keep[i]) > next &&
            ::syscall(SYS_close_range, next, static_cast<unsigned>(keep[i]) - 1, 0U) != 0) {
            return -errno;
        }
        next = static_cast<unsigned>(keep[i]) + 1;
    }
    return ::syscall(SYS_close_range, next, ~0U, 0U) == 0 ? 0 : -errno;
}

void reset_signal_handlers() noexcept {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc-reserved signals is expected
        }
    }
}

}  // namespace grove::runtime::process::detail
