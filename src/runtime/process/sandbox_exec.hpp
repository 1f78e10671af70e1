#pragma once

// SandboxExec: one more process started in a running sandbox, next to its command (crun's and
// runc's `exec`; ConTree's subprocesses).
//
//   parent ──clone3(PIDFD[, INTO_CGROUP])──> helper (the run's cgroup; v1: moved before it goes on)
//   helper: setns(init's pidfd, MNT|UTS|IPC|NET|CGROUP|PID), then clone(VM|VFORK) ──> process
//   process (a pid of the sandbox's PID namespace): the run's command's own steps: rlimits,
//     capability bounding set and sets, uid/gid/groups, no_new_privs, cwd, stdio, seccomp, execve
//   helper: reports the process's host pid, waits for it, writes its wait status, exits
//
// Joining a PID namespace only places the joiner's children in it, hence the helper: it stays in
// the host's PID namespace as the process's parent, so the status comes back to us rather than to
// the sandbox's init. After joining the mount namespace its root and cwd are the container's.
// The parent opens its own pidfd of the process (held valid by an acknowledgement: the helper
// reaps nothing before the parent has it), so kill() signals the process itself.
//
// The process dies with the sandbox: when the run's command exits, its init exits and the kernel
// kills everything left in the PID namespace, this process included. Everything the children
// touch is prepared before the clone; they make only async-signal-safe calls.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "runtime/process/sandbox_process.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::runtime::process {

// What the process runs, and as whom: the identity and restrictions are the run's command's
// (exec_spec() copies them), argv, env, cwd and stdio its own.
struct ExecSpec {
    std::vector<std::string> argv;  // argv[0] without '/' is searched in env's PATH
    std::vector<std::string> env;
    std::string cwd = "/";
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> groups;
    const seccomp::Program* seccomp = nullptr;
    uint64_t capabilities = kDockerDefaultCaps;
    std::vector<Rlimit> rlimits;
    // Borrowed; -1 means /dev/null.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    std::optional<int> cgroup_fd;  // cgroup v2 directory: clone3(CLONE_INTO_CGROUP)
};

// The identity and restrictions of the run described by `spec`: its env, cwd, uid, gid, groups,
// seccomp program, capabilities, rlimits and cgroup; argv and stdio left empty.
ExecSpec exec_spec(const ProcessSpec& spec);

class SandboxExec {
public:
    SandboxExec(SandboxExec&& other) noexcept;
    SandboxExec& operator=(SandboxExec&& other) noexcept;
    SandboxExec(const SandboxExec&) = delete;
    SandboxExec& operator=(const SandboxExec&) = delete;
    // SIGKILLs the process and its helper and reaps the helper, unless it was waited for.
    ~SandboxExec();

    // Starts `spec` in the sandbox whose init `init_pidfd` names (SandboxProcess::pidfd()).
    // `before_start(helper_pid)` runs while the helper waits, before it joins anything (v1
    // cgroup attach). Fails naming the step that did not work; an init that is gone fails the
    // join of its namespaces with ESRCH.
    static Result<SandboxExec> start(int init_pidfd,
                                     const ExecSpec& spec,
                                     const std::function<Result<void>(pid_t)>& before_start = {});

    // The process's pid on the host, and in the sandbox's PID namespace.
    pid_t pid() const { return pid_; }
    pid_t sandbox_pid() const { return sandbox_pid_; }
    // Polls readable once the process has ended and its status is ready for wait(); -1 once
    // wait() returned its exit.
    int wait_fd() const { return helper_pidfd_.get(); }

    // Signals the process itself (not its helper). A no-op once it has ended.
    Result<void> kill(int sig);

    // Waits for the process's end; nullopt when `timeout` passes first. Without a timeout, waits
    // as long as it takes. After the first result, returns it again. `usage` covers the process
    // and everything it reaped (and its small helper).
    Result<std::optional<RunExit>> wait(std::optional<std::chrono::milliseconds> timeout);

private:
    SandboxExec(pid_t helper_pid, base::UniqueFd helper_pidfd, base::UniqueFd status_fd)
        : helper_pid_(helper_pid),
          helper_pidfd_(std::move(helper_pidfd)),
          status_fd_(std::move(status_fd)) {}
    void kill_and_reap() noexcept;

    pid_t helper_pid_ = -1;
    base::UniqueFd helper_pidfd_;
    base::UniqueFd status_fd_;  // read end of the helper's status pipe
    pid_t pid_ = -1;
    pid_t sandbox_pid_ = -1;
    base::UniqueFd pidfd_;  // the process's own
    std::optional<RunExit> exit_;
};

}  // namespace grove::runtime::process
