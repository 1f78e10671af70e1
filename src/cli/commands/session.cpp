// grove session new NAME IMAGE | ls | branch NAME | checkout NAME | rollback [N] | log | rm NAME
//               | run [-s STRING] [-e K=V]... [-t SECONDS] [--disposable] [--json] [-- cmd args]
// Git-style sessions through the client library, on the local store or, with --host, a groved.
// `new` makes the session active (active_session.hpp); the other verbs act on the active one.
// `run` runs on the head and advances it (not when --disposable), streams the command's output
// live and exits with its exit code. The verbs are a few lines each, so they share this file.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"
#include "cli/active_session.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string name;
    std::string image;
    int64_t steps = 1;
    size_t limit = 20;
    std::vector<std::string> command;
    std::string shell;
    std::vector<std::string> env;
    double timeout_seconds = 0;
    bool disposable = false;
    bool json = false;
};

Result<Session> active(Context& context) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const std::string name, active_session(context.options()));
    return client->sessions().get(name);
}

void print_session(const SessionInfo& session) {
    fmt::print("session {} on branch {}: head {} (image {})\n", session.name, session.branch,
               session.head, session.image);
}

Result<void> create(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto session,
                           client->sessions().create(options.name, options.image));
    GROVE_TRY(set_active_session(context.options(), options.name));
    GROVE_ASSIGN_OR_RETURN(const auto info, session.info());
    print_session(info);
    return {};
}

Result<void> list(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto sessions, client->sessions().list());
    const std::string current = active_session(context.options()).value_or("");
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& s : sessions) {
            out.push_back({{"name", s.name},
                           {"branch", s.branch},
                           {"head", s.head},
                           {"image", s.image},
                           {"active", s.name == current},
                           {"branches", s.branches.size()}});
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    constexpr std::string_view kRow = "{:1} {:<24}  {:<16}  {:>6}  {}\n";
    fmt::print(fmt::runtime(kRow), "", "SESSION", "BRANCH", "HEAD", "IMAGE");
    for (const auto& s : sessions) {
        fmt::print(fmt::runtime(kRow), s.name == current ? "*" : "", s.name, s.branch, s.head,
                   s.image);
    }
    return {};
}

Result<void> move(Context& context,
                  const std::function<Result<SessionInfo>(const Session&)>& step) {
    GROVE_ASSIGN_OR_RETURN(const auto session, active(context));
    GROVE_ASSIGN_OR_RETURN(const auto info, step(session));
    print_session(info);
    return {};
}

Result<void> log(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(const auto session, active(context));
    GROVE_ASSIGN_OR_RETURN(const auto runs, session.history(options.limit));
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& run : runs) {
            out.push_back({{"id", run.id},
                           {"parent", run.parent ? base::Json(*run.parent) : base::Json()},
                           {"image", run.image},
                           {"command", run.command},
                           {"exit_code", run.exit_code},
                           {"timed_out", run.timed_out},
                           {"elapsed_seconds", std::chrono::duration<double>(run.elapsed).count()},
                           {"stdout", run.stdout_data},
                           {"stderr", run.stderr_data}});
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    for (const auto& run : runs) {
        if (run.command.empty()) {
            fmt::print("#{:<5} image {}  (base)\n", run.id, run.image);
        } else {
            fmt::print("#{:<5} image {}  exit {}  {:.3f}s  {}\n", run.id, run.image, run.exit_code,
                       std::chrono::duration<double>(run.elapsed).count(), run.command);
        }
    }
    return {};
}

Result<void> remove(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_TRY(client->sessions().remove(options.name));
    if (active_session(context.options()).value_or("") == options.name) {
        GROVE_TRY(set_active_session(context.options(), ""));
    }
    return {};
}

