// A container's streams: logs, attach (hijacked), and exec (create, start hijacked, inspect,
// resize).
//
// Attach sends output from the container's log rather than from a live attachment to its shim:
// the docker CLI attaches before it starts the container, and a command as quick as `echo hi`
// has written and exited before any attachment could be made, while the log has every byte.
// stdin, when asked for, goes through an attachment to the shim made once the container runs.

#include <poll.h>
#include <sys/socket.h>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "base/time_point.hpp"
#include "containers/shim/control.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/container_json.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

using containers::Container;
using containers::LogRecord;
using std::chrono::milliseconds;

constexpr milliseconds kPollSlice{100};
constexpr milliseconds kDockerPyHeadDelay{100};

// A log record as Docker sends it: raw with a tty, else in a multiplexed frame.
std::string framed(const LogRecord& record, bool tty, bool timestamps) {
    std::string payload =
        timestamps ? docker_time(record.time_ns) + " " + record.bytes : record.bytes;
    if (tty) {
        return payload;
    }
    const auto header = containers::frame_header(static_cast<uint8_t>(record.stream),
                                                 static_cast<uint32_t>(payload.size()));
    return std::string(header.data(), header.size()) + payload;
}

// Docker's since/until: unix seconds, possibly fractional, or a time point; 0 when absent.
Result<int64_t> log_time(const http::Request& request, std::string_view name) {
    const auto text = request.query().get(name);
    if (!text || text->empty() || *text == "0") {
        return int64_t{0};
    }
    const size_t dot = text->find('.');
    const auto seconds = base::parse_number<int64_t>(text->substr(0, dot));
    if (seconds) {
        int64_t ns = *seconds * 1'000'000'000;
        if (dot != std::string_view::npos) {
            std::string fraction(text->substr(dot + 1, 9));
            fraction.resize(9, '0');
            const auto frac = base::parse_number<int64_t>(fraction);
            if (!frac) {
                return base::make_error(Code::kInvalidArgument, "invalid {} '{}'", name, *text);
            }
            ns += *frac;
        }
        return ns;
    }
    return base::with_context(base::parse_time_point(*text, daemon::now_ns()), "invalid {} '{}'",
                              name, *text);
}

Result<void> logs(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    containers::LogOptions options{.stdout = query_flag(request, "stdout"),
                                   .stderr = query_flag(request, "stderr"),
                                   .follow = query_flag(request, "follow")};
    if (!options.stdout && !options.stderr) {
        return base::make_error(Code::kInvalidArgument,
                                "Bad parameters: you must choose at least one stream");
    }
    GROVE_ASSIGN_OR_RETURN(options.since_ns, log_time(request, "since"));
    GROVE_ASSIGN_OR_RETURN(options.until_ns, log_time(request, "until"));
    const std::string tail(request.query().get("tail").value_or("all"));
    if (tail != "all" && !tail.empty()) {
        const auto n = base::parse_number<int64_t>(tail);
        if (n && *n >= 0) {
            options.tail = static_cast<size_t>(*n);
        }
    }
    const bool timestamps = query_flag(request, "timestamps");
    GROVE_TRY(writer.start({.status = 200}));
    bool failed = false;
    GROVE_TRY(s.containers.manager().logs(
        c.id, options,
        [&](const LogRecord& record) {
            failed = !writer.write(framed(record, c.config.tty, timestamps));
            return !failed;
        },
        request.stop_token()));
    return failed ? Result<void>() : writer.finish();
}

// Docker's hijack reply: 101 UPGRADED when the client asked to upgrade to tcp, else a 200 whose
// body is the raw stream until the connection closes.
Result<http::RawStream> hijack(http::Request& request, http::ResponseWriter& writer) {
    http::HijackHead head;
    head.headers.set("Content-Type", "application/vnd.docker.raw-stream");
    if (request.wants_upgrade("tcp")) {
        head.status = 101;
        head.reason = "UPGRADED";
        head.headers.set("Connection", "Upgrade");
        head.headers.set("Upgrade", "tcp");
    } else {
        head.status = 200;
    }
    GROVE_ASSIGN_OR_RETURN(http::RawStream raw, writer.hijack(std::move(head)));
    // docker-py reads the stream from the socket under its HTTP reader, so what arrives with the
    // head is lost in that reader's buffer; no signal says it has read the head, so the stream
    // waits for it a little. Other clients (the Go CLI, aiohttp) keep what they buffered.
    if (request.header("User-Agent").value_or("").starts_with("docker-sdk-python")) {
        std::this_thread::sleep_for(kDockerPyHeadDelay);
    }
    return raw;
}

