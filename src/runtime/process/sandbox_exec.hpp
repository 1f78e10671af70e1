#pragma once

// SandboxExec: one more process started in a running sandbox, next to its command (crun's and
// runc's `exec`; ConTree's subprocesses).
//
//   parent ──clone3(VM|VFORK|FILES|PIDFD[, INTO_CGROUP])──> helper (v1: writes itself into the
//     run's cgroup.procs files)
//   helper: setns(init's pidfd, MNT|UTS|IPC|NET|CGROUP|PID), then clone(VM|VFORK|PIDFD) ──> process
//   process (a pid of the sandbox's PID namespace): the run's command's own steps: rlimits,
//     capability bounding set and sets, uid/gid/groups, no_new_privs, cwd, stdio, seccomp, execve
//   helper: execs the reaper (reaper_main.cpp, --exec-helper), which waits for the process,
//     writes its wait status and exits
//
// Joining a PID namespace only places the joiner's children in it, hence the helper: it stays in
// the host's PID namespace as the process's parent, so the status comes back to us rather than to
// the sandbox's init, and the process is reaped as soon as it ends (a zombie of ours would hold
// the sandbox's init in its exit). After joining the mount namespace its root and cwd are the
// container's. Nothing is copied: both children borrow the caller's memory until their execve
// (vfork_clone.hpp), and the helper the caller's fd table until it unshares it, so the process's
// pidfd (CLONE_PIDFD) lands in ours and kill() signals the process itself. A helper that was a
// copying fork of the caller cost ~0.5 ms of each exec in a shim.
//
// The process dies with the sandbox: when the run's command exits, its init exits and the kernel
// kills everything left in the PID namespace, this process included. Everything the children
// touch is prepared before the clone; they make only async-signal-safe calls.

#include <chrono>
#include <cstdint>
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
    uint64_t capabilities = caps::kDockerDefaultCaps;
    std::vector<Rlimit> rlimits;
    // Borrowed; -1 means /dev/null.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    std::optional<int> cgroup_fd;   // cgroup v2 directory: clone3(CLONE_INTO_CGROUP)
    std::vector<int> cgroup_procs;  // cgroup v1: the run's cgroup.procs files (borrowed)
};

// The identity and restrictions of the run described by `spec`: its env, cwd, uid, gid, groups,
// seccomp program, capabilities, rlimits and v2 cgroup; argv, stdio and the v1 cgroup.procs
// files left empty.
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
    // Fails naming the step that did not work; a sandbox that is gone or ending fails with
    // FailedPrecondition.
    static Result<SandboxExec> start(int init_pidfd, const ExecSpec& spec);

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
