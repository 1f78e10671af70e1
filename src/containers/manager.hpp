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
// A container with a restart policy is restarted by the manager (restart.cpp), with Docker's
// backoff, while a manager is open on the root; one opened again restarts what exited meanwhile.
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
#include <set>
#include <stop_token>
#include <string_view>
#include <thread>
#include <vector>

#include <grove/result.hpp>

#include "archive/apply_layer.hpp"
#include "base/json.hpp"
#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "containers/commit_config.hpp"
#include "containers/container.hpp"
#include "containers/container_files.hpp"
#include "containers/shim/fork_server.hpp"
#include "containers/shim/log_file.hpp"
#include "containers/volumes.hpp"
#include "image/image_store.hpp"
#include "image/janitor.hpp"
#include "inspect/layer_stack.hpp"
#include "network/bridge_network.hpp"
#include "store/metadata/database.hpp"

namespace grove::containers {

struct ManagerOptions {
    std::filesystem::path root;  // usually the image store's root
    // Empty: grove-shim next to the running executable (where groved is installed).
    std::filesystem::path shim;
    // Starts shims by fork instead (groved's); the binary above when it is gone.
    std::shared_ptr<ShimForkServer> shim_fork_server;
    base::Logger log;
    // The bridge network's host-wide state (network/bridge_network.hpp).
    std::filesystem::path network_dir = network::kDefaultNetworkDir;
};

// The healthcheck a container gets: `given` (a spec's), else the Healthcheck of the image config
// `image_config`; none for ["NONE"] or when neither has one. InvalidArgument for a bad test.
Result<std::optional<Healthcheck>> resolve_healthcheck(const Healthcheck& given,
                                                       const base::Json& image_config);

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
    // Cancelled when `stop` is requested. With kNextExit, `seen_start` is the start time the
    // caller saw on a container that was not running then: a start and exit since count, even
    // when both came before this call (docker run waits, then starts, which may win the race).
    Result<WaitResult> wait(std::string_view ref,
                            WaitCondition condition,
                            std::stop_token stop = {},
                            std::optional<int64_t> seen_start = std::nullopt);
    // FailedPrecondition for a running container unless `force` (which kills it first). With
    // `volumes`, its anonymous volumes go too (docker rm -v).
    Result<void> remove(std::string_view ref, bool force, bool volumes = false);
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
    // The window size of a running exec's tty (one being started is waited for a moment);
    // FailedPrecondition when it does not run or has no tty.
    Result<void> exec_resize(std::string_view exec_id, int rows, int cols);

    // The running container's cgroup statistics (docker stats, one sample).
    Result<runtime::cgroup::Stats> stats(std::string_view ref);
    Result<void> close_stdin(std::string_view ref);

    // Called with a container's id and its new health status ("healthy", "unhealthy") each
    // time a probe changes it (Docker's health_status event), from the prober's thread and
    // outside the manager's lock. Setting another (or none) waits for a call under way.
    using HealthListener = std::function<void(const std::string& id, const std::string& status)>;
    void on_health_change(HealthListener listener);

    // The container's files in any state: its upper over its image's layers, read without
    // mounting anything (docker cp from it, docker export). Reading while it runs sees what its
    // writes left in the upper so far.
    Result<inspect::LayerStack> filesystem(std::string_view ref);
    // What it changed over its image (docker diff).
    Result<std::vector<Change>> changes(std::string_view ref);
    // Bytes of disk its changes take: its upper directory's usage (Docker's SizeRw); 0 before
    // its first start.
    Result<uint64_t> size_rw(std::string_view ref);
    // docker cp into it (extract_tar): a running container's live filesystem through its init's
    // root, since writing into an upper under a mounted overlay is undefined; a stopped one
    // through an overlay mounted for the copy alone, detached (never on a path), during which
    // it is not started nor removed.
    Result<void> extract(std::string_view ref,
                         std::string_view path,
                         int input_fd,
                         const archive::ApplyOptions& options);
    // docker commit: a new image, child of the container's, whose layer is a copy of its upper
    // (O(changed files)) and whose config is commit_config()'s.
    Result<store::ImageRecord> commit(std::string_view ref, const CommitSpec& spec);

    Manager(image::ImageStore& store, ManagerOptions options, store::Database db)
        : store_(store),
          options_(std::move(options)),
          db_(std::move(db)),
          volumes_(options_.root / "volumes"),
          janitor_(options_.root / "containers", 0) {}
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;
    // Stops the restart watchers; containers keep running.
    ~Manager();

