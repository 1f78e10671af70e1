#pragma once

// FlakyProxy: a loopback TCP proxy in front of a test server (a LocalRegistry) that misbehaves on
// purpose, for testing what a client does when the network does:
//   - the first `flaky_connections` connections forward the upstream's response but are closed
//     after `drop_after_bytes` response bytes, as a connection dropped mid-layer;
//   - `strip_range` removes Range headers from requests, as a server without range support;
//   - `redirect_to` makes it a redirector instead of a proxy: requests without Authorization get
//     401 with a Basic challenge, requests with it a 307 to `redirect_to` + the same path.
// Every request head it receives is recorded. It serves bodiless requests only (GET, HEAD), which
// is all a pulling client sends. Threads and sockets live as long as the object; the destructor
// closes every connection and joins.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::testing {

struct FlakyProxyOptions {
    std::string upstream;  // "127.0.0.1:PORT"
    int flaky_connections = 0;
    uint64_t drop_after_bytes = 0;
    bool strip_range = false;
    std::string redirect_to;  // "http://127.0.0.1:PORT"; empty: forward to upstream
};

class FlakyProxy {
    // Only start() can name it: the constructor starts a thread that captures `this`, so the
    // object must be built in its final place.
    struct Key {
        explicit Key() = default;
    };

public:
    static Result<std::unique_ptr<FlakyProxy>> start(FlakyProxyOptions options);
    FlakyProxy(
        Key key, FlakyProxyOptions options, base::UniqueFd listener, base::UniqueFd stop, int port);
    FlakyProxy(const FlakyProxy&) = delete;
    FlakyProxy& operator=(const FlakyProxy&) = delete;
    ~FlakyProxy();

    // "127.0.0.1:PORT"
    const std::string& host() const { return host_; }
    int connections() const { return connections_.load(); }
    // Every request head received so far ("GET /v2/... HTTP/1.1\r\nHost: ...\r\n..."), in order.
    std::vector<std::string> request_heads() const;

private:
    void accept_loop();
    void serve(base::UniqueFd client, int index);
    void forward(int client, int upstream, bool flaky);
    void redirect(int client);
    // Reads one request head ("...\r\n\r\n") from `fd`; false on EOF, error or stop.
    bool read_head(int fd, std::string& head);
    void record(const std::string& head);
    // Registers a live socket so the destructor can shut it down; false when stopping.
    bool track(int fd);
    void untrack(int fd);

    FlakyProxyOptions options_;
    base::UniqueFd listener_;
    base::UniqueFd stop_;  // an eventfd, readable once the proxy stops
    std::string host_;
    std::atomic<int> connections_{0};

    mutable std::mutex mutex_;
    std::vector<std::string> heads_;     // guarded by mutex_
    std::set<int> live_;                 // guarded by mutex_
    bool stopping_ = false;              // guarded by mutex_
    std::vector<std::jthread> workers_;  // guarded by mutex_
    std::jthread acceptor_;
};

}  // namespace grove::testing
