#include "network/netlink.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include "base/error.hpp"

namespace grove::network {
namespace {

// NLMSG_DATA without its C cast.
template <typename T>
T* payload(nlmsghdr* header) {
    return reinterpret_cast<T*>(reinterpret_cast<char*>(header) + NLMSG_HDRLEN);
}
template <typename T>
const T* payload(const nlmsghdr* header) {
    return reinterpret_cast<const T*>(reinterpret_cast<const char*>(header) + NLMSG_HDRLEN);
}

// A netlink message under construction: the header, the family's struct, then attributes
// (nested ones through begin/end).
class Message {
public:
    template <typename Family>
    Message(uint16_t type, uint16_t flags, const Family& family) {
        buffer_.resize(NLMSG_LENGTH(sizeof(Family)));
        auto* header = reinterpret_cast<nlmsghdr*>(buffer_.data());
        header->nlmsg_type = type;
        header->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
        std::memcpy(payload<char>(header), &family, sizeof(Family));
    }

    void put(uint16_t type, const void* data, size_t size) {
        const size_t at = align(buffer_.size());
        buffer_.resize(at + RTA_LENGTH(size));
        auto* attr = reinterpret_cast<rtattr*>(buffer_.data() + at);
        attr->rta_type = type;
        attr->rta_len = static_cast<uint16_t>(RTA_LENGTH(size));
        if (size > 0) {  // a nest's header has no data
            std::memcpy(RTA_DATA(attr), data, size);
        }
    }
    void put(uint16_t type, std::string_view text) {
        std::string terminated(text);
        put(type, terminated.c_str(), terminated.size() + 1);
    }
    void put_u32(uint16_t type, uint32_t value) { put(type, &value, sizeof(value)); }
    // Raw bytes inside a nest (veth's peer carries an ifinfomsg before its attributes).
    template <typename Family>
    void put_struct(const Family& family) {
        const size_t at = align(buffer_.size());
        buffer_.resize(at + NLMSG_ALIGN(sizeof(Family)));
        std::memcpy(buffer_.data() + at, &family, sizeof(Family));
    }
    size_t begin(uint16_t type) {
        const size_t at = align(buffer_.size());
        put(type, nullptr, 0);
        return at;
    }
    void end(size_t at) {
        reinterpret_cast<rtattr*>(buffer_.data() + at)->rta_len =
            static_cast<uint16_t>(buffer_.size() - at);
    }

    std::vector<char> finish() && {
        buffer_.resize(align(buffer_.size()));
        reinterpret_cast<nlmsghdr*>(buffer_.data())->nlmsg_len =
            static_cast<uint32_t>(buffer_.size());
        return std::move(buffer_);
    }

private:
    static size_t align(size_t n) { return NLMSG_ALIGN(n); }
    std::vector<char> buffer_;
};

// The attributes of a message whose family struct is `Family`, by type.
template <typename Family>
std::vector<const rtattr*> attributes(const std::vector<char>& message) {
    const auto* header = reinterpret_cast<const nlmsghdr*>(message.data());
    std::vector<const rtattr*> found(IFLA_MAX + RTA_MAX + IFA_MAX + 1, nullptr);
    const auto* attr =
        reinterpret_cast<const rtattr*>(payload<char>(header) + NLMSG_ALIGN(sizeof(Family)));
    int left = static_cast<int>(header->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(Family)));
    for (; RTA_OK(attr, left); attr = RTA_NEXT(attr, left)) {
        if (attr->rta_type < found.size()) {
            found[attr->rta_type] = attr;
        }
    }
    return found;
}

template <typename Family>
const Family& family_of(const std::vector<char>& message) {
    return *payload<Family>(reinterpret_cast<const nlmsghdr*>(message.data()));
}

uint32_t u32_of(const rtattr* attr) {
    uint32_t value = 0;
    std::memcpy(&value, RTA_DATA(attr), sizeof(value));
    return value;
}

Ipv4 ipv4_of(const rtattr* attr) {
    return Ipv4{ntohl(u32_of(attr))};
}

}  // namespace

Result<Netlink> Netlink::open() {
    base::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) {
        return base::last_errno_error("open a route netlink socket");
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
        return base::last_errno_error("bind a route netlink socket");
    }
    const int on = 1;
    ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
    return Netlink(std::move(fd));
}

