// grove ps [-a] [--status S] [-n N] [--json] | wait UUID... [--json] | kill UUID...
// groved's operations (runs and imports), as ConTree's CLI shows them: ps lists the unfinished
// ones (-a: all), wait blocks until each finished (exit 1 unless all succeeded), kill cancels.
// The embedded engine has none: ps says why and lists nothing, wait and kill fail saying so.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"
#include "cli/terminal.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::vector<std::string> uuids;
    bool all = false;
    std::string status;
    size_t limit = 0;
    bool json = false;
};

base::Json operation_json(const OperationInfo& op) {
    return {{"uuid", op.uuid},
            {"kind", op.kind},
            {"status", op.status},
            {"error", op.error.empty() ? base::Json() : base::Json(op.error)},
            {"created", rfc3339(to_ns(op.created))},
            {"duration_seconds", op.duration},
            {"result_image", op.result_image ? base::Json(*op.result_image) : base::Json()},
            {"command", op.command}};
}

std::string painted_status(const Paint& paint, const std::string& status) {
    return status == "SUCCESS"                           ? paint.green(status)
           : status == "FAILED" || status == "CANCELLED" ? paint.red(status)
                                                         : paint.yellow(status);
}

Result<void> list(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    OperationListOptions query;
    if (!options.status.empty()) {
        query.status = options.status;
    }
    auto listed = client->operations().list(query);
    if (!listed && listed.error().code() == Code::kUnimplemented) {
        fmt::print(stderr, "grove: {}\n", listed.error().message());
        listed = std::vector<OperationInfo>{};
    }
    GROVE_TRY(listed);
    std::vector<OperationInfo> shown;
    for (const auto& op : *listed) {
        if ((options.all || !options.status.empty() || !op.finished()) &&
            (options.limit == 0 || shown.size() < options.limit)) {
            shown.push_back(op);
        }
    }
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& op : shown) {
            out.push_back(operation_json(op));
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    const Paint paint(stdout);
    const int64_t now = now_ns();
    fmt::print("{:<36}  {:<12}  {:<9}  {:<16}  {}\n", "OPERATION", "KIND", "STATUS", "CREATED",
               "COMMAND");
    for (const auto& op : shown) {
        // Padded before painting, so the escapes do not count as width.
        fmt::print("{:<36}  {:<12}  {}  {:<16}  {}\n", op.uuid, op.kind,
                   painted_status(paint, fmt::format("{:<9}", op.status)),
                   time_ago(to_ns(op.created), now), op.command);
    }
    return {};
}

Result<int> wait(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    base::Json out = base::Json::array();
    bool succeeded = true;
    const Paint paint(stdout);
    for (const auto& uuid : options.uuids) {
        GROVE_ASSIGN_OR_RETURN(const auto op, client->operations().wait(uuid));
        succeeded = succeeded && op.status == "SUCCESS";
        if (options.json) {
            out.push_back(operation_json(op));
        } else {
            fmt::print("{} {}{}\n", op.uuid, painted_status(paint, op.status),
                       op.error.empty() ? "" : ": " + op.error);
        }
    }
    if (options.json) {
        fmt::print("{}\n", out.dump(2));
    }
    return succeeded ? 0 : 1;
}

Result<void> cancel(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    for (const auto& uuid : options.uuids) {
        GROVE_TRY(client->operations().cancel(uuid));
        fmt::print("{}\n", uuid);
    }
    return {};
}

}  // namespace

void add_operations(CLI::App& app, CommandEnv env) {
    auto o = std::make_shared<Options>();
    CLI::App* ps = app.add_subcommand("ps", "List groved's unfinished operations (-a: all)");
    ps->add_flag("-a,--all", o->all, "Finished ones too");
    ps->add_option("--status", o->status, "Only this status (PENDING, EXECUTING, SUCCESS, ...)");
    ps->add_option("-n,--limit", o->limit, "At most this many, newest first");
    ps->add_flag("--json", o->json, "Print JSON");
    ps->callback([o, env] { env.exit_code = exit_code_of(list(env.context, *o)); });

    CLI::App* wait_cmd = app.add_subcommand("wait", "Wait for operations to finish");
    wait_cmd->add_option("operation", o->uuids, "Operation UUIDs")->required();
    wait_cmd->add_flag("--json", o->json, "Print JSON");
    wait_cmd->callback([o, env] {
        auto code = wait(env.context, *o);
        env.exit_code = code ? *code : exit_code_of(code.error());
    });

    CLI::App* kill = app.add_subcommand("kill", "Cancel operations (a running one is killed)");
    kill->add_option("operation", o->uuids, "Operation UUIDs")->required();
    kill->callback([o, env] { env.exit_code = exit_code_of(cancel(env.context, *o)); });
}

}  // namespace grove::cli
