#pragma once

// InstanceRequest: what a client asks of a run (ConTree's InstanceSpawnRequest, POST
// /v1/instances), parsed from its JSON body and echoed back, secrets masked, as the operation's
// `metadata`. The request JSON follows the ConTree conventions: absent and null fields take the
// defaults below, unknown fields are ignored, `cwd: ""` means the default.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include <grove/result.hpp>

#include "base/json.hpp"

namespace grove::daemon {

// A file an upload provides at a path of the sandbox (`files: {"/abs/path": {...}}`).
struct FileSpec {
    std::string uuid;  // an uploaded file's uuid
    mode_t mode = 0644;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct InstanceLimits {
    std::optional<uint64_t> max_layer_bytes;
    std::optional<uint64_t> memory_bytes;
    std::optional<uint64_t> pids;
    std::optional<double> cpus;
};

inline constexpr uint64_t kDefaultTruncateAt = 1 << 20;
// Output is held in memory while a run lasts, so a larger truncate_output_at is capped to this.
inline constexpr uint64_t kMaxTruncateAt = 64 << 20;

struct InstanceRequest {
    std::string command;  // an executable, or a shell expression when `shell`
    std::string image;    // an image UUID, or "tag:NAME"
    std::vector<std::string> args;
    bool shell = false;
    std::vector<std::pair<std::string, std::string>> env;  // in the request's key order
    std::string cwd;       // empty: the image's WorkingDir, else "/"
    std::string hostname;  // empty: grove's default
    std::string stdin_data;
    std::optional<uint32_t> timeout_seconds;
    bool disposable = false;  // true: no result image
    std::map<std::string, FileSpec> files;
    uint64_t truncate_output_at = kDefaultTruncateAt;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
    InstanceLimits limits;           // `resources_limits`
    bool preserve_env = false;       // the run's env becomes the result image's Env
    std::optional<std::string> tag;  // grove's extension: tag the result image
    // grove's extensions: "none" (loopback only) or "host"; an OCI runtime (empty: grove's own).
    std::string network = "none";
    std::string runtime;
};

// Parses a request body. InvalidArgument names the offending field.
Result<InstanceRequest> parse_instance_request(const base::Json& body);
// The `env` member of a request body (a spawn's or a subprocess's): an object of strings whose
// names hold no '=', in key order; absent or null: none.
Result<std::vector<std::pair<std::string, std::string>>> parse_env(const base::Json& body);
// The request as `metadata` shows it: every field, env values of secret-looking keys masked.
base::Json instance_request_json(const InstanceRequest& request);

// The argv the request runs: [command, args...], or ["/bin/sh", "-c", "command 'arg'..."] for
// a shell expression, its args appended shell-quoted.
std::vector<std::string> instance_argv(const InstanceRequest& request);
// The same for any command (a subprocess's too).
std::vector<std::string> command_argv(const std::string& command,
                                      const std::vector<std::string>& args,
                                      bool shell);
// Keys whose values events and metadata mask: names ending in token, secret, password, api_key,
// credentials or authorization, in any case.
bool is_secret_key(std::string_view key);
// "0644", "0o644", "644" or "755" as an octal mode (at most 07777).
Result<mode_t> parse_mode(std::string_view text);

}  // namespace grove::daemon
