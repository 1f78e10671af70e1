#include "engine/host_cgroups.hpp"

#include "runtime/cgroup/tuning.hpp"

namespace grove::engine {

std::unique_ptr<runtime::cgroup::Manager> host_cgroups(const base::Logger& log, bool tune_host) {
    if (tune_host) {
        if (auto tuned = runtime::cgroup::favor_dynamic_modifications(); !tuned) {
            log.warn("cgroup task moves stay slow", {{"reason", tuned.error().message()}});
        }
    }
    auto cgroups = runtime::cgroup::Manager::detect();
    if (!cgroups) {
        log.warn("running without cgroups", {{"reason", cgroups.error().message()}});
        return nullptr;
    }
    return std::move(cgroups).value();
}

}  // namespace grove::engine
