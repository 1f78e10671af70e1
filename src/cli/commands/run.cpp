// grove run [--disposable] [--tag T] [-e K=V]... [-w DIR] [-u UID[:GID]] [--hostname H]
//           [-t SECONDS] [--memory 256m] [--pids N] [--cpus X] [--max-layer-size 1g]
//           [--network none|host] [--runtime crun|runc|runsc] [-f LOCAL:/PATH[:MODE]]... [-i]
//           [--json] [IMAGE | -I IMAGE] [-s '<shell string>' | -- cmd args...]
// Streams the command's output live and exits with its exit code (128 + signal when killed,
// 124 on timeout, 130 when cancelled by SIGINT/SIGTERM). Each run snapshots its filesystem as a new
// image unless --disposable; the resulting image's UUID is printed on stderr (or in --json's
// result_image). With no image (an image is a word before `--`, or -I), the run starts from the
// active session's head and advances it, git-style.
//
// On the local store with an image, the run drives the engine directly: that is where cancelling
// on SIGINT and the run's rusage in --json exist. Every other run goes through the client
// library, the same against groved (--network and --runtime included).

#include <csignal>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cli/active_session.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/run_flags.hpp"
#include "client/engine_request.hpp"

namespace grove::cli {
namespace {

base::Json result_json(const engine::RunResult& r) {
    return {{"exit_code", r.exit_code},
            {"signal", r.signal},
            {"timed_out", r.timed_out},
            {"oom_killed", r.oom_killed},
            {"stdout", r.stdout_data},
            {"stderr", r.stderr_data},
            {"stdout_truncated", r.stdout_truncated},
            {"stderr_truncated", r.stderr_truncated},
            {"elapsed_seconds", std::chrono::duration<double>(r.elapsed).count()},
            {"user_cpu_seconds", static_cast<double>(r.usage.ru_utime.tv_sec) +
                                     static_cast<double>(r.usage.ru_utime.tv_usec) / 1e6},
            {"system_cpu_seconds", static_cast<double>(r.usage.ru_stime.tv_sec) +
                                       static_cast<double>(r.usage.ru_stime.tv_usec) / 1e6},
            {"max_rss_kib", r.usage.ru_maxrss},
            {"minor_page_faults", r.usage.ru_minflt},
            {"major_page_faults", r.usage.ru_majflt},
            {"block_input_ops", r.usage.ru_inblock},
            {"block_output_ops", r.usage.ru_oublock},
            {"cancelled", r.cancelled},
            {"layer_too_large", r.layer_too_large},
            {"memory_peak_bytes", r.memory_peak_bytes},
            {"result_image", r.result_image ? base::Json(r.result_image->uuid) : base::Json()},
            {"changed", r.changed}};
}

// SIGINT/SIGTERM cancel the run (killed, nothing committed) instead of killing grove, which
// would leave the run's directories to the next store open.
const engine::CancelSignal* g_cancel = nullptr;

void cancel_run(int) {
    g_cancel->cancel();
}

Result<int> run_on_engine(Context& context, const RunFlags& flags, const RunOptions& run) {
    engine::RunRequest request = client::engine_request(flags.image, run);
    GROVE_ASSIGN_OR_RETURN(request.cancel, engine::CancelSignal::create());
    g_cancel = request.cancel.get();
    struct sigaction on_cancel {};
    on_cancel.sa_handler = cancel_run;
    ::sigaction(SIGINT, &on_cancel, nullptr);
    ::sigaction(SIGTERM, &on_cancel, nullptr);
    if (!flags.json) {
        request.on_output = [](engine::Stream stream, std::string_view chunk) {
            (void)base::write_all(stream == engine::Stream::kStdout ? STDOUT_FILENO : STDERR_FILENO,
                                  chunk);
        };
    }
    GROVE_ASSIGN_OR_RETURN(auto* runner, context.runner());
    GROVE_ASSIGN_OR_RETURN(const auto result, runner->run(request));
    if (flags.json) {
        fmt::print("{}\n", result_json(result).dump());
    } else if (result.result_image) {
        fmt::print(stderr, "grove: {} {}\n", result.changed ? "new image" : "unchanged, image",
                   result.result_image->uuid);
    }
    if (result.timed_out) {
        return 124;  // timeout(1)'s convention
    }
    if (result.cancelled) {
        return 130;  // the shell's code for an interrupted command
    }
    if (result.layer_too_large) {
        fmt::print(stderr, "grove: the run's changes outgrew --max-layer-size; nothing was kept\n");
    }
    return result.exit_code;
}

Result<int> run_on_client(Context& context, const RunFlags& flags, RunOptions run) {
    if (!flags.json) {
        run.stdout_to.callback = [](std::string_view chunk) {
            (void)base::write_all(STDOUT_FILENO, chunk);
        };
        run.stderr_to.callback = [](std::string_view chunk) {
            (void)base::write_all(STDERR_FILENO, chunk);
        };
    }
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    std::optional<Result<RunResult>> ran;
    if (flags.image.empty()) {
        GROVE_ASSIGN_OR_RETURN(const std::string name, active_session(context.options()));
        GROVE_ASSIGN_OR_RETURN(const auto session, client->sessions().get(name));
        ran = session.run(run);
    } else {
        GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(flags.image));
        ran = image.run(run);
    }
    GROVE_ASSIGN_OR_RETURN(const auto result, std::move(*ran));
    if (flags.json) {
        fmt::print(
            "{}\n",
            base::Json{{"exit_code", result.exit_code},
                       {"timed_out", result.timed_out},
                       {"stdout", result.stdout_data},
                       {"stderr", result.stderr_data},
                       {"elapsed_seconds", std::chrono::duration<double>(result.elapsed).count()},
                       {"result_image", result.image ? base::Json(*result.image) : base::Json()}}
                .dump());
    } else if (result.image) {
        fmt::print(stderr, "grove: image {}\n", *result.image);
    }
    return result.timed_out ? 124 : result.exit_code;
}

}  // namespace

Result<int> run_command(Context& context, RunFlags flags) {
    const auto& after = context.options().after_dashes;
    flags.command.insert(flags.command.end(), after.begin(), after.end());
    GROVE_ASSIGN_OR_RETURN(auto run, client_run_options(flags));
    if (!flags.image.empty() && !context.remote()) {
        return run_on_engine(context, flags, run);
    }
    return run_on_client(context, flags, std::move(run));
}

void add_run(CLI::App& app, CommandEnv env) {
    auto flags = std::make_shared<RunFlags>();
    auto image_option = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "run", "Run a command in a sandbox made from an image, or on the active session's head");
    cmd->add_option("image", flags->image,
                    "UUID, UUID prefix or tag (before --); none: the active session");
    add_run_flags(*cmd, *flags);
    cmd->add_option("-I,--image", *image_option, "The image (instead of the first word)");
    cmd->callback([flags, image_option, env] {
        RunFlags run = *flags;
        if (!image_option->empty()) {
            if (!run.image.empty()) {
                run.command.insert(run.command.begin(), run.image);
            }
            run.image = *image_option;
        }
        auto code = run_command(env.context, std::move(run));
        env.exit_code = code ? *code : exit_code_of(code.error());
    });
}

}  // namespace grove::cli
