// /grove/v1/sessions: grove's sessions (store/metadata/session_table.hpp), shared by every client
// of the store. Runs themselves go through /v1/instances; a client records each run here, naming
// the head it started from, so two clients advancing one branch at once cannot lose a run (the
// second is 409 and retries on the new head).

#include "api/contree_json.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "daemon/stream_repr.hpp"
#include "daemon/wire_time.hpp"

namespace grove::api {
namespace {

using Handler = Result<void> (*)(image::ImageStore&, http::Request&, http::ResponseWriter&);

base::Json session_json(const store::SessionRecord& session) {
    base::Json branches = base::Json::array();
    for (const auto& branch : session.branches) {
        branches.push_back({{"name", branch.name}, {"head", branch.head}, {"image", branch.image}});
    }
    const auto& head = session.current();
    return {{"name", session.name},
            {"branch", session.branch},
            {"head", head.head},
            {"image", head.image},
            {"created_at", daemon::iso8601_micros(session.created_ns)},
            {"branches", std::move(branches)}};
}

base::Json state_json(const store::SessionState& state) {
    return {{"id", state.id},
            {"parent", state.parent ? base::Json(*state.parent) : base::Json()},
            {"image", state.image},
            {"command", state.command},
            {"exit_code", state.exit_code},
            {"timed_out", state.timed_out},
            {"elapsed_ns", state.elapsed_ns},
            {"stdout", daemon::stream_repr(state.stdout_data)},
            {"stderr", daemon::stream_repr(state.stderr_data)},
            {"created_at", daemon::iso8601_micros(state.created_ns)}};
}

Result<void> send_session(http::ResponseWriter& writer,
                          int status,
                          const Result<store::SessionRecord>& session) {
    GROVE_TRY(session);
    return send_json(writer, status, session_json(*session));
}

Result<void> list(image::ImageStore& images, http::Request&, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto sessions,
                           images.with_sessions([](auto& table) { return table.list(); }));
    base::Json list = base::Json::array();
    for (const auto& session : sessions) {
        list.push_back(session_json(session));
    }
    return send_json(writer, 200, {{"sessions", std::move(list)}});
}

Result<void> create(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto name, base::json_field<std::string>(body, "name"));
    GROVE_ASSIGN_OR_RETURN(const auto ref, base::json_field<std::string>(body, "image"));
    GROVE_ASSIGN_OR_RETURN(const auto uuid,
                           images.resolve(ref, image::ImageStore::Lookup::kStrict));
    return send_session(w, 201, images.with_sessions([&](auto& table) {
        return table.create(name, uuid, daemon::now_ns());
    }));
}

Result<void> get(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    return send_session(w, 200, images.with_sessions([&](auto& table) {
        return table.get(param(request, "name"));
    }));
}

Result<void> remove(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_TRY(
        images.with_sessions([&](auto& table) { return table.remove(param(request, "name")); }));
    return w.send(http::Response::empty(204));
}

Result<void> branch(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto name, base::json_field<std::string>(body, "name"));
    return send_session(w, 201, images.with_sessions([&](auto& table) {
        return table.branch(param(request, "name"), name);
    }));
}

Result<void> checkout(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto branch, base::json_field<std::string>(body, "branch"));
    return send_session(w, 200, images.with_sessions([&](auto& table) {
        return table.checkout(param(request, "name"), branch);
    }));
}

Result<void> rollback(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto steps, base::json_optional_field<int64_t>(body, "steps"));
    return send_session(w, 200, images.with_sessions([&](auto& table) {
        return table.rollback(param(request, "name"), steps.value_or(1));
    }));
}

Result<void> append(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    store::SessionState state{.created_ns = daemon::now_ns()};
    GROVE_ASSIGN_OR_RETURN(state.parent, base::json_field<int64_t>(body, "parent"));
    GROVE_ASSIGN_OR_RETURN(state.image, base::json_field<std::string>(body, "image"));
    GROVE_ASSIGN_OR_RETURN(state.command, base::json_field<std::string>(body, "command"));
    GROVE_ASSIGN_OR_RETURN(state.exit_code, base::json_field<int>(body, "exit_code"));
    GROVE_ASSIGN_OR_RETURN(const auto timed_out,
                           base::json_optional_field<bool>(body, "timed_out"));
    state.timed_out = timed_out.value_or(false);
    GROVE_ASSIGN_OR_RETURN(const auto elapsed,
                           base::json_optional_field<int64_t>(body, "elapsed_ns"));
    state.elapsed_ns = elapsed.value_or(0);
    if (body.contains("stdout")) {
        GROVE_ASSIGN_OR_RETURN(state.stdout_data, daemon::decode_stream_repr(body["stdout"]));
    }
    if (body.contains("stderr")) {
        GROVE_ASSIGN_OR_RETURN(state.stderr_data, daemon::decode_stream_repr(body["stderr"]));
    }
    return send_session(w, 201, images.with_sessions([&](auto& table) {
        return table.append(param(request, "name"), std::move(state));
    }));
}

Result<void> history(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    size_t limit = 1000;
    if (const auto text = request.query().get("limit"); text && !text->empty()) {
        GROVE_ASSIGN_OR_RETURN(const base::Json value, base::parse_json(*text));
        GROVE_ASSIGN_OR_RETURN(limit, base::json_as<size_t>(value, "limit"));
    }
    GROVE_ASSIGN_OR_RETURN(const auto states, images.with_sessions([&](auto& table) {
        return table.history(param(request, "name"), limit,
                             request.query().get("branch").value_or(""));
    }));
    base::Json list = base::Json::array();
    for (const auto& state : states) {
        list.push_back(state_json(state));
    }
    return send_json(w, 200, {{"states", std::move(list)}});
}

}  // namespace

void add_session_routes(http::Router& grove_v1, const RouteContext& context) {
    image::ImageStore& images = context.services.images;
    const auto add = [&](std::string_view method, std::string_view pattern, Handler handler) {
        route(grove_v1, context, method, pattern,
              [&images, handler](http::Request& req, http::ResponseWriter& w) {
                  return handler(images, req, w);
              });
    };
    add("GET", "/sessions", list);
    add("POST", "/sessions", create);
    add("GET", "/sessions/{name}", get);
    add("DELETE", "/sessions/{name}", remove);
    add("POST", "/sessions/{name}/branches", branch);
    add("POST", "/sessions/{name}/checkout", checkout);
    add("POST", "/sessions/{name}/rollback", rollback);
    add("POST", "/sessions/{name}/runs", append);
    add("GET", "/sessions/{name}/history", history);
}

}  // namespace grove::api
