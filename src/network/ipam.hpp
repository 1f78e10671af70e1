#pragma once

// The addresses handed out on the bridge's subnet: one file per address in a directory
// (`/run/grove/network/leases/<address>`, holding its owner), so a restarted daemon, and every
// shim, sees which addresses live containers hold. Callers serialise through
// BridgeNetwork's lock; creating a lease with O_EXCL keeps it safe even without.

#include <filesystem>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "network/address.hpp"

namespace grove::network {

struct Lease {
    Ipv4 address;
    std::string owner;  // the container's id
};

class Ipam {
public:
    explicit Ipam(std::filesystem::path dir) : dir_(std::move(dir)) {}

    // The owner's address on `subnet`: the one it holds already, else the lowest free one after
    // the gateway. ResourceExhausted when the subnet is full.
    Result<Ipv4> allocate(const Subnet& subnet, const std::string& owner);
    // Drops every lease the owner holds; none is fine.
    Result<void> release(const std::string& owner);
    Result<std::vector<Lease>> leases() const;

private:
    std::filesystem::path dir_;
};

}  // namespace grove::network
