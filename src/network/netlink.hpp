#pragma once

// A route netlink socket (rtnetlink) in the namespace of the thread that opened it, with the few
// requests a bridge network needs: links (bridge, veth pair), addresses, routes. Requests are
// acknowledged one at a time, so each failure names its step; the socket keeps its namespace
// after the thread leaves it (setns), which is how a container's inside is configured.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "network/address.hpp"

namespace grove::network {

struct LinkInfo {
    int index = 0;
    std::string name;
    uint32_t mtu = 0;
    int master = 0;  // the bridge's index when enslaved, else 0
    bool up = false;
};

struct AddressInfo {
    int index = 0;  // the link's
    Ipv4 address;
    int prefix = 0;
};

struct RouteInfo {
    Subnet destination;  // 0.0.0.0/0 for the default route
    int index = 0;       // the output link's, 0 when none
};

// The peer end of a veth pair, made directly in another namespace.
struct VethPeer {
    std::string name;   // in its namespace, e.g. "eth0"
    int netns_fd = -1;  // borrowed
    std::string mac;    // "02:42:..."; empty: the kernel's
};

class Netlink {
public:
    static Result<Netlink> open();

    // NotFound when there is no such link.
    Result<LinkInfo> link(std::string_view name);
    Result<std::vector<LinkInfo>> links();
    Result<std::vector<AddressInfo>> addresses();
    Result<std::vector<RouteInfo>> routes();

    Result<void> add_bridge(std::string_view name, uint32_t mtu);
    // A veth pair: `name` here (enslaved to `master` when not 0), the peer in its namespace.
    Result<void> add_veth(std::string_view name, uint32_t mtu, int master, const VethPeer& peer);
    Result<void> set_up(int index);
    Result<void> add_address(int index, Ipv4 address, int prefix);
    Result<void> add_default_route(Ipv4 gateway);
    Result<void> delete_link(int index);

private:
    explicit Netlink(base::UniqueFd fd) : fd_(std::move(fd)) {}
    // Sends one request and waits for its acknowledgement.
    Result<void> request(std::vector<char> message, std::string_view what);
    // Sends a dump request and returns every message of the answer, headers included.
    Result<std::vector<std::vector<char>>> dump(std::vector<char> message, std::string_view what);
    // Sends `message` with `flags` and collects the answer until its end or acknowledgement.
    Result<std::vector<std::vector<char>>> exchange(std::vector<char> message,
                                                    uint16_t flags,
                                                    std::string_view what);

    base::UniqueFd fd_;
    uint32_t sequence_ = 0;
};

}  // namespace grove::network