Result<void> Netlink::request(std::vector<char> message, std::string_view what) {
    GROVE_TRY(exchange(std::move(message), NLM_F_ACK, what));
    return {};
}

Result<std::vector<std::vector<char>>> Netlink::dump(std::vector<char> message,
                                                     std::string_view what) {
    return exchange(std::move(message), NLM_F_DUMP, what);
}

Result<std::vector<std::vector<char>>> Netlink::exchange(std::vector<char> message,
                                                         uint16_t flags,
                                                         std::string_view what) {
    auto* header = reinterpret_cast<nlmsghdr*>(message.data());
    header->nlmsg_flags |= flags;
    header->nlmsg_seq = ++sequence_;
    if (::send(fd_.get(), message.data(), message.size(), 0) < 0) {
        return base::last_errno_error("netlink: {}", what);
    }
    std::vector<std::vector<char>> messages;
    std::vector<char> reply(32768);
    for (;;) {
        const ssize_t n = ::recv(fd_.get(), reply.data(), reply.size(), 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("netlink: {}", what);
        }
        int left = static_cast<int>(n);
        for (auto* got = reinterpret_cast<nlmsghdr*>(reply.data()); NLMSG_OK(got, left);
             got = NLMSG_NEXT(got, left)) {
            if (got->nlmsg_seq != sequence_) {
                continue;
            }
            if (got->nlmsg_type == NLMSG_DONE) {  // a dump's end
                return messages;
            }
            if (got->nlmsg_type == NLMSG_ERROR) {  // an acknowledgement when 0
                if (const int err = -payload<nlmsgerr>(got)->error; err != 0) {
                    return base::errno_error(err, "netlink: {}", what);
                }
                return messages;
            }
            const auto* bytes = reinterpret_cast<const char*>(got);
            messages.emplace_back(bytes, bytes + got->nlmsg_len);
        }
    }
}

Result<std::vector<LinkInfo>> Netlink::links() {
    GROVE_ASSIGN_OR_RETURN(auto messages,
                           dump(Message(RTM_GETLINK, 0, ifinfomsg{}).finish(), "list links"));
    std::vector<LinkInfo> found;
    for (const auto& message : messages) {
        const auto& info = family_of<ifinfomsg>(message);
        const auto attrs = attributes<ifinfomsg>(message);
        LinkInfo link{.index = info.ifi_index, .up = (info.ifi_flags & IFF_UP) != 0};
        if (attrs[IFLA_IFNAME] != nullptr) {
            link.name = static_cast<const char*>(RTA_DATA(attrs[IFLA_IFNAME]));
        }
        if (attrs[IFLA_MTU] != nullptr) {
            link.mtu = u32_of(attrs[IFLA_MTU]);
        }
        if (attrs[IFLA_MASTER] != nullptr) {
            link.master = static_cast<int>(u32_of(attrs[IFLA_MASTER]));
        }
        found.push_back(std::move(link));
    }
    return found;
}

Result<LinkInfo> Netlink::link(std::string_view name) {
    GROVE_ASSIGN_OR_RETURN(auto all, links());
    for (auto& link : all) {
        if (link.name == name) {
            return std::move(link);
        }
    }
    return base::make_error(Code::kNotFound, "no link '{}'", name);
}

Result<std::vector<AddressInfo>> Netlink::addresses() {
    ifaddrmsg family{};
    family.ifa_family = AF_INET;
    GROVE_ASSIGN_OR_RETURN(auto messages,
                           dump(Message(RTM_GETADDR, 0, family).finish(), "list addresses"));
    std::vector<AddressInfo> found;
    for (const auto& message : messages) {
        const auto& info = family_of<ifaddrmsg>(message);
        const auto attrs = attributes<ifaddrmsg>(message);
        const rtattr* local = attrs[IFA_LOCAL] != nullptr ? attrs[IFA_LOCAL] : attrs[IFA_ADDRESS];
        if (info.ifa_family != AF_INET || local == nullptr) {
            continue;
        }
        found.push_back({.index = static_cast<int>(info.ifa_index),
                         .address = ipv4_of(local),
                         .prefix = info.ifa_prefixlen});
    }
    return found;
}

