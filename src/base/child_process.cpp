#include "child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.hpp"

extern char** environ;

namespace grove::base {
namespace {

// What the child reports when a step before execve fails.
struct ChildFailure {
    int step;
    int err;
};

enum ChildStep : int { kStepSignals = 1, kStepStdio, kStepCwd, kStepExec };

const char* step_name(int step) {
    switch (step) {
        case kStepSignals:
            return "reset signals";
        case kStepStdio:
            return "set up stdio";
        case kStepCwd:
            return "change directory";
        default:
            return "execve";
    }
}

}  // namespace

Result<std::string> find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return name;
    }
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!dirs.empty()) {
        const size_t colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
        std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return make_error(Code::kNotFound, "program '{}' not found in PATH", name);
}

namespace {

// Runs in the child between clone3 and execve: async-signal-safe syscalls only, no allocation.
[[noreturn]] void child_exec(const SpawnOptions& options,
                             const char* program,
                             char* const* argv,
                             char* const* envp,
                             int failure_fd,
                             pid_t parent) {
    ChildFailure failure{kStepSignals, 0};
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc-reserved signals is expected
        }
    }
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) {
        goto fail;
    }
    if (options.parent_death_signal != 0) {
        if (::prctl(PR_SET_PDEATHSIG, options.parent_death_signal) != 0) {
            goto fail;
        }
        if (::getppid() != parent) {  // the parent died before prctl took effect
            ::_exit(127);
        }
    }

    failure.step = kStepStdio;
    {
        int sources[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
        // Move sources out of 0..2 first, so that one dup2 cannot clobber another's source.
        for (int& fd : sources) {
            if (fd >= 0 && fd < 3 && (fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
                goto fail;
            }
        }
        for (int target = 0; target < 3; ++target) {
            if (sources[target] >= 0 && ::dup2(sources[target], target) < 0) {
                goto fail;
            }
        }
    }
    // Nothing but 0..2 crosses execve (the failure pipe is CLOEXEC already).
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

    failure.step = kStepCwd;
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
        goto fail;
    }

    failure.step = kStepExec;
    ::execve(program, argv, envp);

fail:
    failure.err = errno;
    [[maybe_unused]] ssize_t n = ::write(failure_fd, &failure, sizeof(failure));
    ::_exit(127);
}

}  // namespace

std::vector<char*> exec_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) {
        out.push_back(const_cast<char*>(s.c_str()));
    }
    out.push_back(nullptr);
    return out;
}

std::string ExitStatus::to_string() const {
    if (kind == Kind::kExited) {
        return fmt::format("exit code {}", code);
    }
    const char* name = ::sigdescr_np(code);
    return fmt::format("signal {} ({})", code, name != nullptr ? name : "unknown");
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::move(other.pidfd_);
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    kill_and_reap();
}

void ChildProcess::kill_and_reap() {
    if (pidfd_.valid() && !status_) {
        ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
        siginfo_t info{};
        while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0 &&
               errno == EINTR) {
        }
    }
    pidfd_.reset();
    pid_ = -1;
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& options) {
    if (options.argv.empty()) {
        return make_error(Code::kInvalidArgument, "spawn: empty argv");
    }
    GROVE_ASSIGN_OR_RETURN(const std::string program, find_program(options.argv[0]));
    const std::vector<char*> argv = exec_strings(options.argv);
    std::vector<char*> env_storage;
    char* const* envp = environ;
    if (options.env) {
        env_storage = exec_strings(*options.env);
        envp = env_storage.data();
    }
    GROVE_ASSIGN_OR_RETURN(Pipe failure_pipe, Pipe::create());
    const pid_t parent = ::getpid();

    int pidfd = -1;
    clone_args args{};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    const long pid = ::syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0) {
        return last_errno_error("spawn '{}': clone3", options.argv[0]);
    }
    if (pid == 0) {
        child_exec(options, program.c_str(), argv.data(), envp, failure_pipe.write.get(), parent);
    }

    ChildProcess child(static_cast<pid_t>(pid), UniqueFd(pidfd));
    failure_pipe.write.reset();
    ChildFailure failure{};
    ssize_t n;
    do {
        n = ::read(failure_pipe.read.get(), &failure, sizeof(failure));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        return child;  // EOF: execve closed the pipe, the program runs
    }
    GROVE_TRY(child.wait());
    if (n != static_cast<ssize_t>(sizeof(failure))) {
        return make_error(Code::kInternal, "spawn '{}': lost the child's failure report", program);
    }
    return errno_error(failure.err, "spawn '{}': {}", program, step_name(failure.step));
}

