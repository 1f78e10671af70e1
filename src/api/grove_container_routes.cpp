// /grove/v1/containers: grove's own routes for long-lived containers, over the daemon's
// containers::Manager (the one its Docker API serves), for the client library and the CLI.
// Output streams (logs, exec) are Docker's multiplexed frames; an exec's stream ends with a
// frame of stream 3 holding {"exit_code": N} or {"error", "code"} (docs/api.md).

#include <csignal>
#include <poll.h>
#include <unistd.h>

#include "api/error_mapping.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "containers/manager.hpp"
#include "containers/names.hpp"
#include "containers/shim/control.hpp"
#include "daemon/wire_time.hpp"

namespace grove::api {
namespace {

using containers::Manager;

constexpr std::string_view kFrames = "application/vnd.docker.multiplexed-stream";
constexpr uint8_t kTrailer = 3;

base::Json time_json(int64_t ns) {
    return ns == 0 ? base::Json() : base::Json(daemon::iso8601_micros(ns));
}

base::Json container_json(const containers::Container& c) {
    return {{"id", c.id},
            {"name", c.name},
            {"image", c.image_ref},
            {"image_uuid", c.image_uuid},
            {"status", containers::status_name(c.state.status)},
            {"exit_code", c.state.exit_code},
            {"pid", c.state.pid},
            {"command", c.config.argv},
            {"created", time_json(c.created_ns)},
            {"started", time_json(c.state.started_ns)},
            {"finished", time_json(c.state.finished_ns)}};
}

std::string frame(uint8_t stream, std::string_view payload) {
    const auto header = containers::frame_header(stream, static_cast<uint32_t>(payload.size()));
    std::string out(header.data(), header.size());
    out.append(payload);
    return out;
}

// The query parameter `name`, a count of something: a number >= 0.
Result<std::optional<int64_t>> count(const http::Request& request, std::string_view name) {
    const auto text = request.query().get(name);
    if (!text || text->empty()) {
        return std::optional<int64_t>();
    }
    const auto number = base::parse_number<int64_t>(*text);
    if (!number || *number < 0) {
        return base::make_error(Code::kInvalidArgument, "{} must be a number >= 0, not '{}'", name,
                                *text);
    }
    return number;
}

template <typename T>
Result<T> optional_field(const base::Json& body, std::string_view name) {
    GROVE_ASSIGN_OR_RETURN(auto value, base::json_optional_field<T>(body, name));
    return value.value_or(T{});
}

Result<containers::ContainerSpec> spec_from(const base::Json& body) {
    containers::ContainerSpec spec;
    GROVE_ASSIGN_OR_RETURN(spec.image, base::json_field<std::string>(body, "image"));
    GROVE_ASSIGN_OR_RETURN(spec.name, optional_field<std::string>(body, "name"));
    GROVE_ASSIGN_OR_RETURN(auto command, optional_field<std::vector<std::string>>(body, "command"));
    if (!command.empty()) {
        spec.cmd = std::move(command);
    }
    GROVE_ASSIGN_OR_RETURN(spec.env, optional_field<std::vector<std::string>>(body, "env"));
    GROVE_ASSIGN_OR_RETURN(spec.workdir, optional_field<std::string>(body, "workdir"));
    GROVE_ASSIGN_OR_RETURN(spec.user, optional_field<std::string>(body, "user"));
    GROVE_ASSIGN_OR_RETURN(spec.hostname, optional_field<std::string>(body, "hostname"));
    GROVE_ASSIGN_OR_RETURN(const auto network,
                           base::json_optional_field<std::string>(body, "network"));
    GROVE_ASSIGN_OR_RETURN(spec.network, containers::grove_network(network.value_or("none")));
    GROVE_ASSIGN_OR_RETURN(spec.limits.memory_bytes,
                           base::json_optional_field<uint64_t>(body, "memory_bytes"));
    GROVE_ASSIGN_OR_RETURN(spec.limits.pids, base::json_optional_field<uint64_t>(body, "pids"));
    return spec;
}

Result<void> list(Manager& m, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const auto listed, m.list({.all = flag(request.query(), "all")}));
    base::Json out = base::Json::array();
    for (const auto& c : listed) {
        out.push_back(container_json(c));
    }
    return send_json(w, 200, {{"containers", std::move(out)}});
}

Result<void> create(Manager& m, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto spec, spec_from(body));
    GROVE_ASSIGN_OR_RETURN(const auto created, m.create(spec));
    return send_json(w, 201, container_json(created));
}

Result<void> inspect(Manager& m, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const auto c, m.inspect(param(request, "ref")));
    return send_json(w, 200, container_json(c));
}

Result<void> start(Manager& m, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const bool started, m.start(param(request, "ref")));
    return send_json(w, 200, {{"changed", started}});
}

