#include "container_init.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/process/child_steps.hpp"
#include "runtime/rootfs/apply_plan.hpp"

namespace grove::runtime::process::detail {
namespace {

int bring_up_loopback() noexcept {
    const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return -errno;
    }
    ifreq req{};
    std::memcpy(req.ifr_name, "lo", 3);
    int rc = ::ioctl(sock, SIOCGIFFLAGS, &req);
    if (rc == 0) {
        req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
        rc = ::ioctl(sock, SIOCSIFFLAGS, &req);
    }
    const int err = errno;
    ::close(sock);
    return rc == 0 ? 0 : -err;
}

// The command process: credentials, capabilities, limits, stdio, seccomp, execve.
//
// Capability/uid order: drop the bounding set first (needs CAP_SETPCAP, still held), set
// PR_SET_KEEPCAPS so the permitted set survives the switch to a non-zero uid, switch
// groups/gid/uid, then capset() the kept mask into permitted, effective and inheritable and clear
// the ambient set. execve then recomputes: uid 0 gets bounding = the kept mask; any other uid gets
// nothing (no ambient caps, busybox has no file caps), which is Docker's behaviour.
[[noreturn]] void run_command(const InitContext& ctx) noexcept {
    const int report = ctx.report_fd;
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) {
        fail(report, Step::kSignals, errno);
    }
    for (size_t i = 0; i < ctx.rlimit_count; ++i) {
        if (::setrlimit(static_cast<__rlimit_resource>(ctx.rlimits[i].resource),
                        &ctx.rlimits[i].limit) != 0) {
            fail(report, Step::kRlimits, errno, static_cast<int>(i));
        }
    }
    for (int cap = 0; cap < 64; ++cap) {
        if ((ctx.capabilities & (uint64_t{1} << cap)) == 0 &&
            ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            fail(report, Step::kBoundingSet, errno, cap);  // EINVAL: past the kernel's last cap
        }
    }
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        fail(report, Step::kKeepCaps, errno);
    }
    if (::syscall(SYS_setgroups, ctx.group_count, ctx.groups) != 0) {
        fail(report, Step::kGroups, errno);
    }
    if (::syscall(SYS_setresgid, ctx.gid, ctx.gid, ctx.gid) != 0) {
        fail(report, Step::kGid, errno);
    }
    if (::syscall(SYS_setresuid, ctx.uid, ctx.uid, ctx.uid) != 0) {
        fail(report, Step::kUid, errno);
    }
    // A change of credentials clears the parent-death signal, which the command keeps when it
    // stands as init.
    if (ctx.command_is_init && ctx.parent_death_signal != 0 &&
        ::prctl(PR_SET_PDEATHSIG, ctx.parent_death_signal, 0, 0, 0) != 0) {
        fail(report, Step::kParentDeath, errno);
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
        const auto word = static_cast<uint32_t>(ctx.capabilities >> (32 * i));
        data[i] = {word, word, word};  // effective, permitted, inheritable
    }
    if (::syscall(SYS_capset, &header, data) != 0) {
        fail(report, Step::kCapset, errno);
    }
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        fail(report, Step::kKeepCaps, errno);
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        fail(report, Step::kAmbient, errno);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fail(report, Step::kNoNewPrivs, errno);
    }
    if (::chdir(ctx.cwd) != 0) {  // as the target user, so its permissions apply
        fail(report, Step::kCwd, errno);
    }
    int sources[3] = {ctx.stdio[0], ctx.stdio[1], ctx.stdio[2]};
    // Move sources out of 0..2 first, so that one dup2 cannot clobber another's source.
    for (int& fd : sources) {
        if (fd < 3 && (fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
            fail(report, Step::kStdio, errno);
        }
    }
    for (int target = 0; target < 3; ++target) {
        if (::dup2(sources[target], target) < 0) {
            fail(report, Step::kStdio, errno);
        }
    }
    if (ctx.controlling_tty && (::setsid() < 0 || ::ioctl(0, TIOCSCTTY, 0) != 0)) {
        fail(report, Step::kControllingTty, errno);
    }
    // Nothing but 0..2 crosses execve; the report pipe stays open until then.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    if (ctx.seccomp != nullptr) {
        if (const int rc = seccomp::install(*ctx.seccomp); rc != 0) {
            fail(report, Step::kSeccomp, -rc);
        }
    }
    // Like execvp: ENOENT moves on to the next PATH entry, any other error is remembered.
    int err = ENOENT;
    for (char* const* path = ctx.exec_paths; *path != nullptr; ++path) {
        ::execve(*path, ctx.argv, ctx.envp);
        if (errno != ENOENT && errno != ENOTDIR) {
            err = errno;
        }
    }
    fail(report, Step::kExecve, err);
}

int start_command(void* arg) noexcept {
    reset_signal_handlers();
    run_command(*static_cast<const InitContext*>(arg));
}

// Becomes the reaper program (reaper_main.cpp, its contract there): the status pipe on fd 3,
// nothing else open, every signal still blocked. If that fails, init dies and takes the command
// with it; the parent sees no status and reports the run's init as failed.
[[noreturn]] void exec_reaper(const InitContext& ctx) noexcept {
    const int reaper = ::fcntl(ctx.reaper_fd, F_DUPFD_CLOEXEC, 10);  // out of fd 3's way
    if (reaper < 0 || ::dup2(ctx.status_fd, 3) < 0 || ::fcntl(3, F_SETFD, 0) != 0) {
        exit_now(127);
    }
    ::syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC);
    char name[] = "grove-init";
    char* const argv[] = {name, nullptr};
    char* const envp[] = {nullptr};
    ::syscall(SYS_execveat, reaper, "", argv, envp, AT_EMPTY_PATH);
    exit_now(127);
}

}  // namespace

