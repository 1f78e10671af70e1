// grove container create [--name N] [-e K=V]... [-w DIR] [-u USER] [--hostname H]
//                        [--network none|host] [--memory 256m] [--pids N] IMAGE [-- cmd args]
//                 | start REF... | stop [-t SECONDS] REF... | kill [-s SIGNAL] REF...
//                 | exec REF -- cmd args | logs [-f] [--tail N] REF | ps [-a] [--json]
//                 | inspect REF... | rm [-f] REF...
// Docker-style long-lived containers through the client library's Containers: on the local store
// each runs under its own grove-shim, so it keeps running after grove exits, with no daemon;
// against groved (--host) they are groved's, the ones its Docker API shows. REF is an id, a
// unique id prefix or a name.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"
#include "cli/run_flags.hpp"
#include "containers/names.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string image;
    std::vector<std::string> refs;
    std::vector<std::string> command;
    std::string name;
    std::vector<std::string> env;
    std::string workdir;
    std::string user;
    std::string hostname;
    std::string network = "none";
    std::string memory;
    std::string signal = "KILL";
    uint64_t pids = 0;
    int timeout_seconds = -1;
    bool follow = false;
    size_t tail = 0;
    bool all = false;
    bool force = false;
    bool json = false;
};

std::vector<std::string> with_trailing(const Context& context, std::vector<std::string> command) {
    const auto& after = context.options().after_dashes;
    command.insert(command.end(), after.begin(), after.end());
    return command;
}

Result<Containers> containers_of(Context& context) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    return client->containers();
}

Result<void> create(Context& context, const Options& options) {
    ContainerOptions spec{.image = options.image,
                          .name = options.name,
                          .command = with_trailing(context, options.command),
                          .env = options.env,
                          .workdir = options.workdir,
                          .user = options.user,
                          .hostname = options.hostname,
                          .network = options.network};
    if (!options.memory.empty()) {
        GROVE_ASSIGN_OR_RETURN(spec.memory_bytes, parse_size(options.memory));
    }
    if (options.pids > 0) {
        spec.pids = options.pids;
    }
    GROVE_ASSIGN_OR_RETURN(const auto containers, containers_of(context));
    GROVE_ASSIGN_OR_RETURN(const auto container, containers.create(spec));
    fmt::print("{}\n", container.id);
    return {};
}

// Runs `step` on each ref, printing the ref when it succeeds (docker's way).
Result<void> each(Context& context,
                  const Options& options,
                  const std::function<Result<void>(const Containers&, const std::string&)>& step) {
    GROVE_ASSIGN_OR_RETURN(const auto containers, containers_of(context));
    for (const auto& ref : options.refs) {
        GROVE_TRY(step(containers, ref));
        fmt::print("{}\n", ref);
    }
    return {};
}

// The container's output to ours, stdout to stdout and stderr to stderr.
void print_output(OutputStream stream, std::string_view bytes) {
    (void)base::write_all(stream == OutputStream::kStderr ? STDERR_FILENO : STDOUT_FILENO, bytes);
}

Result<int> exec(Context& context, const Options& options) {
    const auto command = with_trailing(context, options.command);
    if (command.empty()) {
        return base::make_error(Code::kInvalidArgument, "give the command after '--'");
    }
    GROVE_ASSIGN_OR_RETURN(const auto containers, containers_of(context));
    return containers.exec(options.refs.front(), {.command = command,
                                                  .env = options.env,
                                                  .workdir = options.workdir,
                                                  .user = options.user,
                                                  .on_output = print_output});
}

Result<void> logs(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(const auto containers, containers_of(context));
    ContainerLogOptions log{.follow = options.follow, .on_output = print_output};
    if (options.tail > 0) {
        log.tail = options.tail;
    }
    return containers.logs(options.refs.front(), log);
}

base::Json container_json(const ContainerInfo& c) {
    const auto time = [](const std::optional<Clock::time_point>& at) {
        return at ? base::Json(rfc3339(to_ns(*at))) : base::Json();
    };
    return {{"id", c.id},
            {"name", c.name},
            {"image", c.image},
            {"image_uuid", c.image_uuid},
            {"status", c.status},
            {"exit_code", c.exit_code},
            {"pid", c.pid},
            {"command", c.command},
            {"created", rfc3339(to_ns(c.created))},
            {"started", time(c.started)},
            {"finished", time(c.finished)}};
}

Result<void> list(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(const auto containers, containers_of(context));
    GROVE_ASSIGN_OR_RETURN(const auto listed, containers.list(options.all));
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& c : listed) {
            out.push_back(container_json(c));
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    constexpr std::string_view kRow = "{:<12}  {:<20}  {:<20}  {:<10}  {}\n";
    fmt::print(fmt::runtime(kRow), "CONTAINER", "NAME", "IMAGE", "STATUS", "COMMAND");
    for (const auto& c : listed) {
        const std::string status =
            c.status == "exited" ? fmt::format("exited {}", c.exit_code) : c.status;
        fmt::print(fmt::runtime(kRow), c.id.substr(0, 12), c.name, c.image, status,
                   fmt::join(c.command, " "));
    }
    return {};
}

