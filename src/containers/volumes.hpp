#pragma once

// Docker's local volumes: a directory per volume, <root>/volumes/<name>/_data as dockerd lays
// them out, made when a container first names one (docker run -v name:/path) or for a single
// container (an anonymous volume, -v /path, named like a container id). A volume outlives its
// containers; `docker rm -v` and `--rm` remove a container's anonymous ones.

#include <filesystem>
#include <string>

#include <grove/result.hpp>

namespace grove::containers {

class Volumes {
public:
    explicit Volumes(std::filesystem::path dir) : dir_(std::move(dir)) {}

    // The data directory of volume `name` (validate_name's rule), made when missing.
    Result<std::filesystem::path> ensure(const std::string& name);
    // Removes volume `name` and what it holds; a missing one is no error.
    Result<void> remove(const std::string& name);

private:
    std::filesystem::path dir_;
};

}  // namespace grove::containers
