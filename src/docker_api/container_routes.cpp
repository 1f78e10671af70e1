// Containers' lifecycle: create, list, inspect, start, stop, restart, kill, pause, unpause,
// wait, remove, rename, update, prune, resize; each state change is a container event.

#include <csignal>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "base/time_point.hpp"
#include "containers/names.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/container_json.hpp"
#include "docker_api/container_spec_json.hpp"
#include "docker_api/filters.hpp"
#include "docker_api/image_json.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

using containers::Container;

Result<std::optional<std::chrono::seconds>> stop_timeout(const http::Request& request) {
    GROVE_ASSIGN_OR_RETURN(const auto t, query_int(request, "t"));
    if (!t || *t < 0) {
        return std::optional<std::chrono::seconds>();
    }
    return std::optional(std::chrono::seconds(*t));
}

Result<void> create(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json_body(request));
    GROVE_ASSIGN_OR_RETURN(CreateRequest create, create_request_from_json(body));
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, find_image(s.images, create.spec.image));
    create.spec.image = image.uuid;
    GROVE_TRY(publish_image_ports(config_of(image), create));
    create.spec.name = std::string(request.query().get("name").value_or(""));
    auto made = s.containers.manager().create(create.spec);
    if (!made && made.error().code() == Code::kAlreadyExists) {
        const std::string name =
            create.spec.name.starts_with('/') ? create.spec.name : "/" + create.spec.name;
        const auto holder = s.containers.find(name);
        return base::make_error(Code::kAlreadyExists,
                                "Conflict. The container name \"{}\" is already in use by "
                                "container \"{}\". You have to remove (or rename) that container "
                                "to be able to reuse that name.",
                                name, holder ? holder->id : "");
    }
    GROVE_TRY(made);
    GROVE_TRY(s.containers.save(made->id, create.extras));
    s.containers.publish("create", *made);
    return send_json(writer, 201, {{"Id", made->id}, {"Warnings", base::Json::array()}});
}

Result<std::vector<std::string>> ancestors(const DockerServices& s, const Filters& filters) {
    std::vector<std::string> out;
    for (const auto& name : filters.values("ancestor")) {
        auto image = find_image(s.images, name);
        // An unknown image matches no container, as in dockerd.
        out.push_back(image ? image->uuid : "-");
    }
    return out;
}

Result<void> list(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Filters filters,
                           Filters::parse(request, {"status", "label", "name", "id", "ancestor",
                                                    "exited", "since", "before"}));
    containers::ListFilter filter{.all = query_flag(request, "all")};
    GROVE_ASSIGN_OR_RETURN(const auto limit, query_int(request, "limit"));
    if (limit && *limit > 0) {
        filter.limit = static_cast<size_t>(*limit);
    }
    for (const auto& status : filters.values("status")) {
        const auto parsed = containers::status_from_name(status);
        if (!parsed) {
            return base::make_error(Code::kInvalidArgument, "Invalid filter 'status={}'", status);
        }
        filter.status.push_back(*parsed);
    }
    for (const auto& code : filters.values("exited")) {
        const auto parsed = base::parse_number<int>(code);
        if (!parsed) {
            return base::make_error(Code::kInvalidArgument, "invalid filter 'exited={}'", code);
        }
        filter.exited.push_back(*parsed);
    }
    const auto& labels = filters.values("label");
    filter.labels.assign(labels.begin(), labels.end());
    for (const auto& name : filters.values("name")) {
        filter.names.push_back(name.starts_with('/') ? name.substr(1) : name);
    }
    const auto& ids = filters.values("id");
    filter.ids.assign(ids.begin(), ids.end());
    GROVE_ASSIGN_OR_RETURN(filter.ancestors, ancestors(s, filters));
    if (filters.has("since")) {
        filter.since = *filters.values("since").begin();
    }
    if (filters.has("before")) {
        filter.before = *filters.values("before").begin();
    }
    GROVE_ASSIGN_OR_RETURN(const auto found, s.containers.manager().list(filter));
    base::Json out = base::Json::array();
    for (const auto& c : found) {
        out.push_back(list_entry(c, s.containers.extras(c.id)));
        if (query_flag(request, "size")) {
            GROVE_TRY(add_container_sizes(s, c, out.back()));
        }
    }
    return send_json(writer, 200, out);
}

