#pragma once

// containers::Manager: long-lived containers over the image store, the engine under Docker's
// container endpoints. Each running container belongs to its own grove-shim process
// (shim/shim.hpp), never to the process holding the Manager: destroying the Manager (a daemon
// restart) leaves containers running, and a Manager opened again on the same root adopts them
// through their directories.
//
// On disk, under ManagerOptions::root:
//   containers.db                 the records (container_table.hpp)
//   containers/<id>/config.json   what its shim runs (shim_config.hpp), rewritten at each start
//   containers/<id>/upper, work   the overlay's upper (kept until removal) and work directories
//   containers/<id>/rootfs        where init attaches the overlay in its own mount namespace
//   containers/<id>/container.log[.1]  its output (shim/log_file.hpp)
//   containers/<id>/exit.json     written by the shim when the container exits
//   containers/<id>/shim.lock, shim.sock, shim.log  the shim's lock, control socket, own errors
//
// A container is referred to by its id, a unique id prefix or its name ("/name" too). Methods
// are thread-safe; those that wait (stop, wait, logs with follow) do so without blocking others.
// Errors follow Docker's statuses through their codes: NotFound (404), AlreadyExists for a
// name in use (409), FailedPrecondition for a state conflict (409), InvalidArgument (400).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "containers/container.hpp"
#include "containers/shim/log_file.hpp"
#include "image/image_store.hpp"
#include "store/metadata/database.hpp"

namespace grove::containers {

struct ManagerOptions {
    std::filesystem::path root;  // usually the image store's root
    // Empty: grove-shim next to the running executable (where groved is installed).
    std::filesystem::path shim;
    base::Logger log;
};

struct LogOptions {
    bool stdout = true;
    bool stderr = true;
    int64_t since_ns = 0;        // records at or after; 0: from the start
    int64_t until_ns = 0;        // records before; 0: no end
    std::optional<size_t> tail;  // the last N lines only
    bool follow = false;         // then what comes next, until the container stops
};

class Manager {
public:
    static Result<std::unique_ptr<Manager>> open(image::ImageStore& store, ManagerOptions options);

    Result<Container> create(const ContainerSpec& spec);
    // False when it was running already (Docker's 304).
    Result<bool> start(std::string_view ref);
    // Sends `signal` to the container's command; FailedPrecondition unless running.
    Result<void> kill(std::string_view ref, int signal);
    // The container's stop signal, then SIGKILL after `timeout` (default: its stop timeout).
    // False when it was not running (304).
    Result<bool> stop(std::string_view ref, std::optional<std::chrono::seconds> timeout);
    Result<void> restart(std::string_view ref, std::optional<std::chrono::seconds> timeout);
    Result<void> pause(std::string_view ref);
    Result<void> unpause(std::string_view ref);
    // New limits, applied at once to a running container; unset fields are kept.
    Result<Container> update(std::string_view ref, const runtime::cgroup::Limits& limits);
    // Cancelled when `stop` is requested.
    Result<WaitResult> wait(std::string_view ref,
                            WaitCondition condition,
                            std::stop_token stop = {});
    // FailedPrecondition for a running container unless `force` (which kills it first).
    Result<void> remove(std::string_view ref, bool force);
    Result<void> rename(std::string_view ref, std::string_view name);
    Result<Container> inspect(std::string_view ref);
    Result<std::vector<Container>> list(const ListFilter& filter);

    // The container's output as line records (a line keeps its chunk's time), in order;
    // `on_record` returning false ends early, as does `stop`.
    Result<void> logs(std::string_view ref,
                      const LogOptions& options,
                      const std::function<bool(const LogRecord&)>& on_record,
                      std::stop_token stop = {});
    // A connection to the running container: its output from now on, in Docker's multiplexed
    // frames (raw with a tty), and what is written to it goes to its stdin (with open_stdin).
    // With `stdin_once`, shutting down the write side closes the container's stdin once what
    // was written reached it (Docker's StdinOnce).
    Result<base::UniqueFd> attach(std::string_view ref, bool stdin_once = false);
    Result<void> resize(std::string_view ref, int rows, int cols);
    // docker exec: create records the process for the running container, start runs it and
    // returns its stream (Docker's frames, raw with a tty; what is written goes to its stdin,
    // and shutting down the write side closes it; closing the fd detaches), and inspect says
    // whether it runs and how it ended. Execs live in memory: a new Manager forgets them.
    Result<std::string> exec_create(std::string_view ref, const ExecConfig& config);
    Result<base::UniqueFd> exec_start(std::string_view exec_id);
    Result<ExecInfo> exec_inspect(std::string_view exec_id);

    // The running container's cgroup statistics (docker stats, one sample).
    Result<runtime::cgroup::Stats> stats(std::string_view ref);
    Result<void> close_stdin(std::string_view ref);

    Manager(image::ImageStore& store, ManagerOptions options, store::Database db)
        : store_(store), options_(std::move(options)), db_(std::move(db)) {}

private:
    ContainerPaths paths(const std::string& id) const;
    // The container `ref` names, its state brought up to date; the caller holds mutex_.
    Result<Container> find_locked(std::string_view ref);
    Result<Container> find(std::string_view ref);
    Result<void> reconcile(Container& container);
    Result<void> start_locked(Container& container);
    // The shim's reply to `request`; FailedPrecondition unless the container runs.
    Result<std::string> shim_request_running(std::string_view ref, std::string_view request);
    // Waits for the shim of `id` to end: true once it has, false when `timeout` passed.
    Result<bool> wait_for_shim(const std::string& id,
                               std::optional<std::chrono::milliseconds> timeout);

    image::ImageStore& store_;
    const ManagerOptions options_;
    std::mutex mutex_;                                    // guards db_ and every state change
    std::condition_variable changed_;                     // notified on a start or a removal
    std::map<std::string, ExecInfo, std::less<>> execs_;  // by exec id
    // The last exits of removed containers, oldest first: a "removed" waiter that missed the
    // exit and the removal between two looks finds it here.
    std::deque<std::pair<std::string, WaitResult>> removed_;
    store::Database db_;
};

}  // namespace grove::containers
