#pragma once

// Streams a tar of files read through a layer stack as the body of a response already started:
// ConTree's image archive and the Docker API's container archive and export.

#include <string>

#include <grove/result.hpp>

#include "http/response_writer.hpp"
#include "inspect/layer_stack.hpp"
#include "inspect/tar_export.hpp"
#include "inspect/user_db.hpp"

namespace grove::api {

// Writes the tar of `path` (inspect::write_tar with `options`) to `writer` and finishes the
// response. `users` may be null.
Result<void> stream_tar(const inspect::LayerStack& files,
                        const inspect::UserDb* users,
                        const std::string& path,
                        const inspect::TarOptions& options,
                        http::ResponseWriter& writer);

}  // namespace grove::api
