#pragma once

// Where a registry request goes. An Endpoint is one base URL that serves the distribution API
// (/v2/...) for a reference's domain: a configured mirror or the registry itself. This header
// also builds the request URLs, so every path is escaped in one place.

#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/digest.hpp"

namespace grove::registry {

struct Endpoint {
    std::string base_url;  // "https://registry-1.docker.io", "http://127.0.0.1:5000/cache"
    // The key of this endpoint's HostConfig and of its cached tokens: the reference domain for
    // the registry itself ("docker.io"), "host[:port]" of the URL for a mirror.
    std::string host_key;
    bool mirror = false;
};

// A parsed "http(s)://host[:port][/path]" URL, the only form an endpoint may take.
struct EndpointUrl {
    std::string scheme;     // "http" or "https"
    std::string authority;  // "host", "host:port", "[::1]:port"
    std::string path;       // "" or "/path" without a trailing slash
};
// Rejects anything else: other schemes, user info, queries, fragments, bad ports.
Result<EndpointUrl> parse_endpoint_url(std::string_view url);

// "<base>/v2/<repository>/manifests/<tag or digest>"
std::string manifest_url(const Endpoint& endpoint,
                         std::string_view repository,
                         std::string_view tag_or_digest);
// "<base>/v2/<repository>/blobs/<digest>"
std::string blob_url(const Endpoint& endpoint,
                     std::string_view repository,
                     const base::Digest& digest);

// RFC 3986 percent-encoding of everything but unreserved characters, for query values.
std::string percent_encode(std::string_view text);

}  // namespace grove::registry
