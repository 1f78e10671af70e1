// Subprocesses of a running instance (docs/api.md, "Subprocesses"):
//   POST /v1/operations/{operationId}/subprocesses                {command, args, shell, env,
//                                                                  cwd, stdin, timeout} -> {spid}
//   GET  /v1/operations/{operationId}/subprocesses/{spid}         the folded process result
//   POST /v1/operations/{operationId}/subprocesses/{spid}/stdin   {value, encoding, close}
//   POST /v1/operations/{operationId}/subprocesses/{spid}/kill    {signal}

#include <charconv>

#include "api/routes.hpp"
#include "base/error.hpp"
#include "daemon/process_result.hpp"
#include "daemon/subprocess_request.hpp"

namespace grove::api {
namespace {

// How long a create waits for an instance that a worker took but whose command is not running
// yet (its container is being made).
constexpr std::chrono::seconds kStartWait{30};

Result<int> spid_param(const http::Request& request) {
    const std::string text = param(request, "spid");
    int spid = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), spid);
    if (err != std::errc() || end != text.data() + text.size() || spid < 0) {
        return base::make_error(Code::kNotFound, "no subprocess '{}'", text);
    }
    return spid;
}

Result<void> create_subprocess(daemon::Operations& operations,
                               http::Request& request,
                               http::ResponseWriter& writer) {
    const std::string uuid = param(request, "operationId");
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto subprocess, daemon::parse_subprocess_request(body));
    GROVE_ASSIGN_OR_RETURN(const auto subprocesses, operations.subprocesses(uuid));
    GROVE_ASSIGN_OR_RETURN(const int spid, subprocesses->create(subprocess, kStartWait));
    http::Response response =
        http::Response::json(201, base::dump_json(base::Json{{"spid", spid}}));
    response.headers.set("Location", api_base(request) + "/operations/" + uuid + "/subprocesses/" +
                                         std::to_string(spid));
    return writer.send(std::move(response));
}

Result<void> subprocess_result(daemon::Operations& operations,
                               http::Request& request,
                               http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const int spid, spid_param(request));
    GROVE_ASSIGN_OR_RETURN(const auto batch, operations.events(param(request, "operationId"), -1,
                                                               std::chrono::milliseconds(0), {}));
    GROVE_ASSIGN_OR_RETURN(const auto folded, daemon::fold_process_result(batch.events, spid));
    http::Response response = http::Response::json(200, base::dump_json(folded));
    if (folded["state"]["exit_code"] == -1 && folded["state"]["signal"] == -1) {
        response.headers.set("Retry-After", "1");  // still running: a polling hint
    }
    return writer.send(std::move(response));
}

Result<void> subprocess_stdin(daemon::Operations& operations,
                              http::Request& request,
                              http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const int spid, spid_param(request));
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto input, daemon::parse_stdin_request(body));
    GROVE_ASSIGN_OR_RETURN(const auto subprocesses,
                           operations.subprocesses(param(request, "operationId")));
    GROVE_TRY(subprocesses->write_stdin(spid, input.data, input.close));
    return send_json(writer, 200, base::Json::object());
}

Result<void> subprocess_kill(daemon::Operations& operations,
                             http::Request& request,
                             http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const int spid, spid_param(request));
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const int signal, daemon::parse_kill_request(body));
    GROVE_ASSIGN_OR_RETURN(const auto subprocesses,
                           operations.subprocesses(param(request, "operationId")));
    GROVE_TRY(subprocesses->kill(spid, signal));
    return send_json(writer, 200, base::Json::object());
}

}  // namespace

void add_subprocess_routes(http::Router& v1, const RouteContext& context) {
    daemon::Operations& ops = context.services.operations;
    route(v1, context, "POST", "/operations/{operationId}/subprocesses",
          [&ops](http::Request& req, http::ResponseWriter& w) {
              return create_subprocess(ops, req, w);
          });
    route(v1, context, "GET", "/operations/{operationId}/subprocesses/{spid}",
          [&ops](http::Request& req, http::ResponseWriter& w) {
              return subprocess_result(ops, req, w);
          });
    route(v1, context, "POST", "/operations/{operationId}/subprocesses/{spid}/stdin",
          [&ops](http::Request& req, http::ResponseWriter& w) {
              return subprocess_stdin(ops, req, w);
          });
    route(v1, context, "POST", "/operations/{operationId}/subprocesses/{spid}/kill",
          [&ops](http::Request& req, http::ResponseWriter& w) {
              return subprocess_kill(ops, req, w);
          });
}

}  // namespace grove::api
