// grove run [--disposable] [--tag T] [-e K=V]... [-w DIR] [-u UID[:GID]] [--hostname H]
//           [-t SECONDS] [--memory 256m] [--pids N] [--cpus X] [--max-layer-size 1g]
//           [--network none|host] [--runtime crun|runc|runsc] [-f LOCAL:/PATH[:MODE]]... [-i]
//           [--json] <image> [-s '<shell string>' | -- cmd args...]
// Streams the command's output live and exits with its exit code (128 + signal when killed,
// 124 on timeout, 130 when cancelled by SIGINT/SIGTERM). Each run snapshots its filesystem as a new
// image unless --disposable; the resulting image's UUID is printed on stderr (or in --json's
// result_image).

#include <charconv>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string image;
    std::vector<std::string> command;
    std::string shell;
    std::vector<std::string> env;
    std::vector<std::string> files;
    std::string cwd;
    std::string user;
    std::string hostname = "sandbox";
    double timeout_seconds = 0;
    std::string memory;
    uint64_t pids = 0;
    double cpus = 0;
    std::string max_layer_size;
    std::string network = "none";
    std::string runtime;
    bool disposable = false;
    std::string tag;
    bool interactive = false;
    bool json = false;
};

// "256m", "1g", "512k", "1048576"
Result<uint64_t> parse_size(std::string_view text) {
    uint64_t value = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
    const uint64_t scale = unit.empty() || unit == "b"   ? 1
                           : unit == "k" || unit == "kb" ? 1ull << 10
                           : unit == "m" || unit == "mb" ? 1ull << 20
                           : unit == "g" || unit == "gb" ? 1ull << 30
                                                         : 0;
    if (err != std::errc() || scale == 0 || value == 0) {
        return base::make_error(Code::kInvalidArgument, "invalid size '{}': use e.g. 256m or 1g",
                                text);
    }
    return value * scale;
}

// "LOCAL:/PATH[:MODE]": the local file's bytes at /PATH in the sandbox, with MODE (octal) or the
// local file's permissions.
Result<engine::InjectedFile> parse_file(const std::string& spec) {
    const size_t split = spec.find(":/");
    if (split == std::string::npos || split == 0) {
        return base::make_error(Code::kInvalidArgument, "-f '{}': want LOCAL:/PATH[:MODE]", spec);
    }
    const std::string local = spec.substr(0, split);
    std::string path = spec.substr(split + 1);
    std::optional<mode_t> mode;
    if (const size_t colon = path.rfind(':'); colon != std::string::npos) {
        const std::string digits = path.substr(colon + 1);
        mode_t value = 0;
        const auto [end, err] =
            std::from_chars(digits.data(), digits.data() + digits.size(), value, 8);
        if (err != std::errc() || end != digits.data() + digits.size() || value > 07777) {
            return base::make_error(Code::kInvalidArgument, "-f '{}': bad mode '{}'", spec, digits);
        }
        mode = value;
        path.resize(colon);
    }
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(local, O_RDONLY));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", local);
    }
    GROVE_ASSIGN_OR_RETURN(std::string content, base::read_all(fd.get()));
    return engine::InjectedFile{
        .path = path, .content = std::move(content), .mode = mode.value_or(st.st_mode & 07777)};
}

