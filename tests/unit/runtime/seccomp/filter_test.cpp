// The default program's behaviour, observed from filtered children. Syscalls that would do harm if
// the filter let them through (reboot, kexec_load, init_module) are called with arguments the
// kernel rejects, so a broken filter shows up as EINVAL/EFAULT instead of EPERM.

#include "runtime/seccomp/filter.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "filtered_child.hpp"
#include "runtime/caps/capabilities.hpp"

namespace grove::runtime::seccomp {
namespace {

using testing::result_errno;
using testing::run_filtered;

class DefaultFilter : public ::testing::Test {
protected:
    void SetUp() override {
        Result<const Program*> program = default_program();
        ASSERT_TRUE(program.has_value()) << program.error().to_string();
        program_ = *program;
    }

    template <typename Body>
    int run(Body body) {
        return run_filtered(program_, body);
    }

    const Program* program_ = nullptr;
};

TEST_F(DefaultFilter, AllowsEverydaySyscalls) {
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_getpid)); }), 0);
    EXPECT_EQ(run([] { return result_errno(write(STDERR_FILENO, "", 0)); }), 0);
    EXPECT_EQ(run([] {
                  const int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
                  return fd < 0 ? errno : result_errno(close(fd));
              }),
              0);
    EXPECT_EQ(run([] {
                  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                  return fd < 0 ? errno : result_errno(close(fd));
              }),
              0);
    EXPECT_EQ(run([] { return result_errno(personality(0xffffffff)); }), 0);
}

TEST_F(DefaultFilter, AllowsForkAndCloneWithoutNamespaceFlags) {
    EXPECT_EQ(run([] {
                  const long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
                  if (pid == 0) {
                      testing::exit_now(0);
                  }
                  if (pid < 0) {
                      return errno;
                  }
                  int status = 0;
                  return waitpid(static_cast<pid_t>(pid), &status, 0) < 0 ? errno : status;
              }),
              0);
    // glibc's fork() goes through clone, too.
    EXPECT_EQ(run([] {
                  const pid_t pid = fork();
                  if (pid == 0) {
                      testing::exit_now(0);
                  }
                  int status = 0;
                  return pid < 0 ? errno : (waitpid(pid, &status, 0) < 0 ? errno : status);
              }),
              0);
}

TEST_F(DefaultFilter, DeniesPrivilegedSyscallsWithEperm) {
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, 0)); }),
              EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_umount2, "/proc", MNT_DETACH)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_unshare, CLONE_NEWUSER)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_setns, -1, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_pivot_root, "/", "/")); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_keyctl, 0, 0, 0, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_add_key, 0, 0, 0, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_bpf, -1, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_perf_event_open, 0, 0, -1, -1, 0)); }),
              EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_init_module, 0, 0, "")); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_finit_module, -1, "", 0)); }), EPERM);
    // Bad magic numbers: an unfiltered reboot() answers EINVAL rather than rebooting.
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_reboot, 0, 0, 0, 0)); }), EPERM);
    // Unknown flags: an unfiltered kexec_load answers EINVAL.
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_kexec_load, 0, 0, 0, 0xffffffffUL)); }),
              EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_open_by_handle_at, -1, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_userfaultfd, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_io_uring_setup, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_swapon, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_settimeofday, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_iopl, 0)); }), EPERM);
}

TEST_F(DefaultFilter, DeniesCloneWithNamespaceFlags) {
    for (const unsigned long flag : {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                     CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP}) {
        EXPECT_EQ(run([flag] {
                      const long pid = syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0);
                      if (pid == 0) {
                          testing::exit_now(0);
                      }
                      return result_errno(pid);
                  }),
                  EPERM)
            << std::hex << flag;
    }
}

TEST_F(DefaultFilter, Clone3FailsWithEnosysSoLibcFallsBack) {
    // Unfiltered, clone3(NULL, 0) is EINVAL; ENOSYS can only come from the filter.
    EXPECT_EQ(run_filtered(nullptr, [] { return result_errno(syscall(SYS_clone3, 0, 0)); }),
              EINVAL);
    EXPECT_EQ(run([] { return result_errno(syscall(SYS_clone3, 0, 0)); }), ENOSYS);
}

