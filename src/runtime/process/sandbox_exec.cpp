#include "sandbox_exec.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/error.hpp"
#include "child_steps.hpp"
#include "container_init.hpp"
#include "exec_prep.hpp"
#include "reap.hpp"

namespace grove::runtime::process {
namespace {

using base::errno_error;
using base::last_errno_error;
using base::make_error;
using base::UniqueFd;
using detail::close_all_but;
using detail::exit_now;
using detail::reset_signal_handlers;

// How long a helper has to reap its killed process and exit before it is killed too.
constexpr std::chrono::milliseconds kHelperGrace{2000};

// The namespaces of the sandbox's init that the helper joins, in one setns(pidfd) call.
constexpr int kJoinedNamespaces =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWPID;

// The helper's steps, as reported on the info pipe when one fails.
enum class HelperStep : int32_t { kCloseFds = 1, kJoinNamespaces, kFork };

const char* helper_step_name(HelperStep step) {
    switch (step) {
        case HelperStep::kCloseFds:
            return "close inherited fds";
        case HelperStep::kJoinNamespaces:
            return "join the sandbox's namespaces";
        case HelperStep::kFork:
            return "fork into the sandbox's PID namespace";
    }
    return "unknown step";
}

// One message on the info pipe: the helper reports the process's host pid (or its own failure),
// the process its pid in the sandbox. Small enough to be written atomically by either.
enum class InfoKind : int32_t { kHostPid = 1, kSandboxPid, kFailed };
struct Info {
    InfoKind kind;
    int32_t pid;
    HelperStep step;  // kFailed
    int32_t err;      // kFailed
};

struct HelperContext {
    detail::InitContext command;  // the process's steps: become_command() reads these fields
    int init_pidfd;
    int sync_fd;    // read end: one byte once the parent's before_start() ran
    int info_fd;    // write end of the info pipe (CLOEXEC)
    int ack_fd;     // read end: one byte (or EOF) once the parent holds a pidfd of the process
    int status_fd;  // write end: the helper writes the process's wait status before exiting
};

void send_info(int fd, const Info& info) noexcept {
    [[maybe_unused]] const ssize_t n = ::write(fd, &info, sizeof(info));
}

[[noreturn]] void helper_fail(const HelperContext& ctx, HelperStep step, int err) noexcept {
    send_info(ctx.info_fd, {.kind = InfoKind::kFailed, .pid = 0, .step = step, .err = err});
    exit_now(127);
}

ssize_t read_retrying(int fd, void* buf, size_t size) noexcept {
    ssize_t n;
    while ((n = ::read(fd, buf, size)) < 0 && errno == EINTR) {
    }
    return n;
}

constexpr size_t kProcessStack = 256 * 1024;

struct ProcessStart {
    const HelperContext* helper;
    int oom_fd;  // the helper's, not the process's
};

// The process, from the helper's clone to its execve, on a stack of its own in the helper's
// memory (CLONE_VM|CLONE_VFORK). Never returns.
int start_process(void* arg) noexcept {
    const auto& start = *static_cast<const ProcessStart*>(arg);
    if (start.oom_fd >= 0) {
        ::close(start.oom_fd);  // fd tables are not shared: the helper keeps its copy
    }
    send_info(start.helper->info_fd,
              {.kind = InfoKind::kSandboxPid, .pid = static_cast<int32_t>(::getpid())});
    detail::become_command(start.helper->command);
}

// The helper, from clone3 to its exit. Never returns.
[[noreturn]] void run_helper(const HelperContext& ctx) noexcept {
    const int* stdio = ctx.command.stdio;
    int keep[] = {stdio[0],    stdio[1],   stdio[2],      ctx.init_pidfd,       ctx.sync_fd,
                  ctx.info_fd, ctx.ack_fd, ctx.status_fd, ctx.command.report_fd};
    if (const int rc = close_all_but(keep, sizeof(keep) / sizeof(keep[0])); rc != 0) {
        helper_fail(ctx, HelperStep::kCloseFds, -rc);
    }
    // Signals stay blocked in the helper, whose only job is to wait; the process unblocks them.
    reset_signal_handlers();
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    char byte = 0;
    if (read_retrying(ctx.sync_fd, &byte, 1) != 1) {
        exit_now(127);  // the parent gave up (before_start failed): nobody is listening
    }
    ::close(ctx.sync_fd);
    // The helper's own oom_score_adj, opened while /proc is still the host's: a copy of the
    // daemon, it is the largest process of the run's memory cgroup, and the OOM killer must take
    // the process that used the memory, not the one that waits for its status.
    const int oom_fd = static_cast<int>(
        ::syscall(SYS_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));

    if (::setns(ctx.init_pidfd, kJoinedNamespaces) != 0) {
        helper_fail(ctx, HelperStep::kJoinNamespaces, errno);
    }
    ::close(ctx.init_pidfd);

    // vfork-style, as init starts the command: the process borrows the helper's memory (a copy
    // of the daemon's) on a stack of its own until its execve, so those page tables are not
    // copied once more for a process that replaces them at once; the helper waits meanwhile.
    void* stack = ::mmap(nullptr, kProcessStack, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        helper_fail(ctx, HelperStep::kFork, errno);
    }
    ProcessStart start{.helper = &ctx, .oom_fd = oom_fd};
    const int child = ::clone(start_process, static_cast<char*>(stack) + kProcessStack,
                              CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    if (child < 0) {
        helper_fail(ctx, HelperStep::kFork, errno);
    }
    ::munmap(stack, kProcessStack);
    send_info(ctx.info_fd, {.kind = InfoKind::kHostPid, .pid = child});
    // Only the process's copies may remain: its execve closes the report pipe, the EOF the
    // parent waits for; its stdio readers must see EOF when it exits, not when the helper does.
    ::close(ctx.info_fd);
    ::close(ctx.command.report_fd);
    for (int i = 0; i < 3; ++i) {
        ::close(stdio[i]);
    }
    if (oom_fd >= 0) {
        [[maybe_unused]] const ssize_t n = ::write(oom_fd, "-1000", 5);
        ::close(oom_fd);
    }
    // Until the parent has its pidfd, the process must stay unreaped (a zombie at worst), so that
    // its pid cannot be reused under the parent's pidfd_open.
    read_retrying(ctx.ack_fd, &byte, 1);
    ::close(ctx.ack_fd);
    int status = 0;
    while (::syscall(SYS_wait4, child, &status, 0, nullptr) < 0) {
        if (errno != EINTR) {
            exit_now(127);
        }
    }
    [[maybe_unused]] const ssize_t n = ::write(ctx.status_fd, &status, sizeof(status));
    exit_now(0);
}

}  // namespace

ExecSpec exec_spec(const ProcessSpec& spec) {
    return ExecSpec{.env = spec.env,
                    .cwd = spec.cwd,
                    .uid = spec.uid,
                    .gid = spec.gid,
                    .groups = spec.groups,
                    .seccomp = spec.seccomp,
                    .capabilities = spec.capabilities,
                    .rlimits = spec.rlimits,
                    .cgroup_fd = spec.cgroup_fd};
}

SandboxExec::SandboxExec(SandboxExec&& other) noexcept
    : helper_pid_(std::exchange(other.helper_pid_, -1)),
      helper_pidfd_(std::move(other.helper_pidfd_)),
      status_fd_(std::move(other.status_fd_)),
      pid_(std::exchange(other.pid_, -1)),
      sandbox_pid_(std::exchange(other.sandbox_pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      exit_(std::exchange(other.exit_, std::nullopt)) {}

SandboxExec& SandboxExec::operator=(SandboxExec&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        helper_pid_ = std::exchange(other.helper_pid_, -1);
        helper_pidfd_ = std::move(other.helper_pidfd_);
        status_fd_ = std::move(other.status_fd_);
        pid_ = std::exchange(other.pid_, -1);
        sandbox_pid_ = std::exchange(other.sandbox_pid_, -1);
        pidfd_ = std::move(other.pidfd_);
        exit_ = std::exchange(other.exit_, std::nullopt);
    }
    return *this;
}

SandboxExec::~SandboxExec() {
    kill_and_reap();
}

void SandboxExec::kill_and_reap() noexcept {
    if (helper_pidfd_.valid() && !exit_) {
        // The process first, and its helper then reaps it and exits: killing the helper too would
        // orphan the process to the host's init (its parent's PID namespace's reaper, not the
        // sandbox's), which then holds the sandbox's end until it reaps it. Without the process's
        // pidfd (a start that failed early), or if the helper does not end, it is killed.
        bool helper_ended = false;
        if (pidfd_.valid() &&
            ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) == 0) {
            helper_ended = base::wait_readable(helper_pidfd_.get(), kHelperGrace).value_or(false);
        }
        if (!helper_ended) {
            ::syscall(SYS_pidfd_send_signal, helper_pidfd_.get(), SIGKILL, nullptr, 0);
        }
        siginfo_t info{};
        while (::waitid(P_PIDFD, static_cast<id_t>(helper_pidfd_.get()), &info, WEXITED) != 0 &&
               errno == EINTR) {
        }
    }
    helper_pidfd_.reset();
    status_fd_.reset();
    pidfd_.reset();
    helper_pid_ = -1;
    pid_ = -1;
}

Result<SandboxExec> SandboxExec::start(int init_pidfd,
                                       const ExecSpec& spec,
                                       const std::function<Result<void>(pid_t)>& before_start) {
    if (spec.argv.empty()) {
        return make_error(Code::kInvalidArgument, "exec: empty argv");
    }
    // Everything the children touch is built here: after clone3 they may not allocate.
    ProcessSpec lookup;  // what exec_candidates reads
    lookup.argv = spec.argv;
    lookup.env = spec.env;
    const std::vector<std::string> candidates = detail::exec_candidates(lookup);
    const std::vector<char*> exec_paths = base::exec_strings(candidates);
    const std::vector<char*> argv = base::exec_strings(spec.argv);
    const std::vector<char*> envp = base::exec_strings(spec.env);
    const std::vector<gid_t> groups(spec.groups.begin(), spec.groups.end());
    GROVE_ASSIGN_OR_RETURN(const auto rlimits, detail::prepare_rlimits(spec.rlimits));
    GROVE_ASSIGN_OR_RETURN(UniqueFd dev_null, UniqueFd::open("/dev/null", O_RDWR | O_CLOEXEC));
    GROVE_ASSIGN_OR_RETURN(base::Pipe sync, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(base::Pipe info, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(base::Pipe ack, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(base::Pipe report, base::Pipe::create());
    // Non-blocking: wait() reads it once the helper is gone, and must not hang if it died.
    GROVE_ASSIGN_OR_RETURN(base::Pipe status, base::Pipe::create(O_NONBLOCK));

    const auto stdio_or_null = [&](int fd) {
        return fd >= 0 ? fd : dev_null.get();
    };
    const HelperContext ctx{
        .command =
            {
                .exec_paths = exec_paths.data(),
                .argv = argv.data(),
                .envp = envp.data(),
                .cwd = spec.cwd.c_str(),
                .hostname = nullptr,
                .hostname_len = 0,
                .uid = spec.uid,
                .gid = spec.gid,
                .groups = groups.data(),
                .group_count = groups.size(),
                .plan = nullptr,
                .seccomp = spec.seccomp,
                .capabilities = spec.capabilities,
                .rlimits = rlimits.data(),
                .rlimit_count = rlimits.size(),
                .new_network = false,
                .netns_fd = -1,
                .stdio = {stdio_or_null(spec.stdin_fd), stdio_or_null(spec.stdout_fd),
                          stdio_or_null(spec.stderr_fd)},
                .report_fd = report.write.get(),
                .status_fd = -1,
                .reaper_fd = -1,
            },
        .init_pidfd = init_pidfd,
        .sync_fd = sync.read.get(),
        .info_fd = info.write.get(),
        .ack_fd = ack.read.get(),
        .status_fd = status.write.get(),
    };

    int pidfd = -1;
    clone_args args{};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (spec.cgroup_fd) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(*spec.cgroup_fd);
    }
    const long pid = ::syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0) {
        return last_errno_error("exec '{}': clone3", spec.argv[0]);
    }
    if (pid == 0) {
        run_helper(ctx);
    }

    SandboxExec process(static_cast<pid_t>(pid), UniqueFd(pidfd), std::move(status.read));
    sync.read.reset();
    info.write.reset();
    ack.read.reset();
    report.write.reset();
    status.write.reset();
    if (before_start) {
        // On failure the destructor kills the helper, which is still blocked on the sync pipe.
        GROVE_TRY(base::with_context(before_start(process.helper_pid_), "exec '{}': before start",
                                     spec.argv[0]));
    }
    GROVE_TRY(base::write_all(sync.write.get(), "x"));
    sync.write.reset();

    // The host pid from the helper and the sandbox pid from the process, in either order; EOF
    // once both wrote (or died).
    while (process.pid_ < 0 || process.sandbox_pid_ < 0) {
        Info message{};
        const ssize_t n = read_retrying(info.read.get(), &message, sizeof(message));
        if (n == 0) {
            break;
        }
        if (n != static_cast<ssize_t>(sizeof(message))) {
            return make_error(Code::kInternal, "exec '{}': lost the helper's report", spec.argv[0]);
        }
        if (message.kind == InfoKind::kFailed) {
            // A gone init (ESRCH) or a PID namespace whose init is exiting (fork's ENOMEM): the
            // sandbox is over, which is the caller's state, not a failure of ours.
            const bool ending =
                (message.step == HelperStep::kJoinNamespaces && message.err == ESRCH) ||
                (message.step == HelperStep::kFork && message.err == ENOMEM);
            Error error = errno_error(message.err, "exec '{}': {}", spec.argv[0],
                                      helper_step_name(message.step));
            return ending ? Error(Code::kFailedPrecondition, error.message(), message.err) : error;
        }
        (message.kind == InfoKind::kHostPid ? process.pid_ : process.sandbox_pid_) = message.pid;
    }
    if (process.pid_ < 0) {
        return make_error(Code::kInternal, "exec '{}': the helper died before it forked",
                          spec.argv[0]);
    }
    // Unreaped until the acknowledgement: this pidfd names the process, never a recycled pid.
    GROVE_ASSIGN_OR_RETURN(process.pidfd_, UniqueFd::pidfd_open(process.pid_));
    GROVE_TRY(base::write_all(ack.write.get(), "x"));
    ack.write.reset();

    GROVE_TRY(detail::await_execve(report.read.get(), fmt::format("exec '{}'", spec.argv[0]),
                                   [&](const detail::Report& failure) {
                                       return detail::command_error(spec.argv[0], spec.rlimits,
                                                                    failure);
                                   }));
    return process;
}

Result<void> SandboxExec::kill(int sig) {
    if (!pidfd_.valid() || exit_) {
        return {};
    }
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
        return last_errno_error("signal {} to process {}", sig, pid_);
    }
    return {};
}

Result<std::optional<RunExit>> SandboxExec::wait(std::optional<std::chrono::milliseconds> timeout) {
    if (exit_) {
        return exit_;
    }
    if (!helper_pidfd_.valid()) {
        return make_error(Code::kFailedPrecondition, "wait: the process was moved from");
    }
    GROVE_ASSIGN_OR_RETURN(const auto reaped,
                           detail::reap(helper_pidfd_.get(), helper_pid_, timeout));
    if (!reaped) {
        return std::optional<RunExit>{};
    }
    // No status: the helper itself was killed, and so was the process, by kill_and_reap or the
    // run's end.
    const RunExit result =
        detail::read_exit(status_fd_.get(), reaped->usage)
            .value_or(
                RunExit{.exit_code = 128 + SIGKILL, .signal = SIGKILL, .usage = reaped->usage});
    status_fd_.reset();
    pidfd_.reset();
    helper_pidfd_.reset();  // reaped: nothing left to hold
    exit_ = result;
    return exit_;
}

}  // namespace grove::runtime::process
