#pragma once

// CgroupPool keeps runs' cgroups off the run's path. Making one is a mkdir per v1 hierarchy and
// removing it an rmdir per hierarchy, ~0.2 ms each way here; a background thread makes groups
// ahead of time and removes the ones runs are done with, so a run only writes its limits.
// Each group serves one run: its counters (peak memory, OOM kills, CPU time) are the run's.
//
// Groups are named "run-<uuid>" under the shared parent, like the ones a run makes itself.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "runtime/cgroup/cgroup.hpp"

namespace grove::engine {

class CgroupPool {
public:
    // Keeps up to `ready` empty groups made; with 0 (a process that makes one run) take() and
    // retire() do their work in the caller's thread. The thread starts on the first take().
    CgroupPool(runtime::cgroup::Manager& manager, size_t ready, base::Logger log)
        : manager_(manager), ready_(ready), log_(std::move(log)) {}
    // Removes what is made and what was retired.
    ~CgroupPool();
    CgroupPool(const CgroupPool&) = delete;
    CgroupPool& operator=(const CgroupPool&) = delete;

    // A fresh group with `limits`: a ready one, else one made now.
    Result<std::unique_ptr<runtime::cgroup::Cgroup>> take(const runtime::cgroup::Limits& limits);
    // A group whose run is over: killed and removed in the background (failures are logged).
    void retire(std::unique_ptr<runtime::cgroup::Cgroup> group);

private:
    Result<std::unique_ptr<runtime::cgroup::Cgroup>> make(const runtime::cgroup::Limits& limits);
    void close(std::unique_ptr<runtime::cgroup::Cgroup> group);
    void work(const std::stop_token& stop);

    runtime::cgroup::Manager& manager_;
    const size_t ready_;
    base::Logger log_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<std::unique_ptr<runtime::cgroup::Cgroup>> spare_;
    std::deque<std::unique_ptr<runtime::cgroup::Cgroup>> retired_;
    bool make_failed_ = false;  // then take() makes its own, and reports why that fails
    std::jthread thread_;       // last: stopped before the queues go
};

}  // namespace grove::engine
