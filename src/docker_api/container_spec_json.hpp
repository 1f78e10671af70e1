#pragma once

// The body of POST /containers/create (Docker's Config with its HostConfig) as what the engine
// runs (containers::ContainerSpec) and what only the Docker API keeps (DockerExtras). Fields the
// engine cannot honour are refused with InvalidArgument naming them rather than ignored:
// Privileged, VolumesFrom, Devices, a network mode other than default/bridge/none/host.
// spec.image is left as the client named it.

#include <grove/result.hpp>

#include "base/json.hpp"
#include "containers/container.hpp"
#include "docker_api/docker_containers.hpp"

namespace grove::docker_api {

struct CreateRequest {
    containers::ContainerSpec spec;
    DockerExtras extras;
};

Result<CreateRequest> create_request_from_json(const base::Json& body);

// With HostConfig.PublishAllPorts: adds the ports the image exposes (`image_config`'s
// config.ExposedPorts) that create.spec.ports lacks, on random host ports, as dockerd merges the
// image's ExposedPorts into the container's before publishing them all (docker run -P).
Result<void> publish_image_ports(const base::Json& image_config, CreateRequest& create);

// HostConfig's resource fields (create and POST /containers/{id}/update): Memory, NanoCpus,
// CpuQuota/CpuPeriod, PidsLimit; zero or absent is unset.
Result<runtime::cgroup::Limits> limits_from_json(const base::Json& host_config);

}  // namespace grove::docker_api
