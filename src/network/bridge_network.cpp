#include "network/bridge_network.hpp"

#include <algorithm>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>

#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "base/unique_fd.hpp"
#include "network/nat.hpp"
#include "network/netlink.hpp"

namespace grove::network {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kDefaultMtu = 1500;

Result<base::UniqueFd> lock_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return base::errno_error(ec.value(), "create '{}'", dir.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(dir / "lock", O_RDWR | O_CREAT, 0600));
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            return base::last_errno_error("lock '{}'", (dir / "lock").string());
        }
    }
    return fd;
}

// A netlink socket in the namespace `netns_fd`: the thread goes in to open it and comes back.
Result<Netlink> netlink_in(int netns_fd) {
    GROVE_ASSIGN_OR_RETURN(auto own, base::UniqueFd::open("/proc/thread-self/ns/net", O_RDONLY));
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
        return base::last_errno_error("enter the container's network namespace");
    }
    auto inside = Netlink::open();
    if (::setns(own.get(), CLONE_NEWNET) != 0) {
        return base::last_errno_error("return to the host's network namespace");
    }
    return inside;
}

// The MTU of the link the default route leaves by (the bridge's traffic ends up there).
uint32_t uplink_mtu(Netlink& netlink) {
    auto routes = netlink.routes();
    auto links = netlink.links();
    if (!routes || !links) {
        return kDefaultMtu;
    }
    for (const auto& route : *routes) {
        if (route.destination.prefix != 0) {
            continue;
        }
        for (const auto& link : *links) {
            if (link.index == route.index && link.mtu != 0) {
                return std::min(link.mtu, kDefaultMtu);
            }
        }
    }
    return kDefaultMtu;
}

Result<Subnet> free_subnet(Netlink& netlink, const std::vector<Subnet>& candidates) {
    GROVE_ASSIGN_OR_RETURN(const auto routes, netlink.routes());
    for (const auto& candidate : candidates) {
        const bool taken = std::any_of(routes.begin(), routes.end(), [&](const RouteInfo& route) {
            return route.destination.prefix != 0 && route.destination.overlaps(candidate);
        });
        if (!taken) {
            return candidate;
        }
    }
    return base::make_error(Code::kFailedPrecondition,
                            "every candidate subnet for the bridge overlaps a route of the host");
}

struct Bridge {
    LinkInfo link;
    Subnet subnet;
};

// The bridge's subnet is the one of its address.
Result<std::optional<Bridge>> find_bridge(Netlink& netlink, const std::string& name) {
    auto link = netlink.link(name);
    if (!link) {
        if (link.error().code() == Code::kNotFound) {
            return std::optional<Bridge>();
        }
        return link.error();
    }
    GROVE_ASSIGN_OR_RETURN(const auto addresses, netlink.addresses());
    for (const auto& address : addresses) {
        if (address.index == link->index) {
            Subnet subnet{.base = address.address, .prefix = address.prefix};
            subnet.base.value &= subnet.mask();
            return std::optional<Bridge>(Bridge{.link = *link, .subnet = subnet});
        }
    }
    return base::make_error(Code::kFailedPrecondition, "bridge '{}' has no IPv4 address", name);
}

Result<Bridge> make_bridge(Netlink& netlink, const BridgeOptions& options) {
    GROVE_ASSIGN_OR_RETURN(const Subnet subnet, free_subnet(netlink, options.candidates));
    GROVE_TRY(netlink.add_bridge(options.bridge, uplink_mtu(netlink)));
    base::ScopeExit undo([&] {
        if (auto made = netlink.link(options.bridge)) {
            (void)netlink.delete_link(made->index);
        }
    });
    GROVE_ASSIGN_OR_RETURN(auto link, netlink.link(options.bridge));
    GROVE_TRY(netlink.add_address(link.index, subnet.gateway(), subnet.prefix));
    GROVE_TRY(netlink.set_up(link.index));
    GROVE_TRY(install_nat(subnet, options.bridge));
    undo.dismiss();
    return Bridge{.link = link, .subnet = subnet};
}

Result<void> configure_inside(int netns_fd, const Endpoint& endpoint) {
    GROVE_ASSIGN_OR_RETURN(auto inside, netlink_in(netns_fd));
    GROVE_ASSIGN_OR_RETURN(const auto lo, inside.link("lo"));
    GROVE_TRY(inside.set_up(lo.index));
    GROVE_ASSIGN_OR_RETURN(const auto eth0, inside.link("eth0"));
    GROVE_TRY(inside.add_address(eth0.index, endpoint.address, endpoint.subnet.prefix));
    GROVE_TRY(inside.set_up(eth0.index));
    return inside.add_default_route(endpoint.gateway);
}

}  // namespace

std::string host_veth_name(const std::string& owner) {
    return "gv" + fs::path(owner).filename().string().substr(0, 12);  // IFNAMSIZ leaves 15
}