// Always JSON, as docker inspect: an array, one object per ref.
Result<void> inspect(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(const auto containers, containers_of(context));
    base::Json out = base::Json::array();
    for (const auto& ref : options.refs) {
        GROVE_ASSIGN_OR_RETURN(const auto c, containers.inspect(ref));
        out.push_back(container_json(c));
    }
    fmt::print("{}\n", out.dump(2));
    return {};
}

}  // namespace

void add_container(CLI::App& app, CommandEnv env) {
    auto o = std::make_shared<Options>();
    CLI::App* group = app.add_subcommand(
        "container", "Long-lived containers (each under its grove-shim), local or groved's");
    group->require_subcommand(1);
    const auto done = [env](const Result<void>& result) {
        env.exit_code = exit_code_of(result);
    };

    CLI::App* create_cmd = group->add_subcommand("create", "Create a container from an image");
    create_cmd->add_option("image", o->image, "UUID, UUID prefix or tag")->required();
    create_cmd->add_option("command", o->command, "Its command (after --; default the image's)");
    create_cmd->add_option("--name", o->name, "Its name (default: generated)");
    create_cmd->add_option("-e,--env", o->env, "KEY=VALUE (repeatable)")->allow_extra_args(false);
    create_cmd->add_option("-w,--workdir", o->workdir, "Working directory");
    create_cmd->add_option("-u,--user", o->user, "user[:group], names or numbers");
    create_cmd->add_option("--hostname", o->hostname, "Host name inside");
    create_cmd->add_option("--network", o->network, "none (loopback only) or host")
        ->check(CLI::IsMember({"none", "host"}));
    create_cmd->add_option("--memory", o->memory, "Memory limit, e.g. 256m");
    create_cmd->add_option("--pids", o->pids, "Process limit");
    create_cmd->callback([=] { done(create(env.context, *o)); });

    CLI::App* start_cmd = group->add_subcommand("start", "Start containers");
    start_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    start_cmd->callback([=] {
        done(each(env.context, *o, [](const Containers& c, const std::string& ref) -> Result<void> {
            GROVE_TRY(c.start(ref));
            return {};
        }));
    });

    CLI::App* stop_cmd = group->add_subcommand("stop", "Stop containers (signal, then SIGKILL)");
    stop_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    stop_cmd->add_option("-t,--timeout", o->timeout_seconds,
                         "Seconds before SIGKILL (default: the container's, 10)");
    stop_cmd->callback([=] {
        done(
            each(env.context, *o, [o](const Containers& c, const std::string& ref) -> Result<void> {
                std::optional<std::chrono::seconds> timeout;
                if (o->timeout_seconds >= 0) {
                    timeout = std::chrono::seconds(o->timeout_seconds);
                }
                GROVE_TRY(c.stop(ref, timeout));
                return {};
            }));
    });

    CLI::App* kill_cmd = group->add_subcommand("kill", "Send a signal to running containers");
    kill_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    kill_cmd->add_option("-s,--signal", o->signal, "A name (TERM, SIGTERM) or a number")
        ->capture_default_str();
    kill_cmd->callback([=] {
        done(
            each(env.context, *o, [o](const Containers& c, const std::string& ref) -> Result<void> {
                GROVE_ASSIGN_OR_RETURN(const int number, containers::parse_signal(o->signal));
                return c.kill(ref, number);
            }));
    });

    CLI::App* exec_cmd = group->add_subcommand("exec", "Run a command in a running container");
    exec_cmd->add_option("container", o->refs, "Id, id prefix or name")->required()->expected(1);
    exec_cmd->add_option("command", o->command, "The command (after --)");
    exec_cmd->add_option("-e,--env", o->env, "KEY=VALUE (repeatable)")->allow_extra_args(false);
    exec_cmd->add_option("-w,--workdir", o->workdir, "Working directory");
    exec_cmd->add_option("-u,--user", o->user, "user[:group]");
    exec_cmd->callback([=] {
        auto code = exec(env.context, *o);
        env.exit_code = code ? *code : exit_code_of(code.error());
    });

    CLI::App* logs_cmd = group->add_subcommand("logs", "Print a container's output");
    logs_cmd->add_option("container", o->refs, "Id, id prefix or name")->required()->expected(1);
    logs_cmd->add_flag("-f,--follow", o->follow, "Keep printing until it stops");
    logs_cmd->add_option("-n,--tail", o->tail, "Only the last N lines");
    logs_cmd->callback([=] { done(logs(env.context, *o)); });

    CLI::App* ps_cmd = group->add_subcommand("ps", "List running containers (-a: all)");
    ps_cmd->alias("ls");
    ps_cmd->add_flag("-a,--all", o->all, "Stopped ones too");
    ps_cmd->add_flag("--json", o->json, "Print JSON");
    ps_cmd->callback([=] { done(list(env.context, *o)); });

    CLI::App* inspect_cmd = group->add_subcommand("inspect", "Show containers as JSON");
    inspect_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    inspect_cmd->add_flag("--json", o->json, "Print JSON (the only format)");
    inspect_cmd->callback([=] { done(inspect(env.context, *o)); });

    CLI::App* rm_cmd = group->add_subcommand("rm", "Remove containers");
    rm_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    rm_cmd->add_flag("-f,--force", o->force, "Kill a running one first");
    rm_cmd->callback([=] {
        done(each(env.context, *o, [o](const Containers& c, const std::string& ref) {
            return c.remove(ref, o->force);
        }));
    });
}

}  // namespace grove::cli
