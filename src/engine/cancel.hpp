#pragma once

// A cancellation request one thread raises and a run polls for: an eventfd, so the run's output
// loop wakes from poll() at once instead of noticing at its next timeout. Shared by the caller
// (the daemon's operation, a CLI signal handler) and the run it cancels.

#include <memory>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::engine {

class CancelSignal {
public:
    static Result<std::shared_ptr<CancelSignal>> create();

    // Idempotent and async-signal-safe (one write to the eventfd).
    void cancel() const noexcept;
    bool cancelled() const noexcept;
    // Readable once cancelled; for poll().
    int fd() const { return fd_.get(); }

    explicit CancelSignal(base::UniqueFd fd) : fd_(std::move(fd)) {}

private:
    base::UniqueFd fd_;
};

}  // namespace grove::engine
