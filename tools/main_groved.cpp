// groved: the grove daemon. Serves the ConTree API (/v1) and the Docker Engine API over unix
// sockets and TCP:
//
//   groved --root /var/lib/grove --listen unix:///run/grove/grove.sock
//          --listen tcp://127.0.0.1:7070 --token-file /etc/grove/tokens
//          --docker-listen unix:///run/grove/docker.sock
//          --registry-mirror docker.io=http://127.0.0.1:5000
//
// Every flag may also be set in a config file (--config FILE, TOML: `root = "/srv/grove"`,
// `listen = ["unix:///run/grove/grove.sock", "tcp://127.0.0.1:7070"]`, `workers = 8`); flags
// given on the command line win. Logs are JSON lines on stderr. SIGTERM or SIGINT stops it
// gracefully (see groved/daemon.hpp).

#include <csignal>
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/version.hpp"
#include "containers/shim/fork_server.hpp"
#include "groved/daemon.hpp"

namespace {

grove::base::LogLevel log_level(const std::string& name) {
    using grove::base::LogLevel;
    return name == "debug"   ? LogLevel::kDebug
           : name == "warn"  ? LogLevel::kWarn
           : name == "error" ? LogLevel::kError
                             : LogLevel::kInfo;
}

void add_options(CLI::App& app, grove::groved::DaemonConfig& config) {
    app.add_option("--root", config.root, "The store's directory")->capture_default_str();
    app.add_option("--listen", config.listen, "unix:///path or tcp://host:port (repeatable)")
        ->capture_default_str();
    app.add_option("--docker-listen", config.docker_listen,
                   "Docker Engine API: unix:///path or tcp://host:port (repeatable)");
    app.add_option("--token-file", config.token_file,
                   "Bearer tokens, one per line (needed for TCP)");
    app.add_flag("!--no-trust-local-root", config.trust_local_root,
                 "Require a token from root on unix sockets too");
    app.add_option("--socket-group", config.socket_group, "Group owning the unix sockets");
    app.add_option("--api-prefix", config.api_prefixes,
                   "Serve the API under PREFIX/v1 as well, e.g. /sandboxes");
    app.add_option("--registry-mirror", config.registry_mirrors,
                   "domain=URL, e.g. docker.io=http://127.0.0.1:5000 (repeatable)");
    app.add_option("--insecure-registry", config.insecure_registries,
                   "host[:port] reached over plain HTTP (repeatable)");
    app.add_option("--auth-file", config.auth_files,
                   "Registry logins: Docker config.json or containers auth.json");
    app.add_option("--workers", config.workers, "Operations executing at once")
        ->capture_default_str();
    app.add_option("--max-pending", config.max_pending, "Operations queued beyond the workers")
        ->capture_default_str();
    app.add_option("--instance-max-timeout", config.instance_max_timeout,
                   "Cap on a run's timeout, seconds")
        ->capture_default_str();
    app.add_option("--import-max-timeout", config.import_max_timeout,
                   "Cap on an import's timeout, seconds")
        ->capture_default_str();
    app.add_option("--max-upload-size", config.max_upload_bytes, "Largest upload, bytes")
        ->capture_default_str();
    app.add_flag("!--no-cgroup-tuning", config.tune_cgroups,
                 "Leave the host's cgroup settings alone");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"groved: the grove container sandbox daemon"};
    app.set_version_flag("-v,--version", fmt::format("groved {}", grove::base::version()));
    app.set_config("--config", "", "A TOML file setting any of the flags");
    grove::groved::DaemonConfig config;
    std::string level = "info";
    double grace_seconds = 10;
    add_options(app, config);
    app.add_option("--log-level", level, "debug, info, warn or error")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    app.add_option("--shutdown-grace", grace_seconds,
                   "Seconds requests in flight may take to finish on SIGTERM");
    CLI11_PARSE(app, argc, argv);
    // First, while this process has one thread (fork_server.hpp).
    const auto log = grove::base::Logger::stderr_json(log_level(level));
    if (auto server = grove::containers::ShimForkServer::start()) {
        config.shim_fork_server = std::move(*server);
    } else {
        log.warn("containers start through the grove-shim binary",
                 {{"error", server.error().to_string()}});
    }
    config.shutdown_grace = std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000));

    // Writes to a client that went away must fail with EPIPE, not kill the daemon; and the stop
    // signals are taken by sigwait below, so every thread started from here on blocks them.
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto daemon = grove::groved::Daemon::open(config, log);
    if (!daemon) {
        log.error("groved cannot start", {{"error", daemon.error().to_string()}});
        return 1;
    }
    if (auto started = (*daemon)->start(); !started) {
        log.error("groved cannot start", {{"error", started.error().to_string()}});
        return 1;
    }
    int signal = 0;
    sigwait(&stop_signals, &signal);
    log.info("stopping", {{"signal", signal}});
    (*daemon)->stop();
    return 0;
}
