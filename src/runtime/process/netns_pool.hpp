#pragma once

// NetnsPool keeps fresh network namespaces ready for "network none" runs. Creating one (and
// bringing its lo up) is the dearest step of a container start, ~1 ms here; a background thread
// makes them ahead of time, so a run joins one with setns instead. Each namespace is handed out
// once and dies with its run: nothing is shared between runs.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::runtime::process {

class NetnsPool {
public:
    // Keeps up to `ready` namespaces made; the thread starts on the first take().
    explicit NetnsPool(size_t ready) : ready_(ready) {}
    ~NetnsPool();
    NetnsPool(const NetnsPool&) = delete;
    NetnsPool& operator=(const NetnsPool&) = delete;

    // An fd of a fresh namespace with lo up: a ready one, else one made now.
    Result<base::UniqueFd> take();

    // Makes one in the calling thread, which ends up back in its own namespace.
    static Result<base::UniqueFd> make();

private:
    void refill(const std::stop_token& stop);

    const size_t ready_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<base::UniqueFd> pool_;
    std::jthread thread_;  // started by the first take()
};

}  // namespace grove::runtime::process
