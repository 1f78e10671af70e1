#include "runtime/seccomp/filter.hpp"

#include <cerrno>
#include <cstring>
#include <linux/seccomp.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/caps/capabilities.hpp"

namespace grove::runtime::seccomp {
namespace {

struct ContextDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

uint32_t action_token(Action action, int errno_ret) {
    switch (action) {
        case Action::kAllow:
            return SCMP_ACT_ALLOW;
        case Action::kErrno:
            return SCMP_ACT_ERRNO(static_cast<uint32_t>(errno_ret));
        case Action::kKillProcess:
            return SCMP_ACT_KILL_PROCESS;
    }
    return SCMP_ACT_KILL_PROCESS;
}

uint32_t arch_token(Arch arch) {
    switch (arch) {
        case Arch::kX86_64:
            return SCMP_ARCH_X86_64;
        case Arch::kX86:
            return SCMP_ARCH_X86;
        case Arch::kX32:
            return SCMP_ARCH_X32;
    }
    return SCMP_ARCH_NATIVE;
}

scmp_arg_cmp to_scmp(const ArgCompare& cmp) {
    switch (cmp.op) {
        case CompareOp::kNotEqual:
            return SCMP_CMP(cmp.index, SCMP_CMP_NE, cmp.value);
        case CompareOp::kLess:
            return SCMP_CMP(cmp.index, SCMP_CMP_LT, cmp.value);
        case CompareOp::kLessOrEqual:
            return SCMP_CMP(cmp.index, SCMP_CMP_LE, cmp.value);
        case CompareOp::kEqual:
            return SCMP_CMP(cmp.index, SCMP_CMP_EQ, cmp.value);
        case CompareOp::kGreaterOrEqual:
            return SCMP_CMP(cmp.index, SCMP_CMP_GE, cmp.value);
        case CompareOp::kGreater:
            return SCMP_CMP(cmp.index, SCMP_CMP_GT, cmp.value);
        case CompareOp::kMaskedEqual:
            // libseccomp's order is (mask, datum).
            return SCMP_CMP(cmp.index, SCMP_CMP_MASKED_EQ, cmp.mask, cmp.value);
    }
    return SCMP_CMP(cmp.index, SCMP_CMP_EQ, cmp.value);
}

Result<void> add_rule(scmp_filter_ctx ctx, const Rule& rule) {
    if (rule.args.size() > 6) {
        return base::make_error(Code::kInvalidArgument,
                                "seccomp rule compares {} arguments (max 6)", rule.args.size());
    }
    std::vector<scmp_arg_cmp> cmps;
    cmps.reserve(rule.args.size());
    for (const ArgCompare& cmp : rule.args) {
        if (cmp.index > 5) {
            return base::make_error(Code::kInvalidArgument,
                                    "seccomp rule compares argument {} (max 5)", cmp.index);
        }
        cmps.push_back(to_scmp(cmp));
    }
    const uint32_t action = action_token(rule.action, rule.errno_ret);
    for (std::string_view name : rule.names) {
        const std::string name_z(name);
        // A negative number other than __NR_SCMP_ERROR is a syscall the native arch lacks but
        // another filter arch has (chown32); libseccomp places it on the arches that know it.
        const int nr = seccomp_syscall_resolve_name(name_z.c_str());
        if (nr == __NR_SCMP_ERROR) {
            continue;
        }
        const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()),
                                              cmps.data());
        if (rc < 0) {
            return base::errno_error(-rc, "add seccomp rule for '{}'", name);
        }
    }
    return {};
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
    // libseccomp 2.5.4 has no seccomp_export_bpf_mem (added in 2.6), so it writes to a memfd.
    GROVE_ASSIGN_OR_RETURN(base::UniqueFd fd, base::UniqueFd::memfd("grove-seccomp"));
    if (const int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) {
        return base::errno_error(-rc, "export seccomp bpf");
    }
    if (lseek(fd.get(), 0, SEEK_SET) < 0) {
        return base::last_errno_error("seek seccomp bpf memfd");
    }
    GROVE_ASSIGN_OR_RETURN(std::string bytes, base::read_all(fd.get()));
    if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
        return base::make_error(Code::kInternal, "seccomp bpf has {} bytes, not whole instructions",
                                bytes.size());
    }
    // The kernel's limit; a larger program would fail only later, in the child.
    if (bytes.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
        return base::make_error(Code::kInvalidArgument, "seccomp bpf has {} instructions (max {})",
                                bytes.size() / sizeof(sock_filter), BPF_MAXINSNS);
    }
    std::vector<sock_filter> instructions(bytes.size() / sizeof(sock_filter));
    std::memcpy(instructions.data(), bytes.data(), bytes.size());
    return instructions;
}

}  // namespace

