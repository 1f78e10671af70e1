// /v1/instances (spawn: an operation) and /v1/operations: list, get, cancel.

#include "api/contree_json.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/instance_request.hpp"
#include "daemon/stream_repr.hpp"
#include "daemon/wire_time.hpp"

namespace grove::api {
namespace {

Result<void> spawn(daemon::Operations& operations,
                   http::Request& request,
                   http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(auto instance, daemon::parse_instance_request(body));
    GROVE_ASSIGN_OR_RETURN(const auto record, operations.submit_instance(std::move(instance)));
    // The uuid plus the request as recorded (contree's stub echoes it).
    base::Json out = base::parse_json(record.request_json).value_or(base::Json::object());
    out["uuid"] = record.uuid;
    out["status"] = daemon::operation_status_name(record.status);
    http::Response response = http::Response::json(201, base::dump_json(out));
    response.headers.set("Location", api_base(request) + "/operations/" + record.uuid);
    return writer.send(std::move(response));
}

Result<void> list(daemon::Operations& operations,
                  http::Request& request,
                  http::ResponseWriter& writer) {
    const auto& query = request.query();
    GROVE_ASSIGN_OR_RETURN(const Page page, parse_page(query));
    const int64_t now = daemon::now_ns();
    daemon::OperationFilter filter{.limit = page.limit, .offset = page.offset};
    if (const auto status = query.get("status"); status && !status->empty()) {
        GROVE_ASSIGN_OR_RETURN(filter.status, daemon::operation_status_from_name(*status));
    }
    if (const auto kind = query.get("kind"); kind && !kind->empty()) {
        GROVE_ASSIGN_OR_RETURN(filter.kind, daemon::operation_kind_from_name(*kind));
    }
    GROVE_ASSIGN_OR_RETURN(filter.since_ns, parse_time(query, "since", now));
    GROVE_ASSIGN_OR_RETURN(filter.until_ns, parse_time(query, "until", now));
    GROVE_ASSIGN_OR_RETURN(const auto found, operations.list(filter));
    // A bare array, as the clients parse it.
    base::Json out = base::Json::array();
    for (const auto& operation : found) {
        out.push_back(operation_summary_json(operation, now));
    }
    return send_json(writer, 200, out);
}

// The result of a running instance so far (?inflight=1): its output up to now, folded from its
// log, with the -1 sentinels of a process that has not exited.
Result<base::Json> inflight_result(daemon::Operations& operations, const std::string& uuid) {
    GROVE_ASSIGN_OR_RETURN(const auto batch,
                           operations.events(uuid, -1, std::chrono::milliseconds(0), {}));
    std::string out;
    std::string err;
    for (const auto& event : batch.events) {
        const bool is_out = event.type == daemon::kStdoutEvent;
        if (event.spid != daemon::kMainSpid || (!is_out && event.type != daemon::kStderrEvent)) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const auto data, base::parse_json(event.data_json));
        GROVE_ASSIGN_OR_RETURN(const auto bytes, daemon::decode_stream_repr(data));
        (is_out ? out : err) += bytes;
    }
    return base::Json{
        {"state",
         {{"exit_code", -1}, {"pid", daemon::kCommandPid}, {"signal", -1}, {"timed_out", false}}},
        {"stdout", daemon::stream_repr(out)},
        {"stderr", daemon::stream_repr(err)}};
}

// `kind`: only an operation of this kind is found (GET /operations/{id}/import).
Result<void> get(daemon::Operations& operations,
                 http::Request& request,
                 http::ResponseWriter& writer,
                 std::optional<daemon::OperationKind> kind) {
    GROVE_ASSIGN_OR_RETURN(const auto record, operations.get(param(request, "operationId")));
    if (kind && record.kind != *kind) {
        return base::make_error(Code::kNotFound, "operation '{}' is not an {}", record.uuid,
                                daemon::operation_kind_name(*kind));
    }
    base::Json out = operation_json(record, daemon::now_ns());
    if (flag(request.query(), "inflight") && record.kind == daemon::OperationKind::kInstance &&
        !daemon::is_terminal(record.status)) {
        GROVE_ASSIGN_OR_RETURN(out["metadata"]["result"], inflight_result(operations, record.uuid));
    }
    http::Response response = http::Response::json(200, base::dump_json(out));
    if (!daemon::is_terminal(record.status)) {
        response.headers.set("Retry-After", "1");  // a polling hint, as ConTree's server gives
    }
    return writer.send(std::move(response));
}

Result<void> cancel(daemon::Operations& operations,
                    http::Request& request,
                    http::ResponseWriter& writer) {
    GROVE_TRY(operations.cancel(param(request, "operationId")));
    // An empty object rather than no body: the old SDK parses one.
    return send_json(writer, 202, base::Json::object());
}

}  // namespace

void add_operation_routes(http::Router& v1, const RouteContext& context) {
    daemon::Operations& ops = context.services.operations;
    route(v1, context, "POST", "/instances",
          [&ops](http::Request& req, http::ResponseWriter& w) { return spawn(ops, req, w); });
    route(v1, context, "GET", "/operations",
          [&ops](http::Request& req, http::ResponseWriter& w) { return list(ops, req, w); });
    route(v1, context, "GET", "/operations/{operationId}",
          [&ops](http::Request& req, http::ResponseWriter& w) {
              return get(ops, req, w, std::nullopt);
          });
    route(v1, context, "GET", "/operations/{operationId}/import",
          [&ops](http::Request& req, http::ResponseWriter& w) {
              return get(ops, req, w, daemon::OperationKind::kImageImport);
          });
    route(v1, context, "DELETE", "/operations/{operationId}",
          [&ops](http::Request& req, http::ResponseWriter& w) { return cancel(ops, req, w); });
}

}  // namespace grove::api
