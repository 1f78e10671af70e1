#pragma once

// The child side of SandboxProcess::start(): the container's init (pid 1 of the new PID
// namespace) and the command process it forks. Both run in the memory of a multi-threaded
// process (vfork_clone.hpp), so they may only make async-signal-safe calls. Everything they read
// is prepared by the parent in an InitContext: no allocation, no libc locks, no glibc set*id()
// (its nptl broadcast would signal threads that do not exist in the child), only raw syscalls.

#include <cstdint>
#include <sys/resource.h>
#include <sys/types.h>

#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::runtime::process::detail {

// The step that failed, as reported to the parent over the report pipe.
enum class Step : int32_t {
    kCloseFds = 1,
    kJoinCgroup,
    kSignals,
    kHostname,
    kLoopback,
    kJoinNetwork,
    kMountPlan,
    kForkCommand,
    kRlimits,
    kBoundingSet,
    kKeepCaps,
    kGroups,
    kGid,
    kUid,
    kCapset,
    kAmbient,
    kNoNewPrivs,
    kCwd,
    kStdio,
    kSeccomp,
    kExecve,
    kParentDeath,
    kControllingTty,
    kJoinNamespaces,
};

const char* step_name(Step step);

// One message on the report pipe. EOF without a message means the command was exec'd.
struct Report {
    Step step;
    int32_t err;     // errno
    int32_t detail;  // the mount plan's step for kMountPlan, the rlimit's index for kRlimits
};

// Writes the failure of `step` on the report pipe and exits the child with 127.
[[noreturn]] void fail(int report_fd, Step step, int err, int detail = 0) noexcept;

struct PreparedRlimit {
    int resource;
    rlimit limit;
};

struct InitContext {
    char* const* exec_paths;  // the candidates for execve: argv[0], or argv[0] searched in PATH
    char* const* argv;
    char* const* envp;
    const char* cwd;
    const char* hostname;
    size_t hostname_len;
    uid_t uid;
    gid_t gid;
    const gid_t* groups;
    size_t group_count;
    const rootfs::Plan* plan;
    const seccomp::Program* seccomp;
    uint64_t capabilities;
    const PreparedRlimit* rlimits;
    size_t rlimit_count;
    bool new_network;
    int netns_fd;  // with new_network: join this fresh namespace (lo up) instead of the clone's
    int stdio[3];  // already resolved: /dev/null where the spec said -1
    const int* cgroup_procs;  // cgroup.procs files (v1) init writes itself into, first of all
    size_t cgroup_procs_count;
    void* command_stack;  // the top of the stack the command runs on until its execve
    int report_fd;        // write end of the report pipe (CLOEXEC)
    int status_fd;        // write end: init writes the command's wait status before exiting
    int reaper_fd;        // the reaper program init execs once the command runs (reaper_blob.hpp)
    int parent_death_signal;  // 0: none
    bool controlling_tty;     // setsid() and TIOCSCTTY on stdin before execve
    bool command_is_init;     // ProcessSpec's: init execs the command instead of forking it
};

// Never returns. Exits with the command's exit code (128 + signal when it was killed), or is the
// command itself (command_is_init).
[[noreturn]] void run_init(const InitContext& ctx) noexcept;

// The command process's own steps (rlimits, capabilities, uid/gid, no_new_privs, cwd, stdio,
// seccomp, execve), for a process started in a running sandbox (sandbox_exec.cpp) rather than
// forked by init. Reads only the command's fields of `ctx`: exec_paths, argv, envp, cwd, uid, gid,
// groups, seccomp, capabilities, rlimits, stdio and report_fd. Never returns.
[[noreturn]] void become_command(const InitContext& ctx) noexcept;

}  // namespace grove::runtime::process::detail
