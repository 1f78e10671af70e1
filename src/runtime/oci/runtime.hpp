#pragma once

// Runtime: one OCI runtime binary (crun, runc or runsc) and how to invoke it on this host.
//
// Every invocation gets the same global flags: --root (a state directory the caller owns, so
// nothing is left in /run/<runtime>), --log/--log-format json (a file where the runtime's own
// errors land as JSON lines, told apart from the container's output), and for runsc the
// network mode. crun is spawned from a thread that hid the cgroup2 mount when this host's
// layout needs it (hide_cgroup2.hpp).

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "base/child_process.hpp"
#include "runtime/cgroup/cgroup.hpp"

namespace grove::runtime::oci {

enum class RuntimeKind { kCrun, kRunc, kRunsc };

// What every invocation of one container shares.
struct Invocation {
    std::filesystem::path state_root;  // --root
    std::filesystem::path log_file;    // --log, JSON lines
    bool new_network = true;           // runsc: --network=none, else --network=host
};

class Runtime {
public:
    // "crun", "runc" or "runsc" (Unimplemented for any other name), found in PATH and then in
    // /usr/sbin and /usr/bin (runc lives in /usr/sbin, which a non-root PATH lacks); NotFound
    // names the Debian package to install.
    static Result<Runtime> find(std::string_view name);

    RuntimeKind kind() const { return kind_; }
    const std::string& name() const { return name_; }
    const std::string& path() const { return path_; }
    // Whether invocations run in a mount namespace without the cgroup2 mount (crun here).
    bool hides_cgroup2() const { return hide_cgroup2_; }
    // Unimplemented for the limits this runtime cannot enforce as grove means them: runsc puts
    // its whole sandbox (the Go Sentry and gofer, with their threads) into the run's cgroup,
    // so a pids limit counts gVisor's threads, not the container's processes, and a small one
    // kills the sandbox. Memory (sandbox overhead included) and cpu work everywhere.
    Result<void> check_limits(const cgroup::Limits& limits) const;

    // argv: the binary, the global flags, then `subcommand` ("run", "--bundle", dir, id).
    std::vector<std::string> argv(const Invocation& invocation,
                                  std::vector<std::string> subcommand) const;

    // ChildProcess::spawn / run_command of `options` (whose argv comes from argv() above), in
    // the cgroup-hiding namespace when hides_cgroup2().
    Result<base::ChildProcess> spawn(const base::SpawnOptions& options) const;
    Result<base::CommandOutput> run(const base::SpawnOptions& options,
                                    std::chrono::milliseconds timeout) const;

private:
    Runtime(RuntimeKind kind, std::string name, std::string path, bool hide_cgroup2)
        : kind_(kind),
          name_(std::move(name)),
          path_(std::move(path)),
          hide_cgroup2_(hide_cgroup2) {}

    RuntimeKind kind_;
    std::string name_;
    std::string path_;
    bool hide_cgroup2_;
};

// The runtimes find() accepts, in the order tests and docs list them.
inline constexpr std::string_view kRuntimeNames[] = {"crun", "runc", "runsc"};

}  // namespace grove::runtime::oci
