#include "runtime/seccomp/profile.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "filtered_child.hpp"
#include "runtime/caps/capabilities.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::runtime::seccomp {
namespace {

using testing::result_errno;
using testing::run_filtered;

bool allows(const Profile& profile, std::string_view name) {
    return std::any_of(profile.rules.begin(), profile.rules.end(), [&](const Rule& rule) {
        return rule.action == Action::kAllow && rule.args.empty() &&
               std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end();
    });
}

// What a sanitized test child needs besides the syscall under test: ASan touches its alternate
// signal stack and maps memory around calls, even on the way to exit_group.
Rule sanitizer_runtime_rule() {
    return Rule{.names = {"exit_group", "exit", "sigaltstack", "gettid", "write", "mmap", "munmap",
                          "madvise", "rt_sigaction", "rt_sigprocmask"}};
}

TEST(DefaultProfile, MatchesMobyShape) {
    const Profile& profile = default_profile();
    EXPECT_EQ(profile.default_action, Action::kErrno);
    EXPECT_EQ(profile.default_errno, EPERM);
    EXPECT_EQ(profile.arches, (std::vector<Arch>{Arch::kX86_64, Arch::kX86, Arch::kX32}));
    EXPECT_GE(default_allowed_count(), 340u);
    for (std::string_view name : {"read", "execve", "openat", "ptrace", "chroot", "arch_prctl"}) {
        EXPECT_TRUE(allows(profile, name)) << name;
    }
    for (std::string_view name : {"mount",
                                  "umount2",
                                  "pivot_root",
                                  "unshare",
                                  "setns",
                                  "bpf",
                                  "perf_event_open",
                                  "keyctl",
                                  "add_key",
                                  "request_key",
                                  "init_module",
                                  "finit_module",
                                  "delete_module",
                                  "kexec_load",
                                  "kexec_file_load",
                                  "reboot",
                                  "swapon",
                                  "swapoff",
                                  "acct",
                                  "settimeofday",
                                  "clock_settime",
                                  "open_by_handle_at",
                                  "userfaultfd",
                                  "iopl",
                                  "ioperm",
                                  "io_uring_setup",
                                  "clone",
                                  "clone3",
                                  "socket",
                                  "personality"}) {
        EXPECT_FALSE(allows(profile, name)) << name;
    }
}

TEST(DefaultProfile, FollowsTheCapabilities) {
    const Profile plain = default_profile(caps::kDockerDefaultCaps);
    const Profile admin = default_profile(caps::kDockerDefaultCaps | caps::cap_bit(CAP_SYS_ADMIN));
    for (std::string_view name : {"mount", "umount2", "unshare", "setns", "clone", "clone3"}) {
        EXPECT_FALSE(allows(plain, name)) << name;
        EXPECT_TRUE(allows(admin, name)) << name;
    }
    // excludes.caps: the namespace-flag check on clone and clone3's ENOSYS only without it.
    const auto errno_rules = [](const Profile& profile) {
        return std::count_if(profile.rules.begin(), profile.rules.end(),
                             [](const Rule& rule) { return rule.action == Action::kErrno; });
    };
    EXPECT_EQ(errno_rules(plain), 1);
    EXPECT_EQ(errno_rules(admin), 0);

    const std::pair<int, std::string_view> unlocks[] = {
        {CAP_SYS_BOOT, "reboot"},
        {CAP_SYS_MODULE, "finit_module"},
        {CAP_SYS_TIME, "clock_settime"},
        {CAP_SYS_PTRACE, "kcmp"},
        {CAP_SYS_RAWIO, "iopl"},
        {CAP_SYS_PACCT, "acct"},
        {CAP_SYS_NICE, "mbind"},
        {CAP_SYSLOG, "syslog"},
        {CAP_BPF, "bpf"},
        {CAP_PERFMON, "perf_event_open"},
        {CAP_DAC_READ_SEARCH, "open_by_handle_at"},
        {CAP_SYS_TTY_CONFIG, "vhangup"},
    };
    for (const auto& [cap, name] : unlocks) {
        EXPECT_FALSE(allows(plain, name)) << name;
        EXPECT_TRUE(allows(default_profile(caps::kDockerDefaultCaps | caps::cap_bit(cap)), name))
            << name;
        EXPECT_NE(profile_capabilities() & caps::cap_bit(cap), 0u) << name;
    }
    EXPECT_TRUE(allows(plain, "chroot"));
    EXPECT_FALSE(allows(default_profile(caps::kDockerDefaultCaps & ~caps::cap_bit(CAP_SYS_CHROOT)),
                        "chroot"));
    // What no capability unlocks stays denied even with all of them.
    const Profile all = default_profile(~uint64_t{0});
    for (std::string_view name :
         {"keyctl", "kexec_load", "swapon", "userfaultfd", "pivot_root", "io_uring_setup"}) {
        EXPECT_FALSE(allows(all, name)) << name;
    }
}

TEST(Compile, ProgramPerCapabilitiesIsCached) {
    Result<const Program*> plain = default_program();
    ASSERT_TRUE(plain.has_value()) << plain.error().to_string();
    // Capabilities the profile does not depend on share the default program.
    EXPECT_EQ(default_program(caps::kDockerDefaultCaps).value_or(nullptr), *plain);
    EXPECT_EQ(
        default_program(caps::kDockerDefaultCaps | caps::cap_bit(CAP_NET_RAW)).value_or(nullptr),
        *plain);
    const uint64_t admin = caps::kDockerDefaultCaps | caps::cap_bit(CAP_SYS_ADMIN);
    Result<const Program*> first = default_program(admin);
    ASSERT_TRUE(first.has_value()) << first.error().to_string();
    EXPECT_NE(*first, *plain);
    EXPECT_EQ(default_program(admin).value_or(nullptr), *first);
}

TEST(Compile, DefaultProfileCompilesForAllArches) {
    Result<Program> program = compile(default_profile());
    ASSERT_TRUE(program.has_value()) << program.error().to_string();
    // Three arch sections with ~350 syscalls each; well under the kernel's 4096 limit.
    EXPECT_GT(program->size(), 300u);
    EXPECT_LE(program->size(), static_cast<size_t>(BPF_MAXINSNS));
}

TEST(Compile, DefaultProgramIsCompiledOnce) {
    Result<const Program*> first = default_program();
    ASSERT_TRUE(first.has_value()) << first.error().to_string();
    Result<const Program*> second = default_program();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(*first, *second);
}

TEST(Compile, UnknownSyscallNameIsSkipped) {
    const Profile profile{
        .default_action = Action::kErrno,
        .default_errno = EPERM,
        .arches = {Arch::kX86_64},
        .rules = {Rule{.names = {"no_such_syscall_grove", "getpid"}}, sanitizer_runtime_rule()},
    };
    Result<Program> program = compile(profile);
    ASSERT_TRUE(program.has_value()) << program.error().to_string();
    EXPECT_EQ(run_filtered(&*program, [] { return result_errno(syscall(SYS_getpid)); }), 0);
    EXPECT_EQ(run_filtered(&*program, [] { return result_errno(syscall(SYS_getppid)); }), EPERM);
}

TEST(Compile, RejectsInvalidProfiles) {
    EXPECT_EQ(compile(Profile{}).error().code(), Code::kInvalidArgument);
    const Profile bad_index{
        .arches = {Arch::kX86_64},
        .rules = {Rule{.names = {"socket"}, .args = {{.index = 6}}}},
    };
    EXPECT_EQ(compile(bad_index).error().code(), Code::kInvalidArgument);
}

TEST(Compile, NativeArchOnlyProfile) {
    const Profile profile{.arches = {Arch::kX86_64}, .rules = {Rule{.names = {"getpid"}}}};
    Result<Program> native_only = compile(profile);
    ASSERT_TRUE(native_only.has_value()) << native_only.error().to_string();
    Result<Program> all =
        compile(Profile{.arches = {Arch::kX86_64, Arch::kX86, Arch::kX32}, .rules = profile.rules});
    ASSERT_TRUE(all.has_value());
    EXPECT_LT(native_only->size(), all->size());
}

}  // namespace
}  // namespace grove::runtime::seccomp
