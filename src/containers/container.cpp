#include "containers/container.hpp"

#include <array>
#include <utility>

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

}  // namespace

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
