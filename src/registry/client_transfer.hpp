#pragma once

// Internal to registry::Client (client.cpp, push.cpp): one request it sends with retries.

#include <cstdint>
#include <functional>
#include <string>

#include <grove/result.hpp>

#include "client.hpp"

namespace grove::registry {

// What execute() fetches, and what it learns along the way.
struct Client::Transfer {
    std::string what;  // "manifest 'ref'", for messages
    std::function<HttpRequest(const Endpoint&)> request;
    // Verifies a 2xx response (digests, sizes) and keeps what the caller needs from it.
    std::function<Result<void>(HttpResponse&&)> accept;
    // Bytes the sink has taken. A failed attempt that added some made progress, and the next one
    // resumes after them.
    uint64_t delivered = 0;
    // The sink failed, or holds bytes that did not verify: no retry, no other endpoint.
    bool fatal = false;
};

}  // namespace grove::registry
