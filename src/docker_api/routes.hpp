#pragma once

// Internal to the Docker API: the helpers every route file shares, and the functions that add
// each group of routes (one file per group).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/json.hpp"
#include "docker_api/docker_api.hpp"
#include "http/request.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"

namespace grove::docker_api {

// Adds a route whose handler runs once the caller is authenticated (401) and the path's API
// version is one served (400).
void route(http::Router& router,
           const DockerServices& services,
           std::string_view method,
           std::string_view pattern,
           http::Handler handler,
           http::RouteOptions options = {});
Result<void> send_json(http::ResponseWriter& writer, int status, const base::Json& body);
// Starts a chunked stream of JSON lines (pull, load, import, events).
Result<void> start_json_stream(http::ResponseWriter& writer);
// One line of such a stream; `eol` is "\n" (pull, events) or "\r\n" (load, import), as dockerd.
Result<void> write_json_line(http::ResponseWriter& writer,
                             const base::Json& line,
                             std::string_view eol = "\n");
// An error inside a JSON stream that has started: {"errorDetail":{"message"},"error"}.
Result<void> write_stream_error(http::ResponseWriter& writer,
                                const Error& error,
                                std::string_view eol = "\n");
// dockerd's 12-digit layer ids in pull and push progress lines: "sha256:<hex>" -> 12 hex digits.
std::string layer_id(std::string_view digest);
// route() for a handler that takes the services first.
template <typename Handler>
void service_route(http::Router& router,
                   const DockerServices& services,
                   std::string_view method,
                   std::string_view pattern,
                   Handler handler) {
    // The services are references: this copy outlives the caller's struct.
    route(router, services, method, pattern,
          [s = services, handler](http::Request& r, http::ResponseWriter& w) {
              return handler(s, r, w);
          });
}
// Reads a JSON request body; an empty body is an empty object.
Result<base::Json> read_json_body(http::Request& request);
// The path parameter `name` of the matched route.
std::string param(const http::Request& request, std::string_view name);
// Docker's boolean query parameters: "1", "true", "True" (absent: `fallback`).
bool query_flag(const http::Request& request, std::string_view name, bool fallback = false);
// An integer query parameter; nullopt when absent or empty.
Result<std::optional<int64_t>> query_int(const http::Request& request, std::string_view name);

// ?size=1 of a container's inspect and list entry: SizeRw, what its changes take, and SizeRootFs,
// its whole filesystem (its image's files and its changes).
Result<void> add_container_sizes(const DockerServices& services,
                                 const containers::Container& c,
                                 base::Json& out);

void add_system_routes(http::Router& router, const DockerServices& services);
void add_event_routes(http::Router& router, const DockerServices& services);
void add_image_routes(http::Router& router, const DockerServices& services);
void add_pull_routes(http::Router& router, const DockerServices& services);
void add_push_routes(http::Router& router, const DockerServices& services);
void add_archive_routes(http::Router& router, const DockerServices& services);
void add_container_routes(http::Router& router, const DockerServices& services);
void add_container_io_routes(http::Router& router, const DockerServices& services);
void add_container_attach_routes(http::Router& router, const DockerServices& services);
void add_container_stats_routes(http::Router& router, const DockerServices& services);
void add_network_routes(http::Router& router, const DockerServices& services);
void add_container_file_routes(http::Router& router,
                               const DockerServices& services,
                               containers::Manager& manager);

}  // namespace grove::docker_api
