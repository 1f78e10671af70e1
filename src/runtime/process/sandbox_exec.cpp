#include "sandbox_exec.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/error.hpp"
#include "child_steps.hpp"
#include "container_init.hpp"
#include "exec_prep.hpp"
#include "reap.hpp"
#include "reaper_blob.hpp"
#include "vfork_clone.hpp"

namespace grove::runtime::process {
namespace {

using base::errno_error;
using base::last_errno_error;
using base::make_error;
using base::UniqueFd;

// How long a helper has to reap its killed process and exit before it is killed too.
constexpr std::chrono::milliseconds kHelperGrace{2000};

// The namespaces of the sandbox's init that the helper joins, in one setns(pidfd) call.
constexpr int kJoinedNamespaces =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWPID;

struct Start {
    detail::InitContext command;  // the process's steps: become_command() reads these fields
    int init_pidfd;
    const int* cgroup_procs;  // v1: cgroup.procs files the helper writes itself to
    size_t cgroup_procs_count;
    int status_fd;  // write end: the reaper writes the process's wait status there
    int reaper_fd;  // the reaper program (reaper_blob.hpp), which the helper becomes
    const detail::ChildStack* process_stack;
    // Written by the children, read once the helper has exec'd (the memory is shared).
    pid_t pid;          // on the host
    pid_t sandbox_pid;  // in the sandbox
    int pidfd;          // the process's, in the caller's fd table (shared until the helper's exec)
};

// The process, from the helper's clone to its execve. Never returns.
int start_process(void* arg) noexcept {
    auto& start = *static_cast<Start*>(arg);
    start.sandbox_pid = static_cast<pid_t>(::syscall(SYS_getpid));
    detail::become_command(start.command);
}

// The helper, from the caller's clone to its execve of the reaper: the caller sleeps meanwhile
// (CLONE_VM|CLONE_VFORK) and shares its fd table (CLONE_FILES) until the helper unshares it, so
// the process's pidfd is the caller's. Never returns.
int run_helper(void* arg) noexcept {
    auto& start = *static_cast<Start*>(arg);
    const int report = start.command.report_fd;
    detail::reset_signal_handlers();  // signals stay blocked: the reaper's contract
    // "0" is the writer itself; the process, its child, is born in the group.
    for (size_t i = 0; i < start.cgroup_procs_count; ++i) {
        if (::write(start.cgroup_procs[i], "0", 1) != 1) {
            detail::fail(report, detail::Step::kJoinCgroup, errno);
        }
    }
    if (::setns(start.init_pidfd, kJoinedNamespaces) != 0) {
        detail::fail(report, detail::Step::kJoinNamespaces, errno);
    }
    clone_args args{};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uintptr_t>(&start.pidfd);
    args.exit_signal = SIGCHLD;
    const long pid = detail::clone3_vfork(args, *start.process_stack, start_process, &start);
    if (pid < 0) {
        detail::fail(report, detail::Step::kForkCommand, static_cast<int>(-pid));
    }
    start.pid = static_cast<pid_t>(pid);
    // The fd table becomes the helper's own before it changes anything in it.
    if (::unshare(CLONE_FILES) != 0 || ::dup2(start.status_fd, 3) < 0 ||
        ::syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        detail::exit_now(127);
    }
    char name[] = "grove-exec";
    char mode[] = "--exec-helper";
    char* const argv[] = {name, mode, nullptr};
    char* const envp[] = {nullptr};
    ::syscall(SYS_execveat, start.reaper_fd, "", argv, envp, AT_EMPTY_PATH);
    detail::exit_now(127);
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

Result<SandboxExec> SandboxExec::start(int init_pidfd, const ExecSpec& spec) {
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
    GROVE_ASSIGN_OR_RETURN(const int reaper, detail::reaper_fd());
    GROVE_ASSIGN_OR_RETURN(base::Pipe report, base::Pipe::create());
    // Non-blocking: wait() reads it once the helper is gone, and must not hang if it died.
    GROVE_ASSIGN_OR_RETURN(base::Pipe status, base::Pipe::create(O_NONBLOCK));
    detail::ChildStack helper_stack;
    detail::ChildStack process_stack;
    if (!helper_stack.allocate() || !process_stack.allocate()) {
        return last_errno_error("exec '{}': map the child stacks", spec.argv[0]);
    }

    const auto stdio_or_null = [&](int fd) {
        return fd >= 0 ? fd : dev_null.get();
    };
    Start start{
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
        .cgroup_procs = spec.cgroup_procs.data(),
        .cgroup_procs_count = spec.cgroup_procs.size(),
        .status_fd = status.write.get(),
        .reaper_fd = reaper,
        .process_stack = &process_stack,
        .pid = -1,
        .sandbox_pid = -1,
        .pidfd = -1,
    };

    int helper_pidfd = -1;
    clone_args args{};
    args.flags = CLONE_PIDFD | CLONE_FILES;
    args.pidfd = reinterpret_cast<uintptr_t>(&helper_pidfd);
    args.exit_signal = SIGCHLD;
    if (spec.cgroup_fd) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(*spec.cgroup_fd);
    }
    // Returns once the helper has exec'd the reaper (the process has exec'd before that) or died.
    const long helper = detail::clone3_vfork(args, helper_stack, run_helper, &start);
    if (helper < 0) {
        return errno_error(static_cast<int>(-helper), "exec '{}': clone3", spec.argv[0]);
    }
    SandboxExec process(static_cast<pid_t>(helper), UniqueFd(helper_pidfd), std::move(status.read));
    process.pid_ = start.pid;
    process.sandbox_pid_ = start.sandbox_pid;
    process.pidfd_ = UniqueFd(start.pidfd);
    report.write.reset();
    status.write.reset();

    GROVE_TRY(detail::await_execve(
        report.read.get(), fmt::format("exec '{}'", spec.argv[0]),
        [&](const detail::Report& failure) -> Error {
            // A gone init (ESRCH) or a PID namespace whose init is exiting (fork's ENOMEM): the
            // sandbox is over, which is the caller's state, not a failure of ours.
            const bool ending =
                (failure.step == detail::Step::kJoinNamespaces && failure.err == ESRCH) ||
                (failure.step == detail::Step::kForkCommand && failure.err == ENOMEM);
            Error error = detail::command_error(spec.argv[0], spec.rlimits, failure);
            return ending ? Error(Code::kFailedPrecondition, error.message(), failure.err) : error;
        }));
    if (process.pid_ < 0) {
        return make_error(Code::kInternal, "exec '{}': the helper died before it forked",
                          spec.argv[0]);
    }
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
