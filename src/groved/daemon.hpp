#pragma once

// Daemon is groved put together: the image store on the root, the runner, the daemon's state
// (recovering from a crash as it opens), the files and operations services, the long-lived
// containers (containers::Manager on the root, with grove-shim found next to groved; running
// containers are adopted, not restarted), and the HTTP server
// serving the ConTree API on every --listen listener and the Docker Engine API on every
// --docker-listen one. tools/main_groved.cpp turns flags and the config
// file into a DaemonConfig, starts a Daemon, and stops it on SIGTERM.
//
// Stopping: the server stops accepting and lets requests in flight finish for the grace period
// (event streams and downloads are cut after it), then the operations service fails what is
// queued and stops what runs ("daemon shutting down"), and the state is closed. A daemon killed
// instead leaves unfinished operations that the next start fails ("daemon restarted").

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "api/auth.hpp"
#include "base/log.hpp"
#include "containers/manager.hpp"
#include "daemon/files.hpp"
#include "daemon/operations.hpp"
#include "daemon/state_db.hpp"
#include "docker_api/docker_containers.hpp"
#include "docker_api/docker_events.hpp"
#include "engine/runner.hpp"
#include "http/server.hpp"
#include "image/image_store.hpp"
#include "registry/registry_config.hpp"

namespace grove::groved {

struct DaemonConfig {
    std::string root = "/var/lib/grove";
    // "unix:///run/grove/grove.sock" or "tcp://127.0.0.1:7070" ("tcp://[::1]:7070").
    std::vector<std::string> listen{"unix:///run/grove/grove.sock"};
    // The Docker Engine API's listeners, same forms ("unix:///run/grove/docker.sock"); none by
    // default.
    std::vector<std::string> docker_listen;
    std::string token_file;  // empty: only local root, on unix sockets
    bool trust_local_root = true;
    std::string socket_group;               // a group name or gid for the unix sockets; empty: ours
    std::vector<std::string> api_prefixes;  // "/sandboxes" serves "/sandboxes/v1/..." too
    std::vector<std::string> registry_mirrors;     // "docker.io=http://127.0.0.1:5000"
    std::vector<std::string> insecure_registries;  // "host[:port]"
    std::vector<std::string> auth_files;           // Docker config.json / containers auth.json
    size_t workers = 4;
    size_t max_pending = 1024;
    uint32_t instance_max_timeout = 3600;  // seconds
    uint32_t import_max_timeout = 3600;
    uint64_t max_upload_bytes = uint64_t{1} << 30;
    bool tune_cgroups = true;
    std::chrono::milliseconds shutdown_grace{10'000};
    // Forked by main() before any thread (fork_server.hpp); none: shims are executed.
    std::shared_ptr<containers::ShimForkServer> shim_fork_server;
};

class Daemon {
public:
    // Opens everything and binds the listeners; serve with start().
    static Result<std::unique_ptr<Daemon>> open(const DaemonConfig& config, base::Logger log);
    // Use open().
    Daemon(DaemonConfig config, base::Logger log)
        : config_(std::move(config)), log_(std::move(log)) {}
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon();

    Result<void> start();
    // Idempotent; the destructor calls it too.
    void stop();

    // Every listener, ConTree's first.
    const std::vector<http::ListenerInfo>& listeners() const { return listeners_; }

private:
    Result<void> open_services();
    Result<void> listen();
    Result<void> listen_on(const std::string& spec,
                           const http::Router& router,
                           std::optional<gid_t> group,
                           std::string_view api);

    DaemonConfig config_;
    base::Logger log_;
    // In dependency order: each may use the ones above it, and they go in reverse.
    std::unique_ptr<image::ImageStore> images_;
    std::unique_ptr<engine::Runner> runner_;
    std::unique_ptr<daemon::StateDb> state_;
    std::unique_ptr<daemon::Files> files_;
    std::unique_ptr<daemon::Operations> operations_;
    std::unique_ptr<api::Authenticator> auth_;
    std::unique_ptr<registry::RegistryConfig> registry_;  // the Docker API's pulls
    std::unique_ptr<containers::Manager> containers_;     // the Docker API's containers
    docker_api::DockerEvents docker_events_;
    std::unique_ptr<docker_api::DockerContainers> docker_containers_;
    std::unique_ptr<http::Server> server_;
    std::vector<http::ListenerInfo> listeners_;
    std::vector<std::string> listener_apis_;  // "ConTree" or "Docker", per listener
    bool stopped_ = false;
};

// A --listen value, parsed.
struct ListenAddress {
    http::Transport transport = http::Transport::kUnix;
    std::string path;  // unix
    std::string host;  // tcp
    uint16_t port = 0;
};
Result<ListenAddress> parse_listen_address(std::string_view spec);

}  // namespace grove::groved
