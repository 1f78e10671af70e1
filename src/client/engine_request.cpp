#include "client/engine_request.hpp"

namespace grove::client {

engine::RunRequest engine_request(std::string image, const RunOptions& options) {
    engine::RunRequest request{
        .image = std::move(image),
        .argv = options.command,
        .shell = options.shell,
        .cwd = options.cwd,
        .uid = options.uid,
        .gid = options.gid,
        .hostname = options.hostname,
        .stdin_data = options.stdin_data,
        .timeout = options.timeout,
        .limits = {.memory_bytes = options.limits.memory_bytes,
                   .pids = options.limits.pids,
                   .cpus = options.limits.cpus},
        .network = options.network == "host" ? engine::Network::kHost : engine::Network::kNone,
        .runtime = options.runtime,
        .max_layer_bytes = options.limits.max_layer_bytes,
        .disposable = options.disposable,
        .tag = options.tag};
    for (const auto& [key, value] : options.env) {
        request.env.push_back(key + "=" + value);
    }
    for (const auto& file : options.files) {
        request.files.push_back({.path = file.path, .content = file.content, .mode = file.mode});
    }
    return request;
}

}  // namespace grove::client
