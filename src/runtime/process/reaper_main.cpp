// grove's container init after setup: the program the container's pid 1 execs once it has
// forked the command. Until then pid 1 is a copy of the (large) process that cloned it, and the
// OOM killer picks by resident size: a run over its memory limit lost its init, and with it the
// whole run, instead of the process that used the memory. After execve pid 1 is this small
// static program: it only reaps and forwards signals.
//
// Contract with container_init.cpp: every signal is blocked and stays so across execve (pending
// ones, such as an early SIGCHLD, too); the command is pid 2, the first child in the new PID
// namespace; fd 3 is the status pipe, where the command's wait status is written before exiting
// with its exit code (the kernel then kills what is left in the namespace).

#include <csignal>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr pid_t kCommand = 2;
constexpr int kStatusFd = 3;

int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main() {
    prctl(PR_SET_NAME, "grove-init");  // not "memfd:grove-init", truncated, in ps and /proc
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info{};
        const int sig = sigwaitinfo(&all, &info);
        if (sig < 0) {
            continue;  // EINTR
        }
        if (sig != SIGCHLD) {
            kill(kCommand, sig);  // pid 1 ignores what it has no handler for: pass it on
            continue;
        }
        int status = 0;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == kCommand) {
                [[maybe_unused]] const ssize_t n = write(kStatusFd, &status, sizeof(status));
                _exit(exit_code_of(status));
            }
        }
    }
}