Result<void> start(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const bool started, s.containers.manager().start(c.id));
    if (!started) {
        return writer.send(http::Response::empty(304));
    }
    s.containers.started(c.id);
    s.containers.publish("start", c);
    return writer.send(http::Response::empty());
}

Result<void> stop(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const auto timeout, stop_timeout(request));
    GROVE_ASSIGN_OR_RETURN(const bool stopped, s.containers.manager().stop(c.id, timeout));
    if (!stopped) {
        return writer.send(http::Response::empty(304));
    }
    s.containers.publish("stop", c);
    return writer.send(http::Response::empty());
}

Result<void> restart(const DockerServices& s,
                     http::Request& request,
                     http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const auto timeout, stop_timeout(request));
    GROVE_TRY(s.containers.manager().restart(c.id, timeout));
    s.containers.started(c.id);
    s.containers.publish("restart", c);
    return writer.send(http::Response::empty());
}

Result<void> kill(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    int signal = SIGKILL;
    if (const auto text = request.query().get("signal"); text && !text->empty()) {
        GROVE_ASSIGN_OR_RETURN(signal, containers::parse_signal(*text));
    }
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition,
                                "Cannot kill container: {}: Container {} is not running",
                                param(request, "id"), c.id);
    }
    GROVE_TRY(s.containers.manager().kill(c.id, signal));
    s.containers.publish("kill", c, {{"signal", std::to_string(signal)}});
    return writer.send(http::Response::empty());
}

Result<void> pause(const DockerServices& s,
                   http::Request& request,
                   http::ResponseWriter& writer,
                   bool paused) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_TRY(paused ? s.containers.manager().pause(c.id) : s.containers.manager().unpause(c.id));
    s.containers.publish(paused ? "pause" : "unpause", c);
    return writer.send(http::Response::empty());
}

Result<void> wait(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    const std::string condition(request.query().get("condition").value_or(""));
    containers::WaitCondition wanted = containers::WaitCondition::kNotRunning;
    if (condition == "next-exit") {
        wanted = containers::WaitCondition::kNextExit;
    } else if (condition == "removed") {
        wanted = containers::WaitCondition::kRemoved;
    } else if (!condition.empty() && condition != "not-running") {
        return base::make_error(Code::kInvalidArgument, "invalid condition: \"{}\"", condition);
    }
    // The docker CLI waits before it starts the container and needs the head at once; the start
    // it then sends may even end before wait() looks, so next-exit counts from what `c` shows.
    GROVE_TRY(start_json_stream(writer));
    auto waited = s.containers.manager().wait(
        c.id, wanted, request.stop_token(),
        c.state.running() ? std::nullopt : std::optional<int64_t>(c.state.started_ns));
    if (!waited && request.stop_token().stop_requested()) {
        return {};  // the client left (docker run -d waits, then exits)
    }
    GROVE_ASSIGN_OR_RETURN(const auto result, std::move(waited));
    GROVE_TRY(write_json_line(
        writer,
        {{"Error", result.error.empty() ? base::Json() : base::Json({{"Message", result.error}})},
         {"StatusCode", result.exit_code}}));
    return writer.finish();
}

Result<void> remove(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    const bool force = query_flag(request, "force");
    if (c.state.running() && !force) {
        return base::make_error(Code::kFailedPrecondition,
                                "You cannot remove a {} container {}. Stop the container before "
                                "attempting removal or force remove",
                                containers::status_name(c.state.status), c.id);
    }
    GROVE_TRY(s.containers.manager().remove(c.id, force, query_flag(request, "v")));
    s.containers.publish("destroy", c);
    s.containers.forget(c.id);
    return writer.send(http::Response::empty());
}

Result<void> rename(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    const std::string name(request.query().get("name").value_or(""));
    GROVE_TRY(s.containers.manager().rename(c.id, name));
    GROVE_ASSIGN_OR_RETURN(const Container renamed, s.containers.find(c.id));
    s.containers.publish("rename", renamed, {{"oldName", "/" + c.name}});
    return writer.send(http::Response::empty());
}