Result<Program> compile(const Profile& profile) {
    if (profile.arches.empty()) {
        return base::make_error(Code::kInvalidArgument, "seccomp profile names no architecture");
    }
    Context ctx(seccomp_init(action_token(profile.default_action, profile.default_errno)));
    if (!ctx) {
        return base::make_error(Code::kInternal, "seccomp_init failed");
    }
    // A binary tree of syscall numbers instead of a linear chain: the kernel runs the filter
    // once per syscall number when it builds its action cache at install time, so a 1000-
    // instruction chain cost ~0.9 ms per container start (and more per filtered syscall).
    if (const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
        return base::errno_error(-rc, "seccomp binary-tree optimization");
    }
    // seccomp_init created a filter for the build's native arch; the profile decides which
    // arches exist, so replace it unless the profile names it.
    const uint32_t native = seccomp_arch_native();
    bool keep_native = false;
    for (Arch arch : profile.arches) {
        const uint32_t token = arch_token(arch);
        if (token == native) {
            keep_native = true;
            continue;
        }
        if (const int rc = seccomp_arch_add(ctx.get(), token); rc < 0 && rc != -EEXIST) {
            return base::errno_error(-rc, "add seccomp architecture {:#x}", token);
        }
    }
    if (!keep_native) {
        if (const int rc = seccomp_arch_remove(ctx.get(), native); rc < 0) {
            return base::errno_error(-rc, "remove native seccomp architecture");
        }
    }
    for (const Rule& rule : profile.rules) {
        GROVE_TRY(add_rule(ctx.get(), rule));
    }
    GROVE_ASSIGN_OR_RETURN(std::vector<sock_filter> instructions, export_bpf(ctx.get()));
    return Program(std::move(instructions));
}

Result<const Program*> default_program() {
    // A function-local static: built on first use, once, even with concurrent callers.
    static const Result<Program> program = compile(default_profile());
    if (!program.has_value()) {
        Error error = program.error();
        error.add_context("compile the default seccomp profile");
        return error;
    }
    return &*program;
}

Result<const Program*> default_program(uint64_t caps) {
    const uint64_t key = caps & profile_capabilities();
    if (key == (caps::kDockerDefaultCaps & profile_capabilities())) {
        return default_program();
    }
    // Few containers ask for other capabilities, and those few sets repeat: each is compiled once
    // and kept for the process's life (at most 2^14 keys, in practice a handful).
    static std::mutex mutex;
    static std::map<uint64_t, std::unique_ptr<const Program>> programs;
    const std::scoped_lock lock(mutex);
    auto& program = programs[key];
    if (program == nullptr) {
        auto compiled = compile(default_profile(key));
        if (!compiled.has_value()) {
            Error error = compiled.error();
            error.add_context(
                fmt::format("compile the seccomp profile for capabilities {:#x}", key));
            programs.erase(key);
            return error;
        }
        program = std::make_unique<const Program>(std::move(*compiled));
    }
    return program.get();
}

std::string program_bytes(const Program& program) {
    const auto bytes = std::as_bytes(program.instructions());
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Result<Program> program_from_bytes(std::string_view bytes) {
    const size_t count = bytes.size() / sizeof(sock_filter);
    if (bytes.size() % sizeof(sock_filter) != 0 || count == 0 || count > BPF_MAXINSNS) {
        return base::make_error(Code::kInvalidArgument,
                                "a seccomp program of {} bytes is not 1 to {} instructions",
                                bytes.size(), BPF_MAXINSNS);
    }
    std::vector<sock_filter> instructions(count);
    std::memcpy(instructions.data(), bytes.data(), bytes.size());
    return Program(std::move(instructions));
}

int install(const Program& program) noexcept {
    const std::span<const sock_filter> instructions = program.instructions();
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(instructions.size());
    // The kernel copies the program and never writes it; the field is just not const.
    fprog.filter = const_cast<sock_filter*>(instructions.data());
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
        return -errno;
    }
    return 0;
}

}  // namespace grove::runtime::seccomp
