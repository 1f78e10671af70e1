#include "sandbox_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/error.hpp"
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

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

}  // namespace

namespace detail {

// execvp's search, computed here because the child may not allocate: the PATH is the container's
// (from spec.env), the files are looked up by execve inside the container's root.
std::vector<std::string> exec_candidates(const ProcessSpec& spec) {
    const std::string& name = spec.argv[0];
    if (name.find('/') != std::string::npos) {
        return {name};
    }
    std::string_view path = kDefaultPath;
    for (const auto& var : spec.env) {
        if (var.starts_with("PATH=")) {
            path = std::string_view(var).substr(5);
        }
    }
    std::vector<std::string> out;
    while (true) {
        const size_t colon = path.find(':');
        const std::string_view dir = path.substr(0, colon);
        out.push_back((dir.empty() ? std::string(".") : std::string(dir)) + "/" + name);
        if (colon == std::string_view::npos) {
            break;
        }
        path = path.substr(colon + 1);
    }
    return out;
}

Result<std::vector<detail::PreparedRlimit>> prepare_rlimits(const std::vector<Rlimit>& limits) {
    std::vector<detail::PreparedRlimit> out;
    for (const auto& limit : limits) {
        rlimit current{};
        if (::getrlimit(static_cast<__rlimit_resource>(limit.resource), &current) != 0) {
            return last_errno_error("getrlimit({})", limit.resource);
        }
        const rlim_t hard = std::min<rlim_t>(limit.hard, current.rlim_max);
        out.push_back({limit.resource, {std::min<rlim_t>(limit.soft, hard), hard}});
    }
    return out;
}

Error command_error(const std::string& argv0,
                    const std::vector<Rlimit>& rlimits,
                    const Report& report) {
    switch (report.step) {
        case Step::kExecve:
            return errno_error(report.err, "execve '{}'", argv0);
        case Step::kRlimits:
            return errno_error(report.err, "setrlimit({})",
                               rlimits[static_cast<size_t>(report.detail)].resource);
        default:
            return errno_error(report.err, "{}", step_name(report.step));
    }
}

Result<void> await_execve(int report_fd,
                          std::string_view who,
                          const std::function<Error(const Report&)>& describe) {
    Report failure{};
    ssize_t n;
    do {
        n = ::read(report_fd, &failure, sizeof(failure));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        return {};
    }
    if (n != static_cast<ssize_t>(sizeof(failure))) {
        return make_error(Code::kInternal, "{}: lost the child's failure report", who);
    }
    Error error = describe(failure);
    error.add_context(std::string(who));
    return error;
}

}  // namespace detail

namespace {

using detail::exec_candidates;
using detail::prepare_rlimits;

int init_entry(void* ctx) noexcept {
    detail::run_init(*static_cast<const detail::InitContext*>(ctx));
}

Error child_error(const ProcessSpec& spec, const detail::Report& report) {
    if (report.step == detail::Step::kMountPlan) {
        const auto step = static_cast<size_t>(report.detail);
        const std::string target =
            step < spec.plan.ops.size() ? spec.plan.ops[step].target : std::string("?");
        return errno_error(report.err, "mount plan step {} ('{}')", report.detail, target);
    }
    return detail::command_error(spec.argv[0], spec.rlimits, report);
}

}  // namespace

SandboxProcess::SandboxProcess(SandboxProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      status_fd_(std::move(other.status_fd_)),
      exit_(std::exchange(other.exit_, std::nullopt)) {}

SandboxProcess& SandboxProcess::operator=(SandboxProcess&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::move(other.pidfd_);
        status_fd_ = std::move(other.status_fd_);
        exit_ = std::exchange(other.exit_, std::nullopt);
    }
    return *this;
}

SandboxProcess::~SandboxProcess() {
    kill_and_reap();
}

void SandboxProcess::kill_and_reap() noexcept {
    if (pidfd_.valid() && !exit_) {
        ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
        siginfo_t info{};
        while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0 &&
               errno == EINTR) {
        }
    }
    pidfd_.reset();
    status_fd_.reset();
    pid_ = -1;
}

