#pragma once

// What the manager hands a container's shim (config.json in the container's directory) and what
// the shim leaves behind for it (exit.json): the two files of their contract, besides the log
// (log_file.hpp) and the control socket (control.hpp).
//
// The manager resolves everything that needs the image store (the layer directories, the image
// config's defaults, the user), so the shim needs no store: it mounts, starts and supervises.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "network/port_proxy.hpp"
#include "runtime/caps/capabilities.hpp"
#include "runtime/cgroup/cgroup.hpp"

namespace grove::containers {

// A container's directory (<root>/containers/<id>/) and the files in it.
struct ContainerPaths {
    std::filesystem::path dir;

    std::filesystem::path config() const { return dir / "config.json"; }
    std::filesystem::path exit() const { return dir / "exit.json"; }
    // The bridge network of the current run (a NetworkState), while it runs.
    std::filesystem::path network() const { return dir / "network.json"; }
    std::filesystem::path upper() const { return dir / "upper"; }
    std::filesystem::path work() const { return dir / "work"; }
    // The previous start's work dir, until the shim has removed it (start_container.hpp).
    std::filesystem::path old_work() const { return dir / "work.old"; }
    // Where init attaches the overlay inside its own mount namespace (never mounted on the host).
    std::filesystem::path rootfs() const { return dir / "rootfs"; }
    std::filesystem::path log() const { return dir / "container.log"; }
    std::filesystem::path rotated_log() const { return dir / "container.log.1"; }
    // flock'ed by the shim for its whole life: free means no shim.
    std::filesystem::path shim_lock() const { return dir / "shim.lock"; }
    std::filesystem::path shim_log() const { return dir / "shim.log"; }
    // The compiled seccomp filter (runtime::seccomp::program_bytes), written by the manager at
    // each start: groved compiles the profile once, not each shim.
    std::filesystem::path seccomp() const { return dir / "seccomp.bpf"; }
    // The exit of exec `id` (an ExitRecord), written by the shim when the process ended.
    std::filesystem::path execs() const { return dir / "execs"; }
    std::filesystem::path exec_exit(const std::string& id) const {
        return execs() / (id + ".json");
    }
    // Relative: socket paths are limited to 108 bytes, so both sides use it from the directory.
    static constexpr const char* kSocketName = "shim.sock";
};

// One of Docker's mounts (Binds, Mounts, Tmpfs, Config.Volumes): a host directory or file bound
// in, a volume (a directory grove keeps, volumes.hpp) or a tmpfs. In a ContainerSpec, a bind's
// source is the host path asked for and a volume's may be empty (a new anonymous one); in a
// ShimConfig, the manager has made both host paths that exist.
struct ContainerMount {
    enum class Type { kBind, kVolume, kTmpfs };
    Type type = Type::kBind;
    std::string source;  // the host path (a volume's: its directory once resolved)
    std::string name;    // a volume's name; an anonymous one's is 64 hex digits
    std::string target;  // absolute, in the container
    bool read_only = false;
    bool anonymous = false;      // a volume made for this container, which rm -v removes
    bool create_source = false;  // a bind from Binds (-v): a missing host directory is made
    std::string tmpfs_options;   // Docker's syntax (runtime/rootfs/tmpfs_options.hpp)
};

std::string_view mount_type_name(ContainerMount::Type type);  // "bind", "volume", "tmpfs"

struct ShimConfig {
    std::string id;
    std::vector<std::filesystem::path> lowers;  // top first, the mount point layer included
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string cwd = "/";
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string hostname;
    bool host_network = false;
    // The bridge network: its state directory (the store root's network/, see
    // network/bridge_network.hpp); empty for "none" (or host_network).
    std::filesystem::path network_dir;
    std::vector<network::PortBinding> ports;  // published on the bridge network
    bool tty = false;
    bool open_stdin = false;
    bool read_only = false;
    std::vector<ContainerMount> mounts;
    // A real init (Docker's --init, grove-init) is pid 1 and passes every signal on to the
    // command; without it the command is pid 1 (ProcessSpec::command_is_init).
    bool init = false;
    runtime::cgroup::Limits limits;
    // CAP_* bits the command (and every exec) keeps; absent from older records: the default.
    uint64_t capabilities = runtime::caps::kDockerDefaultCaps;
    uint64_t log_max_bytes = 10 << 20;  // per file; one rotated file is kept
};

// A process to start in the running container (docker exec), as the manager resolved it.
struct ExecRequest {
    std::vector<std::string> argv;
    std::vector<std::string> env;  // the whole environment
    std::string cwd = "/";
    uint32_t uid = 0;
    uint32_t gid = 0;
    bool tty = false;
    bool open_stdin = false;
};

// What the shim made of the bridge network for the current run: the container's address and
// the published ports as bound (random host ports filled in).
struct NetworkState {
    std::string ip_address;
    int prefix_len = 0;
    std::string gateway;
    std::string mac_address;
    std::vector<network::PortBinding> ports;
};

struct ExitRecord {
    int exit_code = 0;
    int signal = 0;
    bool oom_killed = false;
    int64_t finished_ns = 0;
    std::string error;  // the container could not start, or its shim failed
};

Result<std::string> to_json(const ShimConfig& config);
Result<ShimConfig> shim_config_from_json(std::string_view text);
std::string to_json(const ExitRecord& record);
Result<ExitRecord> exit_record_from_json(std::string_view text);
std::string to_json(const NetworkState& state);
Result<NetworkState> network_state_from_json(std::string_view text);
// One line of JSON (the shim's "exec" request).
std::string to_json(const ExecRequest& request);
Result<ExecRequest> exec_request_from_json(std::string_view text);
// One line of JSON (the shim's "update" request).
std::string limits_to_json(const runtime::cgroup::Limits& limits);
Result<runtime::cgroup::Limits> limits_from_json(std::string_view text);
// One line of JSON (the shim's "stats" reply).
std::string stats_to_json(const runtime::cgroup::Stats& stats);
Result<runtime::cgroup::Stats> stats_from_json(std::string_view text);

// Writes `data` to `path` through a temporary file and a rename: readers see the old file or the
// whole new one, also after any process dies mid-way. Not fsynced, as containers.db is not
// (Manager::open): a container's state lives no longer than its processes, which a power loss
// ends too, and the manager reconciles what it finds then. The fsyncs cost ~1.5 ms of each
// start-to-exit on this disk.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view data);

int64_t now_ns();

}  // namespace grove::containers
