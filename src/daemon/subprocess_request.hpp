#pragma once

// The bodies of ConTree's subprocess requests (docs/api.md, "Subprocesses"), parsed with the
// spawn request's conventions: absent and null fields take the defaults below, unknown fields
// are ignored.
//   POST /v1/operations/{id}/subprocesses        {command, args, shell, env, cwd, stdin, timeout}
//   POST .../subprocesses/{spid}/stdin            {value, encoding, close}
//   POST .../subprocesses/{spid}/kill             {signal}

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grove/result.hpp>

#include "base/json.hpp"
#include "base/signal_name.hpp"

namespace grove::daemon {

struct SubprocessRequest {
    std::string command;  // an executable, or a shell expression when `shell`
    std::vector<std::string> args;
    bool shell = false;
    std::vector<std::pair<std::string, std::string>> env;  // over the instance's environment
    std::string cwd;                                       // empty: the instance's
    std::string stdin_data;                                // written first
    // ClosableStreamRepr's `close`: stdin is closed after stdin_data. Absent (or no `stdin` at
    // all): it stays open for POST .../stdin.
    bool close_stdin = false;
    std::optional<uint32_t> timeout_seconds;  // then SIGKILL, and `timed_out` in its exit
};

struct StdinRequest {
    std::string data;
    bool close = false;
};

Result<SubprocessRequest> parse_subprocess_request(const base::Json& body);
Result<StdinRequest> parse_stdin_request(const base::Json& body);
// `{"signal": ...}`: a name with or without SIG, in any case ("TERM", "SIGKILL", "hup"), or a
// number (15, "15"). Absent: SIGTERM.
Result<int> parse_kill_request(const base::Json& body);
using base::signal_number;

// The subprocess as its spawn event and the operation's records show it: env values of
// secret-looking keys masked.
base::Json subprocess_env_json(const SubprocessRequest& request);

}  // namespace grove::daemon
