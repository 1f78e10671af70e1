#pragma once

// DockerContainers is what the Docker API keeps about containers beyond containers::Manager:
// the parts of a create request the engine has no field for (DockerExtras, one JSON file per
// container under `dir`, so they survive a daemon restart), a watcher per running container that
// publishes its "die" event and removes it after its exit when it was created with AutoRemove
// (docker run --rm), and the wake-up of attach streams waiting for a container to start.
//
// An attach stream holds its container (hold()) so that AutoRemove waits for the stream to have
// sent the container's last output; a hold is let go after kHoldLimit at most.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "containers/manager.hpp"
#include "docker_api/docker_events.hpp"

namespace grove::docker_api {

struct DockerExtras {
    std::string image_name;  // Config.Image as the client gave it
    bool auto_remove = false;
    bool attach_stdin = false;
    bool attach_stdout = false;
    bool attach_stderr = false;
    bool stdin_once = false;
    std::string network_mode = "default";
    int64_t cpu_shares = 0;          // recorded for inspect; the engine has no relative CPU weight
    bool publish_all_ports = false;  // -P, for inspect: the ports it published are in the spec
    // HostConfig's Binds, Mounts and Tmpfs as the client sent them, for inspect.
    base::Json mount_config = base::Json::object();
    // HostConfig.CapAdd/CapDrop as the client wrote them, for inspect: the set they make is the
    // spec's capabilities.
    std::vector<std::string> cap_add;
    std::vector<std::string> cap_drop;
};

class DockerContainers {
public:
    static constexpr std::chrono::seconds kHoldLimit{30};

    // Watches the containers that run already (a daemon restart).
    static Result<std::unique_ptr<DockerContainers>> open(containers::Manager& manager,
                                                          DockerEvents& events,
                                                          std::filesystem::path dir,
                                                          base::Logger log);
    DockerContainers(containers::Manager& manager,
                     DockerEvents& events,
                     std::filesystem::path dir,
                     base::Logger log)
        : manager_(manager), events_(events), dir_(std::move(dir)), log_(std::move(log)) {}
    DockerContainers(const DockerContainers&) = delete;
    DockerContainers& operator=(const DockerContainers&) = delete;
    // Stops the watchers; containers keep running.
    ~DockerContainers();

    containers::Manager& manager() { return manager_; }
    // The container `ref` names (id, id prefix, name); NotFound as dockerd words it.
    Result<containers::Container> find(std::string_view ref);

    Result<void> save(const std::string& id, const DockerExtras& extras);
    // The container's extras; defaults for one created by another client of the Manager.
    DockerExtras extras(const std::string& id) const;
    // Forgets a removed container.
    void forget(const std::string& id);

    // A container event: id, name and image attributes, plus `attributes`.
    void publish(std::string action,
                 const containers::Container& container,
                 std::map<std::string, std::string> attributes = {});
    // Call after the container `id` was (re)started: watches it, wakes attach streams.
    void started(const std::string& id);
    // The container once its start time is after `started_ns` (it started again); Cancelled
    // when `stop` is requested.
    Result<containers::Container> wait_started(const std::string& id,
                                               int64_t started_ns,
                                               std::stop_token stop);

    class Hold {
    public:
        Hold(DockerContainers& owner, std::string id) : owner_(&owner), id_(std::move(id)) {}
        Hold(Hold&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)), id_(std::move(other.id_)) {}
        Hold& operator=(Hold&&) = delete;
        ~Hold();

    private:
        DockerContainers* owner_;
        std::string id_;
    };
    Hold hold(const std::string& id);

private:
    struct Watcher {
        std::jthread thread;
        bool done = false;  // guarded by mutex_
    };
    void watch_locked(const std::string& id);
    void watch(std::stop_token stop, const std::string& id, Watcher& self);
    std::filesystem::path extras_path(const std::string& id) const;

    containers::Manager& manager_;
    DockerEvents& events_;
    const std::filesystem::path dir_;
    base::Logger log_;
    mutable std::mutex mutex_;
    std::condition_variable_any changed_;            // a start, or a hold let go
    uint64_t starts_ = 0;                            // how many started() calls were made
    std::map<std::string, int, std::less<>> holds_;  // by container id
    std::map<std::string, std::unique_ptr<Watcher>, std::less<>> watchers_;
};

}  // namespace grove::docker_api
