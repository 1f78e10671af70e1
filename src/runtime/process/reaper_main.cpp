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
// with its exit code (the kernel then kills what is left in the namespace). With
// --drop-unhandled-signals, a signal the command has not installed a handler for is dropped
// instead of passed on: the kernel's rule for a PID namespace's init, which the command stands
// for under Docker without --init (ProcessSpec::forward_unhandled_signals).

#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr pid_t kCommand = 2;
constexpr int kStatusFd = 3;

int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Whether the command catches `sig`: its SigCgt mask in the container's /proc. Unreadable (no
// /proc mounted) counts as caught, so the signal is passed on as without the option.
bool command_catches(int sig) {
    const int fd = open("/proc/2/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return true;
    }
    char buf[8192];
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return true;
    }
    buf[n] = '\0';
    const char* line = strstr(buf, "\nSigCgt:\t");
    if (line == nullptr) {
        return true;
    }
    uint64_t mask = 0;
    for (const char* p = line + 9; *p != '\n' && *p != '\0'; ++p) {
        const char c = *p;
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) {
            return true;
        }
        mask = mask << 4 | static_cast<uint64_t>(digit);
    }
    return (mask >> (sig - 1) & 1) != 0;
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
    const bool drop_unhandled = argc > 1 && strcmp(argv[1], "--drop-unhandled-signals") == 0;
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info{};
        const int sig = sigwaitinfo(&all, &info);
        if (sig < 0) {
            continue;  // EINTR
        }
        if (sig != SIGCHLD) {
            // The kernel would drop it for this handler-less pid 1: the command is to get it,
            // unless the command is taken for the init itself.
            if (!drop_unhandled || command_catches(sig)) {
                kill(kCommand, sig);
            }
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
