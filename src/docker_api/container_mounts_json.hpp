#pragma once

// Docker's ways of asking for mounts at container create, as containers::ContainerMount:
// HostConfig.Binds ("src:dst[:opts]", src a host path or a volume name), HostConfig.Mounts
// (bind, volume and tmpfs entries), HostConfig.Tmpfs ({"/run": "size=64m"}) and Config.Volumes
// (anonymous volumes where nothing else mounts), and the "Mounts" list inspect and list show.

#include <vector>

#include <grove/result.hpp>

#include "base/json.hpp"
#include "containers/container.hpp"

namespace grove::docker_api {

// From the create body and its HostConfig; InvalidArgument with dockerd's words for a bad entry.
Result<std::vector<containers::ContainerMount>> mounts_from_json(const base::Json& body,
                                                                 const base::Json& host_config);

// The container's binds and volumes as dockerd lists them ("Type", "Name", "Source",
// "Destination", "Driver", "Mode", "RW", "Propagation"); tmpfs mounts are not listed.
base::Json mount_points_json(const containers::Container& c);

}  // namespace grove::docker_api