Result<SandboxProcess> SandboxProcess::start(const ProcessSpec& spec) {
    if (spec.argv.empty()) {
        return make_error(Code::kInvalidArgument, "sandbox: empty argv");
    }
    // Everything the children touch is built here: after clone3 they may not allocate.
    const std::vector<std::string> candidates = exec_candidates(spec);
    const std::vector<char*> exec_paths = base::exec_strings(candidates);
    const std::vector<char*> argv = base::exec_strings(spec.argv);
    const std::vector<char*> envp = base::exec_strings(spec.env);
    const std::vector<gid_t> groups(spec.groups.begin(), spec.groups.end());
    GROVE_ASSIGN_OR_RETURN(const auto rlimits, prepare_rlimits(spec.rlimits));
    GROVE_ASSIGN_OR_RETURN(UniqueFd dev_null, UniqueFd::open("/dev/null", O_RDWR | O_CLOEXEC));
    GROVE_ASSIGN_OR_RETURN(const int reaper, detail::reaper_fd());
    GROVE_ASSIGN_OR_RETURN(base::Pipe report, base::Pipe::create());
    // Non-blocking: wait() reads it once init is gone, and must not hang if init died silently.
    GROVE_ASSIGN_OR_RETURN(base::Pipe status, base::Pipe::create(O_NONBLOCK));

    detail::ChildStack init_stack;
    detail::ChildStack command_stack;
    if (!init_stack.allocate() || (!spec.command_is_init && !command_stack.allocate())) {
        return last_errno_error("sandbox '{}': map the child stacks", spec.argv[0]);
    }

    const auto stdio_or_null = [&](int fd) {
        return fd >= 0 ? fd : dev_null.get();
    };
    const detail::InitContext ctx{
        .exec_paths = exec_paths.data(),
        .argv = argv.data(),
        .envp = envp.data(),
        .cwd = spec.cwd.c_str(),
        .hostname = spec.hostname.c_str(),
        .hostname_len = spec.hostname.size(),
        .uid = spec.uid,
        .gid = spec.gid,
        .groups = groups.data(),
        .group_count = groups.size(),
        .plan = &spec.plan,
        .seccomp = spec.seccomp,
        .capabilities = spec.capabilities,
        .rlimits = rlimits.data(),
        .rlimit_count = rlimits.size(),
        .new_network = spec.new_network,
        .netns_fd = spec.new_network ? spec.netns_fd : -1,
        .stdio = {stdio_or_null(spec.stdin_fd), stdio_or_null(spec.stdout_fd),
                  stdio_or_null(spec.stderr_fd)},
        .cgroup_procs = spec.cgroup_procs.data(),
        .cgroup_procs_count = spec.cgroup_procs.size(),
        .command_stack = spec.command_is_init ? nullptr : command_stack.top(),
        .report_fd = report.write.get(),
        .status_fd = status.write.get(),
        .reaper_fd = reaper,
        .parent_death_signal = spec.parent_death_signal,
        .controlling_tty = spec.controlling_tty,
        .command_is_init = spec.command_is_init,
    };

    int pidfd = -1;
    clone_args args{};
    // CLONE_NEWCGROUP is init's to do, once it is in its group.
    args.flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                 (spec.new_network && spec.netns_fd < 0 ? CLONE_NEWNET : 0);
    args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (spec.cgroup_fd) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(*spec.cgroup_fd);
    }
    // Returns once init has exec'd the reaper (the command has exec'd before that), or the
    // command when it is init, or died.
    const long pid =
        detail::clone3_vfork(args, init_stack, init_entry, const_cast<detail::InitContext*>(&ctx));
    if (pid < 0) {
        return errno_error(static_cast<int>(-pid), "sandbox '{}': clone3", spec.argv[0]);
    }

    SandboxProcess process(static_cast<pid_t>(pid), UniqueFd(pidfd), std::move(status.read));
    report.write.reset();
    status.write.reset();

    GROVE_TRY(detail::await_execve(
        report.read.get(), fmt::format("sandbox '{}'", spec.argv[0]),
        [&](const detail::Report& failure) { return child_error(spec, failure); }));
    return process;
}

Result<void> prepare_starts() {
    GROVE_TRY(detail::reaper_fd());
    return {};
}

Result<std::vector<UniqueFd>> join_cgroup(const cgroup::Cgroup& cgroup, ProcessSpec& spec) {
    spec.cgroup_fd = cgroup.dir_fd();
    spec.cgroup_procs.clear();
    if (spec.cgroup_fd) {
        return std::vector<UniqueFd>{};
    }
    GROVE_ASSIGN_OR_RETURN(auto files, cgroup.open_procs());
    for (const auto& file : files) {
        spec.cgroup_procs.push_back(file.get());
    }
    return files;
}

Result<void> SandboxProcess::kill(int sig) {
    if (!pidfd_.valid() || exit_) {
        return {};
    }
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
        return last_errno_error("signal {} to sandbox init {}", sig, pid_);
    }
    return {};
}

Result<std::optional<RunExit>> SandboxProcess::wait(
    std::optional<std::chrono::milliseconds> timeout) {
    if (exit_) {
        return exit_;
    }
    if (!pidfd_.valid()) {
        return make_error(Code::kFailedPrecondition, "wait: the sandbox was moved from");
    }
    GROVE_ASSIGN_OR_RETURN(const auto reaped, detail::reap(pidfd_.get(), pid_, timeout));
    if (!reaped) {
        return std::optional<RunExit>{};
    }
    const siginfo_t& info = reaped->info;
    RunExit result{.exit_code = 0, .signal = 0, .usage = reaped->usage};
    if (const auto command = detail::read_exit(status_fd_.get(), reaped->usage)) {
        result = *command;
    } else if (info.si_code == CLD_EXITED) {  // init exited before the command (a setup error)
        result.exit_code = info.si_status;
    } else {  // init itself was killed, e.g. by kill(SIGKILL): the whole run was
        result.signal = info.si_status;
        result.exit_code = 128 + info.si_status;
    }
    status_fd_.reset();
    exit_ = result;
    return exit_;
}

}  // namespace grove::runtime::process
