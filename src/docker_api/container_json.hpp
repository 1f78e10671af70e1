#pragma once

// Docker's views of a container: GET /containers/{id}/json (inspect) and the /containers/json
// entry, built from the engine's record and the Docker API's extras. Image is the image's Docker
// ID (image_names.hpp), Config.Image the name the client gave; NetworkSettings reports the
// network mode without addresses (grove has no bridge yet) and Mounts is always empty.

#include <string>

#include "base/json.hpp"
#include "containers/container.hpp"
#include "docker_api/docker_containers.hpp"

namespace grove::docker_api {

// RFC 3339 with nanoseconds in UTC; "0001-01-01T00:00:00Z" (Go's zero time) for 0.
std::string docker_time(int64_t ns);
// The command line as `docker ps` shows it: entrypoint and cmd joined by spaces.
std::string command_line(const containers::Container& c);
// "Up 3 seconds", "Up 2 minutes (Paused)", "Exited (0) 5 seconds ago", "Created".
std::string status_text(const containers::ContainerState& state, int64_t now_ns);

base::Json inspect_json(const containers::Container& c, const DockerExtras& extras);
base::Json list_entry(const containers::Container& c, const DockerExtras& extras);

}  // namespace grove::docker_api