Result<int> run(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(const auto session, active(context));
    RunOptions run{.command = options.command, .disposable = options.disposable};
    if (!options.shell.empty()) {
        run.shell = options.shell;
    }
    for (const auto& pair : options.env) {
        const size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            return base::make_error(Code::kInvalidArgument, "-e '{}': want KEY=VALUE", pair);
        }
        run.env[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    if (options.timeout_seconds > 0) {
        run.timeout =
            std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
    }
    if (!options.json) {
        run.stdout_to.callback = [](std::string_view chunk) {
            (void)base::write_all(STDOUT_FILENO, chunk);
        };
        run.stderr_to.callback = [](std::string_view chunk) {
            (void)base::write_all(STDERR_FILENO, chunk);
        };
    }
    GROVE_ASSIGN_OR_RETURN(const auto result, session.run(run));
    if (options.json) {
        fmt::print(
            "{}\n",
            base::Json{{"exit_code", result.exit_code},
                       {"timed_out", result.timed_out},
                       {"stdout", result.stdout_data},
                       {"stderr", result.stderr_data},
                       {"elapsed_seconds", std::chrono::duration<double>(result.elapsed).count()},
                       {"image", result.image ? base::Json(*result.image) : base::Json()}}
                .dump());
    }
    return result.timed_out ? 124 : result.exit_code;
}

}  // namespace

void add_session(CLI::App& app, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* session = app.add_subcommand("session", "Sessions: runs that build on each other");
    session->require_subcommand(1);
    const auto done = [env](const Result<void>& result) {
        env.exit_code = exit_code_of(result);
    };

    CLI::App* create_cmd = session->add_subcommand("new", "Start a session and make it active");
    create_cmd->add_option("name", options->name, "The session's name")->required();
    create_cmd->add_option("image", options->image, "UUID, UUID prefix or tag")->required();
    create_cmd->callback([=] { done(create(env.context, *options)); });

    CLI::App* ls_cmd = session->add_subcommand("ls", "List sessions (* marks the active one)");
    ls_cmd->add_flag("--json", options->json, "Print JSON");
    ls_cmd->callback([=] { done(list(env.context, *options)); });

    CLI::App* branch_cmd = session->add_subcommand("branch", "Branch at the head, checked out");
    branch_cmd->add_option("name", options->name, "The branch's name")->required();
    branch_cmd->callback([=] {
        done(move(env.context, [&](const Session& s) { return s.branch(options->name); }));
    });

    CLI::App* checkout_cmd = session->add_subcommand("checkout", "Switch to a branch");
    checkout_cmd->add_option("name", options->name, "The branch's name")->required();
    checkout_cmd->callback([=] {
        done(move(env.context, [&](const Session& s) { return s.checkout(options->name); }));
    });

    CLI::App* rollback_cmd = session->add_subcommand("rollback", "Move the head N runs back");
    rollback_cmd->add_option("steps", options->steps, "How many runs (1)");
    rollback_cmd->callback([=] {
        done(move(env.context, [&](const Session& s) { return s.rollback(options->steps); }));
    });

    CLI::App* log_cmd = session->add_subcommand("log", "The head's runs, newest first");
    log_cmd->add_option("-n,--limit", options->limit, "At most this many (20)");
    log_cmd->add_flag("--json", options->json, "Print JSON, with each run's output");
    log_cmd->callback([=] { done(log(env.context, *options)); });

    CLI::App* rm_cmd = session->add_subcommand("rm", "Remove a session (its images are freed)");
    rm_cmd->add_option("name", options->name, "The session's name")->required();
    rm_cmd->callback([=] { done(remove(env.context, *options)); });

    CLI::App* run_cmd = session->add_subcommand("run", "Run on the head and advance it");
    run_cmd->add_option("command", options->command, "The command and its arguments (after --)");
    run_cmd->add_option("-s,--shell", options->shell, "Run this string with /bin/sh -c");
    run_cmd->add_option("-e,--env", options->env, "KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
    run_cmd->add_option("-t,--timeout", options->timeout_seconds,
                        "Kill the run after this many seconds");
    run_cmd->add_flag("--disposable", options->disposable, "Keep nothing, leave the head");
    run_cmd->add_flag("--json", options->json, "Print one JSON object instead of streaming");
    run_cmd->callback([=] {
        auto code = run(env.context, *options);
        env.exit_code = code ? *code : exit_code_of(code.error());
    });
}

}  // namespace grove::cli
