#pragma once

// HttpClient: blocking HTTP requests over libcurl (GET, HEAD, and the POST and PUT of pushes),
// callable from many threads at once.
//
// Connections are reused through a pool of idle curl easy handles, each keeping its own
// connection cache: libcurl does not support sharing one connection cache between concurrent
// threads (CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT), so only DNS and TLS sessions are shared.
// The pool is LIFO, so a sequential caller gets back the handle, and the warm connection, it used
// last. Redirects are followed; libcurl (>= 7.58, with 7.83's port and scheme checks) drops a
// custom Authorization header when a redirect leaves the original host, which keeps registry
// tokens away from blob storage backends.
//
// Transport failures are Unavailable (DeadlineExceeded for a stalled transfer), so the caller may
// retry; any HTTP status is a successful Result carrying the status.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

namespace grove::registry {

struct HttpHeader {
    std::string name;  // lowercased
    std::string value;
};

struct HttpResponse {
    long status = 0;
    std::vector<HttpHeader> headers;  // of the final response, after redirects
    // Without a sink, a 2xx body. Otherwise up to 64 KiB of a non-2xx body, for its message.
    std::string body;

    // The last value of header `name` (lowercase).
    std::optional<std::string_view> header(std::string_view name) const;
    // Every value of header `name`, for headers a response may repeat (WWW-Authenticate).
    std::vector<std::string_view> header_values(std::string_view name) const;
};

using BodySink = std::function<Result<void>(std::span<const std::byte>)>;

struct HttpRequest {
    std::string method = "GET";  // "GET", "HEAD", "POST", "PUT" or "PATCH"
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    // For a 2xx response: on_head sees its status and headers before any body byte, then sink
    // takes the body chunk by chunk. An error from either aborts the transfer and is returned as
    // is. Without a sink, the body is collected into HttpResponse::body. Neither may throw: an
    // exception cannot cross libcurl's C frames.
    std::function<Result<void>(const HttpResponse&)> on_head;
    BodySink sink;
    // A collected 2xx body larger than this fails the request with OutOfRange.
    size_t max_body = size_t{1} << 20;
    // The body of a POST, PUT or PATCH: body_size bytes of `body_fd` (borrowed, read with pread
    // from body_offset, so a retry sends them again) when it is set, else `body`.
    std::string body;
    int body_fd = -1;
    uint64_t body_size = 0;
    uint64_t body_offset = 0;
    // Called with the bytes of the body sent so far, as the upload goes.
    std::function<void(uint64_t sent)> on_upload;
};

struct HttpOptions {
    std::chrono::seconds connect_timeout{10};
    std::string user_agent;
};

class HttpClient {
public:
    explicit HttpClient(HttpOptions options);
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    ~HttpClient();

    Result<HttpResponse> perform(const HttpRequest& request);

private:
    // The curl share and the idle easy handles; defined in the .cpp, so no header sees curl.h.
    struct Pool;

    HttpOptions options_;
    std::unique_ptr<Pool> pool_;
};

}  // namespace grove::registry
