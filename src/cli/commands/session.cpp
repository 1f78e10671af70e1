// grove session new NAME IMAGE | ls | branch NAME | checkout NAME | rollback [N] | log | rm NAME
//               | run [run's flags] [-s STRING | -- cmd args]
// Git-style sessions through the client library, on the local store or, with --host, a groved.
// `new` makes the session active (active_session.hpp); the other verbs act on the active one.
// `run` is `grove run` with no image (run.cpp). The verbs are a few lines each, so they share
// this file.

#include <cctype>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "cli/active_session.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/run_flags.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string name;
    std::string image;
    int64_t steps = 1;
    size_t limit = 20;
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

// `grove use IMAGE`: a session named after the image (its tag, else its UUID's first 8
// characters; -2, -3... when taken) unless --name is given.
Result<void> use(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    if (!options.name.empty()) {
        return create(context, options);
    }
    GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(options.image, true));
    std::string base = image.info().tag.value_or(image.uuid().substr(0, 8));
    for (char& c : base) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
            c = '-';
        }
    }
    for (int attempt = 1;; ++attempt) {
        Options named = options;
        named.name = attempt == 1 ? base : fmt::format("{}-{}", base, attempt);
        named.image = image.uuid();
        auto created = create(context, named);
        if (created || created.error().code() != Code::kAlreadyExists || attempt == 100) {
            return created;
        }
    }
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

}  // namespace

void add_use(CLI::App& app, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        "use", "Start a session on an image and make it active: `grove run` then builds on it");
    cmd->add_option("image", options->image, "UUID, UUID prefix or tag")->required();
    cmd->add_option("--name", options->name, "The session's name (default: from the image)");
    cmd->callback([options, env] { env.exit_code = exit_code_of(use(env.context, *options)); });
}

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

    auto run_flags = std::make_shared<RunFlags>();
    CLI::App* run_cmd = session->add_subcommand(
        "run", "Run on the head and advance it (as `grove run` with no image)");
    add_run_flags(*run_cmd, *run_flags);
    run_cmd->callback([=] {
        auto code = run_command(env.context, *run_flags);
        env.exit_code = code ? *code : exit_code_of(code.error());
    });
}

}  // namespace grove::cli
