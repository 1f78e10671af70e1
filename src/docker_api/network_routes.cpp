// Networks: GET /networks and /networks/{id}, read-only, for clients that look before they run
// (docker-py, the docker CLI's `network ls`/`inspect`). grove has Docker's three predefined
// networks and no others: bridge (grove0, containers' default), host and none.

#include <fmt/format.h>

#include "base/error.hpp"
#include "docker_api/container_json.hpp"
#include "docker_api/network_json.hpp"
#include "docker_api/routes.hpp"
#include "network/bridge_network.hpp"

namespace grove::docker_api {
namespace {

constexpr const char* kNetworks[] = {"bridge", "host", "none"};

Result<base::Json> network_json(const DockerServices& s, const std::string& name) {
    base::Json config = base::Json::array();
    base::Json options = base::Json::object();
    base::Json members = base::Json::object();
    if (name == "bridge") {
        GROVE_ASSIGN_OR_RETURN(const auto running, s.containers.manager().list({}));
        std::optional<network::Subnet> subnet;
        for (const auto& c : running) {
            if (!c.network) {
                continue;
            }
            subnet = network::parse_subnet(
                fmt::format("{}/{}", c.network->ip_address, c.network->prefix_len));
            members[c.id] = {
                {"Name", c.name},
                {"EndpointID", network_settings(c, s.containers.extras(c.id))["EndpointID"]},
                {"MacAddress", c.network->mac_address},
                {"IPv4Address", fmt::format("{}/{}", c.network->ip_address, c.network->prefix_len)},
                {"IPv6Address", ""}};
        }
        // Without a container the bridge is not there yet; it takes the first free candidate.
        const network::Subnet shown = subnet.value_or(network::BridgeOptions{}.candidates.front());
        config.push_back({{"Subnet", network::to_string(shown)},
                          {"Gateway", network::to_string(shown.gateway())}});
        options["com.docker.network.bridge.name"] = network::kBridgeName;
    }
    return base::Json{
        {"Name", name},
        {"Id", network_id(name)},
        {"Created", docker_time(0)},
        {"Scope", "local"},
        {"Driver", name == "none" ? "null" : name},
        {"EnableIPv6", false},
        {"IPAM", {{"Driver", "default"}, {"Options", base::Json()}, {"Config", config}}},
        {"Internal", false},
        {"Attachable", false},
        {"Ingress", false},
        {"ConfigFrom", {{"Network", ""}}},
        {"ConfigOnly", false},
        {"Containers", members},
        {"Options", options},
        {"Labels", base::Json::object()}};
}

Result<void> list(const DockerServices& s, http::Request&, http::ResponseWriter& writer) {
    base::Json out = base::Json::array();
    for (const char* name : kNetworks) {
        GROVE_ASSIGN_OR_RETURN(auto network, network_json(s, name));
        out.push_back(std::move(network));
    }
    return send_json(writer, 200, out);
}

// By name, id or id prefix, as dockerd.
Result<void> inspect(const DockerServices& s,
                     http::Request& request,
                     http::ResponseWriter& writer) {
    const std::string ref = param(request, "id");
    for (const char* name : kNetworks) {
        if (ref == name || (!ref.empty() && network_id(name).starts_with(ref))) {
            GROVE_ASSIGN_OR_RETURN(const auto network, network_json(s, name));
            return send_json(writer, 200, network);
        }
    }
    return base::make_error(Code::kNotFound, "network {} not found", ref);
}

}  // namespace

void add_network_routes(http::Router& router, const DockerServices& services) {
    service_route(router, services, "GET", "/networks", list);
    service_route(router, services, "GET", "/networks/{id}", inspect);
}

}  // namespace grove::docker_api
