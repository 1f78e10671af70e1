#pragma once

// Listening sockets: unix (with stale-socket replacement and an atomic chmod) and TCP, and
// accepting from them. Every socket is SOCK_CLOEXEC | SOCK_NONBLOCK.

#include <optional>
#include <sys/types.h>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "http/request.hpp"
#include "http/server.hpp"

namespace grove::http::detail {

class ListenSocket {
public:
    static Result<ListenSocket> unix_socket(const UnixListenerOptions& options);
    static Result<ListenSocket> tcp_socket(const TcpListenerOptions& options);

    ListenSocket(ListenSocket&&) noexcept = default;
    ListenSocket& operator=(ListenSocket&&) noexcept = default;
    // Closes the socket, and removes the unix socket file if it is still the one bound here.
    ~ListenSocket();

    struct Accepted {
        base::UniqueFd fd;
        Peer peer;
    };
    // The next pending connection, or nullopt when there is none (EAGAIN). Fails on errors
    // that concern the listener (EMFILE, ...); connection-level failures are skipped.
    Result<std::optional<Accepted>> accept() const;

    int fd() const { return fd_.get(); }
    const ListenerInfo& info() const { return info_; }

private:
    ListenSocket() = default;

    base::UniqueFd fd_;
    ListenerInfo info_;
    // Unix sockets: the file bound, to remove it at close only if it is still ours.
    std::optional<std::filesystem::path> path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace grove::http::detail
