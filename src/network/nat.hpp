#pragma once

// The bridge's iptables rules, in chains of grove's own (as Docker keeps its rules in DOCKER*),
// so removing them is exact: nat GROVE-POSTROUTING masquerades what leaves the subnet for
// another interface, filter GROVE accepts what is forwarded to and from the bridge (the
// FORWARD policy may be DROP, as dockerd leaves it). Each chain is hooked once from its
// built-in chain. Run through the iptables program, as Docker does (no stable library API).

#include <string>

#include <grove/result.hpp>

#include "network/address.hpp"

namespace grove::network {

// Creates (or resets) the chains and hooks, and turns IPv4 forwarding on.
Result<void> install_nat(const Subnet& subnet, const std::string& bridge);
// Unhooks and deletes the chains; missing ones are fine.
Result<void> remove_nat();

}  // namespace grove::network
