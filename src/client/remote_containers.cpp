// RemoteClient's containers: groved's /grove/v1/containers routes (docs/api.md "Containers").

#include "base/error.hpp"
#include "client/frames.hpp"
#include "client/remote_client.hpp"
#include "client/wire.hpp"

namespace grove::client {
namespace {

using base::Json;

constexpr uint8_t kTrailer = 3;  // an exec's last frame: its exit code, or an error

std::string container_path(std::string_view ref) {
    return "/" + escape_query(ref);
}

}  // namespace

Result<Json> RemoteClient::container_call(std::string method, std::string path, std::string body) {
    GROVE_ASSIGN_OR_RETURN(const auto response,
                           http_->call({.method = std::move(method),
                                        .path = "/grove/v1/containers" + std::move(path),
                                        .body = std::move(body)}));
    return base::parse_json(response.body);
}

Result<ContainerInfo> RemoteClient::create_container(const ContainerOptions& options) {
    Json body{{"image", options.image},       {"name", options.name},
              {"command", options.command},   {"env", options.env},
              {"workdir", options.workdir},   {"user", options.user},
              {"hostname", options.hostname}, {"network", options.network}};
    if (options.memory_bytes) {
        body["memory_bytes"] = *options.memory_bytes;
    }
    if (options.pids) {
        body["pids"] = *options.pids;
    }
    GROVE_ASSIGN_OR_RETURN(const Json created, container_call("POST", "", base::dump_json(body)));
    return container_from_json(created);
}

Result<bool> RemoteClient::start_container(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const Json body, container_call("POST", container_path(ref) + "/start"));
    return body.value("changed", false);
}

Result<bool> RemoteClient::stop_container(std::string_view ref,
                                          std::optional<std::chrono::seconds> timeout) {
    std::string path = container_path(ref) + "/stop";
    if (timeout) {
        path += "?t=" + std::to_string(timeout->count());
    }
    GROVE_ASSIGN_OR_RETURN(const Json body, container_call("POST", path));
    return body.value("changed", false);
}

Result<void> RemoteClient::kill_container(std::string_view ref, int signal) {
    GROVE_TRY(
        container_call("POST", container_path(ref) + "/kill?signal=" + std::to_string(signal)));
    return {};
}

Result<void> RemoteClient::remove_container(std::string_view ref, bool force) {
    GROVE_TRY(container_call("DELETE", container_path(ref) + (force ? "?force=1" : "")));
    return {};
}

Result<std::vector<ContainerInfo>> RemoteClient::list_containers(bool all) {
    GROVE_ASSIGN_OR_RETURN(const Json body, container_call("GET", all ? "?all=1" : ""));
    std::vector<ContainerInfo> listed;
    for (const auto& item : body.value("containers", Json::array())) {
        GROVE_ASSIGN_OR_RETURN(auto info, container_from_json(item));
        listed.push_back(std::move(info));
    }
    return listed;
}

Result<ContainerInfo> RemoteClient::inspect_container(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const Json body, container_call("GET", container_path(ref)));
    return container_from_json(body);
}

Result<void> RemoteClient::container_logs(std::string_view ref,
                                          const ContainerLogOptions& options) {
    std::string path = "/grove/v1/containers" + container_path(ref) +
                       "/logs?follow=" + (options.follow ? "1" : "0");
    if (options.tail) {
        path += "&tail=" + std::to_string(*options.tail);
    }
    FrameReader frames([&](uint8_t stream, std::string_view payload) {
        if (options.on_output) {
            options.on_output(output_stream(stream), payload);
        }
    });
    GROVE_TRY(http_->call({.path = path, .on_body = [&](std::string_view chunk) {
                               frames.feed(chunk);
                           }}));
    if (frames.partial()) {
        return base::make_error(Code::kUnavailable, "the log stream of '{}' was cut", ref);
    }
    return {};
}

Result<int> RemoteClient::exec_in_container(std::string_view ref, const ExecOptions& options) {
    const Json body{{"command", options.command},
                    {"env", options.env},
                    {"workdir", options.workdir},
                    {"user", options.user}};
    std::optional<Json> trailer;
    FrameReader frames([&](uint8_t stream, std::string_view payload) {
        if (stream == kTrailer) {
            trailer = base::parse_json(payload).value_or(Json::object());
        } else if (options.on_output) {
            options.on_output(output_stream(stream), payload);
        }
    });
    GROVE_TRY(http_->call({.method = "POST",
                           .path = "/grove/v1/containers" + container_path(ref) + "/exec",
                           .body = base::dump_json(body),
                           .on_body = [&](std::string_view chunk) {
                               frames.feed(chunk);
                           }}));
    if (!trailer) {
        return base::make_error(Code::kUnavailable,
                                "the exec's output in '{}' was cut before its end", ref);
    }
    if (const auto code = trailer->find("exit_code");
        code != trailer->end() && code->is_number_integer()) {
        return code->get<int>();
    }
    return Error(code_from_name(trailer->value("code", "")).value_or(Code::kInternal),
                 trailer->value("error", "the exec failed"));
}

}  // namespace grove::client
