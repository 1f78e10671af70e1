#include "daemon/instance_request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "base/error.hpp"
#include "daemon/stream_repr.hpp"

namespace grove::daemon {
namespace {

constexpr std::string_view kMasked = "<MASKED>";

// The optional member `key` (absent or null: nullopt), converted to T.
template <typename T>
Result<std::optional<T>> optional(const base::Json& body, std::string_view key) {
    return base::json_optional_field<T>(body, key);
}

Result<FileSpec> parse_file_spec(const std::string& path, const base::Json& spec) {
    if (path.empty() || path.front() != '/') {
        return base::make_error(Code::kInvalidArgument, "files: '{}' is not an absolute path",
                                path);
    }
    FileSpec file;
    GROVE_ASSIGN_OR_RETURN(file.uuid, base::json_field<std::string>(spec, "uuid"));
    const auto mode = spec.find("mode");
    if (mode != spec.end() && mode->is_string()) {
        GROVE_ASSIGN_OR_RETURN(file.mode, parse_mode(mode->get<std::string>()));
    } else if (mode != spec.end() && mode->is_number_unsigned()) {
        file.mode = mode->get<mode_t>() & 07777;
    } else if (mode != spec.end() && !mode->is_null()) {
        return base::make_error(Code::kInvalidArgument, "files: '{}': mode must be octal text",
                                path);
    }
    GROVE_ASSIGN_OR_RETURN(const auto uid, optional<uid_t>(spec, "uid"));
    GROVE_ASSIGN_OR_RETURN(const auto gid, optional<gid_t>(spec, "gid"));
    file.uid = uid.value_or(0);
    file.gid = gid.value_or(0);
    return file;
}

Result<InstanceLimits> parse_limits(const base::Json& limits) {
    InstanceLimits out;
    if (limits.is_null()) {
        return out;
    }
    GROVE_ASSIGN_OR_RETURN(out.max_layer_bytes, optional<uint64_t>(limits, "max_layer_bytes"));
    GROVE_ASSIGN_OR_RETURN(out.memory_bytes, optional<uint64_t>(limits, "memory_bytes"));
    GROVE_ASSIGN_OR_RETURN(out.pids, optional<uint64_t>(limits, "pids"));
    GROVE_ASSIGN_OR_RETURN(out.cpus, optional<double>(limits, "cpus"));
    return out;
}

// Single-quotes `arg` for /bin/sh unless it is made of characters the shell leaves alone.
std::string shell_quote(std::string_view arg) {
    const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
    });
    if (plain) {
        return std::string(arg);
    }
    std::string out = "'";
    for (const char c : arg) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_env(const base::Json& body) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto env = body.find("env");
    if (env == body.end() || env->is_null()) {
        return out;
    }
    if (!env->is_object()) {
        return base::make_error(Code::kInvalidArgument, "env must be an object");
    }
    for (const auto& [key, value] : env->items()) {
        GROVE_ASSIGN_OR_RETURN(auto text, base::json_as<std::string>(value, "env." + key));
        if (key.empty() || key.find('=') != std::string::npos) {
            return base::make_error(Code::kInvalidArgument, "env: bad name '{}'", key);
        }
        out.emplace_back(key, std::move(text));
    }
    return out;
}

namespace {

Result<InstanceRequest> parse(const base::Json& body) {
    InstanceRequest r;
    GROVE_ASSIGN_OR_RETURN(r.command, base::json_field<std::string>(body, "command"));
    GROVE_ASSIGN_OR_RETURN(r.image, base::json_field<std::string>(body, "image"));
    if (r.command.empty()) {
        return base::make_error(Code::kInvalidArgument, "command is empty");
    }
    GROVE_ASSIGN_OR_RETURN(auto args, optional<std::vector<std::string>>(body, "args"));
    r.args = std::move(args).value_or(std::vector<std::string>{});
    GROVE_ASSIGN_OR_RETURN(const auto shell, optional<bool>(body, "shell"));
    r.shell = shell.value_or(false);
    GROVE_ASSIGN_OR_RETURN(r.env, parse_env(body));
    GROVE_ASSIGN_OR_RETURN(auto cwd, optional<std::string>(body, "cwd"));
    r.cwd = std::move(cwd).value_or("");
    GROVE_ASSIGN_OR_RETURN(auto hostname, optional<std::string>(body, "hostname"));
    r.hostname = std::move(hostname).value_or("");
    if (const auto in = body.find("stdin"); in != body.end() && !in->is_null()) {
        GROVE_ASSIGN_OR_RETURN(r.stdin_data, base::with_context(decode_stream_repr(*in), "stdin"));
    }
    GROVE_ASSIGN_OR_RETURN(const auto timeout, optional<double>(body, "timeout"));
    if (timeout) {
        if (*timeout <= 0 || *timeout > 365.0 * 86400) {
            return base::make_error(Code::kInvalidArgument, "timeout must be positive seconds");
        }
        r.timeout_seconds = static_cast<uint32_t>(std::max(1.0, *timeout));
    }
    GROVE_ASSIGN_OR_RETURN(const auto disposable, optional<bool>(body, "disposable"));
    r.disposable = disposable.value_or(false);
    if (const auto files = body.find("files"); files != body.end() && !files->is_null()) {
        if (!files->is_object()) {
            return base::make_error(Code::kInvalidArgument, "files must be an object");
        }
        for (const auto& [path, spec] : files->items()) {
            GROVE_ASSIGN_OR_RETURN(r.files[path], parse_file_spec(path, spec));
        }
    }
    GROVE_ASSIGN_OR_RETURN(const auto truncate, optional<uint64_t>(body, "truncate_output_at"));
    r.truncate_output_at = std::min(truncate.value_or(kDefaultTruncateAt), kMaxTruncateAt);
    GROVE_ASSIGN_OR_RETURN(r.uid, optional<uint32_t>(body, "uid"));
    GROVE_ASSIGN_OR_RETURN(r.gid, optional<uint32_t>(body, "gid"));
    if (const auto limits = body.find("resources_limits"); limits != body.end()) {
        GROVE_ASSIGN_OR_RETURN(r.limits,
                               base::with_context(parse_limits(*limits), "resources_limits"));
    }
    GROVE_ASSIGN_OR_RETURN(const auto preserve, optional<bool>(body, "preserve_env"));
    r.preserve_env = preserve.value_or(false);
    GROVE_ASSIGN_OR_RETURN(r.tag, optional<std::string>(body, "tag"));
    GROVE_ASSIGN_OR_RETURN(auto network, optional<std::string>(body, "network"));
    r.network = std::move(network).value_or("none");
    if (r.network != "none" && r.network != "host") {
        return base::make_error(Code::kInvalidArgument, "network must be none or host, not '{}'",
                                r.network);
    }
    GROVE_ASSIGN_OR_RETURN(auto runtime, optional<std::string>(body, "runtime"));
    r.runtime = std::move(runtime).value_or("");
    return r;
}

template <typename T>
base::Json optional_json(const std::optional<T>& value) {
    return value ? base::Json(*value) : base::Json();
}

}  // namespace

