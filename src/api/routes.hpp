#pragma once

// Internal to the ConTree API: the helpers every route file shares, and the functions that add
// each group of routes to the /v1 router (one file per group).

#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "api/contree_api.hpp"
#include "base/json.hpp"
#include "http/request.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"

namespace grove::api {

struct RouteContext {
    const ContreeServices& services;
    const ContreeOptions& options;
};

// `handler`, run only for an authenticated caller (401 otherwise).
http::Handler authenticated(const Authenticator& auth, http::Handler handler);
// Adds a route whose handler runs only for an authenticated caller.
void route(http::Router& v1,
           const RouteContext& context,
           std::string_view method,
           std::string_view pattern,
           http::Handler handler,
           http::RouteOptions options = {});

Result<void> send_json(http::ResponseWriter& writer, int status, const base::Json& body);
// The request's body as a JSON value; an empty body is an empty object.
Result<base::Json> read_json(http::Request& request);
// The path parameter `name` of the matched route (always there: the route declares it).
std::string param(const http::Request& request, std::string_view name);
// The request's path up to and including "/v1" (any prefix kept): "/sandboxes/v1".
std::string api_base(const http::Request& request);

void add_whoami_routes(http::Router& v1, const RouteContext& context);
void add_image_routes(http::Router& v1, const RouteContext& context);
void add_file_routes(http::Router& v1, const RouteContext& context);
void add_operation_routes(http::Router& v1, const RouteContext& context);
void add_event_routes(http::Router& v1, const RouteContext& context);
void add_subprocess_routes(http::Router& v1, const RouteContext& context);
void add_inspect_routes(http::Router& v1, const RouteContext& context);
// grove's own routes, under /grove/v1 (docs/api.md "Sessions").
void add_session_routes(http::Router& grove_v1, const RouteContext& context);
// grove's image routes: removal, prune, import of an uploaded archive (docs/api.md).
void add_grove_image_routes(http::Router& grove_v1, const RouteContext& context);
// grove's container routes over the daemon's containers::Manager (docs/api.md "Containers").
void add_grove_container_routes(http::Router& grove_v1,
                                const RouteContext& context,
                                containers::Manager& manager);

}  // namespace grove::api
