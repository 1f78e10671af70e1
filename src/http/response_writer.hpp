#pragma once

// How a handler answers. Exactly one of:
//   - send(): a whole response (Content-Length; gzip if allowed and accepted);
//   - start(), then write() any number of times, then finish(): a streamed response. The head
//     goes out at once and every write() is flushed to the socket as it is made (one chunk,
//     deflated with Z_SYNC_FLUSH when gzip applies), so Server-Sent Events and Docker's progress
//     and log streams are live. If the handler returns without finish(), the server finishes the
//     stream when the handler succeeded, and cuts the connection (no terminal chunk, so the
//     client sees a truncated body) when it failed;
//   - hijack(): write a head and take the connection over as a raw byte stream (Docker attach).
// HEAD requests get the head a GET would get, and no body. A failed write means the client is
// gone: the error is Cancelled (or DeadlineExceeded if it stopped reading), the request's
// stop_token fires, and the handler should return.

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "http/response.hpp"

namespace grove::http {

namespace detail {
class Exchange;
class SocketIo;
}  // namespace detail

// A connection taken over by a handler. It owns the socket and closes it when destroyed; it may
// outlive the handler call (to be handed to another thread), but then the server's graceful
// shutdown no longer waits for it.
class RawStream {
public:
    RawStream(RawStream&& other) noexcept;
    RawStream& operator=(RawStream&& other) noexcept;
    ~RawStream();

    // Reads what the client sends: first the bytes it sent right behind the request, then the
    // socket. Returns 0 at EOF (the client closed or half-closed its side). `timeout`: none waits
    // until data arrives, EOF, or the server's forced shutdown (Cancelled).
    Result<size_t> read(std::span<char> out,
                        std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // Writes all of `data`; fails with Cancelled when the client is gone, DeadlineExceeded when
    // it stopped reading for the server's I/O timeout.
    Result<void> write(std::string_view data);
    // Half-closes: the client reads EOF, and may keep sending.
    void shutdown_write();

    // Bytes the client sent behind the request that read() has not returned yet.
    std::string take_pending();
    // The socket, non-blocking, for poll(); read() is still the way to read it.
    int fd() const;
    // Takes the socket out of the stream, in blocking mode (e.g. to splice it to a process).
    // Call take_pending() first: those bytes are not in the socket any more.
    base::UniqueFd release();

private:
    friend class detail::Exchange;
    struct State;
    explicit RawStream(std::unique_ptr<State> state);

    std::unique_ptr<State> state_;
};

class ResponseWriter {
public:
    ResponseWriter(const ResponseWriter&) = delete;
    ResponseWriter& operator=(const ResponseWriter&) = delete;

    // A whole response.
    Result<void> send(Response response);
    // The error response the router renders for `status` (by default json_error()).
    Result<void> send_error(int status, std::string_view message);

    // Sends the head of a streamed response.
    Result<void> start(StreamHead head);
    // Sends `data` as one flushed piece of the body; empty data sends nothing.
    Result<void> write(std::string_view data);
    // Ends the body (the terminal chunk, after the gzip trailer).
    Result<void> finish();

    // Sends `head` and hands the connection over. Any request body not yet read is read and
    // dropped first. The connection is not reused for further requests.
    Result<RawStream> hijack(HijackHead head);

    // A response has been started (send, start or hijack was called).
    bool started() const;

private:
    friend class detail::Exchange;
    explicit ResponseWriter(detail::Exchange& exchange) : exchange_(exchange) {}

    detail::Exchange& exchange_;
};

}  // namespace grove::http
