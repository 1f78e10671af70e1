#pragma once

// The ConTree API (docs/api.md; the wire contract is shared/docs/contree-api.md) on grove's HTTP
// server: every route under /v1 and under <prefix>/v1 for each configured prefix, so a client
// whose base URL carries a path ("https://host/sandboxes") works unchanged. Every route needs an
// authenticated caller (auth.hpp). Responses are gzipped only when the request's
// Accept-Encoding asks for it, and errors are ConTree's {"error", "status"} (error_mapping.hpp).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "api/auth.hpp"
#include "daemon/files.hpp"
#include "daemon/operations.hpp"
#include "http/router.hpp"
#include "image/image_store.hpp"

namespace grove::containers {
class Manager;
}

namespace grove::api {

// The services the routes call; all must outlive the router.
struct ContreeServices {
    image::ImageStore& images;
    daemon::Operations& operations;
    daemon::Files& files;
    const Authenticator& auth;
    // Long-lived containers (/grove/v1/containers); none: no such routes.
    containers::Manager* containers = nullptr;
};

struct ContreeOptions {
    // Mount points besides the root, e.g. "/sandboxes" serves "/sandboxes/v1/...".
    std::vector<std::string> prefixes;
    uint64_t max_upload_bytes = uint64_t{1} << 30;  // POST /v1/files
    uint64_t max_json_body = uint64_t{8} << 20;     // every other body (spawn stdin included)
    // Between SSE comments while an operation is silent, so proxies keep the stream open.
    std::chrono::milliseconds sse_keepalive{15'000};
};

http::Router contree_router(const ContreeServices& services, const ContreeOptions& options);

}  // namespace grove::api
