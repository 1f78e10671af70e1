// The default profile's data: moby's profiles/seccomp/default.json (2023), for the capabilities a
// container holds. Its rules with includes.caps (mount, umount2, unshare, setns, bpf,
// perf_event_open, *_module, reboot, acct, settimeofday, clock_settime, open_by_handle_at, iopl,
// ioperm, chroot, ...) are added only for a container holding the capability, and those with
// excludes.caps (clone without namespace flags, clone3 failing with ENOSYS) only for one without
// it. What no rule names (keyctl, kexec_*, swapon, userfaultfd, pivot_root, ...) hits the default
// action whatever the capabilities. Deviations from moby, each on purpose:
//  - io_uring_{setup,enter,register} are denied, as moby has done since v25: io_uring operations
//    bypass seccomp entirely, and it has been a steady source of kernel CVEs.
//  - ptrace, process_vm_readv/writev are allowed unconditionally (moby: kernel >= 4.8), since grove
//    requires a newer kernel and the PID namespace confines the tracee set.
//  - adjtimex and clock_adjtime stay allowed as in moby: without CAP_SYS_TIME the kernel lets
//    them only read the clock state, which NTP status tools need.
//  - mknod and mknodat make only the device nodes Docker's device cgroup would let a container
//    open (add_mknod_rules): grove has no device cgroup to stop a node made with CAP_MKNOD.

#include <algorithm>
#include <array>
#include <cerrno>
#include <sched.h>
#include <string_view>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <tuple>

#include "runtime/caps/capabilities.hpp"
#include "runtime/seccomp/profile.hpp"

