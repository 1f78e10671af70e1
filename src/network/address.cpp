#include "network/address.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include "base/parse_number.hpp"

namespace grove::network {

std::string to_string(Ipv4 address) {
    const uint32_t v = address.value;
    return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

std::optional<Ipv4> parse_ipv4(std::string_view text) {
    in_addr parsed{};
    if (::inet_pton(AF_INET, std::string(text).c_str(), &parsed) != 1) {
        return std::nullopt;
    }
    return Ipv4{ntohl(parsed.s_addr)};
}

bool Subnet::overlaps(const Subnet& other) const {
    const uint32_t common = prefix < other.prefix ? mask() : other.mask();
    return (base.value & common) == (other.base.value & common);
}

std::string to_string(const Subnet& subnet) {
    return fmt::format("{}/{}", to_string(subnet.base), subnet.prefix);
}

std::optional<Subnet> parse_subnet(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    const auto base = parse_ipv4(text.substr(0, slash));
    const auto prefix = base::parse_number<int>(text.substr(slash + 1));
    if (!base || !prefix || *prefix < 0 || *prefix > 32) {
        return std::nullopt;
    }
    Subnet subnet{.base = *base, .prefix = *prefix};
    subnet.base.value &= subnet.mask();
    return subnet;
}

std::string mac_for(Ipv4 address) {
    const uint32_t v = address.value;
    return fmt::format("02:42:{:02x}:{:02x}:{:02x}:{:02x}", v >> 24, (v >> 16) & 0xff,
                       (v >> 8) & 0xff, v & 0xff);
}

}  // namespace grove::network
