#pragma once

// ImportExecutor runs `image_import` operations: ImageStore::import from a registry through the
// registry client (mirrors, retries, verification). Its log is init (spid 0), `progress` events
// per layer (spid 0: every phase change, and a download's bytes at most every 200 ms), and the
// completion.
// An import of an image the store has already is a fast no-op that returns it.
//
// Imports cannot be interrupted: a cancellation (or the timeout) takes effect when the import
// returns, and the operation then ends CANCELLED (FAILED for the timeout) even if the image was
// stored; a stored image is harmless, being shared and garbage-collected like any other.

#include <memory>

#include "base/log.hpp"
#include "daemon/executor.hpp"
#include "image/image_store.hpp"
#include "registry/client.hpp"
#include "registry/registry_config.hpp"

namespace grove::daemon {

class ImportExecutor final : public Executor {
public:
    ImportExecutor(image::ImageStore& images, registry::RegistryConfig config);

    OperationOutcome run(LiveOperation& operation, const MarkExecuting& executing) override;

private:
    Result<OperationOutcome> execute(LiveOperation& operation, const MarkExecuting& executing);

    image::ImageStore& images_;
    const registry::RegistryConfig config_;
    // Serves every anonymous import (it is thread-safe and caches tokens); an import with
    // credentials gets a client of its own, so they never serve another client's pull.
    registry::Client shared_client_;
};

}  // namespace grove::daemon
