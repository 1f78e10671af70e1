#pragma once

// SandboxProcess: the process tree of one sandboxed run.
//
//   parent ──clone3(VM|VFORK|NEWNS|NEWPID|NEWUTS|NEWIPC[|NEWNET], PIDFD[, INTO_CGROUP])──> init
//   init (pid 1): its cgroup, then a cgroup namespace, hostname, lo up, mount plan; then forks
//   the command, execs the reaper and reaps everything
//   command (pid 2): rlimits, caps, uid/gid, no_new_privs, cwd, stdio, seccomp, execve
//
// init is cloned vfork-style (vfork_clone.hpp: nothing of the caller's memory is copied), joins
// its cgroup first (clone3's CLONE_INTO_CGROUP on v2; on v1 it writes itself into each
// hierarchy), and start() returns only once the command was exec'd, or fails naming the step
// that did not work ("mount plan step 7: ...", "execve '/bin/x': No such file or directory").
//
// When the command exits, init writes its wait status to a pipe and exits; the kernel then kills
// whatever is left in the PID namespace, so daemonized processes never outlive the run. The
// status pipe is what distinguishes "the command was killed by signal 9" from "init was", since
// pid 1 cannot re-raise a fatal signal on itself.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "runtime/caps/capabilities.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::runtime::process {

struct Rlimit {
    int resource;  // RLIMIT_*
    uint64_t soft;
    uint64_t hard;  // clamped to the caller's current hard limit: raising it is never attempted
};

struct ProcessSpec {
    std::vector<std::string> argv;  // argv[0] without '/' is searched in env's PATH
    std::vector<std::string> env;
    std::string cwd = "/";
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> groups;
    std::string hostname = "sandbox";
    rootfs::Plan plan;                          // applied by the container's init after clone
    const seccomp::Program* seccomp = nullptr;  // installed last, right before execve
    // CAP_* bits kept in the bounding, permitted, effective and inheritable sets; ambient is empty,
    // so a non-root uid ends up with no effective capabilities after execve.
    uint64_t capabilities = caps::kDockerDefaultCaps;
    std::vector<Rlimit> rlimits;
    bool new_network = true;  // a fresh netns with only lo, up: "network none"
    // With new_network: a fresh namespace (NetnsPool) to join instead of creating one. Borrowed.
    int netns_fd = -1;
    // Borrowed; -1 means /dev/null.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    std::optional<int> cgroup_fd;  // cgroup v2 directory: clone3(CLONE_INTO_CGROUP)
    // cgroup v1: the group's cgroup.procs files (cgroup::Cgroup::open_procs), borrowed.
    std::vector<int> cgroup_procs;
    // Sent to init when the thread that started it dies (PR_SET_PDEATHSIG): a container's shim
    // killed with -9 takes its container with it instead of leaving it unsupervised. 0: none.
    int parent_death_signal = 0;
    // stdin is a terminal's slave side: the command starts a session and makes it its
    // controlling terminal, so ^C and window-size changes reach it (docker run -t).
    bool controlling_tty = false;
    // The command is the PID namespace's init (pid 1), as under Docker without --init: init
    // execs it instead of forking it and becoming grove-init. The kernel then drops a signal it
    // has no handler for (SIGTERM does nothing to a shell, and docker stop ends in SIGKILL, exit
    // 137, not 143), orphans are its to reap, and its exit is the run's. false: grove-init is
    // pid 1, reaps every orphan and passes every signal on, as a real init (docker run --init).
    bool command_is_init = false;
};

// Makes start() join `cgroup`: clone3 into its directory on v2; on v1 init writes itself into
// each hierarchy through the files returned, which must stay open until start() returns.
Result<std::vector<base::UniqueFd>> join_cgroup(const cgroup::Cgroup& cgroup, ProcessSpec& spec);

// Makes now what every start() in this process needs once (the reaper's sealed memfd), so a
// process that forks container starters (containers::ShimForkServer) makes it once for all.
Result<void> prepare_starts();

struct RunExit {
    int exit_code;  // the command's exit code, or 128 + signal when it was killed
    int signal;     // the signal that killed the command, 0 if it exited
    rusage usage;   // the whole tree: init and everything it reaped
};

class SandboxProcess {
public:
    SandboxProcess(SandboxProcess&& other) noexcept;
    SandboxProcess& operator=(SandboxProcess&& other) noexcept;
    SandboxProcess(const SandboxProcess&) = delete;
    SandboxProcess& operator=(const SandboxProcess&) = delete;
    // SIGKILLs init (and so the whole PID namespace) and reaps it, unless it was waited for.
    ~SandboxProcess();

    static Result<SandboxProcess> start(const ProcessSpec& spec);

    // The host pid of the container's init.
    pid_t pid() const { return pid_; }
    // A pidfd of the container's init (borrowed; valid while this object lives): its namespaces
    // are what a process started in the running sandbox joins (sandbox_exec.hpp).
    int pidfd() const { return pidfd_.get(); }

    // Signals init: SIGKILL ends the whole PID namespace; grove-init forwards other signals to
    // the command, and a command that is init gets them as an init does (see
    // ProcessSpec::command_is_init). A no-op once the run was waited for.
    Result<void> kill(int sig);

    // Waits for the run's end; nullopt when `timeout` passes first (the caller then kills).
    // Without a timeout, waits as long as it takes. After the first result, returns it again.
    Result<std::optional<RunExit>> wait(std::optional<std::chrono::milliseconds> timeout);

private:
    SandboxProcess(pid_t pid, base::UniqueFd pidfd, base::UniqueFd status_fd)
        : pid_(pid), pidfd_(std::move(pidfd)), status_fd_(std::move(status_fd)) {}
    void kill_and_reap() noexcept;

    pid_t pid_ = -1;
    base::UniqueFd pidfd_;
    base::UniqueFd status_fd_;  // read end of init's status pipe
    std::optional<RunExit> exit_;
};

}  // namespace grove::runtime::process