Result<InstanceRequest> parse_instance_request(const base::Json& body) {
    if (!body.is_object()) {
        return base::make_error(Code::kInvalidArgument, "the request body must be a JSON object");
    }
    return parse(body);
}

base::Json instance_request_json(const InstanceRequest& r) {
    base::Json env = base::Json::object();
    for (const auto& [key, value] : r.env) {
        env[key] = is_secret_key(key) ? std::string(kMasked) : value;
    }
    base::Json files = base::Json::object();
    for (const auto& [path, file] : r.files) {
        files[path] = {{"uuid", file.uuid},
                       {"mode", fmt::format("{:04o}", file.mode)},
                       {"uid", file.uid},
                       {"gid", file.gid}};
    }
    base::Json limits = base::Json::object();
    if (r.limits.max_layer_bytes) {
        limits["max_layer_bytes"] = *r.limits.max_layer_bytes;
    }
    if (r.limits.memory_bytes) {
        limits["memory_bytes"] = *r.limits.memory_bytes;
    }
    if (r.limits.pids) {
        limits["pids"] = *r.limits.pids;
    }
    if (r.limits.cpus) {
        limits["cpus"] = *r.limits.cpus;
    }
    base::Json in = stream_repr(r.stdin_data);
    in["close"] = true;
    return {{"command", r.command},
            {"image", r.image},
            {"args", r.args},
            {"shell", r.shell},
            {"env", std::move(env)},
            {"cwd", r.cwd},
            {"hostname", r.hostname},
            {"stdin", std::move(in)},
            {"timeout", optional_json(r.timeout_seconds)},
            {"disposable", r.disposable},
            {"files", std::move(files)},
            {"truncate_output_at", r.truncate_output_at},
            {"uid", optional_json(r.uid)},
            {"gid", optional_json(r.gid)},
            {"resources_limits", std::move(limits)},
            {"preserve_env", r.preserve_env},
            {"tag", optional_json(r.tag)},
            {"network", r.network},
            {"runtime", r.runtime}};
}

std::vector<std::string> instance_argv(const InstanceRequest& request) {
    return command_argv(request.command, request.args, request.shell);
}

std::vector<std::string> command_argv(const std::string& command,
                                      const std::vector<std::string>& args,
                                      bool shell) {
    if (!shell) {
        std::vector<std::string> argv{command};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    std::string script = command;
    for (const auto& arg : args) {
        script += ' ';
        script += shell_quote(arg);
    }
    return {"/bin/sh", "-c", std::move(script)};
}

bool is_secret_key(std::string_view key) {
    std::string lower(key);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const std::string_view suffix :
         {"token", "secret", "password", "api_key", "credentials", "authorization"}) {
        if (lower.ends_with(suffix)) {
            return true;
        }
    }
    return false;
}

Result<mode_t> parse_mode(std::string_view text) {
    std::string_view digits = text;
    if (digits.starts_with("0o") || digits.starts_with("0O")) {
        digits.remove_prefix(2);
    }
    mode_t mode = 0;
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), mode, 8);
    if (digits.empty() || err != std::errc() || end != digits.data() + digits.size() ||
        mode > 07777) {
        return base::make_error(Code::kInvalidArgument, "bad file mode '{}': want octal, e.g. 0644",
                                text);
    }
    return mode;
}

}  // namespace grove::daemon