// Moves bytes between the client and `fd` (a shim connection) until `fd` ends or `stop` is
// requested: the client's bytes go to `fd`, and at the client's EOF `fd`'s write side is shut
// down; `fd`'s bytes go to `on_output`.
Result<void> pump(http::RawStream& raw,
                  int fd,
                  const std::function<Result<void>(std::string_view)>& on_output,
                  std::stop_token stop = {}) {
    std::string pending = raw.take_pending();
    if (!pending.empty()) {
        GROVE_TRY(base::write_all(fd, pending));
    }
    bool input_open = true;
    char buf[16 * 1024];
    while (!stop.stop_requested()) {
        pollfd fds[2] = {{.fd = fd, .events = POLLIN, .revents = 0},
                         {.fd = input_open ? raw.fd() : -1, .events = POLLIN, .revents = 0}};
        if (::poll(fds, 2, static_cast<int>(kPollSlice.count())) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("poll");
        }
        if (fds[0].revents != 0) {
            const ssize_t n = ::read(fd, buf, sizeof(buf));
            if (n <= 0) {
                return {};  // the process (or container) ended, or detached
            }
            GROVE_TRY(on_output({buf, static_cast<size_t>(n)}));
        }
        if (fds[1].revents != 0) {
            auto n = raw.read(buf, milliseconds(0));
            if (!n && n.error().code() == Code::kDeadlineExceeded) {
                continue;
            }
            if (!n || *n == 0) {
                input_open = false;
                ::shutdown(fd, SHUT_WR);
                continue;
            }
            GROVE_TRY(base::write_all(fd, {buf, *n}));
        }
    }
    return {};
}

Result<void> attach(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(Container c, s.containers.find(param(request, "id")));
    const DockerExtras extras = s.containers.extras(c.id);
    const bool want_stdin = query_flag(request, "stdin");
    const containers::LogOptions output{.stdout = query_flag(request, "stdout"),
                                        .stderr = query_flag(request, "stderr")};
    const bool tty = c.config.tty;
    // AutoRemove waits for this stream to have sent the container's last bytes.
    const auto hold = s.containers.hold(c.id);
    GROVE_ASSIGN_OR_RETURN(http::RawStream raw, hijack(request, writer));
    bool client_gone = false;
    auto send = [&](const LogRecord& record) {
        client_gone = client_gone || !raw.write(framed(record, tty, false));
        return !client_gone;
    };
    if (query_flag(request, "logs")) {
        GROVE_TRY(s.containers.manager().logs(c.id, output, send));
    }
    if (!query_flag(request, "stream") || client_gone) {
        return {};
    }
    const auto stop = request.stop_token();
    int64_t since = daemon::now_ns();
    if (!c.state.running()) {
        GROVE_ASSIGN_OR_RETURN(c, s.containers.wait_started(c.id, c.state.started_ns, stop));
        since = c.state.started_ns;
    }
    std::jthread input;
    if (want_stdin && c.config.open_stdin) {
        GROVE_ASSIGN_OR_RETURN(base::UniqueFd conn,
                               s.containers.manager().attach(c.id, extras.stdin_once));
        input = std::jthread([&raw, conn = std::move(conn)](std::stop_token input_stop) {
            // The shim's copy of the output is dropped: the log has it.
            (void)pump(
                raw, conn.get(), [](std::string_view) { return Result<void>(); }, input_stop);
        });
    }
    containers::LogOptions follow = output;
    follow.since_ns = since;
    follow.follow = true;
    return s.containers.manager().logs(c.id, follow, send, stop);
}

