#pragma once

// The vocabulary of long-lived containers (Docker's container model): what a client asks for
// (ContainerSpec), what a container is (Container) and where it stands (ContainerState).
// Times are unix nanoseconds, 0 for "never" (Docker's "0001-01-01T00:00:00Z"); the API layer
// formats them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "containers/shim/shim_config.hpp"
#include "runtime/cgroup/cgroup.hpp"

namespace grove::containers {

// "none": a namespace with lo only; "host": the host's; "bridge": Docker's default bridge
// (network/bridge_network.hpp), with published ports.
enum class Network { kNone, kHost, kBridge };

// grove's own names (its CLI, client library and /grove/v1 routes): "none" or "host";
// InvalidArgument for others.
Result<Network> grove_network(std::string_view name);

// Docker's restart policies: what happens when a container's command exits on its own.
enum class RestartKind { kNo, kAlways, kUnlessStopped, kOnFailure };

struct RestartPolicy {
    RestartKind kind = RestartKind::kNo;
    int max_retries = 0;  // on-failure: restarts after which it stays exited; 0: no limit
};

// Docker's names: "" and "no", "always", "unless-stopped", "on-failure"; InvalidArgument for
// others, and for a retry count with anything but on-failure.
Result<RestartPolicy> restart_policy(std::string_view name, int max_retries);
std::string_view restart_name(RestartKind kind);

// Docker's Healthcheck: a probe run as an exec in the running container.
struct Healthcheck {
    // ["CMD", argv...], ["CMD-SHELL", "command"] (run by /bin/sh -c) or ["NONE"]; an empty one
    // in a spec means the image's.
    std::vector<std::string> test;
    int64_t interval_ns = 0;      // 0: 30 s, between the end of a probe and the next
    int64_t timeout_ns = 0;       // 0: 30 s, after which the probe is killed and fails
    int retries = 0;              // 0: 3 failures in a row make it unhealthy
    int64_t start_period_ns = 0;  // failures this early after the start do not count
};

struct HealthProbe {
    int64_t start_ns = 0;
    int64_t end_ns = 0;
    int exit_code = 0;   // -1: timed out
    std::string output;  // stdout and stderr, at most 4 KiB
};

// Docker's State.Health.
struct Health {
    std::string status = "starting";  // "starting", "healthy", "unhealthy"
    int failing_streak = 0;
    std::vector<HealthProbe> log;  // the last 5 probes, oldest first
};

struct ContainerSpec {
    std::string image;  // a UUID, a unique UUID prefix or a tag
    std::string name;   // empty: generated; an optional leading '/' is dropped
    // Docker's rules: a given entrypoint replaces the image's and then the image's Cmd too;
    // a given cmd replaces the image's Cmd.
    std::optional<std::vector<std::string>> entrypoint;
    std::optional<std::vector<std::string>> cmd;
    std::vector<std::string> env;  // KEY=VALUE over the image's Env
    std::string workdir;           // empty: the image's WorkingDir, else "/"
    std::string user;              // "user[:group]", names or numbers; empty: the image's User
    std::string hostname;          // empty: the id's first 12 characters, as Docker
    std::map<std::string, std::string> labels;  // over the image's labels
    bool tty = false;
    bool open_stdin = false;
    int stop_signal = 0;                // 0: the image's StopSignal, else SIGTERM
    std::optional<int> stop_timeout_s;  // default 10 s
    runtime::cgroup::Limits limits;
    uint64_t capabilities = runtime::caps::kDockerDefaultCaps;  // CAP_* bits
    Network network = Network::kNone;
    std::vector<network::PortBinding> ports;  // published, on the bridge network only
    bool read_only = false;
    std::vector<ContainerMount> mounts;
    bool init = false;  // Docker's --init: signals reach the command as through tini
    RestartPolicy restart;
    Healthcheck healthcheck;  // Test empty: the image's Healthcheck, if any
};

enum class Status { kCreated, kRunning, kPaused, kRestarting, kExited, kDead };

// Docker's State.Status words: "created", "running", ...
std::string_view status_name(Status status);
std::optional<Status> status_from_name(std::string_view name);

struct ContainerState {
    Status status = Status::kCreated;
    int pid = 0;  // the container's init on the host, 0 unless running
    int exit_code = 0;
    bool oom_killed = false;
    std::string error;
    int64_t started_ns = 0;
    int64_t finished_ns = 0;

    bool running() const { return status == Status::kRunning || status == Status::kPaused; }
};

struct Container {
    std::string id;    // 64 hex digits
    std::string name;  // without Docker's leading '/'
    std::string image_uuid;
    std::string image_ref;  // as the spec named it
    int64_t created_ns = 0;
    std::vector<std::string> entrypoint;  // resolved against the image
    std::vector<std::string> cmd;
    std::string user;
    std::map<std::string, std::string> labels;
    int stop_signal = 0;
    int stop_timeout_s = 10;
    ShimConfig config;  // what the shim runs: argv, env, cwd, uid/gid, tty, limits, ...
    ContainerState state;
    int restart_count = 0;  // automatic restarts (restart policies) since created
    RestartPolicy restart;
    // Stopped through stop() since its last start (Docker's HasBeenManuallyStopped): no
    // restart policy brings it back, but "always" does when a manager opens the root again.
    bool manually_stopped = false;
    // Its probe (the spec's or the image's; none for "NONE"), and where the probes of the current
    // run stand: kept in the manager's memory, so a new manager starts over at "starting".
    std::optional<Healthcheck> healthcheck;
    std::optional<Health> health;
    // On the bridge network while running: its address and published ports (network.json).
    std::optional<NetworkState> network;
};

// Docker's list filters; every set field must match.
struct ListFilter {
    bool all = false;  // false: running (and paused) only, unless a status filter is given
    std::optional<size_t> limit;         // the newest N, all states
    std::vector<Status> status;          // any of
    std::vector<std::string> labels;     // "key" or "key=value", all of
    std::vector<std::string> names;      // substrings of the name, any of
    std::vector<std::string> ids;        // id prefixes, any of
    std::vector<std::string> ancestors;  // image UUIDs, any of
    std::vector<int> exited;             // exit codes of exited containers, any of
    std::optional<std::string> since;    // a container: only those created after it
    std::optional<std::string> before;   // a container: only those created before it
};

enum class WaitCondition {
    kNotRunning,  // returns at once if not running
    kNextExit,    // the next exit, after a (re)start if not running now
    kRemoved,     // once removed (after its exit)
};

// A process to run in a running container (docker exec).
struct ExecConfig {
    std::vector<std::string> cmd;
    std::vector<std::string> env;  // KEY=VALUE over the container's
    std::string workdir;           // empty: the container's
    std::string user;              // empty: the container's
    bool tty = false;
    bool open_stdin = false;
    std::string detach_keys;  // kept for the API that attaches to it (Docker's DetachKeys)
};

struct ExecInfo {
    std::string id;  // 64 hex digits
    std::string container_id;
    ExecConfig config;
    bool running = false;
    int pid = 0;                   // on the host, once started
    std::optional<int> exit_code;  // once ended
};

struct WaitResult {
    int exit_code = 0;
    std::string error;
};

}  // namespace grove::containers
