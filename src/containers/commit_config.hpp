#pragma once

// The image config of a container committed to an image (docker commit): the container's image
// config with the container's own settings (command, env, workdir, user, labels, stop signal),
// then a client's Config merged over them, then Dockerfile instructions (`--change`) applied.

#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "containers/container.hpp"

namespace grove::containers {

struct CommitSpec {
    std::optional<std::string> tag;  // grove's tag for the new image
    std::string author;
    std::string comment;
    // Dockerfile instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, STOPSIGNAL,
    // VOLUME ("CMD [\"sh\"]", "ENV A=1 B=2", "EXPOSE 80/udp 443").
    std::vector<std::string> changes;
    // A Docker container Config (JSON object) whose set fields override the container's: Env and
    // Labels merged by key, ExposedPorts and Volumes added.
    std::optional<std::string> config_json;
    bool pause = true;  // a running container is paused while its files are copied
};

// The new image's config JSON. `created` is the RFC 3339 time to record. InvalidArgument for a
// malformed Config or instruction.
Result<std::string> commit_config(const std::string& image_config_json,
                                  const Container& container,
                                  const CommitSpec& spec,
                                  const std::string& created);

}  // namespace grove::containers
