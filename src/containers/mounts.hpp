#pragma once

// A spec's mounts (ContainerSpec::mounts, Docker's Binds, Mounts, Tmpfs and Config.Volumes) as
// the shim mounts them, with dockerd's checks and messages.

#include <vector>

#include <grove/result.hpp>

#include "containers/shim/shim_config.hpp"
#include "containers/volumes.hpp"

namespace grove::containers {

// Targets must be absolute, not "/", and each used once; a bind's source must exist (one from
// Binds is made as a directory when missing, as dockerd does); volumes are made (an anonymous
// one named here); tmpfs options must parse. InvalidArgument otherwise.
Result<std::vector<ContainerMount>> resolve_mounts(const std::vector<ContainerMount>& asked,
                                                   Volumes& volumes);

}  // namespace grove::containers
