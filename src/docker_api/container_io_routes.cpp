// A container's logs, and exec (create, start hijacked, inspect, resize).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "base/time_point.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/container_json.hpp"
#include "docker_api/raw_streams.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

using containers::Container;
using containers::LogRecord;

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
    GROVE_ASSIGN_OR_RETURN(auto keys, base::json_optional_field<std::string>(body, "DetachKeys"));
    config.detach_keys = keys.value_or("");
    GROVE_TRY(DetachKeys::parse(config.detach_keys));
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
    GROVE_ASSIGN_OR_RETURN(DetachKeys keys, DetachKeys::parse(info.config.detach_keys));
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
    // The shim frames the output already (raw with a tty). Closing `conn` detaches.
    GROVE_TRY(pump(*raw, conn.get(), std::move(keys),
                   [&](std::string_view data) { return raw->write(data); }));
    return {};
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
         {"DetachKeys", info.config.detach_keys},
         {"Pid", info.pid}});
}

Result<void> exec_resize(const DockerServices& s,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto rows, query_int(request, "h"));
    GROVE_ASSIGN_OR_RETURN(const auto cols, query_int(request, "w"));
    GROVE_TRY(s.containers.manager().exec_resize(param(request, "id"),
                                                 static_cast<int>(rows.value_or(0)),
                                                 static_cast<int>(cols.value_or(0))));
    return writer.send(http::Response::empty(200));
}

}  // namespace

void add_container_io_routes(http::Router& router, const DockerServices& services) {
    auto add = [&](std::string_view method, std::string_view pattern, auto handler) {
        service_route(router, services, method, pattern, handler);
    };
    add("GET", "/containers/{id}/logs", logs);
    add("POST", "/containers/{id}/exec", exec_create);
    add("POST", "/exec/{id}/start", exec_start);
    add("GET", "/exec/{id}/json", exec_json);
    add("POST", "/exec/{id}/resize", exec_resize);
}

}  // namespace grove::docker_api
