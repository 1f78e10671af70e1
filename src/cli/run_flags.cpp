#include "cli/run_flags.hpp"

#include <charconv>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::cli {
namespace {

// "LOCAL:/PATH[:MODE]": the local file's bytes at /PATH in the sandbox, with MODE (octal) or the
// local file's permissions.
Result<FileUpload> parse_file(const std::string& spec) {
    const size_t split = spec.find(":/");
    if (split == std::string::npos || split == 0) {
        return base::make_error(Code::kInvalidArgument, "-f '{}': want LOCAL:/PATH[:MODE]", spec);
    }
    std::string path = spec.substr(split + 1);
    std::optional<uint32_t> mode;
    if (const size_t colon = path.rfind(':'); colon != std::string::npos) {
        const std::string digits = path.substr(colon + 1);
        uint32_t value = 0;
        const auto [end, err] =
            std::from_chars(digits.data(), digits.data() + digits.size(), value, 8);
        if (err != std::errc() || end != digits.data() + digits.size() || value > 07777) {
            return base::make_error(Code::kInvalidArgument, "-f '{}': bad mode '{}'", spec, digits);
        }
        mode = value;
        path.resize(colon);
    }
    GROVE_ASSIGN_OR_RETURN(auto file, FileUpload::from_local(spec.substr(0, split), path));
    file.mode = mode.value_or(file.mode);
    return file;
}

Result<uint32_t> parse_id(std::string_view text, std::string_view user) {
    uint32_t id = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (err != std::errc() || end != text.data() + text.size()) {
        return base::make_error(Code::kInvalidArgument, "invalid user '{}': want UID[:GID]", user);
    }
    return id;
}

}  // namespace

void add_run_flags(CLI::App& cmd, RunFlags& flags) {
    cmd.add_option("command", flags.command, "The command and its arguments (after --)");
    cmd.add_option("-s,--shell", flags.shell, "Run this string with /bin/sh -c");
    cmd.add_option("-e,--env", flags.env, "KEY=VALUE (repeatable)")->allow_extra_args(false);
    cmd.add_option("-f,--file", flags.files, "LOCAL:/PATH[:MODE]: put a file in the sandbox")
        ->allow_extra_args(false);
    cmd.add_option("-w,--workdir", flags.cwd, "Working directory");
    cmd.add_option("-u,--user", flags.user, "UID[:GID]");
    cmd.add_option("--hostname", flags.hostname, "Host name inside the sandbox");
    cmd.add_option("-t,--timeout", flags.timeout_seconds, "Kill the run after this many seconds");
    cmd.add_option("--memory", flags.memory, "Memory limit, e.g. 256m");
    cmd.add_option("--pids", flags.pids, "Process limit");
    cmd.add_option("--cpus", flags.cpus, "CPU limit, e.g. 0.5");
    cmd.add_option(
        "--max-layer-size", flags.max_layer_size,
        "Cap on the bytes the run may change, e.g. 1g: a bigger run is stopped, nothing kept");
    cmd.add_option("--network", flags.network, "none (default: loopback only) or host")
        ->check(CLI::IsMember({"none", "host"}));
    cmd.add_option("--runtime", flags.runtime,
                   "Run with this OCI runtime instead of grove's own: crun, runc or runsc")
        ->check(CLI::IsMember({"crun", "runc", "runsc"}));
    cmd.add_flag("--disposable", flags.disposable,
                 "Keep no image (a session's head stays where it is)");
    cmd.add_option("--tag", flags.tag, "Tag the resulting image");
    cmd.add_flag("-i,--interactive", flags.interactive, "Pass stdin to the command");
    cmd.add_flag("--json", flags.json, "Print one JSON object with every output field");
}

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

Result<RunOptions> client_run_options(const RunFlags& flags) {
    RunOptions run{.command = flags.command,
                   .cwd = flags.cwd,
                   .hostname = flags.hostname,
                   .disposable = flags.disposable,
                   .network = flags.network,
                   .runtime = flags.runtime};
    if (!flags.shell.empty()) {
        run.shell = flags.shell;
    }
    if (run.command.empty() && !run.shell) {
        return base::make_error(Code::kInvalidArgument,
                                "give a command after '--' or a shell string with -s");
    }
    for (const auto& pair : flags.env) {
        const size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            return base::make_error(Code::kInvalidArgument, "-e '{}': want KEY=VALUE", pair);
        }
        run.env[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    if (!flags.user.empty()) {
        const size_t colon = flags.user.find(':');
        GROVE_ASSIGN_OR_RETURN(run.uid, parse_id(flags.user.substr(0, colon), flags.user));
        if (colon != std::string::npos) {
            GROVE_ASSIGN_OR_RETURN(run.gid, parse_id(flags.user.substr(colon + 1), flags.user));
        }
    }
    if (flags.timeout_seconds > 0) {
        run.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
    }
    if (!flags.memory.empty()) {
        GROVE_ASSIGN_OR_RETURN(run.limits.memory_bytes, parse_size(flags.memory));
    }
    if (flags.pids > 0) {
        run.limits.pids = flags.pids;
    }
    if (flags.cpus > 0) {
        run.limits.cpus = flags.cpus;
    }
    if (!flags.max_layer_size.empty()) {
        GROVE_ASSIGN_OR_RETURN(run.limits.max_layer_bytes, parse_size(flags.max_layer_size));
    }
    if (!flags.tag.empty()) {
        run.tag = flags.tag;
    }
    for (const auto& spec : flags.files) {
        GROVE_ASSIGN_OR_RETURN(auto file, parse_file(spec));
        run.files.push_back(std::move(file));
    }
    if (flags.interactive) {
        GROVE_ASSIGN_OR_RETURN(run.stdin_data, base::read_all(STDIN_FILENO));
    }
    return run;
}

}  // namespace grove::cli
