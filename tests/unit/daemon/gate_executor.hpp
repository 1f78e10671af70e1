#pragma once

// An Executor for tests of what surrounds execution (queueing, cancellation, event following,
// shutdown, the API): it logs an event, marks the operation executing, then waits for release()
// or a cancellation, and ends with a stdout event and result image "result-image".

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "daemon/event_data.hpp"
#include "daemon/executor.hpp"

namespace grove::daemon::testing {

// Logs an event, marks the operation executing, then waits for release() or a cancellation.
class GateExecutor final : public Executor {
public:
    OperationOutcome run(LiveOperation& operation, const MarkExecuting& executing) override {
        operation.log.append(kSandboxSpid, "init", {});
        executing();
        std::unique_lock lock(mutex_);
        ++started_;
        changed_.notify_all();
        while (!released_ && !operation.cancel->cancelled()) {
            changed_.wait_for(lock, std::chrono::milliseconds(5));
        }
        if (operation.cancel->cancelled()) {
            return {.status = OperationStatus::kCancelled};
        }
        operation.log.append(kMainSpid, "stdout", {{"value", "done"}});
        return {.status = OperationStatus::kSuccess, .result_image_uuid = "result-image"};
    }

    // The runs that start from now on wait again for release().
    void hold() {
        std::lock_guard lock(mutex_);
        released_ = false;
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        changed_.notify_all();
    }
    bool wait_started(int n) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return started_ >= n; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int started_ = 0;
    bool released_ = false;
};

}  // namespace grove::daemon::testing
