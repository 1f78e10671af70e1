#include "http/response.hpp"

#include <nlohmann/json.hpp>

namespace grove::http {

Response Response::json(int status, std::string body) {
    Response r{.status = status, .body = std::move(body)};
    r.headers.set("Content-Type", "application/json");
    return r;
}

Response Response::text(int status, std::string body, std::string_view content_type) {
    Response r{.status = status, .body = std::move(body)};
    r.headers.set("Content-Type", std::string(content_type));
    return r;
}

Response Response::empty(int status) {
    return Response{.status = status};
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 410:
            return "Gone";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Range Not Satisfiable";
        case 417:
            return "Expectation Failed";
        case 422:
            return "Unprocessable Content";
        case 425:
            return "Too Early";
        case 426:
            return "Upgrade Required";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 499:
            return "Client Closed Request";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

Response json_error(int status, std::string_view message) {
    // Invalid UTF-8 in a message (a path from a request, say) is replaced, never thrown about.
    const nlohmann::json body = {{"error", message}, {"status", status}};
    return Response::json(status,
                          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace grove::http
