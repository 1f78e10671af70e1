#pragma once

// HttpLoop is the remote client's I/O: one thread drives every request through one libcurl multi
// handle, so hundreds of requests (runs waiting for their completion on an event stream) are in
// flight without a thread each. submit() may be called from any thread, the loop's own included
// (a completion starting the next step of a run); `done` runs on the loop's thread and must not
// block.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

namespace grove::client {

struct Endpoint {
    std::string unix_path;  // set: requests go over this socket to base_url's path
    std::string base_url;   // "http://localhost", "http://host:port/prefix"
    std::string token;      // bearer token; none when empty
};

struct HttpRequest {
    std::string method = "GET";
    std::string path;  // appended to base_url: "/v1/images?tagged=1"
    std::string body;
    // Set (>= 0): the body is instead `body_size` bytes read from this descriptor as they are
    // sent, so a large upload never sits in memory; the caller keeps it open until done.
    int body_fd = -1;
    uint64_t body_size = 0;
    std::string content_type = "application/json";
    // Set: the body is handed over in chunks as it arrives (an event stream) and not kept.
    std::function<void(std::string_view)> on_body;
};

struct HttpResponse {
    long status = 0;
    std::string body;
};

// A status >= 400 as grove's Error: the Code from the body's "code" (grove's wire name), else
// from the status; the message from "error".
Error http_error(const HttpResponse& response);

class HttpLoop {
public:
    using Done = std::function<void(Result<HttpResponse>)>;

    static Result<std::unique_ptr<HttpLoop>> start(Endpoint endpoint);
    // Fails what is still in flight (Cancelled) and joins the thread.
    ~HttpLoop();

    void submit(HttpRequest request, Done done);
    // submit() and wait; never from the loop's thread. A status >= 400 is an error.
    Result<HttpResponse> call(HttpRequest request);

private:
    struct State;
    explicit HttpLoop(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace grove::client