Result<void> exec_create(const DockerServices& s,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json_body(request));
    containers::ExecConfig config;
    GROVE_ASSIGN_OR_RETURN(auto cmd,
                           base::json_optional_field<std::vector<std::string>>(body, "Cmd"));
    config.cmd = cmd.value_or(std::vector<std::string>{});
    GROVE_ASSIGN_OR_RETURN(auto env,
                           base::json_optional_field<std::vector<std::string>>(body, "Env"));
    config.env = env.value_or(std::vector<std::string>{});
    GROVE_ASSIGN_OR_RETURN(auto workdir,
                           base::json_optional_field<std::string>(body, "WorkingDir"));
    config.workdir = workdir.value_or("");
    GROVE_ASSIGN_OR_RETURN(auto user, base::json_optional_field<std::string>(body, "User"));
    config.user = user.value_or("");
    GROVE_ASSIGN_OR_RETURN(auto tty, base::json_optional_field<bool>(body, "Tty"));
    config.tty = tty.value_or(false);
    GROVE_ASSIGN_OR_RETURN(auto stdin, base::json_optional_field<bool>(body, "AttachStdin"));
    config.open_stdin = stdin.value_or(false);
    GROVE_ASSIGN_OR_RETURN(auto privileged, base::json_optional_field<bool>(body, "Privileged"));
    if (privileged.value_or(false)) {
        return base::make_error(Code::kInvalidArgument,
                                "privileged exec is not supported by grove");
    }
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "Container {} is not running", c.id);
    }
    GROVE_ASSIGN_OR_RETURN(const std::string id, s.containers.manager().exec_create(c.id, config));
    s.containers.publish(fmt::format("exec_create: {}", fmt::join(config.cmd, " ")), c,
                         {{"execID", id}});
    return send_json(writer, 201, {{"Id", id}});
}

Result<void> exec_start(const DockerServices& s,
                        http::Request& request,
                        http::ResponseWriter& writer) {
    const std::string id = param(request, "id");
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json_body(request));
    GROVE_ASSIGN_OR_RETURN(const auto detach, base::json_optional_field<bool>(body, "Detach"));
    GROVE_ASSIGN_OR_RETURN(const auto info, s.containers.manager().exec_inspect(id));
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(info.container_id));
    if (info.running || info.exit_code) {
        return base::make_error(Code::kFailedPrecondition, "exec {} has already started", id);
    }
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "Container {} is not running", c.id);
    }
    std::optional<http::RawStream> raw;
    if (!detach.value_or(false)) {
        // The head goes out before the process starts, so that its output comes after it.
        GROVE_ASSIGN_OR_RETURN(raw, hijack(request, writer));
    }
    GROVE_ASSIGN_OR_RETURN(base::UniqueFd conn, s.containers.manager().exec_start(id));
    s.containers.publish(fmt::format("exec_start: {}", fmt::join(info.config.cmd, " ")), c,
                         {{"execID", id}});
    if (!raw) {
        return writer.send(http::Response::empty(200));  // closing the connection detaches
    }
    // The shim frames the output already (raw with a tty).
    return pump(*raw, conn.get(), [&](std::string_view data) { return raw->write(data); });
}

Result<void> exec_json(const DockerServices& s,
                       http::Request& request,
                       http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto info,
                           s.containers.manager().exec_inspect(param(request, "id")));
    const auto& cmd = info.config.cmd;
    return send_json(
        writer, 200,
        {{"ID", info.id},
         {"Running", info.running},
         {"ExitCode", info.exit_code ? base::Json(*info.exit_code) : base::Json()},
         {"ProcessConfig",
          {{"tty", info.config.tty},
           {"entrypoint", cmd.empty() ? "" : cmd.front()},
           {"arguments", cmd.empty() ? std::vector<std::string>{}
                                     : std::vector<std::string>(cmd.begin() + 1, cmd.end())},
           {"privileged", false},
           {"user", info.config.user}}},
         {"OpenStdin", info.config.open_stdin},
         {"OpenStderr", true},
         {"OpenStdout", true},
         {"CanRemove", false},
         {"ContainerID", info.container_id},
         {"DetachKeys", ""},
         {"Pid", info.pid}});
}

// An exec's tty keeps the size it started with; the request is accepted (clients resize after
// every start) once the exec is known.
Result<void> exec_resize(const DockerServices& s,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    GROVE_TRY(s.containers.manager().exec_inspect(param(request, "id")));
    return writer.send(http::Response::empty(200));
}

}  // namespace

void add_container_io_routes(http::Router& router, const DockerServices& services) {
    auto add = [&](std::string_view method, std::string_view pattern, auto handler) {
        service_route(router, services, method, pattern, handler);
    };
    add("GET", "/containers/{id}/logs", logs);
    add("POST", "/containers/{id}/attach", attach);
    add("POST", "/containers/{id}/exec", exec_create);
    add("POST", "/exec/{id}/start", exec_start);
    add("GET", "/exec/{id}/json", exec_json);
    add("POST", "/exec/{id}/resize", exec_resize);
}

}  // namespace grove::docker_api