TEST_F(DefaultFilter, DeniesSocketFamilyVsockAndOddPersonalities) {
    EXPECT_EQ(run([] { return result_errno(socket(AF_VSOCK, SOCK_STREAM, 0)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(personality(READ_IMPLIES_EXEC)); }), EPERM);
    EXPECT_EQ(run([] { return result_errno(personality(ADDR_NO_RANDOMIZE)); }), EPERM);
}

TEST_F(DefaultFilter, UnknownSyscallNumbersFailWithEperm) {
    constexpr long kUnassigned = 1000;
    EXPECT_EQ(run_filtered(nullptr, [] { return result_errno(syscall(kUnassigned)); }), ENOSYS);
    EXPECT_EQ(run([] { return result_errno(syscall(kUnassigned)); }), EPERM);
}

// A 64-bit process can still enter the i386 syscall table with `int $0x80`; this is why the
// filter carries the compat arches. Pointers are truncated there, so only null arguments.
long int80(long nr, long a = 0, long b = 0) {
    long ret = 0;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory");
    return ret;
}

TEST_F(DefaultFilter, FiltersTheI386SyscallTable) {
    constexpr long kI386Getpid = 20;
    constexpr long kI386Unshare = 310;
    if (run_filtered(nullptr, [] { return int80(kI386Getpid) > 0 ? 0 : 1; }) != 0) {
        GTEST_SKIP() << "kernel without IA32 emulation";
    }
    EXPECT_EQ(run([] { return int80(kI386Getpid) > 0 ? 0 : 1; }), 0);
    EXPECT_EQ(run([] { return static_cast<int>(-int80(kI386Unshare, CLONE_NEWUSER)); }), EPERM);
}

TEST_F(DefaultFilter, ExecStillWorks) {
    EXPECT_EQ(run([] {
                  execl("/bin/true", "true", nullptr);
                  return errno;
              }),
              0);
}

TEST_F(DefaultFilter, ShellRunsUnderTheFilter) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const int write_end = fds[1];
    const int code = run([write_end] {
        if (dup2(write_end, STDOUT_FILENO) < 0) {
            return errno;
        }
        execl("/bin/sh", "sh", "-c", "echo ok", nullptr);
        return errno;
    });
    close(fds[1]);
    std::string out(16, '\0');
    const ssize_t n = read(fds[0], out.data(), out.size());
    close(fds[0]);
    EXPECT_EQ(code, 0);
    ASSERT_GT(n, 0);
    out.resize(static_cast<size_t>(n));
    EXPECT_EQ(out, "ok\n");
}

int run_shell(const Program* program, const char* script) {
    return run_filtered(program, [script] {
        const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd >= 0) {
            dup2(null_fd, STDERR_FILENO);
        }
        execl("/bin/sh", "sh", "-c", script, nullptr);
        return 127;
    });
}

TEST_F(DefaultFilter, UnshareCommandCannotCreateAUserNamespace) {
    if (access("/usr/bin/unshare", X_OK) != 0 && access("/bin/unshare", X_OK) != 0) {
        GTEST_SKIP() << "no unshare(1)";
    }
    if (run_shell(nullptr, "unshare -U true") != 0) {
        GTEST_SKIP() << "user namespaces are unavailable even without the filter";
    }
    EXPECT_NE(run_shell(program_, "unshare -U true"), 0);
    EXPECT_NE(run_shell(program_, "unshare -m true"), 0);
    EXPECT_EQ(run_shell(program_, "true"), 0);
}

// What the shim installs is what groved compiled: the bytes give back the same instructions,
// and the program they make filters the same way.
TEST_F(DefaultFilter, SurvivesTheTripThroughBytes) {
    const std::string bytes = program_bytes(*program_);
    EXPECT_EQ(bytes.size(), program_->size() * sizeof(sock_filter));
    auto back = program_from_bytes(bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(program_bytes(*back), bytes);
    EXPECT_EQ(
        run_filtered(
            &*back, [] { return result_errno(syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, 0)); }),
        EPERM);
}

// The profile follows the capabilities: what a capability unlocks in moby's profile passes the
// filter only for a container holding it. Each call below is harmless unfiltered.
const Program* program_for(uint64_t caps) {
    Result<const Program*> program = default_program(caps);
    EXPECT_TRUE(program.has_value()) << program.error().to_string();
    return program.value_or(nullptr);
}