namespace grove::runtime::seccomp {
namespace {

// Unconditionally allowed. Names missing from an architecture (chown32 on x86_64, arch_prctl on
// i386) are skipped when compiling for it.
// A table: one name per line (clang-format's choice) would triple the file.
// clang-format off
constexpr std::array kAllowed = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
    "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
    "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
    "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mkdir", "mkdirat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
    "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask",
    "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
    "vmsplice", "wait4", "waitid", "waitpid", "write", "writev", "process_vm_readv",
    "process_vm_writev", "ptrace", "arch_prctl", "modify_ldt",
};
// clang-format on

// clone() flags that create namespaces. Without CAP_SYS_ADMIN the kernel would refuse most of
// them anyway, except CLONE_NEWUSER, which is how an unprivileged process gains capabilities in a
// fresh namespace: the attack surface moby's mask (2114060288) closes.
constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
static_assert(kNamespaceFlags == 2114060288, "moby's clone mask");

// personality() values moby allows: PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26 and
// 0xffffffff (the query). Others (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) weaken the address space.
constexpr std::array<uint64_t, 5> kPersonalities = {
    PER_LINUX, PER_LINUX32, UNAME26, uint64_t{PER_LINUX32} | uint64_t{UNAME26}, 0xffffffffULL};

// AF_VSOCK reaches the hypervisor's host side, outside the network namespace.
constexpr uint64_t kAfVsock = 40;

// The character devices a container may make (the kernel's encoding: major << 8 | minor): those
// Docker's device cgroup lets a container open (null, zero, full, random, urandom, tty, ptmx).
// grove has no device cgroup, so with CAP_MKNOD (--cap-add MKNOD) any other node, a block device
// above all, would open the host's disks to the container's root: the filter refuses to make it.
constexpr std::array<uint64_t, 7> kCharDevices = {0x103, 0x105, 0x107, 0x108, 0x109, 0x500, 0x502};

// mknod and mknodat: regular files, FIFOs and sockets (which need no capability), and the
// devices above. The mode and the device number are arguments 1 and 2 of mknod, 2 and 3 of
// mknodat.
void add_mknod_rules(std::vector<Rule>& rules) {
    for (const auto& [name, mode, dev] :
         {std::tuple<std::string_view, unsigned, unsigned>{"mknod", 1, 2}, {"mknodat", 2, 3}}) {
        for (const uint64_t type : {0, S_IFREG, S_IFIFO, S_IFSOCK}) {
            rules.push_back(Rule{
                .names = {name},
                .action = Action::kAllow,
                .args =
                    {{.index = mode, .op = CompareOp::kMaskedEqual, .value = type, .mask = S_IFMT}},
            });
        }
        for (const uint64_t device : kCharDevices) {
            rules.push_back(Rule{
                .names = {name},
                .action = Action::kAllow,
                .args = {{.index = mode,
                          .op = CompareOp::kMaskedEqual,
                          .value = S_IFCHR,
                          .mask = S_IFMT},
                         {.index = dev, .op = CompareOp::kEqual, .value = device}},
            });
        }
    }
}

// moby's rules with includes.caps: the syscalls each capability unlocks.
struct CapSyscalls {
    int cap;
    std::vector<std::string_view> names;
};

const std::vector<CapSyscalls>& cap_syscalls() {
    static const std::vector<CapSyscalls> table = {
        {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
        {CAP_SYS_ADMIN,
         {"bpf",           "clone",         "clone3",      "fanotify_init",   "fsconfig",
          "fsmount",       "fsopen",        "fspick",      "lookup_dcookie",  "mount",
          "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
          "quotactl_fd",   "setdomainname", "sethostname", "setns",           "syslog",
          "umount",        "umount2",       "unshare"}},
        {CAP_SYS_BOOT, {"reboot"}},
        {CAP_SYS_CHROOT, {"chroot"}},
        {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
        {CAP_SYS_PACCT, {"acct"}},
        {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise"}},
        {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
        {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
        {CAP_SYS_TTY_CONFIG, {"vhangup"}},
        {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
        {CAP_SYSLOG, {"syslog"}},
        {CAP_BPF, {"bpf"}},
        {CAP_PERFMON, {"perf_event_open"}},
    };
    return table;
}

// One rule for every syscall `caps` unlocks, each named once (several capabilities unlock bpf,
// syslog and perf_event_open).
std::vector<std::string_view> unlocked_syscalls(uint64_t caps) {
    std::vector<std::string_view> names;
    for (const auto& entry : cap_syscalls()) {
        if ((caps & caps::cap_bit(entry.cap)) != 0) {
            names.insert(names.end(), entry.names.begin(), entry.names.end());
        }
    }
    std::ranges::sort(names);
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace

Profile default_profile(uint64_t caps) {
    Profile profile;
    profile.default_action = Action::kErrno;
    profile.default_errno = EPERM;
    profile.arches = {Arch::kX86_64, Arch::kX86, Arch::kX32};

    profile.rules.push_back(Rule{
        .names = std::vector<std::string_view>(kAllowed.begin(), kAllowed.end()),
        .action = Action::kAllow,
    });
    profile.rules.push_back(Rule{
        .names = {"socket"},
        .action = Action::kAllow,
        .args = {{.index = 0, .op = CompareOp::kNotEqual, .value = kAfVsock}},
    });
    add_mknod_rules(profile.rules);
    if (auto unlocked = unlocked_syscalls(caps); !unlocked.empty()) {
        profile.rules.push_back(Rule{.names = std::move(unlocked), .action = Action::kAllow});
    }
    for (uint64_t persona : kPersonalities) {
        profile.rules.push_back(Rule{
            .names = {"personality"},
            .action = Action::kAllow,
            .args = {{.index = 0, .op = CompareOp::kEqual, .value = persona}},
        });
    }
    if ((caps & caps::cap_bit(CAP_SYS_ADMIN)) != 0) {
        return profile;  // clone and clone3 are allowed whatever their flags, as in moby
    }
    // x86's clone takes the flags in arg0 on every arch we accept (s390 differs; not supported).
    profile.rules.push_back(Rule{
        .names = {"clone"},
        .action = Action::kAllow,
        .args = {{.index = 0, .op = CompareOp::kMaskedEqual, .value = 0, .mask = kNamespaceFlags}},
    });
    // clone3 passes its flags in memory, which seccomp cannot read. ENOSYS (not EPERM) makes glibc
    // and musl fall back to clone, whose flags the rule above inspects.
    profile.rules.push_back(Rule{
        .names = {"clone3"},
        .action = Action::kErrno,
        .errno_ret = ENOSYS,
    });
    return profile;
}

const Profile& default_profile() {
    // Built once: every container run uses it, and it is never modified.
    static const Profile profile = default_profile(caps::kDockerDefaultCaps);
    return profile;
}

uint64_t profile_capabilities() {
    static const uint64_t mask = [] {
        uint64_t caps = 0;
        for (const auto& entry : cap_syscalls()) {
            caps |= caps::cap_bit(entry.cap);
        }
        return caps;
    }();
    return mask;
}

size_t default_allowed_count() {
    return kAllowed.size();
}

}  // namespace grove::runtime::seccomp