Result<void> stop(Manager& m, http::Request& request, http::ResponseWriter& w) {
    std::optional<std::chrono::seconds> timeout;
    GROVE_ASSIGN_OR_RETURN(const auto seconds, count(request, "t"));
    if (seconds) {
        timeout = std::chrono::seconds(*seconds);
    }
    GROVE_ASSIGN_OR_RETURN(const bool stopped, m.stop(param(request, "ref"), timeout));
    return send_json(w, 200, {{"changed", stopped}});
}

Result<void> kill(Manager& m, http::Request& request, http::ResponseWriter& w) {
    int number = SIGKILL;
    if (const auto name = request.query().get("signal"); name && !name->empty()) {
        GROVE_ASSIGN_OR_RETURN(number, containers::parse_signal(*name));
    }
    GROVE_TRY(m.kill(param(request, "ref"), number));
    return send_json(w, 200, base::Json::object());
}

Result<void> remove(Manager& m, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const auto c, m.inspect(param(request, "ref")));
    GROVE_TRY(m.remove(c.id, flag(request.query(), "force")));
    return send_json(w, 200, {{"id", c.id}});
}

Result<void> logs(Manager& m, http::Request& request, http::ResponseWriter& w) {
    const std::string ref = param(request, "ref");
    containers::LogOptions options{.follow = flag(request.query(), "follow")};
    GROVE_ASSIGN_OR_RETURN(const auto tail, count(request, "tail"));
    if (tail) {
        options.tail = static_cast<size_t>(*tail);
    }
    GROVE_TRY(m.inspect(ref));  // an unknown ref is a 404, not an empty stream
    GROVE_TRY(w.start({.headers = {{"Content-Type", std::string(kFrames)}}}));
    bool failed = false;
    GROVE_TRY(m.logs(
        ref, options,
        [&](const containers::LogRecord& record) {
            failed = !w.write(frame(static_cast<uint8_t>(record.stream), record.bytes));
            return !failed;
        },
        request.stop_token()));
    return failed ? Result<void>() : w.finish();
}

// The shim's frames as they come, until the process ends or the client is gone.
Result<void> copy_output(int fd, http::Request& request, http::ResponseWriter& w) {
    char chunk[65536];
    while (!request.stop_token().stop_requested()) {
        pollfd ready{.fd = fd, .events = POLLIN};
        if (::poll(&ready, 1, 250) <= 0) {
            continue;
        }
        const ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return base::last_errno_error("read the exec's output");
        }
        if (got == 0) {
            return {};
        }
        GROVE_TRY(w.write(std::string_view(chunk, static_cast<size_t>(got))));
    }
    return base::make_error(Code::kCancelled, "the client left");
}

Result<void> exec(Manager& m, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    containers::ExecConfig config;
    GROVE_ASSIGN_OR_RETURN(config.cmd, base::json_field<std::vector<std::string>>(body, "command"));
    GROVE_ASSIGN_OR_RETURN(config.env, optional_field<std::vector<std::string>>(body, "env"));
    GROVE_ASSIGN_OR_RETURN(config.workdir, optional_field<std::string>(body, "workdir"));
    GROVE_ASSIGN_OR_RETURN(config.user, optional_field<std::string>(body, "user"));
    GROVE_ASSIGN_OR_RETURN(const std::string id, m.exec_create(param(request, "ref"), config));
    GROVE_ASSIGN_OR_RETURN(const auto output, m.exec_start(id));
    GROVE_TRY(w.start({.headers = {{"Content-Type", std::string(kFrames)}}}));
    GROVE_TRY(copy_output(output.get(), request, w));
    const auto info = m.exec_inspect(id);
    base::Json trailer;
    if (!info) {
        trailer = {{"error", info.error().message()}, {"code", code_name(info.error().code())}};
    } else if (!info->exit_code) {
        // The shim writes the exit before it closes the stream, unless it ended first (killed).
        trailer = {{"error", "exec " + id + ": its output was cut before its end"},
                   {"code", code_name(Code::kUnavailable)}};
    } else {
        trailer = {{"exit_code", *info->exit_code}};
    }
    GROVE_TRY(w.write(frame(kTrailer, base::dump_json(trailer))));
    return w.finish();
}

using Handler = Result<void> (*)(Manager&, http::Request&, http::ResponseWriter&);

}  // namespace

void add_grove_container_routes(http::Router& grove_v1,
                                const RouteContext& context,
                                containers::Manager& manager) {
    const auto add = [&](std::string_view method, std::string_view pattern, Handler handler) {
        route(grove_v1, context, method, pattern,
              [&manager, handler](http::Request& req, http::ResponseWriter& w) {
                  return handler(manager, req, w);
              });
    };
    add("GET", "/containers", list);
    add("POST", "/containers", create);
    add("GET", "/containers/{ref}", inspect);
    add("DELETE", "/containers/{ref}", remove);
    add("POST", "/containers/{ref}/start", start);
    add("POST", "/containers/{ref}/stop", stop);
    add("POST", "/containers/{ref}/kill", kill);
    add("GET", "/containers/{ref}/logs", logs);
    add("POST", "/containers/{ref}/exec", exec);
}

}  // namespace grove::api
