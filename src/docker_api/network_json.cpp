#include "docker_api/network_json.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "base/digest.hpp"

namespace grove::docker_api {
namespace {

std::string port_key(const network::PortBinding& port) {
    return fmt::format("{}/{}", port.container_port, port.protocol);
}

std::string host_ip(const network::PortBinding& port) {
    return port.host_ip.empty() ? "0.0.0.0" : port.host_ip;
}

}  // namespace

std::string network_name(const DockerExtras& e) {
    return e.network_mode == "default" ? "bridge" : e.network_mode;
}

std::string network_id(std::string_view name) {
    return std::string(base::Digest::sha256_of("grove network " + std::string(name)).encoded());
}

base::Json network_settings(const containers::Container& c, const DockerExtras& e) {
    const std::string name = network_name(e);
    const containers::NetworkState none;
    const containers::NetworkState& state = c.network ? *c.network : none;
    base::Json ports = base::Json::object();
    for (const auto& port : state.ports) {
        ports[port_key(port)].push_back(
            {{"HostIp", host_ip(port)}, {"HostPort", std::to_string(port.host_port)}});
    }
    const std::string endpoint_id = c.network ? network_id(c.id + state.ip_address) : "";
    return {{"Bridge", ""},
            {"SandboxID", c.network ? c.id : ""},
            {"HairpinMode", false},
            {"LinkLocalIPv6Address", ""},
            {"LinkLocalIPv6PrefixLen", 0},
            {"Ports", std::move(ports)},
            {"SandboxKey", c.network ? fmt::format("/proc/{}/ns/net", c.state.pid) : ""},
            {"SecondaryIPAddresses", base::Json()},
            {"SecondaryIPv6Addresses", base::Json()},
            {"EndpointID", endpoint_id},
            {"Gateway", state.gateway},
            {"GlobalIPv6Address", ""},
            {"GlobalIPv6PrefixLen", 0},
            {"IPAddress", state.ip_address},
            {"IPPrefixLen", state.prefix_len},
            {"IPv6Gateway", ""},
            {"MacAddress", state.mac_address},
            {"Networks",
             {{name,
               {{"IPAMConfig", base::Json()},
                {"Links", base::Json()},
                {"Aliases", base::Json()},
                {"NetworkID", network_id(name)},
                {"EndpointID", endpoint_id},
                {"Gateway", state.gateway},
                {"IPAddress", state.ip_address},
                {"IPPrefixLen", state.prefix_len},
                {"IPv6Gateway", ""},
                {"GlobalIPv6Address", ""},
                {"GlobalIPv6PrefixLen", 0},
                {"MacAddress", state.mac_address},
                {"DriverOpts", base::Json()}}}}}};
}

base::Json port_bindings(const containers::Container& c) {
    base::Json out = base::Json::object();
    for (const auto& port : c.config.ports) {
        out[port_key(port)].push_back(
            {{"HostIp", port.host_ip},
             {"HostPort", port.host_port == 0 ? "" : std::to_string(port.host_port)}});
    }
    return out;
}

base::Json list_ports(const containers::Container& c) {
    base::Json out = base::Json::array();
    if (!c.network) {
        return out;
    }
    for (const auto& port : c.network->ports) {
        out.push_back({{"IP", host_ip(port)},
                       {"PrivatePort", port.container_port},
                       {"PublicPort", port.host_port},
                       {"Type", port.protocol}});
    }
    return out;
}

base::Json interface_stats(int pid) {
    base::Json out = base::Json::object();
    if (pid <= 0) {
        return out;
    }
    std::ifstream dev(fmt::format("/proc/{}/net/dev", pid));
    for (std::string line; std::getline(dev, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;  // the two header lines
        }
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name == "lo") {
            continue;
        }
        // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit:
        // bytes packets errs drop fifo colls carrier compressed.
        std::istringstream fields(line.substr(colon + 1));
        uint64_t v[16] = {};
        for (auto& value : v) {
            fields >> value;
        }
        out[name] = {{"rx_bytes", v[0]},   {"rx_packets", v[1]}, {"rx_errors", v[2]},
                     {"rx_dropped", v[3]}, {"tx_bytes", v[8]},   {"tx_packets", v[9]},
                     {"tx_errors", v[10]}, {"tx_dropped", v[11]}};
    }
    return out;
}

}  // namespace grove::docker_api
