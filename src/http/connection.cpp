#include "http/connection.hpp"

#include <algorithm>
#include <array>
#include <sys/socket.h>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::http::detail {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// An unread body up to this size is read and dropped to keep the connection; beyond it (or when
// its size is unknown) the connection is closed instead.
constexpr uint64_t kDrainLimit = uint64_t{1} << 20;
// What linger_close() waits for and reads at most.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = size_t{4} << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool valid_field_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), is_token_char);
}

bool valid_field_value(std::string_view value) {
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace

Result<std::string> format_head(int status, std::string_view reason, const Headers& headers) {
    if (status < 100 || status > 999) {
        return base::make_error(Code::kInvalidArgument, "invalid HTTP status {}", status);
    }
    if (!valid_field_value(reason)) {
        return Error(Code::kInvalidArgument, "invalid reason phrase");
    }
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, reason);
    for (const Headers::Field& field : headers) {
        if (!valid_field_name(field.name) || !valid_field_value(field.value)) {
            return base::make_error(Code::kInvalidArgument, "invalid response header '{}'",
                                    field.name);
        }
        out += field.name;
        out += ": ";
        out += field.value;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

Response render_error_with(const RouterOptions& options, int status, std::string_view message) {
    Response response =
        options.render_error ? options.render_error(status, message) : json_error(status, message);
    response.status = status;
    return response;
}

namespace {

Compression resolve(Compression compression, const RouterOptions& options) {
    return compression == Compression::kDefault ? options.compression : compression;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(
    const ServerShared& shared, const Router& router, uint64_t id, base::UniqueFd fd, Peer peer)
    : shared_(shared),
      router_(router),
      id_(id),
      io_(std::move(fd), shared.force_stop),
      peer_(std::move(peer)) {}

void Connection::run() {
    while (serve_one() == Next::kContinue) {
    }
    if (!hijacked_) {
        if (linger_) {
            linger_close();
        }
        io_.close();
    }
}

Connection::Next Connection::serve_one() {
    const ServerOptions& options = shared_.options;
    if (buffered().empty()) {
        if (shared_.idle_stop->signalled() || stop_.stop_requested()) {
            return Next::kClose;
        }
        const auto ready =
            io_.wait_readable(Clock::now() + options.idle_timeout, shared_.idle_stop.get());
        if (ready != SocketIo::Ready::kReadable) {
            return Next::kClose;
        }
    }
    // Slowloris: the whole header must arrive within header_timeout of its first byte.
    const auto started = Clock::now();
    const auto deadline = started + options.header_timeout;
    RequestParser parser(options.max_header_size);
    for (;;) {
        if (!buffered().empty()) {
            const ParseStep step = parser.put_header(buffered());
            consume(step.consumed);
            if (step.status == ParseStatus::kOk && parser.header_done()) {
                break;
            }
            if (step.status == ParseStatus::kHeaderTooLarge) {
                reject(431, step.message);
                return Next::kClose;
            }
            if (step.status == ParseStatus::kBad || step.status == ParseStatus::kBodyTooLarge) {
                reject(400, step.message);
                return Next::kClose;
            }
        }
        const bool partial = !buffered().empty();
        auto n = fill(deadline, kReadChunk);
        if (!n) {
            if (n.error().code() == Code::kDeadlineExceeded && partial) {
                reject(408, "timed out reading the request header");
            }
            return Next::kClose;
        }
        if (*n == 0) {
            return Next::kClose;  // EOF, before a request or within its header
        }
    }
    Exchange exchange(*this, parser, started);
    return exchange.run() && !stop_.stop_requested() ? Next::kContinue : Next::kClose;
}

void Connection::reject(int status, std::string_view message) {
    Response response = render_error_with(router_.options(), status, message);
    response.headers.set("Content-Length", std::to_string(response.body.size()));
    response.headers.set("Connection", "close");
    linger_ = true;
    auto head = format_head(status, reason_phrase(status), response.headers);
    if (!head) {
        return;
    }
    const std::array<std::string_view, 2> parts{*head, response.body};
    [[maybe_unused]] auto written = io_.write_all(parts, shared_.options.io_timeout);
    if (shared_.log.enabled(base::LogLevel::kDebug)) {
        shared_.log.debug(
            "http request rejected",
            {{"status", status}, {"error", message}, {"connection", id_}, {"peer", peer_.address}});
    }
}

Result<size_t> Connection::fill(std::optional<Clock::time_point> deadline, size_t max_read) {
    if (in_begin_ > 0) {
        in_.erase(0, in_begin_);
        in_begin_ = 0;
    }
    const size_t old_size = in_.size();
    in_.resize(old_size + max_read);
    auto n = io_.read_some(std::span<char>(in_.data() + old_size, max_read), deadline);
    in_.resize(old_size + (n ? *n : 0));
    return n;
}

void Connection::consume(size_t n) {
    in_begin_ += n;
    if (in_begin_ >= in_.size()) {
        in_.clear();
        in_begin_ = 0;
    }
}

void Connection::linger_close() {
    io_.shutdown(SHUT_WR);
    const auto deadline =
        Clock::now() + std::min<Clock::duration>(kLingerTime, shared_.options.io_timeout);
    std::array<char, 16384> scratch{};
    size_t total = 0;
    while (total < kLingerBytes) {
        auto n = io_.read_some(scratch, deadline);
        if (!n || *n == 0) {
            break;
        }
        total += *n;
    }
}

// ---------------------------------------------------------------------------------------------
// Exchange

Exchange::Exchange(Connection& conn, RequestParser& parser, Clock::time_point started)
    : conn_(conn),
      parser_(parser),
      started_(started),
      request_(*this),
      writer_(*this),
      router_options_(conn.router_.options()) {}

bool Exchange::run() {
    ParsedHead& head = parser_.head();
    request_.method_ = std::move(head.method);
    request_.target_ = std::move(head.target);
    request_.version_ = head.version;
    request_.headers_ = std::move(head.headers);
    request_.peer_ = &conn_.peer_;
    request_.connection_id_ = conn_.id_;
    request_.stop_token_ = conn_.stop_.get_token();
    request_.has_body_ = head.chunked || head.content_length.value_or(0) > 0;
    if (!head.chunked) {
        request_.content_length_ = head.content_length;
    }
    request_.body_limit_ = router_options_.max_body_size;
    // HTTP/1.0 keep-alive is not worth its corner cases: 1.0 clients get one request each.
    if (head.version < 11 || !head.keep_alive) {
        close_ = true;
    }
    if (const auto expect = request_.header("Expect")) {
        expect_continue_ =
            request_.has_body_ && head.version >= 11 && iequals(*expect, "100-continue");
    }

    Result<void> result;
    std::string_view target = request_.target_;
    if (!target.empty() && target.front() != '/') {
        // Absolute form ("http://host/path"), which proxies send: only the path matters here.
        const size_t scheme = target.find("://");
        if (scheme != std::string_view::npos) {
            const size_t path = target.find_first_of("/?", scheme + 3);
            target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
        }
    }
    const auto [path, query] = split_target(target);
    request_.path_ = std::string(path);
    auto parsed_query = QueryParams::parse(query);
    if (!parsed_query) {
        result = send_error(400, "bad query string: " + parsed_query.error().message());
        finish_after_handler(result);
        return false;
    }
    request_.query_ = std::move(*parsed_query);

    Router::Match match = conn_.router_.match(request_.method_, request_.path_);
    switch (match.status) {
        case Router::MatchStatus::kBadPath:
            result = send_error(400, "bad request path: " + match.error);
            break;
        case Router::MatchStatus::kNotFound:
            result = send_error(
                404, fmt::format("no route for {} {}", request_.method_, request_.path_));
            break;
        case Router::MatchStatus::kMethodNotAllowed: {
            Response response = render_error(
                405, fmt::format("method {} not allowed for {}", request_.method_, request_.path_));
            response.headers.set("Allow", match.allow);
            result = send(std::move(response));
            break;
        }
        case Router::MatchStatus::kFound: {
            request_.params_ = std::move(match.params);
            request_.body_limit_ = match.options.max_body_size.value_or(request_.body_limit_);
            if (request_.content_length_ && *request_.content_length_ > request_.body_limit_) {
                body_error_status_ = 413;
                body_error_ = fmt::format("request body of {} bytes exceeds the limit of {} bytes",
                                          *request_.content_length_, request_.body_limit_);
                break;  // answered below, without reading the body
            }
            if (head.chunked) {
                parser_.set_body_limit(request_.body_limit_);
            }
            if (parser_.complete()) {
                watch_hangup();
            }
            result = (*match.handler)(request_, writer_);
            break;
        }
    }
    finish_after_handler(result);
    return !close_ && state_ == State::kDone;
}

Response Exchange::render_error(int status, std::string_view message) const {
    return render_error_with(router_options_, status, message);
}

bool Exchange::use_gzip(Compression compression, const Headers& headers) const {
    return resolve(compression, router_options_) == Compression::kGzipIfAccepted &&
           request_.accepts_gzip() && !headers.contains("Content-Encoding");
}

void Exchange::decide_keep_alive() {
    if (conn_.shared_.idle_stop->signalled() || body_error_status_ != 0) {
        close_ = true;
    }
    if (!parser_.complete()) {
        // Unless 100 Continue went out, the client may or may not send the body now.
        if (expect_continue_ && !continue_sent_) {
            close_ = true;
        } else if (!request_.content_length_ ||
                   *request_.content_length_ - body_read_ > kDrainLimit) {
            close_ = true;
        }
    }
}

Result<std::string> Exchange::serialize_head(int status,
                                             std::string_view reason,
                                             Headers& headers) {
    for (const Headers::Field& field : router_options_.headers) {
        if (!headers.contains(field.name)) {
            headers.add(field.name, field.value);
        }
    }
    if (close_) {
        headers.set("Connection", "close");
    }
    return format_head(status, reason, headers);
}

Result<void> Exchange::write_parts(std::span<const std::string_view> parts) {
    auto written = conn_.io_.write_all(parts, conn_.shared_.options.io_timeout);
    if (!written) {
        state_ = State::kBroken;
        close_ = true;
        conn_.stop_.request_stop();
        return written;
    }
    for (std::string_view part : parts) {
        bytes_sent_ += part.size();
    }
    return {};
}

Result<void> Exchange::send(Response response) {
    if (state_ != State::kNone) {
        return Error(Code::kFailedPrecondition, "a response was already started");
    }
    if (response.status < 200) {
        return base::make_error(Code::kInvalidArgument, "send() needs a final status, not {}",
                                response.status);
    }
    decide_keep_alive();
    const bool bodiless = response.status == 204 || response.status == 304;
    const bool head_request = request_.method_ == "HEAD";
    std::string body = std::move(response.body);
    if (bodiless) {
        body.clear();
    } else if (use_gzip(response.compression, response.headers)) {
        GROVE_ASSIGN_OR_RETURN(body, gzip_compress(body));
        response.headers.set("Content-Encoding", "gzip");
    }
    if (resolve(response.compression, router_options_) == Compression::kGzipIfAccepted &&
        !response.headers.contains("Vary")) {
        response.headers.set("Vary", "Accept-Encoding");
    }
    // A HEAD handler may state the length of the body it does not send.
    if (!bodiless && !(head_request && response.headers.contains("Content-Length"))) {
        response.headers.set("Content-Length", std::to_string(body.size()));
    }
    GROVE_ASSIGN_OR_RETURN(
        const std::string head,
        serialize_head(response.status, reason_phrase(response.status), response.headers));
    status_ = response.status;
    const std::array<std::string_view, 2> parts{head, head_request ? std::string_view() : body};
    GROVE_TRY(write_parts(parts));
    state_ = State::kDone;
    return {};
}

Result<void> Exchange::send_error(int status, std::string_view message) {
    return send(render_error(status, message));
}

Result<void> Exchange::start(StreamHead head) {
    if (state_ != State::kNone) {
        return Error(Code::kFailedPrecondition, "a response was already started");
    }
    if (head.status < 200) {
        return base::make_error(Code::kInvalidArgument, "start() needs a final status, not {}",
                                head.status);
    }
    // A streaming handler usually reads the body while it streams (docker load): let the client
    // send it before the final head makes an interim response impossible.
    if (expect_continue_ && !continue_sent_ && !parser_.complete()) {
        GROVE_TRY(write_parts(std::array<std::string_view, 1>{kContinue}));
        continue_sent_ = true;
    }
    decide_keep_alive();
    const bool bodiless = head.status == 204 || head.status == 304;
    head_only_ = bodiless || request_.method_ == "HEAD";
    Headers& headers = head.headers;
    const bool gzip = !bodiless && use_gzip(head.compression, headers);
    if (resolve(head.compression, router_options_) == Compression::kGzipIfAccepted &&
        !headers.contains("Vary")) {
        headers.set("Vary", "Accept-Encoding");
    }
    if (gzip) {
        GROVE_ASSIGN_OR_RETURN(GzipEncoder encoder, GzipEncoder::create());
        gzip_.emplace(std::move(encoder));
        headers.set("Content-Encoding", "gzip");
    }
    if (bodiless) {
        framing_ = Framing::kNone;
    } else if (head.content_length && !gzip) {
        framing_ = Framing::kLength;
        length_left_ = *head.content_length;
        headers.set("Content-Length", std::to_string(*head.content_length));
    } else if (request_.version_ >= 11) {
        framing_ = Framing::kChunked;
        headers.remove("Content-Length");
        headers.set("Transfer-Encoding", "chunked");
    } else {
        framing_ = Framing::kUntilClose;
        headers.remove("Content-Length");
        close_ = true;
    }
    GROVE_ASSIGN_OR_RETURN(const std::string text,
                           serialize_head(head.status, reason_phrase(head.status), headers));
    status_ = head.status;
    GROVE_TRY(write_parts(std::array<std::string_view, 1>{text}));
    state_ = State::kStreaming;
    return {};
}

Result<void> Exchange::write(std::string_view data) {
    if (state_ == State::kBroken) {
        return Error(Code::kCancelled, "the response stream is broken: the client went away");
    }
    if (state_ != State::kStreaming) {
        return Error(Code::kFailedPrecondition, "write() needs a started stream");
    }
    if (data.empty() || head_only_ || framing_ == Framing::kNone) {
        return {};
    }
    std::string compressed;
    if (gzip_) {
        GROVE_ASSIGN_OR_RETURN(compressed, gzip_->flush(data));
        data = compressed;
    }
    switch (framing_) {
        case Framing::kChunked: {
            const std::string size_line = fmt::format("{:x}\r\n", data.size());
            return write_parts(std::array<std::string_view, 3>{size_line, data, "\r\n"});
        }
        case Framing::kLength:
            if (data.size() > length_left_) {
                return base::make_error(Code::kInvalidArgument,
                                        "write of {} bytes past the Content-Length ({} left)",
                                        data.size(), length_left_);
            }
            length_left_ -= data.size();
            return write_parts(std::array<std::string_view, 1>{data});
        case Framing::kUntilClose:
            return write_parts(std::array<std::string_view, 1>{data});
        case Framing::kNone:
            break;
    }
    return {};
}

Result<void> Exchange::finish() {
    if (state_ == State::kDone) {
        return {};
    }
    if (state_ == State::kBroken) {
        return Error(Code::kCancelled, "the response stream is broken: the client went away");
    }
    if (state_ != State::kStreaming) {
        return Error(Code::kFailedPrecondition, "finish() needs a started stream");
    }
    if (head_only_ || framing_ == Framing::kNone) {
        state_ = State::kDone;
        return {};
    }
    std::string tail;
    if (gzip_) {
        GROVE_ASSIGN_OR_RETURN(tail, gzip_->finish());
    }
    switch (framing_) {
        case Framing::kChunked: {
            const std::string size_line = fmt::format("{:x}\r\n", tail.size());
            if (tail.empty()) {
                GROVE_TRY(write_parts(std::array<std::string_view, 1>{"0\r\n\r\n"}));
            } else {
                GROVE_TRY(write_parts(
                    std::array<std::string_view, 4>{size_line, tail, "\r\n", "0\r\n\r\n"}));
            }
            break;
        }
        case Framing::kLength:
            if (length_left_ != 0) {
                // The client would wait for the missing bytes: closing tells it the body is cut.
                close_ = true;
                state_ = State::kBroken;
                return base::make_error(Code::kFailedPrecondition,
                                        "stream finished {} bytes short of its Content-Length",
                                        length_left_);
            }
            break;
        case Framing::kUntilClose:
            GROVE_TRY(write_parts(std::array<std::string_view, 1>{tail}));
            close_ = true;
            break;
        case Framing::kNone:
            break;
    }
    state_ = State::kDone;
    return {};
}

Result<void> Exchange::discard_body() {
    std::array<char, 16384> scratch{};
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const size_t n, read_body(scratch));
        if (n == 0) {
            return {};
        }
    }
}

Result<RawStream> Exchange::hijack(HijackHead head) {
    if (state_ != State::kNone) {
        return Error(Code::kFailedPrecondition, "a response was already started");
    }
    if (!parser_.complete()) {
        GROVE_TRY(discard_body());
    }
    unwatch_hangup();
    const std::string reason =
        head.reason.empty() ? std::string(reason_phrase(head.status)) : std::move(head.reason);
    GROVE_ASSIGN_OR_RETURN(const std::string text, format_head(head.status, reason, head.headers));
    status_ = head.status;
    GROVE_TRY(write_parts(std::array<std::string_view, 1>{text}));
    state_ = State::kHijacked;
    conn_.hijacked_ = true;
    auto state = std::make_unique<RawStream::State>(RawStream::State{
        .io = std::move(conn_.io_),
        .pending = std::string(conn_.buffered()),
        .io_timeout = conn_.shared_.options.io_timeout,
    });
    conn_.in_.clear();
    conn_.in_begin_ = 0;
    return RawStream(std::move(state));
}

Result<size_t> Exchange::read_body(std::span<char> out) {
    if (out.empty()) {
        return Error(Code::kInvalidArgument, "read_body() needs a non-empty buffer");
    }
    if (state_ == State::kHijacked) {
        return Error(Code::kFailedPrecondition, "the connection was hijacked");
    }
    if (body_error_status_ != 0) {
        return Error(body_error_status_ == 413 ? Code::kResourceExhausted : Code::kInvalidArgument,
                     body_error_);
    }
    if (parser_.complete()) {
        return size_t{0};
    }
    if (expect_continue_ && !continue_sent_ && state_ == State::kNone) {
        GROVE_TRY(write_parts(std::array<std::string_view, 1>{kContinue}));
        continue_sent_ = true;
    }
    for (;;) {
        if (!conn_.buffered().empty()) {
            const ParseStep step = parser_.put_body(conn_.buffered(), out);
            conn_.consume(step.consumed);
            switch (step.status) {
                case ParseStatus::kOk:
                case ParseStatus::kNeedMore:
                    if (step.produced > 0 || parser_.complete()) {
                        body_read_ += step.produced;
                        if (parser_.complete()) {
                            watch_hangup();
                        }
                        return step.produced;
                    }
                    if (step.status == ParseStatus::kOk && step.consumed > 0) {
                        continue;  // a chunk header, say: parse on
                    }
                    break;  // more input needed
                case ParseStatus::kBodyTooLarge:
                    body_error_status_ = 413;
                    body_error_ = fmt::format("request body exceeds the limit of {} bytes",
                                              request_.body_limit_);
                    close_ = true;
                    return Error(Code::kResourceExhausted, body_error_);
                case ParseStatus::kHeaderTooLarge:
                case ParseStatus::kBad:
                    body_error_status_ = 400;
                    body_error_ = "bad request body: " + step.message;
                    close_ = true;
                    return Error(Code::kInvalidArgument, body_error_);
            }
        }
        auto n = conn_.fill(Clock::now() + conn_.shared_.options.io_timeout, kReadChunk);
        if (!n) {
            close_ = true;
            if (n.error().code() == Code::kDeadlineExceeded) {
                body_error_status_ = 408;
                body_error_ = "timed out reading the request body";
            }
            return std::move(n).error();
        }
        if (*n == 0) {
            close_ = true;
            return Error(Code::kCancelled, "the client closed the connection within the body");
        }
    }
}

void Exchange::watch_hangup() {
    if (!watching_ && state_ != State::kHijacked && conn_.shared_.monitor) {
        conn_.shared_.monitor->watch(conn_.id_, conn_.io_.fd(), conn_.stop_);
        watching_ = true;
    }
}

void Exchange::unwatch_hangup() {
    if (watching_) {
        conn_.shared_.monitor->unwatch(conn_.id_, conn_.io_.fd());
        watching_ = false;
    }
}

void Exchange::finish_after_handler(const Result<void>& result) {
    const base::Logger& log = conn_.shared_.log;
    switch (state_) {
        case State::kNone: {
            Result<void> sent;
            if (body_error_status_ != 0) {
                sent = send_error(body_error_status_, body_error_);
            } else if (!result) {
                Response response = router_options_.render_handler_error
                                        ? router_options_.render_handler_error(result.error())
                                        : render_error(500, result.error().message());
                sent = send(std::move(response));
            } else {
                log.error("http handler returned without a response",
                          {{"method", request_.method_}, {"path", request_.path_}});
                sent = send_error(500, "the handler sent no response");
            }
            if (!sent && state_ == State::kNone) {
                // Rendering failed (an invalid header, say): a plain 500 still goes out.
                [[maybe_unused]] auto fallback = send(json_error(500, sent.error().message()));
            }
            break;
        }
        case State::kStreaming:
            if (result) {
                if (!finish()) {
                    close_ = true;
                }
            } else {
                // No terminal chunk: the client sees a cut stream, not a complete one.
                state_ = State::kBroken;
                close_ = true;
                log.warn("http stream ended by an error", {{"method", request_.method_},
                                                           {"path", request_.path_},
                                                           {"error", result.error().to_string()}});
            }
            break;
        case State::kDone:
        case State::kHijacked:
        case State::kBroken:
            break;
    }
    unwatch_hangup();
    if (state_ != State::kHijacked) {
        if (!close_ && state_ == State::kDone && !parser_.complete() && !discard_body()) {
            close_ = true;
        }
        if (close_ && !parser_.complete()) {
            conn_.linger_ = true;  // unread input: let the client read the response first
        }
    }
    if (!result && log.enabled(base::LogLevel::kDebug)) {
        log.debug("http handler failed", {{"method", request_.method_},
                                          {"path", request_.path_},
                                          {"error", result.error().to_string()}});
    }
    log_request();
}

void Exchange::log_request() const {
    const base::Logger& log = conn_.shared_.log;
    if (!log.enabled(base::LogLevel::kDebug)) {
        return;
    }
    const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    log.debug("http request", {{"method", request_.method_},
                               {"path", request_.path_},
                               {"status", status_},
                               {"duration_ms", elapsed},
                               {"bytes", bytes_sent_},
                               {"connection", conn_.id_},
                               {"peer", conn_.peer_.address}});
}

}  // namespace grove::http::detail
