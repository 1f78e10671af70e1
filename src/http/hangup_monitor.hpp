#pragma once

// Watches sockets whose handler is running for the client going away (EPOLLRDHUP: it closed or
// shut down its sending side; EPOLLHUP/EPOLLERR: the connection is gone) and then requests stop
// on the request's stop_source. A socket is watched only once its request body has been read,
// so that a client which half-closes after a complete request is the only false alarm (Go's
// net/http cancels the request context in that case too). Hijacked sockets are never watched.

#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <unordered_map>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "http/socket_io.hpp"

namespace grove::http::detail {

class HangupMonitor {
public:
    static Result<std::unique_ptr<HangupMonitor>> create();
    HangupMonitor(const HangupMonitor&) = delete;
    HangupMonitor& operator=(const HangupMonitor&) = delete;
    ~HangupMonitor();

    // Starts watching `fd` (borrowed; unwatch before closing it) for connection `id`.
    void watch(uint64_t id, int fd, std::stop_source source);
    void unwatch(uint64_t id, int fd);

private:
    HangupMonitor(base::UniqueFd epoll, std::shared_ptr<WakeSignal> wake);
    void run();

    base::UniqueFd epoll_;
    std::shared_ptr<WakeSignal> wake_;
    std::mutex mu_;
    std::unordered_map<uint64_t, std::stop_source> watched_;  // guarded by mu_
    std::jthread thread_;
};

}  // namespace grove::http::detail
