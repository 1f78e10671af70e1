#include "api/contree_api.hpp"

#include "api/error_mapping.hpp"
#include "api/routes.hpp"

namespace grove::api {

http::Handler authenticated(const Authenticator& auth, http::Handler handler) {
    return [&auth, handler = std::move(handler)](http::Request& request,
                                                 http::ResponseWriter& writer) -> Result<void> {
        GROVE_TRY(auth.authenticate(request));
        return handler(request, writer);
    };
}

void route(http::Router& v1,
           const RouteContext& context,
           std::string_view method,
           std::string_view pattern,
           http::Handler handler,
           http::RouteOptions options) {
    v1.add(method, pattern, authenticated(context.services.auth, std::move(handler)), options);
}

Result<void> send_json(http::ResponseWriter& writer, int status, const base::Json& body) {
    return writer.send(http::Response::json(status, base::dump_json(body)));
}

Result<base::Json> read_json(http::Request& request) {
    GROVE_ASSIGN_OR_RETURN(const std::string body, request.read_body_to_string());
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        return base::Json::object();
    }
    return base::parse_json(body);
}

std::string param(const http::Request& request, std::string_view name) {
    return std::string(request.param(name).value_or(""));
}

std::string api_base(const http::Request& request) {
    const std::string& path = request.path();
    const size_t v1 = path.find("/v1/");
    return v1 == std::string::npos ? "/v1" : path.substr(0, v1 + 3);
}

void add_whoami_routes(http::Router& v1, const RouteContext& context) {
    const ContreeServices services = context.services;
    v1.get("/whoami",
           [services](http::Request& request, http::ResponseWriter& writer) -> Result<void> {
               GROVE_ASSIGN_OR_RETURN(const Identity identity, services.auth.authenticate(request));
               const auto& limits = services.operations.options();
               const auto counts = services.operations.counts();
               const base::Json permissions{
                   {"list", true},   {"spawn", true},  {"spawn_disposable", true},
                   {"import", true}, {"cancel", true}, {"set_image_tag", true},
                   {"upload", true}, {"inspect", true}};
               return send_json(writer, 200,
                                {{"token_uuid", identity.token_uuid},
                                 {"token_expiration", nullptr},
                                 {"permissions", permissions},
                                 {"limits",
                                  {{"instance_max_timeout", limits.max_instance_timeout_seconds},
                                   {"images_import_max_timeout", limits.max_import_timeout_seconds},
                                   {"max_concurrent_operations", limits.workers},
                                   {"max_pending_operations", limits.max_pending}}},
                                 {"operations_stat",
                                  {{"pending", counts.pending}, {"executing", counts.executing}}}});
           });
}

http::Router contree_router(const ContreeServices& services, const ContreeOptions& options) {
    const http::RouterOptions router_options{.max_body_size = options.max_json_body,
                                             .compression = http::Compression::kGzipIfAccepted,
                                             .render_error = status_response,
                                             .render_handler_error = error_response};
    http::Router v1(router_options);
    const RouteContext context{services, options};
    add_whoami_routes(v1, context);
    add_image_routes(v1, context);
    add_file_routes(v1, context);
    add_operation_routes(v1, context);
    add_event_routes(v1, context);
    add_subprocess_routes(v1, context);
    add_inspect_routes(v1, context);

    http::Router grove_v1(router_options);
    add_session_routes(grove_v1, context);
    add_grove_image_routes(grove_v1, context);
    if (services.containers != nullptr) {
        add_grove_container_routes(grove_v1, context, *services.containers);
    }

    http::Router root(router_options);
    root.mount("/v1", v1);
    root.mount("/grove/v1", grove_v1);
    for (const auto& prefix : options.prefixes) {
        root.mount(prefix + "/v1", v1);
        root.mount(prefix + "/grove/v1", grove_v1);
    }
    return root;
}

}  // namespace grove::api
