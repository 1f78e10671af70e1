#pragma once

// A seccomp profile as plain data, the shape of moby's profiles/seccomp/default.json: a default
// action, the architectures the filter accepts, and rules naming syscalls by name (numbers differ
// per architecture, so names are resolved only when the profile is compiled).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace grove::runtime::seccomp {

enum class Action {
    kAllow,
    kErrno,        // fail the syscall with Rule::errno_ret / Profile::default_errno
    kKillProcess,  // for profiles that prefer a crash to a silent failure
};

// The architectures moby lists for an x86_64 host: a container may run i386 or x32 binaries,
// and a filter that did not know those arches would let their syscall numbers through unchecked.
enum class Arch { kX86_64, kX86, kX32 };

enum class CompareOp {
    kNotEqual,
    kLess,
    kLessOrEqual,
    kEqual,
    kGreaterOrEqual,
    kGreater,
    kMaskedEqual
};

// One comparison of a syscall argument. For kMaskedEqual: (arg & mask) == value.
struct ArgCompare {
    unsigned index = 0;
    CompareOp op = CompareOp::kEqual;
    uint64_t value = 0;
    uint64_t mask = 0;
};

struct Rule {
    // string_view because the default profile's names are literals; a caller building a profile
    // from user input keeps the strings alive until compile() returns.
    std::vector<std::string_view> names;
    Action action = Action::kAllow;
    int errno_ret = 0;
    // All comparisons must hold (libseccomp ANDs them). Several rules for one syscall OR.
    std::vector<ArgCompare> args;
};

struct Profile {
    Action default_action = Action::kErrno;
    int default_errno = 0;
    // The first entry is the native architecture.
    std::vector<Arch> arches;
    std::vector<Rule> rules;
};

// The equivalent of Docker's default profile for a container holding the capabilities `caps`
// (CAP_* bits): unknown syscalls fail with EPERM; what a capability unlocks in moby's profile
// (mount and unshare with CAP_SYS_ADMIN, reboot with CAP_SYS_BOOT, ...) is allowed only with it;
// without CAP_SYS_ADMIN clone may not create namespaces, and clone3 fails with ENOSYS so libcs
// fall back to clone (whose flags a filter can read).
Profile default_profile(uint64_t caps);

// default_profile() for Docker's default set (caps::kDockerDefaultCaps), built once.
const Profile& default_profile();

// The capabilities default_profile() depends on: two sets equal on these get the same profile.
uint64_t profile_capabilities();

// Number of syscall names the default profile allows unconditionally (for tests and logs).
size_t default_allowed_count();

}  // namespace grove::runtime::seccomp
