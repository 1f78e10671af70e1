#include "runtime/oci/runtime.hpp"

#include <unistd.h>

#include "base/error.hpp"
#include "runtime/oci/hide_cgroup2.hpp"

namespace grove::runtime::oci {
namespace {

struct Known {
    std::string_view name;
    RuntimeKind kind;
    std::string_view package;  // the Debian package that installs it
};

constexpr Known kKnown[] = {
    {"crun", RuntimeKind::kCrun, "crun"},
    {"runc", RuntimeKind::kRunc, "runc"},
    {"runsc", RuntimeKind::kRunsc, "runsc"},
};

}  // namespace

Result<Runtime> Runtime::find(std::string_view name) {
    const Known* known = nullptr;
    for (const auto& k : kKnown) {
        if (k.name == name) {
            known = &k;
        }
    }
    if (known == nullptr) {
        return base::make_error(Code::kUnimplemented,
                                "OCI runtime '{}' is not supported (choose crun, runc or runsc)",
                                name);
    }
    const std::string program(name);
    auto path = base::find_program(program);
    for (const char* dir : {"/usr/sbin/", "/usr/bin/"}) {
        if (!path && ::access((dir + program).c_str(), X_OK) == 0) {
            path = dir + program;
        }
    }
    if (!path) {
        return base::make_error(
            Code::kNotFound,
            "OCI runtime '{}' is not installed: no '{}' in PATH, /usr/sbin or /usr/bin (install "
            "the Debian package '{}')",
            name, program, known->package);
    }
    const bool hide = known->kind == RuntimeKind::kCrun && crun_refuses_host_cgroups();
    return Runtime(known->kind, program, std::move(path).value(), hide);
}

std::vector<std::string> Runtime::argv(const Invocation& invocation,
                                       std::vector<std::string> subcommand) const {
    std::vector<std::string> out = {path_, "--root", invocation.state_root.string()};
    switch (kind_) {
        case RuntimeKind::kCrun:
            out.insert(out.end(), {"--log=file:" + invocation.log_file.string(),
                                   "--log-format=json", "--cgroup-manager=cgroupfs"});
            break;
        case RuntimeKind::kRunc:
            out.insert(out.end(), {"--log", invocation.log_file.string(), "--log-format", "json"});
            break;
        case RuntimeKind::kRunsc:
            out.insert(out.end(), {"--log", invocation.log_file.string(), "--log-format", "json",
                                   // The spec's network namespace alone is not enough: runsc's
                                   // default "sandbox" network copies the interfaces of the
                                   // namespace, and refuses the host's.
                                   invocation.new_network ? "--network=none" : "--network=host",
                                   // runsc applies no seccomp filter of the spec by default
                                   // (the Sentry is the sandbox); grove asks for it.
                                   "--oci-seccomp",
                                   // Writes must reach the rootfs (the run's upper directory,
                                   // later a snapshot), not a sandbox-private memory overlay.
                                   "--overlay2=none"});
            break;
    }
    out.insert(out.end(), std::make_move_iterator(subcommand.begin()),
               std::make_move_iterator(subcommand.end()));
    return out;
}

Result<void> Runtime::check_limits(const cgroup::Limits& limits) const {
    if (kind_ == RuntimeKind::kRunsc && limits.pids) {
        return base::make_error(
            Code::kUnimplemented,
            "runsc: a pids limit is not supported: gVisor's sandbox counts its own threads "
            "against it, not the container's processes (a limit of 32 kills the sandbox)");
    }
    return {};
}

Result<base::ChildProcess> Runtime::spawn(const base::SpawnOptions& options) const {
    if (!hide_cgroup2_) {
        return base::ChildProcess::spawn(options);
    }
    return with_cgroup2_hidden<base::ChildProcess>(
        [&]() -> Result<base::ChildProcess> { return base::ChildProcess::spawn(options); });
}

Result<base::CommandOutput> Runtime::run(const base::SpawnOptions& options,
                                         std::chrono::milliseconds timeout) const {
    if (!hide_cgroup2_) {
        return base::run_command(options, timeout);
    }
    return with_cgroup2_hidden<base::CommandOutput>(
        [&]() -> Result<base::CommandOutput> { return base::run_command(options, timeout); });
}

}  // namespace grove::runtime::oci