BridgeNetwork::Hold::~Hold() {
    if (!fd_.valid()) {
        return;
    }
    fd_.reset();
    (void)BridgeNetwork({.dir = dir_}).detach_stale();  // removes the bridge if now unused
}

Result<BridgeNetwork::Hold> BridgeNetwork::hold() {
    std::error_code ec;
    fs::create_directories(options_.dir, ec);
    if (ec) {
        return base::errno_error(ec.value(), "create '{}'", options_.dir.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto fd,
                           base::UniqueFd::open(options_.dir / "keep", O_RDONLY | O_CREAT, 0600));
    while (::flock(fd.get(), LOCK_SH) != 0) {
        if (errno != EINTR) {
            return base::last_errno_error("hold '{}'", (options_.dir / "keep").string());
        }
    }
    return Hold(options_.dir, std::move(fd));
}

Result<Endpoint> BridgeNetwork::attach(const std::string& owner, int netns_fd) {
    GROVE_ASSIGN_OR_RETURN(const auto lock, lock_dir(options_.dir));
    GROVE_ASSIGN_OR_RETURN(auto netlink, Netlink::open());
    GROVE_ASSIGN_OR_RETURN(auto bridge, find_bridge(netlink, options_.bridge));
    if (!bridge) {
        GROVE_ASSIGN_OR_RETURN(bridge, make_bridge(netlink, options_));
    }
    GROVE_ASSIGN_OR_RETURN(const Ipv4 address, ipam().allocate(bridge->subnet, owner));
    base::ScopeExit undo([&] { (void)detach_locked(owner); });
    Endpoint endpoint{.address = address,
                      .subnet = bridge->subnet,
                      .gateway = bridge->subnet.gateway(),
                      .mac = mac_for(address),
                      .mtu = uplink_mtu(netlink),
                      .host_veth = host_veth_name(owner)};
    if (auto stale = netlink.link(endpoint.host_veth)) {  // left by a shim killed with -9
        GROVE_TRY(netlink.delete_link(stale->index));
    }
    GROVE_TRY(netlink.add_veth(endpoint.host_veth, endpoint.mtu, bridge->link.index,
                               {.name = "eth0", .netns_fd = netns_fd, .mac = endpoint.mac}));
    GROVE_ASSIGN_OR_RETURN(const auto host_end, netlink.link(endpoint.host_veth));
    GROVE_TRY(netlink.set_up(host_end.index));
    GROVE_TRY(configure_inside(netns_fd, endpoint));
    undo.dismiss();
    return endpoint;
}

Result<void> BridgeNetwork::detach(const std::string& owner) {
    GROVE_ASSIGN_OR_RETURN(const auto lock, lock_dir(options_.dir));
    GROVE_TRY(detach_locked(owner));
    return remove_if_unused();
}

Result<void> BridgeNetwork::detach_stale() {
    GROVE_ASSIGN_OR_RETURN(const auto lock, lock_dir(options_.dir));
    GROVE_ASSIGN_OR_RETURN(const auto leases, ipam().leases());
    for (const auto& lease : leases) {
        std::error_code ec;
        if (!fs::exists(lease.owner, ec) && !ec) {
            GROVE_TRY(detach_locked(lease.owner));
        }
    }
    return remove_if_unused();
}

Result<std::optional<Subnet>> BridgeNetwork::subnet() {
    GROVE_ASSIGN_OR_RETURN(auto netlink, Netlink::open());
    GROVE_ASSIGN_OR_RETURN(const auto bridge, find_bridge(netlink, options_.bridge));
    if (!bridge) {
        return std::optional<Subnet>();
    }
    return std::optional<Subnet>(bridge->subnet);
}

Result<void> BridgeNetwork::detach_locked(const std::string& owner) {
    GROVE_TRY(ipam().release(owner));
    GROVE_ASSIGN_OR_RETURN(auto netlink, Netlink::open());
    // Usually gone with the container's namespace already, or going: the kernel may remove it
    // between the lookup and the delete (ENODEV), which is the same outcome.
    if (auto veth = netlink.link(host_veth_name(owner))) {
        auto deleted = netlink.delete_link(veth->index);
        if (!deleted && deleted.error().code() != Code::kNotFound) {
            return deleted;
        }
    }
    return {};
}

Result<void> BridgeNetwork::remove_if_unused() {
    GROVE_ASSIGN_OR_RETURN(const auto leases, ipam().leases());
    if (!leases.empty()) {
        return {};
    }
    auto keep = base::UniqueFd::open(options_.dir / "keep", O_RDONLY);
    if (keep && ::flock(keep->get(), LOCK_EX | LOCK_NB) != 0) {
        return {};  // a daemon holds the bridge
    }
    GROVE_ASSIGN_OR_RETURN(auto netlink, Netlink::open());
    if (auto bridge = netlink.link(options_.bridge)) {
        GROVE_TRY(remove_nat());
        GROVE_TRY(netlink.delete_link(bridge->index));
    }
    return {};
}

}  // namespace grove::network
