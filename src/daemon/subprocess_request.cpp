#include "daemon/subprocess_request.hpp"

#include <algorithm>
#include <csignal>

#include "base/error.hpp"
#include "daemon/instance_request.hpp"
#include "daemon/stream_repr.hpp"

namespace grove::daemon {
namespace {

template <typename T>
Result<std::optional<T>> optional(const base::Json& body, std::string_view key) {
    return base::json_optional_field<T>(body, key);
}

Result<void> require_object(const base::Json& body) {
    if (!body.is_object()) {
        return base::make_error(Code::kInvalidArgument, "the request body must be a JSON object");
    }
    return {};
}

}  // namespace

Result<SubprocessRequest> parse_subprocess_request(const base::Json& body) {
    GROVE_TRY(require_object(body));
    SubprocessRequest r;
    GROVE_ASSIGN_OR_RETURN(r.command, base::json_field<std::string>(body, "command"));
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
    if (const auto in = body.find("stdin"); in != body.end() && !in->is_null()) {
        GROVE_ASSIGN_OR_RETURN(r.stdin_data, base::with_context(decode_stream_repr(*in), "stdin"));
        if (in->is_object()) {
            GROVE_ASSIGN_OR_RETURN(const auto close, optional<bool>(*in, "close"));
            r.close_stdin = close.value_or(false);
        }
    }
    GROVE_ASSIGN_OR_RETURN(const auto timeout, optional<double>(body, "timeout"));
    if (timeout) {
        if (*timeout <= 0 || *timeout > 365.0 * 86400) {
            return base::make_error(Code::kInvalidArgument, "timeout must be positive seconds");
        }
        r.timeout_seconds = static_cast<uint32_t>(std::max(1.0, *timeout));
    }
    return r;
}

Result<StdinRequest> parse_stdin_request(const base::Json& body) {
    GROVE_TRY(require_object(body));
    StdinRequest r;
    GROVE_ASSIGN_OR_RETURN(r.data, decode_stream_repr(body));
    GROVE_ASSIGN_OR_RETURN(const auto close, optional<bool>(body, "close"));
    r.close = close.value_or(false);
    return r;
}

Result<int> parse_kill_request(const base::Json& body) {
    GROVE_TRY(require_object(body));
    const auto signal = body.find("signal");
    if (signal == body.end() || signal->is_null()) {
        return SIGTERM;
    }
    std::optional<int> number;
    if (signal->is_number_integer()) {
        const auto n = signal->get<int64_t>();
        number = signal_number(std::to_string(n));
    } else if (signal->is_string()) {
        number = signal_number(signal->get<std::string>());
    }
    if (!number) {
        return base::make_error(Code::kInvalidArgument,
                                "signal must be a signal's name (TERM, SIGKILL) or number, not {}",
                                signal->dump());
    }
    return *number;
}

base::Json subprocess_env_json(const SubprocessRequest& request) {
    base::Json env = base::Json::object();
    for (const auto& [key, value] : request.env) {
        env[key] = is_secret_key(key) ? "<MASKED>" : value;
    }
    return env;
}

}  // namespace grove::daemon
