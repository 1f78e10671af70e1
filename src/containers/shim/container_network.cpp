#include "containers/shim/container_network.hpp"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "runtime/process/netns_pool.hpp"

namespace grove::containers {

ContainerNetwork::ContainerNetwork(ContainerNetwork&& other) noexcept
    : netns_(std::move(other.netns_)),
      bridge_(std::move(other.bridge_)),
      endpoint_(std::move(other.endpoint_)),
      owner_(std::exchange(other.owner_, {})),
      proxy_(std::exchange(other.proxy_, 0)),
      state_file_(std::exchange(other.state_file_, {})) {}

ContainerNetwork::~ContainerNetwork() {
    if (auto closed = close(); !closed) {
        fmt::print(stderr, "grove-shim: leave the bridge network: {}\n",
                   closed.error().to_string());
    }
}

Result<ContainerNetwork> ContainerNetwork::attach(const ContainerPaths& paths,
                                                  const ShimConfig& config,
                                                  base::UniqueFd netns) {
    if (!netns.valid()) {
        GROVE_ASSIGN_OR_RETURN(netns, runtime::process::NetnsPool::make());
    }
    network::BridgeNetwork bridge({.dir = config.network_dir});
    // The lease's owner is the container's directory: one that is gone marks a stale lease.
    std::string owner = paths.dir.string();  // absolute (shim_main)
    GROVE_ASSIGN_OR_RETURN(auto endpoint, bridge.attach(owner, netns.get()));
    return ContainerNetwork(std::move(netns), std::move(bridge), std::move(endpoint),
                            std::move(owner));
}

Result<void> ContainerNetwork::publish(const ContainerPaths& paths, const ShimConfig& config) {
    NetworkState state{.ip_address = network::to_string(endpoint_.address),
                       .prefix_len = endpoint_.subnet.prefix,
                       .gateway = network::to_string(endpoint_.gateway),
                       .mac_address = endpoint_.mac,
                       .ports = config.ports};
    if (!state.ports.empty()) {
        GROVE_ASSIGN_OR_RETURN(auto sockets, network::bind_ports(state.ports));
        GROVE_ASSIGN_OR_RETURN(
            proxy_, network::start_proxy(std::move(sockets), state.ports, endpoint_.address));
    }
    state_file_ = paths.network();
    return write_file_atomically(state_file_, to_json(state));
}

Result<void> ContainerNetwork::close() {
    if (owner_.empty()) {
        return {};
    }
    if (proxy_ > 0) {
        ::kill(proxy_, SIGKILL);
        ::waitpid(proxy_, nullptr, 0);
        proxy_ = 0;
    }
    if (!state_file_.empty()) {
        ::unlink(state_file_.c_str());
    }
    netns_.reset();
    return bridge_.detach(std::exchange(owner_, {}));
}

}  // namespace grove::containers
