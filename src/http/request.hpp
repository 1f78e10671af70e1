#pragma once

// One HTTP request as a handler sees it: the parsed head, the route's path parameters, the
// decoded query, who is calling, and the body as a stream. The body is read on demand, so an
// upload of any size can go to a file without being held in memory:
//
//   std::array<char, 65536> buf;
//   for (;;) {
//       GROVE_ASSIGN_OR_RETURN(size_t n, req.read_body(buf));
//       if (n == 0) break;                        // the whole body was read
//       GROVE_TRY(base::write_all(fd, {buf.data(), n}));
//   }
//
// A body larger than the route's limit fails the read with ResourceExhausted, and the server then
// answers 413 whatever the handler returns. A request is valid only during its handler call.

#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <sys/types.h>

#include <grove/result.hpp>

#include "http/headers.hpp"
#include "http/uri.hpp"

namespace grove::http {

namespace detail {
class Exchange;
}  // namespace detail

enum class Transport { kUnix, kTcp };

// SO_PEERCRED of a unix socket client, read when the connection was accepted.
struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct Peer {
    Transport transport = Transport::kUnix;
    // "127.0.0.1:53422" or "[::1]:53422" for TCP; the listening socket's path for unix.
    std::string address;
    // Unix sockets only: the credentials of the process that connected.
    std::optional<PeerCredentials> credentials;
};

class Request {
public:
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    // "GET", "POST", ... as sent (methods are case-sensitive).
    const std::string& method() const { return method_; }
    // The request target as received: "/v1/images?limit=5".
    const std::string& target() const { return target_; }
    // The target's path, still percent-encoded: "/v1/images".
    const std::string& path() const { return path_; }
    // 10 for HTTP/1.0, 11 for HTTP/1.1.
    int version() const { return version_; }
    const Headers& headers() const { return headers_; }
    std::optional<std::string_view> header(std::string_view name) const {
        return headers_.get(name);
    }
    // The decoded query string.
    const QueryParams& query() const { return query_; }
    // The decoded value of a path parameter of the matched route ("{id}"); nullopt if the
    // route has no such parameter.
    std::optional<std::string_view> param(std::string_view name) const { return params_.get(name); }
    const PathParams& params() const { return params_; }
    const Peer& peer() const { return *peer_; }
    // Identifies the connection: equal for requests that shared a keep-alive connection.
    uint64_t connection_id() const { return connection_id_; }

    // Content-Length, or nullopt for a chunked body (or no body at all).
    std::optional<uint64_t> content_length() const { return content_length_; }
    // True when the request carries a body (a non-zero Content-Length, or chunked).
    bool has_body() const { return has_body_; }
    // The largest body this request may carry (the route's limit).
    uint64_t body_limit() const { return body_limit_; }
    // Accept-Encoding lists gzip (or x-gzip, or *) with a non-zero q.
    bool accepts_gzip() const;
    // `Connection: Upgrade` together with `Upgrade: <protocol>` (Docker sends "tcp").
    bool wants_upgrade(std::string_view protocol) const;

    // Reads the next body bytes into `out`; 0 once the body has been read entirely. The first
    // read answers `Expect: 100-continue`. Fails with ResourceExhausted past the body limit,
    // InvalidArgument for a malformed chunked body, DeadlineExceeded when the client stalls,
    // and Cancelled when it went away.
    Result<size_t> read_body(std::span<char> out);
    // The whole body, which is at most body_limit() bytes.
    Result<std::string> read_body_to_string();
    // Copies the rest of the body to `fd` (borrowed); returns the number of bytes copied.
    Result<uint64_t> copy_body_to(int fd);

    // Stop is requested when the client goes away (it closed the connection or its sending side
    // after the request, or a write to it failed) and when the server's shutdown deadline has
    // passed. A handler that blocks (waiting for a process, for events to stream) must watch it.
    std::stop_token stop_token() const { return stop_token_; }

private:
    friend class detail::Exchange;
    explicit Request(detail::Exchange& exchange) : exchange_(exchange) {}

    detail::Exchange& exchange_;
    std::string method_;
    std::string target_;
    std::string path_;
    int version_ = 11;
    Headers headers_;
    QueryParams query_;
    PathParams params_;
    const Peer* peer_ = nullptr;
    uint64_t connection_id_ = 0;
    std::optional<uint64_t> content_length_;
    bool has_body_ = false;
    uint64_t body_limit_ = 0;
    std::stop_token stop_token_;
};

}  // namespace grove::http
