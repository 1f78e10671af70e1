#pragma once

// Docker's default bridge network for grove's containers: the bridge `grove0` with the first
// address of a private subnet, and per container a veth pair whose peer is the container's
// `eth0` (an address of the subnet, a default route through the bridge, the bridge's MTU).
//
// Everything lives in the kernel and in `<dir>` (the store root's `network/`): `lock`, flock'ed
// around every change by whoever makes it (each container's shim, the manager cleaning up after
// a shim killed with -9), and `leases/` (ipam.hpp). The bridge and the NAT rules are made by the
// first attach and removed by the detach of the last container, so an idle host carries none of
// grove's network.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

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

struct BridgeOptions {
    std::filesystem::path dir;
    std::string bridge = kBridgeName;
    // The first that overlaps no route of the host becomes the bridge's subnet.
    std::vector<Subnet> candidates = {{.base = {0xac1f0000}, .prefix = 16},   // 172.31.0.0/16
                                      {.base = {0xac1e0000}, .prefix = 16},   // 172.30.0.0/16
                                      {.base = {0x0ad50000}, .prefix = 16}};  // 10.213.0.0/16
};

class BridgeNetwork {
public:
    explicit BridgeNetwork(BridgeOptions options) : options_(std::move(options)) {}

    // Puts the network namespace `netns_fd` on the bridge for `owner` (a container's id), making
    // the bridge and its rules first if needed. The calling thread enters the namespace for a
    // moment (setns) and comes back, so call it from a thread of its own or a single-threaded
    // process.
    Result<Endpoint> attach(const std::string& owner, int netns_fd);
    // Releases the owner's address and host veth; the last one out removes the bridge and rules.
    Result<void> detach(const std::string& owner);
    // Detaches every owner that holds a lease and is not in `live`: for shims that could not
    // detach themselves (killed with -9).
    Result<void> detach_all_but(const std::vector<std::string>& live);
    // The bridge's subnet while it exists.
    Result<std::optional<Subnet>> subnet();

private:
    Ipam ipam() const { return Ipam(options_.dir / "leases"); }
    Result<void> detach_locked(const std::string& owner);
    Result<void> remove_if_unused();

    BridgeOptions options_;
};

// The host veth's name for a container: fixed by its id, so a stale one can be found.
std::string host_veth_name(const std::string& owner);

}  // namespace grove::network
