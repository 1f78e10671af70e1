#pragma once

// An Executor carries out one kind of operation on a worker thread: it appends the events of the
// work to the operation's log (all but the final completion, which the Operations service adds)
// and returns how it ended. Errors are outcomes (FAILED with the message), not Results: by the
// time an executor runs, the operation exists and must be finished either way.

#include <functional>
#include <optional>
#include <string>

#include <grove/result.hpp>

#include "daemon/live_operation.hpp"
#include "daemon/records.hpp"

namespace grove::daemon {

// Records that the operation is now EXECUTING, persisting the events logged so far (queued for
// the state's writer: it returns at once). An executor calls it once, when the work proper
// starts.
using MarkExecuting = std::function<void()>;

class Executor {
public:
    virtual ~Executor() = default;
    virtual OperationOutcome run(LiveOperation& operation, const MarkExecuting& executing) = 0;
};

}  // namespace grove::daemon
