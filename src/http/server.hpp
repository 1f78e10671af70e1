#pragma once

// grove's HTTP/1.1 server: the transport under the ConTree API (/v1) and the Docker Engine API.
// It knows nothing of either: a Router per listener maps requests to handlers, and the error
// body format and the Code -> status mapping are the router's hooks (RouterOptions).
//
// Threading model
// - One acceptor thread polls every listening socket. Each accepted connection gets its own
//   thread, which reads a request, runs its handler, writes the response, and loops while the
//   connection is kept alive. Requests on one connection are therefore handled in order
//   (pipelined requests wait in the input buffer).
// - Handlers may block as long as they need: a run takes seconds, an SSE stream or `docker logs
//   -f` minutes, a hijacked `docker attach` as long as the container lives. A thread per
//   connection makes that free of callbacks, and it lets a hijacked handler own its socket
//   outright. The price is a thread (8 MiB of reserved, mostly untouched stack) per connection,
//   bounded by ServerOptions::max_connections: past it, a new connection gets an immediate 503
//   with Connection: close and is closed. Hundreds of concurrent streams are fine.
// - Asio's io_context is not used: with blocking handlers it would only add a hand-off. Sockets
//   are plain non-blocking fds (SOCK_CLOEXEC) waited on with poll(), which gives per-phase
//   deadlines and lets shutdown wake any wait. Beast provides the request parser only.
// - One more thread watches the connections whose handler is running for the client going away
//   (EPOLLRDHUP), and then requests stop on the request's stop_token, so a handler blocked on
//   something other than the socket (a process, an event queue) learns of it.
//
// Limits and timeouts (ServerOptions): the header must arrive within header_timeout of its first
// byte (slowloris; 408 then close) and fit max_header_size (431); a keep-alive connection may
// idle idle_timeout between requests; a body read or a response write that makes no progress
// for io_timeout fails (the handler sees DeadlineExceeded): a client trickling a body just fast
// enough keeps its thread, which max_connections bounds. Body limits are per route (413).
// Malformed requests get 400 and the connection is closed.
//
// Shutdown: shutdown(grace) stops accepting (removing the unix socket files), closes idle
// keep-alive connections, and lets in-flight requests finish for up to `grace`; then it
// requests stop on every remaining request, fails every socket wait (so blocked reads and writes
// return), and waits for the handlers to return. Handlers must therefore honour stop_token(), and
// must not call shutdown() themselves (it would wait for its own caller). A stream a handler
// hijacked and kept after returning is the handler's own business and is not waited for.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "http/request.hpp"
#include "http/router.hpp"

namespace grove::http {

struct ServerOptions {
    // Connections served at once (each one a thread); more get 503.
    size_t max_connections = 1024;
    // Request line plus header fields.
    uint32_t max_header_size = 64 * 1024;
    // From the first byte of a request to the end of its header.
    std::chrono::milliseconds header_timeout{30'000};
    // A kept-alive connection waiting for its next request.
    std::chrono::milliseconds idle_timeout{120'000};
    // A body read or response write that makes no progress.
    std::chrono::milliseconds io_timeout{60'000};
};

struct UnixListenerOptions {
    // Its parent directories are created (0755) if missing. An existing socket file is replaced
    // only when nothing accepts connections on it; any other existing file is an error.
    std::filesystem::path path;
    // The socket file's mode, set before the file appears under `path`.
    mode_t mode = 0660;
    // The socket file's group (e.g. "docker"'s gid); none keeps the process's.
    std::optional<gid_t> group;
};

struct TcpListenerOptions {
    // A numeric address or a host name; "0.0.0.0" or "::" for every interface.
    std::string host = "127.0.0.1";
    // 0 picks a free port; ListenerInfo::port reports it.
    uint16_t port = 0;
};

struct ListenerInfo {
    Transport transport = Transport::kUnix;
    // The socket path, or "host:port" ("[::1]:port" for IPv6).
    std::string address;
    uint16_t port = 0;  // TCP only
};

class Server {
public:
    Server(ServerOptions options, base::Logger log);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    // shutdown() with no grace period, if still running.
    ~Server();

    // Binds a listener now, serving `router`'s routes once start() is called. Fails on an
    // invalid router (Router::validate), or when called after start().
    Result<ListenerInfo> listen_unix(UnixListenerOptions options, Router router);
    Result<ListenerInfo> listen_tcp(TcpListenerOptions options, Router router);

    // Starts accepting connections on every listener.
    Result<void> start();

    // Stops the server (see the header comment); returns once every connection is closed and
    // every handler has returned. Idempotent.
    void shutdown(std::chrono::milliseconds grace);

    // Connections currently served (not counting those refused with 503).
    size_t active_connections() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace grove::http
