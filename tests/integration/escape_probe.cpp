// Run inside a sandbox by run_test.cpp: tries the syscalls a container escape needs and prints
// "<name> <errno name>" for each ("<name> ok" if one succeeded). Static, so it runs in any image.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace {

void report(const char* name, long rc) {
    printf("%s %s\n", name, rc >= 0 ? "ok" : strerrorname_np(errno));
}

}  // namespace

int main() {
    report("ptrace-init", ptrace(PTRACE_ATTACH, 1, 0, 0));
    report("raw-socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    report("packet-socket", socket(AF_PACKET, SOCK_RAW, 0));
    int module = open("/probe", O_RDONLY);
    report("finit-module", syscall(SYS_finit_module, module, "", 0));
    report("init-module", syscall(SYS_init_module, nullptr, 0, ""));
    report("unshare-user", unshare(CLONE_NEWUSER));
    report("unshare-mount", unshare(CLONE_NEWNS));
    int ns = open("/proc/1/ns/mnt", O_RDONLY);
    report("setns-mount", ns < 0 ? ns : setns(ns, CLONE_NEWNS));
    report("mount-tmpfs", mount("x", "/tmp", "tmpfs", 0, nullptr));
    report("open-by-handle", syscall(SYS_open_by_handle_at, AT_FDCWD, nullptr, O_RDONLY));
    report("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "probe"));
    bpf_attr attr{};
    report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
    perf_event_attr perf{};
    perf.size = sizeof(perf);
    report("perf-event", syscall(SYS_perf_event_open, &perf, 0, -1, -1, 0));
    report("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                             LINUX_REBOOT_CMD_CAD_OFF, nullptr));
    report("mknod", mknod("/tmp/probe-null", S_IFCHR | 0666, makedev(1, 3)));
    return 0;
}