Result<std::vector<RouteInfo>> Netlink::routes() {
    rtmsg family{};
    family.rtm_family = AF_INET;
    GROVE_ASSIGN_OR_RETURN(auto messages,
                           dump(Message(RTM_GETROUTE, 0, family).finish(), "list routes"));
    std::vector<RouteInfo> found;
    for (const auto& message : messages) {
        const auto& info = family_of<rtmsg>(message);
        const auto attrs = attributes<rtmsg>(message);
        if (info.rtm_family != AF_INET || info.rtm_table != RT_TABLE_MAIN) {
            continue;
        }
        RouteInfo route{.destination = {.base = {}, .prefix = info.rtm_dst_len}};
        if (attrs[RTA_DST] != nullptr) {
            route.destination.base = ipv4_of(attrs[RTA_DST]);
        }
        if (attrs[RTA_OIF] != nullptr) {
            route.index = static_cast<int>(u32_of(attrs[RTA_OIF]));
        }
        found.push_back(route);
    }
    return found;
}

Result<void> Netlink::add_bridge(std::string_view name, uint32_t mtu) {
    Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifinfomsg{});
    message.put(IFLA_IFNAME, name);
    message.put_u32(IFLA_MTU, mtu);
    const size_t info = message.begin(IFLA_LINKINFO);
    message.put(IFLA_INFO_KIND, "bridge");
    message.end(info);
    return request(std::move(message).finish(), "create bridge '" + std::string(name) + "'");
}

Result<void> Netlink::add_veth(std::string_view name,
                               uint32_t mtu,
                               int master,
                               const VethPeer& peer) {
    Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifinfomsg{});
    message.put(IFLA_IFNAME, name);
    message.put_u32(IFLA_MTU, mtu);
    if (master != 0) {
        message.put_u32(IFLA_MASTER, static_cast<uint32_t>(master));
    }
    const size_t info = message.begin(IFLA_LINKINFO);
    message.put(IFLA_INFO_KIND, "veth");
    const size_t data = message.begin(IFLA_INFO_DATA);
    const size_t peer_info = message.begin(VETH_INFO_PEER);
    message.put_struct(ifinfomsg{});
    message.put(IFLA_IFNAME, peer.name);
    message.put_u32(IFLA_MTU, mtu);
    message.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer.netns_fd));
    if (!peer.mac.empty()) {
        unsigned char mac[6] = {};
        if (std::sscanf(peer.mac.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
                        &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
            return base::make_error(Code::kInvalidArgument, "bad MAC address '{}'", peer.mac);
        }
        message.put(IFLA_ADDRESS, mac, sizeof(mac));
    }
    message.end(peer_info);
    message.end(data);
    message.end(info);
    return request(std::move(message).finish(), "create veth pair '" + std::string(name) + "'");
}

Result<void> Netlink::set_up(int index) {
    ifinfomsg family{};
    family.ifi_index = index;
    family.ifi_flags = IFF_UP;
    family.ifi_change = IFF_UP;
    return request(Message(RTM_NEWLINK, 0, family).finish(), "bring a link up");
}

Result<void> Netlink::add_address(int index, Ipv4 address, int prefix) {
    ifaddrmsg family{};
    family.ifa_family = AF_INET;
    family.ifa_prefixlen = static_cast<unsigned char>(prefix);
    family.ifa_index = static_cast<uint32_t>(index);
    Message message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, family);
    const uint32_t wire = htonl(address.value);
    message.put(IFA_LOCAL, &wire, sizeof(wire));
    message.put(IFA_ADDRESS, &wire, sizeof(wire));
    const Subnet subnet{.base = address, .prefix = prefix};
    const uint32_t broadcast = htonl(address.value | ~subnet.mask());
    message.put(IFA_BROADCAST, &broadcast, sizeof(broadcast));
    return request(std::move(message).finish(), "add address " + to_string(address));
}

Result<void> Netlink::add_default_route(Ipv4 gateway) {
    rtmsg family{};
    family.rtm_family = AF_INET;
    family.rtm_table = RT_TABLE_MAIN;
    family.rtm_protocol = RTPROT_BOOT;
    family.rtm_scope = RT_SCOPE_UNIVERSE;
    family.rtm_type = RTN_UNICAST;
    Message message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, family);
    const uint32_t wire = htonl(gateway.value);
    message.put(RTA_GATEWAY, &wire, sizeof(wire));
    return request(std::move(message).finish(), "add default route via " + to_string(gateway));
}

Result<void> Netlink::delete_link(int index) {
    ifinfomsg family{};
    family.ifi_index = index;
    return request(Message(RTM_DELLINK, 0, family).finish(), "delete a link");
}

}  // namespace grove::network
