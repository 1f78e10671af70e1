#include "containers/container.hpp"

#include <array>
#include <utility>

#include "base/error.hpp"

namespace grove::containers {
namespace {

constexpr std::array<std::pair<Status, std::string_view>, 6> kStatusNames = {{
    {Status::kCreated, "created"},
    {Status::kRunning, "running"},
    {Status::kPaused, "paused"},
    {Status::kRestarting, "restarting"},
    {Status::kExited, "exited"},
    {Status::kDead, "dead"},
}};

constexpr std::array<std::pair<RestartKind, std::string_view>, 4> kRestartNames = {{
    {RestartKind::kNo, "no"},
    {RestartKind::kAlways, "always"},
    {RestartKind::kUnlessStopped, "unless-stopped"},
    {RestartKind::kOnFailure, "on-failure"},
}};

}  // namespace

Result<RestartPolicy> restart_policy(std::string_view name, int max_retries) {
    if (name.empty()) {
        name = "no";
    }
    for (const auto& [kind, n] : kRestartNames) {
        if (n != name) {
            continue;
        }
        if (max_retries < 0 || (max_retries > 0 && kind != RestartKind::kOnFailure)) {
            return base::make_error(Code::kInvalidArgument,
                                    "maximum retry count cannot be used with restart policy '{}'",
                                    name);
        }
        return RestartPolicy{.kind = kind, .max_retries = max_retries};
    }
    return base::make_error(Code::kInvalidArgument, "invalid restart policy '{}'", name);
}

std::string_view restart_name(RestartKind kind) {
    for (const auto& [k, name] : kRestartNames) {
        if (k == kind) {
            return name;
        }
    }
    return "no";
}

Result<Network> grove_network(std::string_view name) {
    if (name != "none" && name != "host") {
        return base::make_error(Code::kInvalidArgument, "network '{}': want none or host", name);
    }
    return name == "host" ? Network::kHost : Network::kNone;
}

std::string_view status_name(Status status) {
    for (const auto& [s, name] : kStatusNames) {
        if (s == status) {
            return name;
        }
    }
    return "dead";
}

std::optional<Status> status_from_name(std::string_view name) {
    for (const auto& [s, n] : kStatusNames) {
        if (n == name) {
            return s;
        }
    }
    return std::nullopt;
}

}  // namespace grove::containers