Result<engine::RunRequest> make_request(const Options& options) {
    engine::RunRequest request{.image = options.image,
                               .argv = options.command,
                               .env = options.env,
                               .cwd = options.cwd,
                               .hostname = options.hostname,
                               .disposable = options.disposable};
    if (!options.shell.empty()) {
        request.shell = options.shell;
    }
    if (request.argv.empty() && !request.shell) {
        return base::make_error(Code::kInvalidArgument,
                                "give a command after '--' or a shell string with -s");
    }
    if (!options.user.empty()) {
        const size_t colon = options.user.find(':');
        uint32_t uid = 0;
        uint32_t gid = 0;
        const std::string uid_text = options.user.substr(0, colon);
        if (std::from_chars(uid_text.data(), uid_text.data() + uid_text.size(), uid).ec !=
            std::errc()) {
            return base::make_error(Code::kInvalidArgument, "invalid user '{}': want UID[:GID]",
                                    options.user);
        }
        request.uid = uid;
        if (colon != std::string::npos) {
            const std::string gid_text = options.user.substr(colon + 1);
            if (std::from_chars(gid_text.data(), gid_text.data() + gid_text.size(), gid).ec !=
                std::errc()) {
                return base::make_error(Code::kInvalidArgument, "invalid group in '{}'",
                                        options.user);
            }
            request.gid = gid;
        }
    }
    if (options.timeout_seconds > 0) {
        request.timeout =
            std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
    }
    if (!options.memory.empty()) {
        GROVE_ASSIGN_OR_RETURN(request.limits.memory_bytes, parse_size(options.memory));
    }
    if (options.pids > 0) {
        request.limits.pids = options.pids;
    }
    if (options.cpus > 0) {
        request.limits.cpus = options.cpus;
    }
    if (!options.max_layer_size.empty()) {
        GROVE_ASSIGN_OR_RETURN(request.max_layer_bytes, parse_size(options.max_layer_size));
    }
    request.runtime = options.runtime;
    request.network = options.network == "host" ? engine::Network::kHost : engine::Network::kNone;
    if (!options.tag.empty()) {
        request.tag = options.tag;
    }
    for (const auto& spec : options.files) {
        GROVE_ASSIGN_OR_RETURN(auto file, parse_file(spec));
        request.files.push_back(std::move(file));
    }
    if (options.interactive) {
        GROVE_ASSIGN_OR_RETURN(request.stdin_data, base::read_all(STDIN_FILENO));
    }
    return request;
}

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

Result<int> run(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(engine::RunRequest request, make_request(options));
    GROVE_ASSIGN_OR_RETURN(request.cancel, engine::CancelSignal::create());
    g_cancel = request.cancel.get();
    struct sigaction on_cancel {};
    on_cancel.sa_handler = cancel_run;
    ::sigaction(SIGINT, &on_cancel, nullptr);
    ::sigaction(SIGTERM, &on_cancel, nullptr);
    if (!options.json) {
        request.on_output = [](engine::Stream stream, std::string_view chunk) {
            (void)base::write_all(stream == engine::Stream::kStdout ? STDOUT_FILENO : STDERR_FILENO,
                                  chunk);
        };
    }
    GROVE_ASSIGN_OR_RETURN(auto* runner, context.runner());
    GROVE_ASSIGN_OR_RETURN(const auto result, runner->run(request));
    if (options.json) {
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

}  // namespace

void add_run(CLI::App& app, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("run", "Run a command in a sandbox made from an image");
    cmd->add_option("image", options->image, "UUID, UUID prefix or tag")->required();
    cmd->add_option("command", options->command, "The command and its arguments (after --)");
    cmd->add_option("-s,--shell", options->shell, "Run this string with /bin/sh -c");
    cmd->add_option("-e,--env", options->env, "KEY=VALUE (repeatable)")->allow_extra_args(false);
    cmd->add_option("-f,--file", options->files, "LOCAL:/PATH[:MODE]: put a file in the sandbox")
        ->allow_extra_args(false);
    cmd->add_option("-w,--workdir", options->cwd, "Working directory");
    cmd->add_option("-u,--user", options->user, "UID[:GID]");
    cmd->add_option("--hostname", options->hostname, "Host name inside the sandbox");
    cmd->add_option("-t,--timeout", options->timeout_seconds,
                    "Kill the run after this many seconds");
    cmd->add_option("--memory", options->memory, "Memory limit, e.g. 256m");
    cmd->add_option("--pids", options->pids, "Process limit");
    cmd->add_option("--cpus", options->cpus, "CPU limit, e.g. 0.5");
    cmd->add_option(
        "--max-layer-size", options->max_layer_size,
        "Cap on the bytes the run may change, e.g. 1g: a bigger run is stopped, nothing kept");
    cmd->add_option("--network", options->network, "none (default: loopback only) or host")
        ->check(CLI::IsMember({"none", "host"}));
    cmd->add_option("--runtime", options->runtime,
                    "Run with this OCI runtime instead of grove's own: crun, runc or runsc")
        ->check(CLI::IsMember({"crun", "runc", "runsc"}));
    cmd->add_flag("--disposable", options->disposable, "Do not keep the filesystem as an image");
    cmd->add_option("--tag", options->tag, "Tag the resulting image");
    cmd->add_flag("-i,--interactive", options->interactive, "Pass stdin to the command");
    cmd->add_flag("--json", options->json, "Print one JSON object with every output field");
    cmd->callback([options, env] {
        auto code = run(env.context, *options);
        env.exit_code = code ? *code : exit_code_of(code.error());
    });
}

}  // namespace grove::cli
