#pragma once

// The vocabulary of long-lived containers (Docker's container model): what a client asks for
// (ContainerSpec), what a container is (Container) and where it stands (ContainerState).
// Times are unix nanoseconds, 0 for "never" (Docker's "0001-01-01T00:00:00Z"); the API layer
// formats them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "containers/shim/shim_config.hpp"
#include "runtime/cgroup/cgroup.hpp"

namespace grove::containers {

enum class Network { kNone, kHost };

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
    Network network = Network::kNone;
    bool read_only = false;
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
    int restart_count = 0;
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
