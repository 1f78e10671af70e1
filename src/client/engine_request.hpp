#pragma once

// A run's options (include/grove/client.hpp) as the engine takes them: the embedded client's
// runs, and `grove run`'s own on the local store, which adds what only the engine has.

#include <string>

#include <grove/client.hpp>

#include "engine/runner.hpp"

namespace grove::client {

// Outputs are not routed (on_output is left unset).
engine::RunRequest engine_request(std::string image, const RunOptions& options);

}  // namespace grove::client