Result<void> ChildProcess::signal(int sig) {
    if (!pidfd_.valid() || status_) {
        return {};
    }
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
        return last_errno_error("signal {} to pid {}", sig, pid_);
    }
    return {};
}

Result<ExitStatus> ChildProcess::wait() {
    GROVE_ASSIGN_OR_RETURN(auto status, wait_for(std::chrono::milliseconds(-1)));
    return *status;
}

Result<std::optional<ExitStatus>> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
    if (status_) {
        return status_;
    }
    if (!pidfd_.valid()) {
        return make_error(Code::kFailedPrecondition, "wait: the child was released");
    }
    if (timeout.count() >= 0) {
        GROVE_ASSIGN_OR_RETURN(const bool exited, wait_readable(pidfd_.get(), timeout));
        if (!exited) {
            return std::optional<ExitStatus>{};
        }
    }
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0) {
        if (errno != EINTR) {
            return last_errno_error("waitid pid {}", pid_);
        }
    }
    status_ = info.si_code == CLD_EXITED ? ExitStatus{ExitStatus::Kind::kExited, info.si_status}
                                         : ExitStatus{ExitStatus::Kind::kSignaled, info.si_status};
    return status_;
}

pid_t ChildProcess::release() {
    pidfd_.reset();
    status_.reset();
    return std::exchange(pid_, -1);
}

Result<CommandOutput> run_command(SpawnOptions options, std::chrono::milliseconds timeout) {
    GROVE_ASSIGN_OR_RETURN(Pipe out, Pipe::create());
    GROVE_ASSIGN_OR_RETURN(Pipe err, Pipe::create());
    // Our ends only: the child's output must block when the pipe is full, not fail with EAGAIN.
    for (const Pipe* pipe : {&out, &err}) {
        if (::fcntl(pipe->read.get(), F_SETFL, O_NONBLOCK) != 0) {
            return last_errno_error("make the output pipe non-blocking");
        }
    }
    UniqueFd dev_null;
    if (options.stdin_fd < 0) {
        GROVE_ASSIGN_OR_RETURN(dev_null, UniqueFd::open("/dev/null", O_RDONLY));
        options.stdin_fd = dev_null.get();
    }
    options.stdout_fd = out.write.get();
    options.stderr_fd = err.write.get();
    GROVE_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(options));
    out.write.reset();
    err.write.reset();

    CommandOutput result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_streams = 2;
    char buf[64 * 1024];
    while (open_streams > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return make_error(Code::kDeadlineExceeded, "command '{}' did not finish within {} ms",
                              options.argv[0], timeout.count());
        }
        const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) {
            return last_errno_error("poll output of '{}'", options.argv[0]);
        }
        for (int i = 0; i < 2 && ready > 0; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                fds[i].fd = -1;
                --open_streams;
            }
        }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    GROVE_ASSIGN_OR_RETURN(auto status,
                           child.wait_for(std::max(left, std::chrono::milliseconds(0))));
    if (!status) {
        return make_error(Code::kDeadlineExceeded, "command '{}' did not exit within {} ms",
                          options.argv[0], timeout.count());
    }
    result.status = *status;
    return result;
}

}  // namespace grove::base
