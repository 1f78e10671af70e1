#pragma once

// A container's side of the bridge network, held by its shim for one run: the network namespace
// init joins, its place on the bridge (network::BridgeNetwork), the proxy of its published ports
// and network.json, which tells the manager all of it. The shim owns them because it outlives
// the daemon: a restarted groved finds the container's network as it was.

#include <optional>
#include <sys/types.h>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "containers/shim/shim_config.hpp"
#include "network/bridge_network.hpp"

namespace grove::containers {

class ContainerNetwork {
public:
    ContainerNetwork(ContainerNetwork&& other) noexcept;
    ContainerNetwork& operator=(ContainerNetwork&&) = delete;
    ContainerNetwork(const ContainerNetwork&) = delete;
    ContainerNetwork& operator=(const ContainerNetwork&) = delete;
    // close(), failures only logged to the shim's stderr (shim.log).
    ~ContainerNetwork();

    // `netns` (a fresh namespace; made here when invalid), on the bridge.
    static Result<ContainerNetwork> attach(const ContainerPaths& paths,
                                           const ShimConfig& config,
                                           base::UniqueFd netns);

    int netns_fd() const { return netns_.get(); }
    const network::Endpoint& endpoint() const { return endpoint_; }

    // Binds the config's published ports, starts their proxy (the caller must be
    // single-threaded) and writes network.json.
    Result<void> publish(const ContainerPaths& paths, const ShimConfig& config);

    // Stops the proxy, removes network.json and leaves the bridge (which goes with its last
    // container). Done before exit.json is written, so a restart finds the address free.
    Result<void> close();

private:
    ContainerNetwork(base::UniqueFd netns,
                     network::BridgeNetwork bridge,
                     network::Endpoint endpoint,
                     std::string owner)
        : netns_(std::move(netns)),
          bridge_(std::move(bridge)),
          endpoint_(std::move(endpoint)),
          owner_(std::move(owner)) {}

    base::UniqueFd netns_;
    network::BridgeNetwork bridge_;
    network::Endpoint endpoint_;
    std::string owner_;  // the container's directory; empty once closed (or moved from)
    pid_t proxy_ = 0;
    std::filesystem::path state_file_;
};

}  // namespace grove::containers
