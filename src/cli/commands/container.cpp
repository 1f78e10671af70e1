// grove container create [--name N] [-e K=V]... [-w DIR] [-u USER] [--hostname H]
//                        [--network none|host] [--memory 256m] [--pids N] IMAGE [-- cmd args]
//                 | start REF... | stop [-t SECONDS] REF... | exec REF -- cmd args
//                 | logs [-f] [--tail N] REF | ps [-a] [--json] | rm [-f] REF...
// Docker-style long-lived containers on the local store through containers::Manager: each runs
// under its own grove-shim, so it keeps running after grove exits, with no daemon. REF is an id,
// a unique id prefix or a name. Against groved (--host) they say they are not there yet: groved
// serves containers on its Docker API only.

#include <cerrno>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"
#include "cli/run_flags.hpp"
#include "containers/manager.hpp"

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

Result<void> create(Context& context, const Options& options) {
    containers::ContainerSpec spec{.image = options.image,
                                   .name = options.name,
                                   .env = options.env,
                                   .workdir = options.workdir,
                                   .user = options.user,
                                   .hostname = options.hostname,
                                   .network = options.network == "host"
                                                  ? containers::Network::kHost
                                                  : containers::Network::kNone};
    if (auto command = with_trailing(context, options.command); !command.empty()) {
        spec.cmd = std::move(command);
    }
    if (!options.memory.empty()) {
        GROVE_ASSIGN_OR_RETURN(spec.limits.memory_bytes, parse_size(options.memory));
    }
    if (options.pids > 0) {
        spec.limits.pids = options.pids;
    }
    GROVE_ASSIGN_OR_RETURN(auto* manager, context.container_manager());
    GROVE_ASSIGN_OR_RETURN(const auto container, manager->create(spec));
    fmt::print("{}\n", container.id);
    return {};
}

// Runs `step` on each ref, printing the ref when it succeeds (docker's way).
Result<void> each(
    Context& context,
    const Options& options,
    const std::function<Result<void>(containers::Manager&, const std::string&)>& step) {
    GROVE_ASSIGN_OR_RETURN(auto* manager, context.container_manager());
    for (const auto& ref : options.refs) {
        GROVE_TRY(step(*manager, ref));
        fmt::print("{}\n", ref);
    }
    return {};
}

// Docker's multiplexed frames (8-byte header: stream, 0, 0, 0, big-endian length) to our
// stdout and stderr.
Result<void> copy_frames(int fd) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
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
        buffer.append(chunk, static_cast<size_t>(got));
        while (buffer.size() >= 8) {
            const auto byte = [&](size_t i) {
                return static_cast<uint32_t>(uint8_t(buffer[i]));
            };
            const uint32_t length = byte(4) << 24 | byte(5) << 16 | byte(6) << 8 | byte(7);
            if (buffer.size() < 8 + length) {
                break;
            }
            GROVE_TRY(base::write_all(buffer[0] == 2 ? STDERR_FILENO : STDOUT_FILENO,
                                      std::string_view(buffer).substr(8, length)));
            buffer.erase(0, 8 + length);
        }
    }
}

Result<int> exec(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* manager, context.container_manager());
    const auto command = with_trailing(context, options.command);
    if (command.empty()) {
        return base::make_error(Code::kInvalidArgument, "give the command after '--'");
    }
    GROVE_ASSIGN_OR_RETURN(const std::string id,
                           manager->exec_create(options.refs.front(), {.cmd = command,
                                                                       .env = options.env,
                                                                       .workdir = options.workdir,
                                                                       .user = options.user}));
    GROVE_ASSIGN_OR_RETURN(const auto stream, manager->exec_start(id));
    GROVE_TRY(copy_frames(stream.get()));
    GROVE_ASSIGN_OR_RETURN(const auto info, manager->exec_inspect(id));
    return info.exit_code.value_or(1);
}

Result<void> logs(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* manager, context.container_manager());
    containers::LogOptions log{.follow = options.follow};
    if (options.tail > 0) {
        log.tail = options.tail;
    }
    return manager->logs(options.refs.front(), log, [](const containers::LogRecord& record) {
        return base::write_all(
                   record.stream == containers::LogStream::kStderr ? STDERR_FILENO : STDOUT_FILENO,
                   record.bytes)
            .has_value();
    });
}

Result<void> list(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* manager, context.container_manager());
    GROVE_ASSIGN_OR_RETURN(const auto listed, manager->list({.all = options.all}));
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& c : listed) {
            out.push_back({{"id", c.id},
                           {"name", c.name},
                           {"image", c.image_ref},
                           {"image_uuid", c.image_uuid},
                           {"status", containers::status_name(c.state.status)},
                           {"exit_code", c.state.exit_code},
                           {"command", c.config.argv}});
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    constexpr std::string_view kRow = "{:<12}  {:<20}  {:<20}  {:<10}  {}\n";
    fmt::print(fmt::runtime(kRow), "CONTAINER", "NAME", "IMAGE", "STATUS", "COMMAND");
    for (const auto& c : listed) {
        const std::string status = c.state.status == containers::Status::kExited
                                       ? fmt::format("exited {}", c.state.exit_code)
                                       : std::string(containers::status_name(c.state.status));
        fmt::print(fmt::runtime(kRow), c.id.substr(0, 12), c.name, c.image_ref, status,
                   fmt::join(c.config.argv, " "));
    }
    return {};
}

}  // namespace

void add_container(CLI::App& app, CommandEnv env) {
    auto o = std::make_shared<Options>();
    CLI::App* group = app.add_subcommand(
        "container", "Long-lived containers on the local store (each under its grove-shim)");
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
        done(each(env.context, *o,
                  [](containers::Manager& m, const std::string& ref) -> Result<void> {
                      GROVE_TRY(m.start(ref));
                      return {};
                  }));
    });

    CLI::App* stop_cmd = group->add_subcommand("stop", "Stop containers (signal, then SIGKILL)");
    stop_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    stop_cmd->add_option("-t,--timeout", o->timeout_seconds,
                         "Seconds before SIGKILL (default: the container's, 10)");
    stop_cmd->callback([=] {
        done(each(env.context, *o,
                  [o](containers::Manager& m, const std::string& ref) -> Result<void> {
                      std::optional<std::chrono::seconds> timeout;
                      if (o->timeout_seconds >= 0) {
                          timeout = std::chrono::seconds(o->timeout_seconds);
                      }
                      GROVE_TRY(m.stop(ref, timeout));
                      return {};
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

    CLI::App* rm_cmd = group->add_subcommand("rm", "Remove containers");
    rm_cmd->add_option("container", o->refs, "Ids, id prefixes or names")->required();
    rm_cmd->add_flag("-f,--force", o->force, "Kill a running one first");
    rm_cmd->callback([=] {
        done(each(env.context, *o, [o](containers::Manager& m, const std::string& ref) {
            return m.remove(ref, o->force);
        }));
    });
}

}  // namespace grove::cli