Result<void> update(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json_body(request));
    GROVE_ASSIGN_OR_RETURN(const auto limits, limits_from_json(body));
    GROVE_TRY(s.containers.manager().update(c.id, limits));
    if (const auto shares = body.find("CpuShares"); shares != body.end() && shares->is_number()) {
        DockerExtras extras = s.containers.extras(c.id);
        extras.cpu_shares = shares->get<int64_t>();
        GROVE_TRY(s.containers.save(c.id, extras));
    }
    s.containers.publish("update", c);
    return send_json(writer, 200, {{"Warnings", base::Json::array()}});
}

Result<void> prune(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Filters filters, Filters::parse(request, {"until", "label"}));
    std::optional<int64_t> until;
    if (filters.has("until")) {
        const std::string& text = *filters.values("until").begin();
        GROVE_ASSIGN_OR_RETURN(until, base::parse_time_point(text, daemon::now_ns()));
    }
    containers::ListFilter filter{.all = true};
    const auto& labels = filters.values("label");
    filter.labels.assign(labels.begin(), labels.end());
    GROVE_ASSIGN_OR_RETURN(const auto found, s.containers.manager().list(filter));
    base::Json deleted = base::Json::array();
    for (const auto& c : found) {
        if (c.state.running() || (until && c.created_ns >= *until)) {
            continue;
        }
        GROVE_TRY(s.containers.manager().remove(c.id, false));
        s.containers.publish("destroy", c);
        s.containers.forget(c.id);
        deleted.push_back(c.id);
    }
    return send_json(
        writer, 200,
        {{"ContainersDeleted", deleted.empty() ? base::Json() : deleted}, {"SpaceReclaimed", 0}});
}

Result<void> resize(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const auto rows, query_int(request, "h"));
    GROVE_ASSIGN_OR_RETURN(const auto cols, query_int(request, "w"));
    GROVE_TRY(s.containers.manager().resize(c.id, static_cast<int>(rows.value_or(0)),
                                            static_cast<int>(cols.value_or(0))));
    return writer.send(http::Response::empty(200));
}

Result<void> inspect(const DockerServices& s,
                     http::Request& request,
                     http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    base::Json out = inspect_json(c, s.containers.extras(c.id));
    if (query_flag(request, "size")) {
        GROVE_TRY(add_container_sizes(s, c, out));
    }
    return send_json(writer, 200, out);
}

}  // namespace

Result<void> add_container_sizes(const DockerServices& s,
                                 const containers::Container& c,
                                 base::Json& out) {
    GROVE_ASSIGN_OR_RETURN(const uint64_t rw, s.containers.manager().size_rw(c.id));
    auto image = s.images.find(c.image_uuid);
    out["SizeRw"] = rw;
    out["SizeRootFs"] = rw + (image ? image->size_logical : 0);
    return {};
}

void add_container_routes(http::Router& router, const DockerServices& services) {
    auto add = [&](std::string_view method, std::string_view pattern, auto handler) {
        service_route(router, services, method, pattern, handler);
    };
    add("POST", "/containers/create", create);
    add("GET", "/containers/json", list);
    add("POST", "/containers/prune", prune);
    add("GET", "/containers/{id}/json", inspect);
    add("POST", "/containers/{id}/start", start);
    add("POST", "/containers/{id}/stop", stop);
    add("POST", "/containers/{id}/restart", restart);
    add("POST", "/containers/{id}/kill", kill);
    add("POST", "/containers/{id}/pause",
        [](const DockerServices& s, http::Request& r, http::ResponseWriter& w) {
            return pause(s, r, w, true);
        });
    add("POST", "/containers/{id}/unpause",
        [](const DockerServices& s, http::Request& r, http::ResponseWriter& w) {
            return pause(s, r, w, false);
        });
    add("POST", "/containers/{id}/wait", wait);
    add("DELETE", "/containers/{id}", remove);
    add("POST", "/containers/{id}/rename", rename);
    add("POST", "/containers/{id}/update", update);
    add("POST", "/containers/{id}/resize", resize);
}

}  // namespace grove::docker_api
