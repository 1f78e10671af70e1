#pragma once

// InstanceExecutor runs `instance` operations: one engine::Runner run per operation. Its log:
//   init (spid 0) -> spawn (1) -> stdout/stderr chunks (1) as they come, each a StreamRepr, up to
//   truncate_output_at bytes per stream -> truncated (1, per stream that lost bytes) -> size_cap
//   (1, if the changes outgrew max_layer_bytes) -> exit (1, with the run's rusage)
// interleaved, while the command runs, with the logs of its subprocesses (spid 2, 3, ...:
// subprocesses.hpp), which all end before the command's exit event.
// and the Operations service adds the completion. The outcome: SUCCESS whatever the command's
// exit code (it is in the result), CANCELLED when cancelled, FAILED when the run could not be
// made or its changes outgrew max_layer_bytes (nothing is kept then).

#include <cstddef>

#include "daemon/executor.hpp"
#include "daemon/files.hpp"
#include "engine/runner.hpp"

namespace grove::daemon {

class InstanceExecutor final : public Executor {
public:
    // The largest upload a run may have injected: injected files are held in memory.
    static constexpr size_t kMaxInjectedFile = size_t{256} << 20;

    InstanceExecutor(engine::Runner& runner, Files& files) : runner_(runner), files_(files) {}

    OperationOutcome run(LiveOperation& operation, const MarkExecuting& executing) override;

private:
    Result<OperationOutcome> execute(LiveOperation& operation, const MarkExecuting& executing);
    Result<engine::RunRequest> run_request(const LiveOperation& operation);

    engine::Runner& runner_;
    Files& files_;
};

}  // namespace grove::daemon
