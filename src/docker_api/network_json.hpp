#pragma once

// Docker's view of a container's network (NetworkSettings, HostConfig.PortBindings, the list's
// Ports, the stats' networks) and of the three networks grove has: bridge (grove0), host, none.

#include <string>
#include <string_view>

#include "base/json.hpp"
#include "containers/container.hpp"
#include "docker_api/docker_containers.hpp"

namespace grove::docker_api {

// "bridge" for Docker's "default".
std::string network_name(const DockerExtras& e);
// A network's 64-hex id, fixed by its name.
std::string network_id(std::string_view name);

base::Json network_settings(const containers::Container& c, const DockerExtras& e);
// HostConfig.PortBindings as asked: {"80/tcp":[{"HostIp":"","HostPort":""}]}.
base::Json port_bindings(const containers::Container& c);
// The list's Ports: [{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":49153,"Type":"tcp"}].
base::Json list_ports(const containers::Container& c);
// The stats' networks: eth0's counters from the container's namespace (/proc/<pid>/net/dev).
base::Json interface_stats(int pid);

}  // namespace grove::docker_api
