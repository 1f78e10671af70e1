// grove's container init after setup: the program the container's pid 1 execs once it has
// forked the command (and, with --exec-helper, the parent of an exec'd process: below). Until then
// pid 1 is a copy of the (large) process that cloned it, and the OOM killer picks by resident size:
// a run over its memory limit lost its init, and with it the whole run, instead of the process that
// used the memory. After execve pid 1 is this small static program: it only reaps and forwards
// signals.
//
// Contract with container_init.cpp: every signal is blocked and stays so across execve (pending
// ones, such as an early SIGCHLD, too); the command is pid 2, the first child in the new PID
// namespace; fd 3 is the status pipe, where the command's wait status is written before exiting
// with its exit code (the kernel then kills what is left in the namespace). Every other signal is
// passed on to the command, as Docker's --init does.

#include <csignal>
#include <cstring>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr pid_t kCommand = 2;
constexpr int kStatusFd = 3;

int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// With --exec-helper: the parent of a process started in a running sandbox (sandbox_exec.cpp),
// its only child. It writes the child's wait status on fd 3 once it ends; signals are dropped
// (the caller signals the process itself).
[[noreturn]] void reap_the_child() {
    prctl(PR_SET_NAME, "grove-exec");
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info{};
        if (sigwaitinfo(&all, &info) != SIGCHLD) {
            continue;
        }
        int status = 0;
        if (waitpid(-1, &status, WNOHANG) > 0) {
            [[maybe_unused]] const ssize_t n = write(kStatusFd, &status, sizeof(status));
            _exit(exit_code_of(status));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "--exec-helper") == 0) {
        reap_the_child();
    }
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
            kill(kCommand, sig);  // the kernel would drop it for this handler-less pid 1
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
