#pragma once

// One accepted connection (Connection: the input buffer, the keep-alive loop) and one request on
// it (Exchange: the request's body, the response's framing). Internal to grove_http.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "http/gzip.hpp"
#include "http/hangup_monitor.hpp"
#include "http/request.hpp"
#include "http/request_parser.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/socket_io.hpp"

namespace grove::http {

// What a hijacked stream owns: the socket and the input read past the request.
struct RawStream::State {
    detail::SocketIo io;
    std::string pending;
    std::chrono::milliseconds io_timeout;
};

}  // namespace grove::http

namespace grove::http::detail {

// "HTTP/1.1 <status> <reason>\r\n" and the fields; a field that would break the framing (a CR
// or LF in a value: header injection) is refused with InvalidArgument.
Result<std::string> format_head(int status, std::string_view reason, const Headers& headers);
// The router's rendering of an error response, forced to `status`.
Response render_error_with(const RouterOptions& options, int status, std::string_view message);

// What every connection shares; owned by the server, which outlives its connections.
struct ServerShared {
    ServerOptions options;
    base::Logger log;
    std::shared_ptr<WakeSignal> idle_stop;   // shutdown began: idle connections close
    std::shared_ptr<WakeSignal> force_stop;  // the grace period ended: every wait fails
    std::unique_ptr<HangupMonitor> monitor;
};

class Connection {
public:
    Connection(const ServerShared& shared,
               const Router& router,
               uint64_t id,
               base::UniqueFd fd,
               Peer peer);

    // Serves requests until the connection ends; then the socket is closed (unless hijacked).
    void run();
    uint64_t id() const { return id_; }
    // Shared state: a copy requests stop for the handler running on this connection.
    std::stop_source stop_source() const { return stop_; }

private:
    friend class Exchange;
    enum class Next { kContinue, kClose };

    Next serve_one();
    // Sends an error response before any handler ran (400, 408, 431) and marks for closing.
    void reject(int status, std::string_view message);
    // Reads more input into the buffer; 0 at EOF.
    Result<size_t> fill(std::optional<Clock::time_point> deadline, size_t max_read);
    std::string_view buffered() const { return std::string_view(in_).substr(in_begin_); }
    void consume(size_t n);
    // Half-closes, and reads (and drops) what the client still sends for a moment, so that the
    // response is not lost to a reset caused by unread input.
    void linger_close();

    const ServerShared& shared_;
    const Router& router_;
    uint64_t id_;
    SocketIo io_;
    Peer peer_;
    std::string in_;
    size_t in_begin_ = 0;
    std::stop_source stop_;
    bool linger_ = false;
    bool hijacked_ = false;
};

class Exchange {
public:
    Exchange(Connection& conn, RequestParser& parser, Clock::time_point started);
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    // Routes and runs the handler, then completes the response; true to keep the connection.
    bool run();

    // Request side.
    Result<size_t> read_body(std::span<char> out);

    // Response side (ResponseWriter).
    Result<void> send(Response response);
    Result<void> send_error(int status, std::string_view message);
    Result<void> start(StreamHead head);
    Result<void> write(std::string_view data);
    Result<void> finish();
    Result<RawStream> hijack(HijackHead head);
    bool started() const { return state_ != State::kNone; }

private:
    enum class State { kNone, kStreaming, kDone, kHijacked, kBroken };
    enum class Framing { kChunked, kLength, kUntilClose, kNone };

    Response render_error(int status, std::string_view message) const;
    // Status line and header fields, with the router's default headers and Connection: close
    // when the connection will not be reused.
    Result<std::string> serialize_head(int status, std::string_view reason, Headers& headers);
    bool use_gzip(Compression compression, const Headers& headers) const;
    // Decides, before a response head goes out, whether the connection can be reused.
    void decide_keep_alive();
    Result<void> write_parts(std::span<const std::string_view> parts);
    // Reads and drops the rest of the body.
    Result<void> discard_body();
    void watch_hangup();
    void unwatch_hangup();
    void finish_after_handler(const Result<void>& result);
    void log_request() const;

    Connection& conn_;
    RequestParser& parser_;
    Clock::time_point started_;
    Request request_;
    ResponseWriter writer_;
    const RouterOptions& router_options_;

    State state_ = State::kNone;
    Framing framing_ = Framing::kNone;
    bool head_only_ = false;  // HEAD, or a status without a body: the head is all
    std::optional<GzipEncoder> gzip_;
    uint64_t length_left_ = 0;  // Framing::kLength

    bool close_ = false;
    bool expect_continue_ = false;
    bool continue_sent_ = false;
    bool watching_ = false;
    uint64_t body_read_ = 0;
    int body_error_status_ = 0;  // 400/408/413 when reading the body failed
    std::string body_error_;

    int status_ = 0;
    uint64_t bytes_sent_ = 0;
};

}  // namespace grove::http::detail