void fail(int report_fd, Step step, int err, int detail) noexcept {
    const Report report{step, err, detail};
    [[maybe_unused]] const ssize_t n = ::write(report_fd, &report, sizeof(report));
    exit_now(127);
}

const char* step_name(Step step) {
    switch (step) {
        case Step::kCloseFds:
            return "close inherited fds";
        case Step::kJoinCgroup:
            return "join the cgroup";
        case Step::kSignals:
            return "reset signals";
        case Step::kHostname:
            return "sethostname";
        case Step::kLoopback:
            return "bring up lo";
        case Step::kJoinNetwork:
            return "join the network namespace";
        case Step::kMountPlan:
            return "mount plan";
        case Step::kForkCommand:
            return "fork the command";
        case Step::kRlimits:
            return "setrlimit";
        case Step::kBoundingSet:
            return "drop the capability bounding set";
        case Step::kKeepCaps:
            return "prctl(PR_SET_KEEPCAPS)";
        case Step::kGroups:
            return "setgroups";
        case Step::kGid:
            return "setresgid";
        case Step::kUid:
            return "setresuid";
        case Step::kCapset:
            return "capset";
        case Step::kAmbient:
            return "clear ambient capabilities";
        case Step::kNoNewPrivs:
            return "prctl(PR_SET_NO_NEW_PRIVS)";
        case Step::kCwd:
            return "chdir";
        case Step::kStdio:
            return "set up stdio";
        case Step::kSeccomp:
            return "install seccomp filter";
        case Step::kExecve:
            return "execve";
        case Step::kParentDeath:
            return "prctl(PR_SET_PDEATHSIG)";
        case Step::kControllingTty:
            return "make stdin the controlling terminal";
        case Step::kJoinNamespaces:
            return "join the sandbox's namespaces";
    }
    return "unknown step";
}

void run_init(const InitContext& ctx) noexcept {
    const int report = ctx.report_fd;
    // Armed first: the parent thread sleeps in clone3 until init execs, so it is alive now, and
    // from here on its death takes the container with it.
    if (ctx.parent_death_signal != 0 &&
        ::prctl(PR_SET_PDEATHSIG, ctx.parent_death_signal, 0, 0, 0) != 0) {
        fail(report, Step::kParentDeath, errno);
    }
    // Before anything is charged to the host's groups; "0" is the writer itself. The cgroup
    // namespace comes after, so that its root is the run's group: the container sees "/".
    for (size_t i = 0; i < ctx.cgroup_procs_count; ++i) {
        if (::write(ctx.cgroup_procs[i], "0", 1) != 1) {
            fail(report, Step::kJoinCgroup, errno);
        }
    }
    if (::unshare(CLONE_NEWCGROUP) != 0) {
        fail(report, Step::kJoinCgroup, errno);
    }
    int keep[] = {ctx.stdio[0],  ctx.stdio[1],  ctx.stdio[2],        report,
                  ctx.status_fd, ctx.reaper_fd, ctx.plan->rootfs_fd, ctx.netns_fd};
    if (const int rc = close_all_but(keep, sizeof(keep) / sizeof(keep[0])); rc != 0) {
        fail(report, Step::kCloseFds, -rc);
    }

    // All signals blocked and collected with sigwaitinfo: SIGCHLD to reap, the rest forwarded to
    // the command (pid 1 ignores signals it has no handler for, so a plain SIGTERM would be lost).
    // A command that is init itself unblocks them in run_command.
    reset_signal_handlers();
    sigset_t all;
    sigfillset(&all);
    if (::sigprocmask(SIG_SETMASK, &all, nullptr) != 0) {
        fail(report, Step::kSignals, errno);
    }
    if (::sethostname(ctx.hostname, ctx.hostname_len) != 0) {
        fail(report, Step::kHostname, errno);
    }
    if (ctx.netns_fd >= 0) {
        if (::setns(ctx.netns_fd, CLONE_NEWNET) != 0) {
            fail(report, Step::kJoinNetwork, errno);
        }
        ::close(ctx.netns_fd);
    } else if (ctx.new_network) {
        if (const int rc = bring_up_loopback(); rc != 0) {
            fail(report, Step::kLoopback, -rc);
        }
    }
    int failed_step = -1;
    if (const int rc = rootfs::apply_plan(*ctx.plan, &failed_step); rc != 0) {
        fail(report, Step::kMountPlan, -rc, failed_step);
    }
    if (ctx.command_is_init) {
        run_command(ctx);
    }

    // vfork-style, like init itself: the command borrows the memory on a stack of its own until
    // its execve, and init waits meanwhile.
    const int command = ::clone(start_command, ctx.command_stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                                const_cast<InitContext*>(&ctx));
    if (command < 0) {
        fail(report, Step::kForkCommand, errno);
    }
    // Only the command's copy of the report pipe may remain: its execve closes it, the EOF the
    // parent waits for. Init keeps nothing the command's stdio readers would wait on.
    ::close(report);
    for (int fd : ctx.stdio) {
        ::close(fd);
    }

    exec_reaper(ctx);
}

void become_command(const InitContext& ctx) noexcept {
    run_command(ctx);
}

}  // namespace grove::runtime::process::detail
