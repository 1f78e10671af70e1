#pragma once

// Published ports (docker run -p) through a userland proxy, Docker's docker-proxy: a socket on
// the host's address and port relays each TCP connection, or each UDP peer's datagrams, to the
// container's address. One proxy serves every traffic source, loopback included (which DNAT
// rules cannot catch without route_localnet), and as a child of the container's shim it outlives
// the daemon and dies with the shim (PR_SET_PDEATHSIG). Clients' source addresses are the
// proxy's, as with docker-proxy.

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "network/address.hpp"

namespace grove::network {

struct PortBinding {
    std::string protocol = "tcp";  // "tcp" or "udp"
    uint16_t container_port = 0;
    std::string host_ip;     // empty: every address (0.0.0.0)
    uint16_t host_port = 0;  // 0: the kernel's choice, filled in by bind_ports

    friend bool operator==(const PortBinding&, const PortBinding&) = default;
};

// Binds (and for TCP listens on) each binding's host socket, writing the kernel's port into
// bindings whose host_port is 0. Fails naming a port that is taken.
Result<std::vector<base::UniqueFd>> bind_ports(std::vector<PortBinding>& bindings);

// Forks the proxy (the caller must be single-threaded) relaying `sockets` (bind_ports' result,
// in the bindings' order) to `target`; the caller keeps no copy of them. The proxy's pid.
Result<pid_t> start_proxy(std::vector<base::UniqueFd> sockets,
                          const std::vector<PortBinding>& bindings,
                          Ipv4 target);

}  // namespace grove::network
