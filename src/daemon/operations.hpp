#pragma once

// Operations is the service behind ConTree's /v1/instances, /v1/images/import and
// /v1/operations: it accepts work, answers at once with a PENDING operation, and carries it out
// on a bounded pool of worker threads (OperationsOptions::workers); what the workers cannot take
// yet waits in a FIFO queue, still PENDING. A worker moves the operation to ASSIGNED, its
// Executor to EXECUTING, and the service finishes it: it appends the completion event and writes
// the rest of the log and the final status in one transaction, so a finished operation is
// durable as a whole.
//
// Writes off the run's path: the PENDING record, ASSIGNED and EXECUTING are written by the
// StateDb's writer thread while a worker already starts the run; submit() answers once the
// record is durable, finish() waits for them before writing the end, and get() and list() before
// reading, so no reader sees the database behind what the service did.
//
// Events: a live operation's log is in memory (EventLog) for followers; events() reads it there
// while the operation is live, and from the database once it is finished. An operation is put
// in the live table in the same critical section as its row is queued for insertion, and leaves it
// only once its end is persisted, so a reader finds its events in one of the two places.
//
// Cancellation: a queued operation is finished CANCELLED at once; a running one is signalled
// (its run is killed, nothing is committed) and ends CANCELLED when its executor returns.
// shutdown() fails the queued operations and stops the running ones as FAILED "daemon shutting
// down", then joins the workers.
//
// Lock order: mutex_, then the StateDb's own mutex (StateDb::with) - never the other way.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "daemon/executor.hpp"
#include "daemon/files.hpp"
#include "daemon/import_request.hpp"
#include "daemon/instance_request.hpp"
#include "daemon/live_operation.hpp"
#include "daemon/records.hpp"
#include "daemon/state_db.hpp"
#include "image/image_store.hpp"

namespace grove::daemon {

inline constexpr std::string_view kShutdownError = "daemon shutting down";
inline constexpr std::string_view kNotCancellable = "operation is not cancellable";

struct OperationsOptions {
    size_t workers = 4;         // operations executing at once
    size_t max_pending = 1024;  // queued beyond the workers; more is ResourceExhausted
    // Caps on the timeouts clients ask for (ConTree's whoami limits); also the timeout of a run
    // that names none.
    uint32_t max_instance_timeout_seconds = 3600;
    uint32_t max_import_timeout_seconds = 3600;
};

struct OperationCounts {
    size_t pending = 0;    // queued
    size_t executing = 0;  // taken by a worker
};

struct EventBatch {
    std::vector<EventRecord> events;
    bool finished = false;  // the operation is finished and `events` ends its log
};

class Operations {
public:
    // Every reference must outlive the service. Starts the workers.
    Operations(StateDb& state,
               image::ImageStore& images,
               Files& files,
               std::unique_ptr<Executor> instances,
               std::unique_ptr<Executor> imports,
               OperationsOptions options,
               base::Logger log);
    Operations(const Operations&) = delete;
    Operations& operator=(const Operations&) = delete;
    ~Operations();

    // Validates the request (the image and the files must exist, the tag must be valid) and
    // queues the operation: NotFound / InvalidArgument before anything is recorded,
    // ResourceExhausted when the queue is full, Unavailable once shutting down.
    Result<OperationRecord> submit_instance(InstanceRequest request);
    Result<OperationRecord> submit_import(ImportRequest request);
    // NotFound for an unknown operation, FailedPrecondition (kNotCancellable) for a finished one.
    Result<void> cancel(std::string_view uuid);
    Result<OperationRecord> get(std::string_view uuid);
    // The subprocesses of the instance `uuid` (shared with its live operation): NotFound for an
    // unknown operation or one that is not an instance, FailedPrecondition for one that is
    // queued or finished.
    Result<std::shared_ptr<Subprocesses>> subprocesses(std::string_view uuid);
    Result<std::vector<OperationRecord>> list(const OperationFilter& filter);
    // The events of `uuid` after id `after` (-1: from the start). While the operation is live and
    // has nothing newer, waits up to `wait` (or until `stop`) for more.
    Result<EventBatch> events(std::string_view uuid,
                              int64_t after,
                              std::chrono::milliseconds wait,
                              std::stop_token stop);
    OperationCounts counts() const;
    const OperationsOptions& options() const { return options_; }

    // Fails what is queued, stops what runs, and joins the workers. Idempotent.
    void shutdown();

private:
    Result<OperationRecord> submit(OperationRecord record, OperationRequest request);
    void work(std::stop_token stop);
    void execute(LiveOperation& operation);
    void finish(LiveOperation& operation, OperationOutcome outcome);

    StateDb& state_;
    image::ImageStore& images_;
    Files& files_;
    std::unique_ptr<Executor> instances_;
    std::unique_ptr<Executor> imports_;
    const OperationsOptions options_;
    base::Logger log_;

    mutable std::mutex mutex_;
    std::condition_variable_any wake_;  // work was queued, or shutdown began
    // Co-owned by the worker running it and by readers of its log.
    std::map<std::string, std::shared_ptr<LiveOperation>, std::less<>> live_;
    std::deque<std::shared_ptr<LiveOperation>> queue_;
    size_t executing_ = 0;
    bool stopping_ = false;
    std::vector<std::jthread> workers_;  // last: stopped and joined before the rest goes
};

}  // namespace grove::daemon
