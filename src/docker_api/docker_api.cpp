#include "docker_api/docker_api.hpp"

#include <charconv>

#include "api/error_mapping.hpp"
#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "base/version.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

// "1.41" as {1, 41}; nullopt unless it is two dot-separated numbers.
std::optional<std::pair<int, int>> parse_version(std::string_view text) {
    const size_t dot = text.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    int major = 0;
    int minor = 0;
    const auto [end1, err1] = std::from_chars(text.data(), text.data() + dot, major);
    const auto [end2, err2] =
        std::from_chars(text.data() + dot + 1, text.data() + text.size(), minor);
    if (err1 != std::errc() || end1 != text.data() + dot || err2 != std::errc() ||
        end2 != text.data() + text.size()) {
        return std::nullopt;
    }
    return std::pair{major, minor};
}

// dockerd's check of the "/v<version>" prefix; nothing to check on unversioned paths.
Result<void> check_version(const http::Request& request) {
    const auto version = request.param("version");
    if (!version) {
        return {};
    }
    const auto parsed = parse_version(*version);
    if (!parsed) {
        return base::make_error(Code::kNotFound, "page not found");
    }
    if (*parsed > *parse_version(kApiVersion)) {
        return base::make_error(Code::kInvalidArgument,
                                "client version {} is too new. Maximum supported API version is {}",
                                *version, kApiVersion);
    }
    if (*parsed < *parse_version(kMinApiVersion)) {
        return base::make_error(Code::kInvalidArgument,
                                "client version {} is too old. Minimum supported API version is "
                                "{}, please upgrade your client to a newer version",
                                *version, kMinApiVersion);
    }
    return {};
}

http::Response docker_error(int status, std::string_view message) {
    return http::Response::json(status, base::dump_json({{"message", message}}));
}

}  // namespace

Result<void> send_json(http::ResponseWriter& writer, int status, const base::Json& body) {
    return writer.send(http::Response::json(status, base::dump_json(body)));
}

Result<void> start_json_stream(http::ResponseWriter& writer) {
    http::StreamHead head{.status = 200};
    head.headers.set("Content-Type", "application/json");
    return writer.start(std::move(head));
}

Result<void> write_json_line(http::ResponseWriter& writer,
                             const base::Json& line,
                             std::string_view eol) {
    return writer.write(base::dump_json(line) + std::string(eol));
}

Result<void> write_stream_error(http::ResponseWriter& writer,
                                const Error& error,
                                std::string_view eol) {
    return write_json_line(
        writer, {{"errorDetail", {{"message", error.message()}}}, {"error", error.message()}}, eol);
}

std::string layer_id(std::string_view digest) {
    const size_t colon = digest.find(':');
    return std::string(digest.substr(colon == std::string_view::npos ? 0 : colon + 1, 12));
}

Result<base::Json> read_json_body(http::Request& request) {
    GROVE_ASSIGN_OR_RETURN(const std::string body, request.read_body_to_string());
    if (body.empty()) {
        return base::Json::object();
    }
    return base::parse_json(body);
}

std::string param(const http::Request& request, std::string_view name) {
    return std::string(request.param(name).value_or(""));
}

void route(http::Router& router,
           const DockerServices& services,
           std::string_view method,
           std::string_view pattern,
           http::Handler handler,
           http::RouteOptions options) {
    const api::Authenticator& auth = services.auth;
    router.add(
        method, pattern,
        [&auth, handler = std::move(handler)](http::Request& request,
                                              http::ResponseWriter& writer) -> Result<void> {
            GROVE_TRY(check_version(request));
            GROVE_TRY(auth.authenticate(request));
            return handler(request, writer);
        },
        options);
}

Result<std::optional<int64_t>> query_int(const http::Request& request, std::string_view name) {
    const auto text = request.query().get(name);
    if (!text || text->empty()) {
        return std::optional<int64_t>();
    }
    const auto value = base::parse_number<int64_t>(*text);
    if (!value) {
        return base::make_error(Code::kInvalidArgument, "invalid {} '{}'", name, *text);
    }
    return std::optional<int64_t>(*value);
}

bool query_flag(const http::Request& request, std::string_view name, bool fallback) {
    const auto value = request.query().get(name);
    if (!value) {
        return fallback;
    }
    return *value == "1" || *value == "true" || *value == "True";
}

http::Router docker_router(const DockerServices& services) {
    http::RouterOptions options{
        .max_body_size = uint64_t{8} << 20,
        .compression = http::Compression::kNone,
        .render_error =
            [](int status, std::string_view message) {
                // dockerd's words for a path no route serves.
                return docker_error(status, status == 404 ? "page not found" : message);
            },
        .render_handler_error =
            [](const Error& error) {
                return docker_error(api::http_status(error), error.message());
            }};
    options.headers.set("Api-Version", std::string(kApiVersion));
    options.headers.set("Ostype", "linux");
    options.headers.set("Docker-Experimental", "false");
    options.headers.set("Server", fmt::format("Docker/{} (linux) grove", base::version()));

    http::Router routes(options);
    add_system_routes(routes, services);
    add_event_routes(routes, services);
    add_image_routes(routes, services);
    add_pull_routes(routes, services);
    add_push_routes(routes, services);
    add_archive_routes(routes, services);
    add_container_routes(routes, services);
    add_container_io_routes(routes, services);
    add_container_attach_routes(routes, services);
    add_container_stats_routes(routes, services);
    add_network_routes(routes, services);
    add_container_file_routes(routes, services, services.containers.manager());

    http::Router root(options);
    root.mount("", routes);
    root.mount("/v{version}", routes);
    return root;
}

}  // namespace grove::docker_api
