#pragma once

// Compiling a Profile into a classic-BPF program (in the parent, with libseccomp) and installing
// it (in the container's init, between clone and execve, without libseccomp).
//
// The split exists because libseccomp allocates and is not async-signal-safe, while the child of
// a clone() in a multi-threaded process may only make async-signal-safe calls. So the program is
// built once, up front, and the child only hands a pointer to the kernel.

#include <cstddef>
#include <cstdint>
#include <linux/filter.h>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grove/result.hpp>

#include "runtime/seccomp/profile.hpp"

namespace grove::runtime::seccomp {

// A compiled filter: the BPF instructions the kernel runs on every syscall.
class Program {
public:
    explicit Program(std::vector<sock_filter> instructions)
        : instructions_(std::move(instructions)) {}

    std::span<const sock_filter> instructions() const { return instructions_; }
    size_t size() const { return instructions_.size(); }

private:
    std::vector<sock_filter> instructions_;
};

// Resolves every rule's syscall names for each of the profile's architectures and generates the
// BPF with libseccomp. A name no architecture knows (a typo, or a syscall newer than libseccomp)
// is skipped, as moby does, so a profile written for a newer kernel still loads.
Result<Program> compile(const Profile& profile);

// default_profile() compiled once per process; later calls return the same Program.
// Thread-safe. A failure is cached too: it can only come from libseccomp itself.
Result<const Program*> default_program();

// default_profile(caps) compiled, once per distinct profile: Docker's default set (or any set
// equal to it on profile_capabilities()) gets default_program(). Thread-safe; failures are not
// kept, the next call compiles again.
Result<const Program*> default_program(uint64_t caps);

// The program as the kernel takes it (its sock_filter array), and back. A container's shim gets
// the program groved compiled once, instead of compiling it at every start (libseccomp takes
// milliseconds over the three-arch profile). InvalidArgument unless `bytes` holds 1 to
// BPF_MAXINSNS whole instructions.
std::string program_bytes(const Program& program);
Result<Program> program_from_bytes(std::string_view bytes);

// Installs `program` on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER). Returns 0 or
// -errno. Async-signal-safe: no allocation, no libseccomp, one syscall.
//
// The caller must first either hold CAP_SYS_ADMIN or call prctl(PR_SET_NO_NEW_PRIVS, 1), otherwise
// the kernel answers EACCES. grove sets no_new_privs anyway (it is the OCI default), after every
// other privileged step (mounts, pivot_root, capabilities), because the filter denies them.
// No TSYNC: the container's init is single-threaded at that point and the filter is inherited
// across fork and execve.
int install(const Program& program) noexcept;

}  // namespace grove::runtime::seccomp
