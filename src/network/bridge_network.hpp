#pragma once

// Docker's default bridge network for grove's containers: the bridge `grove0` with the first
// address of a private subnet, and per container a veth pair whose peer is the container's
// `eth0` (an address of the subnet, a default route through the bridge, the bridge's MTU).
//
// The bridge is the host kernel's, one for every store root, so its state lives in a host-wide
// directory (`/run/grove/network` by default: it goes with a reboot, as the bridge does):
// `lock`, flock'ed around every change by whoever makes it (each container's shim, a manager
// cleaning up after a shim killed with -9); `leases/` (ipam.hpp), whose owners are the
// containers' directories, so a lease whose directory is gone is stale; `keep`, which daemons
// hold shared while they run (Hold). The bridge and the NAT rules are made by the first attach
// and removed when neither a container nor a daemon uses them: a daemon keeps them across
// `docker run --rm` after `docker run --rm` (making them costs ~100 ms of iptables), and a host
// without grove running carries none of grove's network.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "network/address.hpp"
#include "network/ipam.hpp"

namespace grove::network {

inline constexpr const char* kBridgeName = "grove0";

struct Endpoint {
    Ipv4 address;
    Subnet subnet;
    Ipv4 gateway;
    std::string mac;
    uint32_t mtu = 0;
    std::string host_veth;  // the host's end, on the bridge
};

inline constexpr const char* kDefaultNetworkDir = "/run/grove/network";

struct BridgeOptions {
    std::filesystem::path dir = kDefaultNetworkDir;
    std::string bridge = kBridgeName;
    // The first that overlaps no route of the host becomes the bridge's subnet.
    std::vector<Subnet> candidates = {{.base = {0xac1f0000}, .prefix = 16},   // 172.31.0.0/16
                                      {.base = {0xac1e0000}, .prefix = 16},   // 172.30.0.0/16
                                      {.base = {0x0ad50000}, .prefix = 16}};  // 10.213.0.0/16
};

class BridgeNetwork {
public:
    // A shared hold on the bridge while a daemon runs: an idle bridge is removed only when no
    // hold is left (a daemon killed with -9 lets go with its flock). Dropping the last one
    // removes an unused bridge.
    class Hold {
    public:
        Hold(Hold&&) noexcept = default;
        Hold& operator=(Hold&&) noexcept = default;
        ~Hold();

    private:
        friend class BridgeNetwork;
        Hold(std::filesystem::path dir, base::UniqueFd fd)
            : dir_(std::move(dir)), fd_(std::move(fd)) {}
        std::filesystem::path dir_;
        base::UniqueFd fd_;
    };

    explicit BridgeNetwork(BridgeOptions options) : options_(std::move(options)) {}

    // Puts the network namespace `netns_fd` on the bridge for `owner` (a container's directory),
    // making the bridge and its rules first if needed. The calling thread enters the namespace
    // for a moment (setns) and comes back, so call it from a thread of its own or a
    // single-threaded process.
    Result<Endpoint> attach(const std::string& owner, int netns_fd);
    // Releases the owner's address and host veth; the last one out removes the bridge and rules
    // unless a daemon holds them.
    Result<void> detach(const std::string& owner);
    // Detaches the owners whose directory is gone (their shims died and they were removed).
    Result<void> detach_stale();
    Result<Hold> hold();
    // The bridge's subnet while it exists.
    Result<std::optional<Subnet>> subnet();

private:
    Ipam ipam() const { return Ipam(options_.dir / "leases"); }
    Result<void> detach_locked(const std::string& owner);
    Result<void> remove_if_unused();

    BridgeOptions options_;
};

// The host veth's name for a container (its directory, named by its id): fixed, so a stale one
// can be found.
std::string host_veth_name(const std::string& owner);

}  // namespace grove::network
