#include "groved/daemon.hpp"

#include <charconv>
#include <grp.h>

#include <fmt/format.h>

#include "api/contree_api.hpp"
#include "base/error.hpp"
#include "daemon/import_executor.hpp"
#include "daemon/instance_executor.hpp"
#include "docker_api/docker_api.hpp"
#include "engine/host_cgroups.hpp"
#include "registry/registry_config.hpp"

namespace grove::groved {
namespace {

Result<gid_t> group_id(const std::string& group) {
    gid_t gid = 0;
    const auto [end, err] = std::from_chars(group.data(), group.data() + group.size(), gid);
    if (err == std::errc() && end == group.data() + group.size()) {
        return gid;
    }
    struct group entry {};
    struct group* found = nullptr;
    std::vector<char> buf(16 * 1024);
    const int rc = ::getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found);
    if (rc != 0) {
        return base::errno_error(rc, "look up group '{}'", group);
    }
    if (found == nullptr) {
        return base::make_error(Code::kNotFound, "no group '{}'", group);
    }
    return found->gr_gid;
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view spec) {
    if (spec.starts_with("unix://")) {
        ListenAddress address{.transport = http::Transport::kUnix,
                              .path = std::string(spec.substr(7))};
        if (address.path.empty() || address.path.front() != '/') {
            return base::make_error(Code::kInvalidArgument,
                                    "listen '{}': want unix:///absolute/path", spec);
        }
        return address;
    }
    if (spec.starts_with("tcp://")) {
        std::string_view rest = spec.substr(6);
        const size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            return base::make_error(Code::kInvalidArgument, "listen '{}': want tcp://host:port",
                                    spec);
        }
        std::string_view host = rest.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        const std::string_view port_text = rest.substr(colon + 1);
        uint16_t port = 0;
        const auto [end, err] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (host.empty() || err != std::errc() || end != port_text.data() + port_text.size()) {
            return base::make_error(Code::kInvalidArgument, "listen '{}': want tcp://host:port",
                                    spec);
        }
        return ListenAddress{
            .transport = http::Transport::kTcp, .host = std::string(host), .port = port};
    }
    return base::make_error(Code::kInvalidArgument,
                            "listen '{}': want unix:///path or tcp://host:port", spec);
}

Result<std::unique_ptr<Daemon>> Daemon::open(const DaemonConfig& config, base::Logger log) {
    auto daemon = std::make_unique<Daemon>(config, std::move(log));
    GROVE_TRY(daemon->open_services());
    GROVE_TRY(daemon->listen());
    return daemon;
}

Daemon::~Daemon() {
    stop();
}

Result<void> Daemon::open_services() {
    GROVE_ASSIGN_OR_RETURN(images_, image::ImageStore::open(config_.root, log_));
    runner_ = std::make_unique<engine::Runner>(
        *images_, engine::host_cgroups(log_, config_.tune_cgroups), log_);
    GROVE_ASSIGN_OR_RETURN(state_, daemon::StateDb::open(images_->paths().root));
    if (state_->recovered() > 0) {
        log_.warn("failed the operations a previous daemon left unfinished",
                  {{"count", state_->recovered()}});
    }
    GROVE_ASSIGN_OR_RETURN(files_, daemon::Files::open(images_->paths().root / "files", *state_));

    registry::RegistryFlags flags{.mirrors = config_.registry_mirrors,
                                  .insecure = config_.insecure_registries};
    flags.auth_files.assign(config_.auth_files.begin(), config_.auth_files.end());
    GROVE_ASSIGN_OR_RETURN(auto registry, registry::RegistryConfig::from_flags(flags));
    registry_ = std::make_unique<registry::RegistryConfig>(registry);
    operations_ = std::make_unique<daemon::Operations>(
        *state_, *images_, *files_, std::make_unique<daemon::InstanceExecutor>(*runner_, *files_),
        std::make_unique<daemon::ImportExecutor>(*images_, std::move(registry)),
        daemon::OperationsOptions{.workers = config_.workers,
                                  .max_pending = config_.max_pending,
                                  .max_instance_timeout_seconds = config_.instance_max_timeout,
                                  .max_import_timeout_seconds = config_.import_max_timeout},
        log_);

    api::AuthOptions auth{.trust_local_root = config_.trust_local_root};
    if (!config_.token_file.empty()) {
        GROVE_ASSIGN_OR_RETURN(auth.tokens,
                               api::Authenticator::read_token_file(config_.token_file));
    }
    auth_ = std::make_unique<api::Authenticator>(auth);

    // Adopts the containers a previous daemon left running (their shims outlive it).
    GROVE_ASSIGN_OR_RETURN(containers_, containers::Manager::open(
                                            *images_, {.root = images_->paths().root,
                                                       .shim_fork_server = config_.shim_fork_server,
                                                       .log = log_}));
    GROVE_ASSIGN_OR_RETURN(
        docker_containers_,
        docker_api::DockerContainers::open(*containers_, docker_events_,
                                           images_->paths().root / "docker" / "containers", log_));
    return {};
}

Result<void> Daemon::listen() {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, log_);
    const api::ContreeServices services{*images_, *operations_, *files_, *auth_, containers_.get()};
    const http::Router contree = api::contree_router(
        services, {.prefixes = config_.api_prefixes, .max_upload_bytes = config_.max_upload_bytes});
    const http::Router docker = docker_api::docker_router({.images = *images_,
                                                           .registry = *registry_,
                                                           .auth = *auth_,
                                                           .events = docker_events_,
                                                           .containers = *docker_containers_});
    std::optional<gid_t> group;
    if (!config_.socket_group.empty()) {
        GROVE_ASSIGN_OR_RETURN(group, group_id(config_.socket_group));
    }
    for (const auto& spec : config_.listen) {
        GROVE_TRY(listen_on(spec, contree, group, "ConTree"));
    }
    for (const auto& spec : config_.docker_listen) {
        GROVE_TRY(listen_on(spec, docker, group, "Docker"));
    }
    return {};
}

Result<void> Daemon::listen_on(const std::string& spec,
                               const http::Router& router,
                               std::optional<gid_t> group,
                               std::string_view api) {
    GROVE_ASSIGN_OR_RETURN(const ListenAddress address, parse_listen_address(spec));
    if (address.transport == http::Transport::kTcp && !auth_->has_tokens()) {
        return base::make_error(Code::kFailedPrecondition,
                                "listen '{}': TCP needs --token-file (only local root may "
                                "call without a token, and only on a unix socket)",
                                spec);
    }
    auto info = address.transport == http::Transport::kUnix
                    ? server_->listen_unix({.path = address.path, .group = group}, router)
                    : server_->listen_tcp({.host = address.host, .port = address.port}, router);
    GROVE_ASSIGN_OR_RETURN(auto listener, base::with_context(std::move(info), "listen '{}'", spec));
    listeners_.push_back(std::move(listener));
    listener_apis_.emplace_back(api);
    return {};
}

Result<void> Daemon::start() {
    GROVE_TRY(server_->start());
    for (size_t i = 0; i < listeners_.size(); ++i) {
        log_.info(fmt::format("serving the {} API", listener_apis_[i]),
                  {{"address", listeners_[i].address}});
    }
    return {};
}

void Daemon::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    if (server_) {
        server_->shutdown(config_.shutdown_grace);
    }
    if (operations_) {
        operations_->shutdown();
    }
    log_.info("stopped");
}

}  // namespace grove::groved