TEST(FilterForCaps, SysAdminAllowsUnshareAndClone3) {
    const Program* with = program_for(caps::kDockerDefaultCaps | caps::cap_bit(CAP_SYS_ADMIN));
    const Program* without = program_for(caps::kDockerDefaultCaps);
    ASSERT_NE(with, nullptr);
    // unshare(0) changes nothing; clone3(NULL, 0) is EINVAL once it reaches the kernel.
    EXPECT_EQ(run_filtered(with, [] { return result_errno(syscall(SYS_unshare, 0)); }), 0);
    EXPECT_EQ(run_filtered(without, [] { return result_errno(syscall(SYS_unshare, 0)); }), EPERM);
    EXPECT_EQ(run_filtered(with, [] { return result_errno(syscall(SYS_clone3, 0, 0)); }), EINVAL);
    EXPECT_EQ(run_filtered(without, [] { return result_errno(syscall(SYS_clone3, 0, 0)); }),
              ENOSYS);
}

TEST(FilterForCaps, SysPtraceAllowsKcmp) {
    const auto kcmp = [] {
        // An unknown comparison type: EINVAL from the kernel, whatever the capabilities.
        return result_errno(syscall(SYS_kcmp, getpid(), getpid(), 99, 0, 0));
    };
    EXPECT_EQ(
        run_filtered(program_for(caps::kDockerDefaultCaps | caps::cap_bit(CAP_SYS_PTRACE)), kcmp),
        EINVAL);
    EXPECT_EQ(run_filtered(program_for(caps::kDockerDefaultCaps), kcmp), EPERM);
}

TEST(FilterForCaps, DroppingSysChrootDeniesChroot) {
    const auto chroot = [] {
        return result_errno(syscall(SYS_chroot, "/nonexistent-grove-chroot"));
    };
    EXPECT_EQ(run_filtered(program_for(caps::kDockerDefaultCaps), chroot), ENOENT);
    EXPECT_EQ(run_filtered(program_for(caps::kDockerDefaultCaps & ~caps::cap_bit(CAP_SYS_CHROOT)),
                           chroot),
              EPERM);
}

TEST(FilterForCaps, MknodMakesOnlyTheDevicesDockerLetsAContainerOpen) {
    // Under a directory that does not exist, so nothing is made: ENOENT means the filter let the
    // call through, EPERM that it did not (the test runs with CAP_MKNOD or without, as it may).
    const auto mknod = [](mode_t mode, dev_t dev) {
        return [mode, dev] {
            return result_errno(
                syscall(SYS_mknodat, AT_FDCWD, "/nonexistent-grove-dir/node", mode, dev));
        };
    };
    const Program* with = program_for(caps::kDockerDefaultCaps | caps::cap_bit(CAP_MKNOD));
    for (const Program* program : {with, program_for(caps::kDockerDefaultCaps)}) {
        EXPECT_EQ(run_filtered(program, mknod(S_IFCHR | 0666, makedev(1, 3))), ENOENT);
        EXPECT_EQ(run_filtered(program, mknod(S_IFIFO | 0666, 0)), ENOENT);
        EXPECT_EQ(run_filtered(program, mknod(S_IFBLK | 0600, makedev(8, 0))), EPERM);
        EXPECT_EQ(run_filtered(program, mknod(S_IFCHR | 0600, makedev(1, 1))), EPERM);  // mem
    }
    EXPECT_EQ(run_filtered(nullptr, mknod(S_IFBLK | 0600, makedev(8, 0))), ENOENT);
    EXPECT_EQ(run_filtered(with,
                           [] {
                               return result_errno(syscall(SYS_mknod, "/nonexistent-grove-dir/node",
                                                           S_IFBLK | 0600, makedev(8, 0)));
                           }),
              EPERM);
}

TEST(ProgramBytes, RefusesWhatIsNotWholeInstructions) {
    EXPECT_FALSE(program_from_bytes(""));
    EXPECT_FALSE(program_from_bytes(std::string(sizeof(sock_filter) + 1, '\0')));
    EXPECT_FALSE(program_from_bytes(std::string(sizeof(sock_filter) * (BPF_MAXINSNS + 1), '\0')));
    EXPECT_TRUE(program_from_bytes(std::string(sizeof(sock_filter) * 2, '\0')));
}

}  // namespace
}  // namespace grove::runtime::seccomp
