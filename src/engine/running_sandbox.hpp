#pragma once

// RunningSandbox: a run's sandbox while its command runs, as the caller of Runner::run sees it
// (RunRequest::on_started): more processes can be started in it (ConTree's subprocesses), with
// the command's identity and restrictions (uid/gid, capabilities, no_new_privs, seccomp,
// rlimits, cgroup) and its own argv, env, cwd and stdio.
//
// The runner owns what the sandbox borrows (init's pidfd, the cgroup) and calls end() before it
// lets them go: from then on exec() is refused, and an exec in flight finishes first. A process
// started here dies with the sandbox (the kernel kills the PID namespace when init exits), but
// its SandboxExec, and so its reaping, belongs to whoever called exec().
//
// Shared: the runner holds it for the run, the caller for as long as it keeps the pointer.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "runtime/cgroup/cgroup.hpp"
#include "runtime/process/sandbox_exec.hpp"
#include "runtime/process/sandbox_process.hpp"

namespace grove::engine {

struct ExecRequest {
    std::vector<std::string> argv;
    std::vector<std::string> env;  // KEY=VALUE, over the run's environment
    std::string cwd;               // empty: the run's working directory
    // Borrowed for the call; -1 means /dev/null.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
};

class RunningSandbox {
public:
    // `init_pidfd` and `cgroup` are borrowed until end(); `init_pidfd` < 0: the run is not on
    // grove's own runtime (`runtime` names the OCI runtime), and exec() is Unimplemented.
    RunningSandbox(const runtime::process::ProcessSpec& spec,
                   int init_pidfd,
                   runtime::cgroup::Cgroup* cgroup,
                   std::string runtime);
    RunningSandbox(const RunningSandbox&) = delete;
    RunningSandbox& operator=(const RunningSandbox&) = delete;

    // Starts a process in the sandbox. FailedPrecondition once the run's command has exited or
    // the run ended; Unimplemented for a run on an OCI runtime.
    Result<runtime::process::SandboxExec> exec(const ExecRequest& request);
    // The environment, working directory and identity a process gets with `request`.
    std::vector<std::string> env_of(const ExecRequest& request) const;
    std::string cwd_of(const ExecRequest& request) const;
    uint32_t uid() const { return defaults_.uid; }
    uint32_t gid() const { return defaults_.gid; }

    // No exec from now on; waits for one in flight. Idempotent.
    void end();
    bool ended() const;

private:
    const runtime::process::ExecSpec defaults_;
    const std::string runtime_;
    mutable std::mutex mutex_;
    bool ended_ = false;               // guarded by mutex_
    int init_pidfd_;                   // borrowed until end()
    runtime::cgroup::Cgroup* cgroup_;  // borrowed until end()
};

}  // namespace grove::engine
