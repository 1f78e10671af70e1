#pragma once

// IPv4 addresses and subnets as host-order integers, and their dotted text.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace grove::network {

struct Ipv4 {
    uint32_t value = 0;  // host order

    friend bool operator==(const Ipv4&, const Ipv4&) = default;
};

std::string to_string(Ipv4 address);
std::optional<Ipv4> parse_ipv4(std::string_view text);

struct Subnet {
    Ipv4 base;
    int prefix = 16;

    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
    bool contains(Ipv4 address) const { return (address.value & mask()) == base.value; }
    bool overlaps(const Subnet& other) const;
    // The bridge's address: the first host.
    Ipv4 gateway() const { return Ipv4{base.value + 1}; }
    // Host addresses, the network and broadcast ones left out.
    uint32_t size() const { return prefix >= 31 ? 0 : (uint32_t{1} << (32 - prefix)); }

    friend bool operator==(const Subnet&, const Subnet&) = default;
};

// "172.31.0.0/16".
std::string to_string(const Subnet& subnet);
std::optional<Subnet> parse_subnet(std::string_view text);

// Docker's: 02:42 then the address's four bytes, so a container's MAC follows from its address.
std::string mac_for(Ipv4 address);

}  // namespace grove::network
