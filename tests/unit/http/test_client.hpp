#pragma once

// Clients for driving grove_http in tests: libcurl (over a unix socket or TCP) and raw sockets
// for what curl cannot express (malformed requests, trickling, hijacking, half-closing).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::http::testing {

struct Target {
    std::string unix_path;  // set: over this unix socket
    uint16_t port = 0;      // otherwise: TCP to 127.0.0.1:port
};

struct CurlRequest {
    std::string method = "GET";
    std::string path = "/";
    std::vector<std::string> headers;  // "Name: value"
    std::optional<std::string> body;
    // Streams the body from this generator instead (returns bytes written, 0 at the end);
    // chunked unless `upload_size` is set.
    std::function<size_t(char* buffer, size_t size)> body_source;
    std::optional<uint64_t> upload_size;
    // Receives the body as it arrives; return false to abort the transfer.
    std::function<bool(std::string_view data)> on_data;
    std::chrono::milliseconds timeout{10'000};
};

struct CurlResponse {
    int curl_code = 0;  // CURLcode
    long status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    long new_connections = 0;  // CURLINFO_NUM_CONNECTS
    std::string error;

    // The header's value, "" when absent (`name` in lowercase).
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// One curl easy handle: requests through it reuse the connection (keep-alive).
class CurlClient {
public:
    explicit CurlClient(Target target);
    CurlClient(const CurlClient&) = delete;
    CurlClient& operator=(const CurlClient&) = delete;
    ~CurlClient();

    CurlResponse request(const CurlRequest& request);
    CurlResponse get(std::string path) { return request({.path = std::move(path)}); }

private:
    Target target_;
    void* handle_;
};

struct ParsedResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;                            // de-chunked

    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// A raw socket to the server.
class RawClient {
public:
    static Result<RawClient> connect(const Target& target);

    Result<void> send(std::string_view data);
    // Reads until `needle` has been received (everything read so far is returned), EOF, or the
    // timeout; fails on timeout.
    Result<std::string> read_until(std::string_view needle,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads one complete response (Content-Length or chunked; not for HEAD).
    Result<ParsedResponse> read_response(
        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads until the server closes; fails on timeout.
    Result<std::string> read_to_eof(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    void shutdown_write();
    int fd() const { return fd_.get(); }
    // What was read past the last read_until() needle.
    std::string take_buffer() { return std::exchange(buffer_, {}); }

private:
    explicit RawClient(base::UniqueFd fd) : fd_(std::move(fd)) {}
    base::UniqueFd fd_;
    std::string buffer_;
};

// Parses one complete response from `raw` (Content-Length or chunked body); nullopt if
// incomplete. `consumed` gets the number of bytes it used.
std::optional<ParsedResponse> parse_response(std::string_view raw, size_t* consumed = nullptr);

// Decodes a gzip member; fails unless it ends with a valid trailer (CRC and size).
Result<std::string> gunzip(std::string_view data);

}  // namespace grove::http::testing