    // Returns once the directories of the containers removed so far are gone (remove() leaves
    // them to a background thread).
    void wait_for_cleanup() { janitor_.drain(); }

private:
    ContainerPaths paths(const std::string& id) const;
    // The container `ref` names, its state brought up to date; the caller holds mutex_.
    Result<Container> find_locked(std::string_view ref);
    Result<Container> find(std::string_view ref);
    Result<void> reconcile(Container& container);
    Result<void> start_locked(Container& container);
    // The exit of `id` when it was removed, if it is among the last ones; the caller holds mutex_.
    std::optional<WaitResult> removed_exit_locked(const std::string& id) const;
    // Removes the anonymous volumes among `mounts`; a failure is logged, not returned.
    void remove_anonymous_volumes(const std::vector<ContainerMount>& mounts);
    // Starts grove-shim for the container directory `dir`; how its launch went, for the error
    // of a shim that gives no report (the first process's exit, or the forked shim's pid).
    Result<std::string> launch_shim(const std::filesystem::path& dir, int report_fd, int log_fd);
    // The layer directories a container of `image` stacks (the mount point layer on top).
    Result<image::RunDirs> layers(const store::ImageRecord& image, const ShimConfig& config);
    struct Watcher {
        std::jthread thread;
        std::shared_ptr<bool> done;  // set under mutex_ when it stops watching
    };
    using ThreadBody = void (Manager::*)(std::stop_token,
                                         const std::string&,
                                         const std::shared_ptr<bool>&);
    // Runs `body` as the thread of container `id` in `threads`, unless one still runs there; the
    // caller holds mutex_.
    void spawn_locked(std::map<std::string, Watcher, std::less<>>& threads,
                      const std::string& id,
                      ThreadBody body);
    // Restart policies (restart.cpp): a watcher thread per container with a policy, from its
    // start (or a manager's open) until the policy says no more; the caller holds mutex_.
    void watch_locked(const Container& container);
    void watch(std::stop_token stop, const std::string& id, const std::shared_ptr<bool>& done);
    // Healthchecks (health.cpp): a prober thread per container with a healthcheck, from its
    // first start until its removal; the caller holds mutex_.
    void probe_locked(const Container& container);
    void probe(std::stop_token stop, const std::string& id, const std::shared_ptr<bool>& done);
    HealthProbe run_probe(const std::string& id, const Healthcheck& check, std::stop_token stop);
    // Waits until no copy into a stopped `id` is under way; `lock` holds mutex_.
    void wait_not_busy(std::unique_lock<std::mutex>& lock, const std::string& id);
    // The shim's reply to `request`; FailedPrecondition unless the container runs.
    Result<std::string> shim_request_running(std::string_view ref, std::string_view request);
    // Waits for the shim of `id` to end: true once it has, false when `timeout` passed or `stop`
    // was requested (seen within kWaitSlice).
    Result<bool> wait_for_shim(const std::string& id,
                               std::optional<std::chrono::milliseconds> timeout,
                               std::stop_token stop = {});

    image::ImageStore& store_;
    const ManagerOptions options_;
    std::mutex mutex_;                                    // guards db_ and every state change
    std::condition_variable changed_;                     // notified on a start or a removal
    std::map<std::string, ExecInfo, std::less<>> execs_;  // by exec id
    // Stopped containers whose upper a copy has mounted: not started nor removed meanwhile.
    std::set<std::string, std::less<>> busy_;
    // The last exits of removed containers, oldest first: a "removed" waiter that missed the
    // exit and the removal between two looks finds it here.
    std::deque<std::pair<std::string, WaitResult>> removed_;
    store::Database db_;
    std::map<std::string, Watcher, std::less<>> watchers_;  // by container id
    std::map<std::string, Watcher, std::less<>> probers_;   // by container id
    std::map<std::string, Health, std::less<>> health_;     // of running containers, by id
    std::condition_variable_any backoff_;  // never notified: a watcher's interruptible sleep
    std::mutex listener_mutex_;            // held while health_listener_ is set or called
    HealthListener health_listener_;
    // Keeps the bridge up between containers while this manager is open.
    std::optional<network::BridgeNetwork::Hold> network_hold_;
    Volumes volumes_;
    // Removes the directories of removed containers (renamed to .removed-<id> first) off
    // the removal's path; last, so it is done before the rest goes.
    image::Janitor janitor_;
};

}  // namespace grove::containers
