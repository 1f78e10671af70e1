#pragma once

// LiveOperation is an operation while it is queued or running: its request, its event log in
// memory, and the means to cancel it. The Operations service owns it (shared with the worker
// running it and with the readers following its log) until it is finished and persisted.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "daemon/event_log.hpp"
#include "daemon/import_request.hpp"
#include "daemon/instance_request.hpp"
#include "daemon/records.hpp"
#include "daemon/subprocesses.hpp"
#include "engine/cancel.hpp"

namespace grove::daemon {

// Why a live operation was stopped before it finished on its own.
enum class StopReason {
    kNone,
    kCancelled,  // its client asked: CANCELLED
    kShutdown,   // the daemon is stopping: FAILED "daemon shutting down"
};

using OperationRequest = std::variant<InstanceRequest, ImportRequest>;

struct LiveOperation {
    LiveOperation(OperationRecord record_in,
                  OperationRequest request_in,
                  std::shared_ptr<engine::CancelSignal> cancel_in)
        : record(std::move(record_in)),
          request(std::move(request_in)),
          cancel(std::move(cancel_in)) {}

    const OperationRecord record;  // as inserted (PENDING), with the resolved input image
    const OperationRequest request;
    // Shared with the run it stops (engine::RunRequest::cancel).
    const std::shared_ptr<engine::CancelSignal> cancel;
    EventLog log;
    // An instance's processes started while its command runs (an import has none).
    Subprocesses subprocesses{log};
    std::atomic<StopReason> stop_reason{StopReason::kNone};
    std::optional<int64_t> started_ns;  // set by its worker when it starts executing
};

}  // namespace grove::daemon
