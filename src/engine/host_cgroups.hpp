#pragma once

#include <memory>

#include "base/log.hpp"
#include "runtime/cgroup/cgroup.hpp"

namespace grove::engine {

// The host's cgroup manager for runs, or null (logged) on a host without usable cgroups: runs
// then work without limits. With `tune_host`, first turns on the cgroup2 favordynmods option
// (runtime/cgroup/tuning.hpp: 5-8 ms less per run on v1 hosts); failing that is only logged.
std::unique_ptr<runtime::cgroup::Manager> host_cgroups(const base::Logger& log, bool tune_host);

}  // namespace grove::engine
