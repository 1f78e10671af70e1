#pragma once

// Routes: a method plus a path pattern, mapped to a handler.
//
// Vocabulary. A pattern is a path whose segments are either literal ("images"), a parameter
// ("{id}", one non-empty segment), a parameter with a literal prefix or suffix ("v{version}",
// which matches "v1.41"), or a rest parameter ("{name...}", one or more whole segments, so
// Docker's "/images/{name...}/json" matches "/images/library/busybox:1/json"). Path segments are
// percent-decoded before they are compared or captured; the query string is not part of the
// path. A trailing slash is significant ("/v1/inspect/" is not "/v1/inspect").
//
// When several patterns match, the most specific wins, comparing segment by segment: literal,
// then prefixed/suffixed parameter, then parameter, then rest parameter; so "/containers/json"
// beats "/containers/{id}" whatever the order of registration. A path that matches only routes of
// other methods is 405 with an Allow header; HEAD uses the GET route when there is no HEAD route.
//
// mount(prefix, sub) adds every route of `sub` under a prefix, itself a pattern: Docker's routes
// are mounted at "" and at "/v{version}". Only the routes are copied, not sub's options.
//
// Handlers run on the connection's thread and may block (see server.hpp). They return an Error
// when they could not answer; if nothing was sent yet, RouterOptions::render_handler_error turns
// it into the response (the API layer plugs its Code -> status mapping in there).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "http/request.hpp"
#include "http/response.hpp"
#include "http/response_writer.hpp"

namespace grove::http {

using Handler = std::function<Result<void>(Request&, ResponseWriter&)>;

struct RouteOptions {
    // The largest request body this route accepts; nullopt: RouterOptions::max_body_size.
    std::optional<uint64_t> max_body_size;
};

struct RouterOptions {
    // The largest request body of routes that do not say (413 beyond it).
    uint64_t max_body_size = uint64_t{1} << 20;
    // How responses that say Compression::kDefault are encoded (errors included).
    Compression compression = Compression::kNone;
    // Added to every response that does not set the same field (Docker's Api-Version, ...).
    Headers headers;
    // Renders the server's own errors (400, 404, 405, 408, 413, 431, 500, 503) and
    // ResponseWriter::send_error; empty: json_error().
    std::function<Response(int status, std::string_view message)> render_error;
    // Renders the Error a handler returned without answering; empty: a 500 through
    // render_error with the error's message.
    std::function<Response(const Error& error)> render_handler_error;
};

class Router {
public:
    explicit Router(RouterOptions options = {});
    Router(const Router&);
    Router(Router&&) noexcept;
    Router& operator=(const Router&);
    Router& operator=(Router&&) noexcept;
    ~Router();

    // Registers a route. An invalid pattern is reported by validate() (and by Server::listen_*),
    // so that a table of routes reads without a check per line.
    Router& add(std::string_view method,
                std::string_view pattern,
                Handler handler,
                RouteOptions options = {});
    Router& get(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        return add("GET", pattern, std::move(handler), options);
    }
    Router& post(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        return add("POST", pattern, std::move(handler), options);
    }
    Router& put(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        return add("PUT", pattern, std::move(handler), options);
    }
    Router& del(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        return add("DELETE", pattern, std::move(handler), options);
    }
    Router& head(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        return add("HEAD", pattern, std::move(handler), options);
    }
    // Adds every route of `sub` under `prefix` ("" or a pattern such as "/v{version}").
    Router& mount(std::string_view prefix, const Router& sub);

    // The first invalid pattern or mount prefix, if any.
    Result<void> validate() const;
    const RouterOptions& options() const { return options_; }

    enum class MatchStatus { kFound, kNotFound, kMethodNotAllowed, kBadPath };
    struct Match {
        MatchStatus status = MatchStatus::kNotFound;
        const Handler* handler = nullptr;
        std::string pattern;  // the matched route's pattern, mount prefix included
        RouteOptions options;
        PathParams params;
        std::string allow;  // kMethodNotAllowed: "GET, HEAD, POST"
        std::string error;  // kBadPath: why the path could not be decoded
    };
    Match match(std::string_view method, std::string_view path) const;

private:
    struct Route;

    RouterOptions options_;
    std::vector<Route> routes_;
    std::optional<Error> invalid_;
};

}  // namespace grove::http
