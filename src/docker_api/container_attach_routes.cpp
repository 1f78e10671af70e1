// Attach to a container: the hijacked stream (POST /containers/{id}/attach, 101 UPGRADED or a raw
// 200) and its websocket form (GET /containers/{id}/attach/ws).
//
// Output comes from the container's log rather than from a live attachment to its shim: the
// docker CLI attaches before it starts the container, and a command as quick as `echo hi` has
// written and exited before any attachment could be made, while the log has every byte. stdin,
// when asked for, goes through an attachment to the shim made once the container runs.

#include <mutex>
#include <optional>
#include <thread>

#include "base/error.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/raw_streams.hpp"
#include "docker_api/routes.hpp"
#include "http/websocket.hpp"

namespace grove::docker_api {
namespace {

using containers::Container;
using containers::LogRecord;
using http::WsOpcode;
using std::chrono::milliseconds;

constexpr milliseconds kReadSlice{100};

// Moves the client's input to `conn` (the shim connection, or -1 without stdin) until the client
// detaches or goes (then true), or `stop` is requested.
using InputPump = std::function<bool(int conn, std::stop_token stop)>;

// When the input pump runs (on a thread of its own, while the output streams).
enum class Input {
    kWithStdin,  // only with stdin attached: without it the client's side carries nothing
    kAlways,     // also without: the client's messages are more than input (websocket pings)
};

// The attach both forms share, once the client's stream is hijacked: the log so far with `logs`,
// then with `stream` what comes until the container stops or the client detaches, in Docker's
// frames unless `raw` or the container has a tty. `send` writes one chunk of output and returns
// false once the client is gone.
Result<void> stream_attach(const DockerServices& s,
                           http::Request& request,
                           Container c,
                           bool raw,
                           const std::function<bool(std::string_view)>& send,
                           Input input_when,
                           const InputPump& input_pump) {
    const containers::LogOptions output{.stdout = query_flag(request, "stdout"),
                                        .stderr = query_flag(request, "stderr")};
    bool client_gone = false;
    const auto send_record = [&](const LogRecord& record) {
        client_gone = client_gone || !send(framed(record, raw || c.config.tty, false));
        return !client_gone;
    };
    if (query_flag(request, "logs")) {
        GROVE_TRY(s.containers.manager().logs(c.id, output, send_record));
    }
    if (!query_flag(request, "stream") || client_gone) {
        return {};
    }
    // The stream ends when the client goes, or detaches.
    std::stop_source detach;
    const std::stop_callback client_gone_stops(request.stop_token(),
                                               [&detach] { detach.request_stop(); });
    int64_t since = daemon::now_ns();
    if (!c.state.running()) {
        GROVE_ASSIGN_OR_RETURN(
            c, s.containers.wait_started(c.id, c.state.started_ns, detach.get_token()));
        since = c.state.started_ns;
    }
    base::UniqueFd conn;
    if (query_flag(request, "stdin") && c.config.open_stdin) {
        GROVE_ASSIGN_OR_RETURN(
            conn, s.containers.manager().attach(c.id, s.containers.extras(c.id).stdin_once));
    }
    std::optional<std::jthread> input;
    if (conn.valid() || input_when == Input::kAlways) {
        input.emplace([&](std::stop_token input_stop) {
            if (input_pump(conn.get(), input_stop)) {
                detach.request_stop();
            }
        });
    }
    containers::LogOptions follow = output;
    follow.since_ns = since;
    follow.follow = true;
    return s.containers.manager().logs(c.id, follow, send_record, detach.get_token());
}

Result<void> attach(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const DetachKeys keys,
                           DetachKeys::parse(request.query().get("detachKeys").value_or("")));
    // AutoRemove waits for this stream to have sent the container's last bytes.
    const auto hold = s.containers.hold(c.id);
    GROVE_ASSIGN_OR_RETURN(http::RawStream raw, hijack(request, writer));
    return stream_attach(
        s, request, c, /*raw=*/false,
        [&raw](std::string_view data) { return raw.write(data).has_value(); }, Input::kWithStdin,
        [&raw, &keys](int conn, std::stop_token stop) {
            // The shim's copy of the output is dropped: the log has it.
            const auto detached = pump(
                raw, conn, keys, [](std::string_view) { return Result<void>(); }, stop);
            return detached && *detached;
        });
}

// The websocket client's messages: data to `conn` (through the detach keys), pings answered,
// a close answered and ending the stream.
bool websocket_input(http::RawStream& raw,
                     int conn,
                     DetachKeys keys,
                     const std::function<bool(WsOpcode, std::string_view)>& reply,
                     std::stop_token stop) {
    http::WsReader reader;
    char buf[16 * 1024];
    while (!stop.stop_requested()) {
        auto n = raw.read(buf, kReadSlice);
        if (!n && n.error().code() == Code::kDeadlineExceeded) {
            continue;
        }
        if (!n || *n == 0) {
            return true;  // gone without a close
        }
        auto messages = reader.feed({buf, *n});
        if (!messages) {
            reply(WsOpcode::kClose, "\x03\xea");  // 1002: protocol error
            return true;
        }
        for (const auto& message : *messages) {
            switch (message.opcode) {
                case WsOpcode::kPing:
                    reply(WsOpcode::kPong, message.payload);
                    break;
                case WsOpcode::kClose:
                    reply(WsOpcode::kClose, std::string_view(message.payload).substr(0, 2));
                    return true;
                case WsOpcode::kText:
                case WsOpcode::kBinary: {
                    if (conn < 0) {
                        break;
                    }
                    const auto scan = keys.feed(message.payload);
                    if (!base::write_all(conn, scan.forward) || scan.detached) {
                        return true;
                    }
                    break;
                }
                default:
                    break;
            }
        }
    }
    return false;
}

// Output goes out as text frames, not multiplexed even without a tty, as dockerd's before API
// 1.42 (binary frames came with 1.42, above the version grove serves).
Result<void> attach_ws(const DockerServices& s,
                       http::Request& request,
                       http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const DetachKeys keys,
                           DetachKeys::parse(request.query().get("detachKeys").value_or("")));
    GROVE_ASSIGN_OR_RETURN(http::HijackHead head, http::websocket_accept(request));
    const auto hold = s.containers.hold(c.id);
    GROVE_ASSIGN_OR_RETURN(http::RawStream raw, writer.hijack(std::move(head)));
    std::mutex writing;  // output and the replies to pings come from two threads
    bool closed = false;
    const auto send_frame = [&](WsOpcode opcode, std::string_view payload) {
        std::lock_guard lock(writing);
        if (closed) {
            return false;
        }
        closed = opcode == WsOpcode::kClose;
        return raw.write(http::websocket_frame(opcode, payload)).has_value() && !closed;
    };
    GROVE_TRY(stream_attach(
        s, request, c, /*raw=*/true,
        [&](std::string_view data) { return send_frame(WsOpcode::kText, data); }, Input::kAlways,
        [&](int conn, std::stop_token stop) {
            return websocket_input(raw, conn, keys, send_frame, stop);
        }));
    send_frame(WsOpcode::kClose, "\x03\xe8");  // 1000: normal closure
    return {};
}

}  // namespace

void add_container_attach_routes(http::Router& router, const DockerServices& services) {
    auto add = [&](std::string_view method, std::string_view pattern, auto handler) {
        service_route(router, services, method, pattern, handler);
    };
    add("POST", "/containers/{id}/attach", attach);
    add("GET", "/containers/{id}/attach/ws", attach_ws);
}

}  // namespace grove::docker_api
