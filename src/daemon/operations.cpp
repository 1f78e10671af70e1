#include "daemon/operations.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/event_table.hpp"
#include "daemon/operation_table.hpp"
#include "daemon/wire_time.hpp"
#include "store/metadata/tag_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::daemon {
namespace {

// ConTree names an image by UUID or as "tag:NAME".
std::string_view image_ref(std::string_view image) {
    if (image.starts_with("tag:")) {
        image.remove_prefix(4);
    }
    return image;
}

}  // namespace

Operations::Operations(StateDb& state,
                       image::ImageStore& images,
                       Files& files,
                       std::unique_ptr<Executor> instances,
                       std::unique_ptr<Executor> imports,
                       OperationsOptions options,
                       base::Logger log)
    : state_(state),
      images_(images),
      files_(files),
      instances_(std::move(instances)),
      imports_(std::move(imports)),
      options_(options),
      log_(std::move(log)) {
    const size_t workers = std::max<size_t>(options_.workers, 1);
    workers_.reserve(workers);
    for (size_t i = 0; i < workers; ++i) {
        workers_.emplace_back([this](std::stop_token stop) { work(stop); });
    }
}

Operations::~Operations() {
    shutdown();
}

Result<OperationRecord> Operations::submit_instance(InstanceRequest request) {
    if (request.tag) {
        GROVE_TRY(store::validate_tag(*request.tag));
    }
    GROVE_ASSIGN_OR_RETURN(
        const std::string image,
        images_.resolve(image_ref(request.image), image::ImageStore::Lookup::kStrict));
    for (const auto& [path, spec] : request.files) {
        GROVE_TRY(base::with_context(files_.get(spec.uuid), "files: '{}'", path));
    }
    const uint32_t cap = options_.max_instance_timeout_seconds;
    request.timeout_seconds = std::min(request.timeout_seconds.value_or(cap), cap);
    OperationRecord record{.uuid = store::new_uuid(),
                           .kind = OperationKind::kInstance,
                           .created_ns = now_ns(),
                           .request_json = base::dump_json(instance_request_json(request)),
                           .image_uuid = image};
    return submit(std::move(record), std::move(request));
}

Result<OperationRecord> Operations::submit_import(ImportRequest request) {
    if (request.tag) {
        GROVE_TRY(store::validate_tag(*request.tag));
    }
    const uint32_t cap = options_.max_import_timeout_seconds;
    request.timeout_seconds = std::min(request.timeout_seconds.value_or(cap), cap);
    OperationRecord record{.uuid = store::new_uuid(),
                           .kind = OperationKind::kImageImport,
                           .created_ns = now_ns(),
                           .request_json = base::dump_json(import_request_json(request))};
    return submit(std::move(record), std::move(request));
}

Result<OperationRecord> Operations::submit(OperationRecord record, OperationRequest request) {
    GROVE_ASSIGN_OR_RETURN(auto cancel, engine::CancelSignal::create());
    std::future<Result<void>> recorded;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return base::make_error(Code::kUnavailable, "the daemon is shutting down");
        }
        if (queue_.size() >= options_.max_pending) {
            return base::make_error(Code::kResourceExhausted,
                                    "{} operations are queued already; retry later", queue_.size());
        }
        // A worker may start the operation while its record is being written: every later
        // write of it is queued behind this one, and the caller hears of it only once it is
        // durable.
        recorded = state_.queue(
            [record](store::Database& db) { return OperationTable(db).insert(record); });
        auto operation =
            std::make_shared<LiveOperation>(record, std::move(request), std::move(cancel));
        live_.emplace(record.uuid, operation);
        queue_.push_back(std::move(operation));
    }
    wake_.notify_one();
    if (auto written = recorded.get(); !written) {
        // Nobody will hear of the operation: stop it (its end cannot be recorded either).
        (void)Operations::cancel(record.uuid);
        return base::with_context(std::move(written), "record operation '{}'", record.uuid).error();
    }
    log_.info("operation queued",
              {{"operation", record.uuid}, {"kind", operation_kind_name(record.kind)}});
    return record;
}

Result<void> Operations::cancel(std::string_view uuid) {
    std::shared_ptr<LiveOperation> dequeued;
    {
        std::lock_guard lock(mutex_);
        const auto it = live_.find(uuid);
        if (it == live_.end()) {
            GROVE_ASSIGN_OR_RETURN(const auto record, get(uuid));
            return base::make_error(Code::kFailedPrecondition, "{}: it is {}", kNotCancellable,
                                    operation_status_name(record.status));
        }
        const std::shared_ptr<LiveOperation>& operation = it->second;
        operation->stop_reason = StopReason::kCancelled;
        const auto queued = std::find(queue_.begin(), queue_.end(), operation);
        if (queued != queue_.end()) {
            dequeued = operation;
            queue_.erase(queued);
        } else {
            operation->cancel->cancel();
        }
    }
    log_.info("operation cancelled", {{"operation", std::string(uuid)}});
    if (dequeued) {
        finish(*dequeued, {.status = OperationStatus::kCancelled, .error = "cancelled"});
    }
    return {};
}

Result<OperationRecord> Operations::get(std::string_view uuid) {
    state_.drain();
    return state_.with([&](store::Database& db) { return OperationTable(db).get(uuid); });
}

Result<std::shared_ptr<Subprocesses>> Operations::subprocesses(std::string_view uuid) {
    {
        std::lock_guard lock(mutex_);
        if (const auto it = live_.find(uuid); it != live_.end()) {
            const std::shared_ptr<LiveOperation>& operation = it->second;
            if (operation->record.kind != OperationKind::kInstance) {
                return base::make_error(Code::kNotFound, "operation '{}' is not an instance", uuid);
            }
            if (std::find(queue_.begin(), queue_.end(), operation) != queue_.end()) {
                return base::make_error(Code::kFailedPrecondition,
                                        "operation '{}' is PENDING: its instance has not started",
                                        uuid);
            }
            // Aliasing: the subprocesses live as long as their operation.
            return std::shared_ptr<Subprocesses>(operation, &operation->subprocesses);
        }
    }
    GROVE_ASSIGN_OR_RETURN(const auto record, get(uuid));
    if (record.kind != OperationKind::kInstance) {
        return base::make_error(Code::kNotFound, "operation '{}' is not an instance", uuid);
    }
    return base::make_error(Code::kFailedPrecondition, "operation '{}' is {}: its instance is over",
                            uuid, operation_status_name(record.status));
}

Result<std::vector<OperationRecord>> Operations::list(const OperationFilter& filter) {
    state_.drain();
    return state_.with([&](store::Database& db) { return OperationTable(db).list(filter); });
}

Result<EventBatch> Operations::events(std::string_view uuid,
                                      int64_t after,
                                      std::chrono::milliseconds wait,
                                      std::stop_token stop) {
    std::shared_ptr<LiveOperation> operation;
    {
        std::lock_guard lock(mutex_);
        if (const auto it = live_.find(uuid); it != live_.end()) {
            operation = it->second;
        }
    }
    if (operation) {
        auto read = operation->log.read(after, wait, std::move(stop));
        return EventBatch{.events = std::move(read.events), .finished = read.closed};
    }
    return state_.with([&](store::Database& db) -> Result<EventBatch> {
        GROVE_TRY(OperationTable(db).get(uuid));
        GROVE_ASSIGN_OR_RETURN(auto events, EventTable(db).list(uuid, after));
        return EventBatch{.events = std::move(events), .finished = true};
    });
}

OperationCounts Operations::counts() const {
    std::lock_guard lock(mutex_);
    return {.pending = queue_.size(), .executing = executing_};
}

void Operations::shutdown() {
    std::deque<std::shared_ptr<LiveOperation>> queued;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        queued.swap(queue_);
        for (const auto& [uuid, operation] : live_) {
            operation->stop_reason = StopReason::kShutdown;
            operation->cancel->cancel();
        }
    }
    wake_.notify_all();
    for (const auto& operation : queued) {
        finish(*operation,
               {.status = OperationStatus::kFailed, .error = std::string(kShutdownError)});
    }
    workers_.clear();  // each jthread requests stop and joins
}

void Operations::work(std::stop_token stop) {
    for (;;) {
        std::shared_ptr<LiveOperation> operation;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, stop, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_ || stop.stop_requested()) {
                return;
            }
            operation = std::move(queue_.front());
            queue_.pop_front();
            ++executing_;
        }
        execute(*operation);
        std::lock_guard lock(mutex_);
        --executing_;
    }
}

void Operations::execute(LiveOperation& operation) {
    const std::string& uuid = operation.record.uuid;
    // ASSIGNED and EXECUTING (with the first events) are written behind the work, unsynced:
    // after a crash the next start fails the operation whatever state it reached, and the
    // commit in finish() fsyncs them along with the end (StateDb::queue_unsynced).
    const auto progress = [this, uuid](std::string_view step, auto write) {
        state_.queue_unsynced([log = log_, uuid, step, write](store::Database& db) {
            if (auto written = write(db); !written) {
                log.warn("record an operation's progress",
                         {{"operation", uuid},
                          {"step", std::string(step)},
                          {"error", written.error().to_string()}});
            }
        });
    };
    progress("assigned", [uuid, now = now_ns()](store::Database& db) {
        return OperationTable(db).advance(uuid, OperationStatus::kAssigned, now);
    });
    const MarkExecuting executing = [&] {
        const int64_t now = now_ns();
        operation.started_ns = now;
        progress("executing", [uuid, now, image = operation.record.image_uuid,
                               events = operation.log.take_unsaved()](store::Database& db) {
            return db.transaction([&]() -> Result<void> {
                GROVE_TRY(EventTable(db).append(uuid, events));
                return OperationTable(db).advance(uuid, OperationStatus::kExecuting, now, image);
            });
        });
    };
    Executor& executor =
        operation.record.kind == OperationKind::kInstance ? *instances_ : *imports_;
    log_.info("operation started", {{"operation", uuid}});
    finish(operation, executor.run(operation, executing));
}

void Operations::finish(LiveOperation& operation, OperationOutcome outcome) {
    const std::string& uuid = operation.record.uuid;
    switch (operation.stop_reason.load()) {
        case StopReason::kCancelled:
            outcome.status = OperationStatus::kCancelled;
            outcome.error = "cancelled";
            break;
        case StopReason::kShutdown:
            if (outcome.status == OperationStatus::kCancelled) {
                outcome.status = OperationStatus::kFailed;
                outcome.error = std::string(kShutdownError);
            }
            break;
        case StopReason::kNone:
            break;
    }
    const int64_t now = now_ns();
    const int64_t start = operation.started_ns.value_or(operation.record.created_ns);
    // The completion is readable only once the operation is recorded finished: a client that
    // reads it and then asks for the operation must find it finished.
    EventRecord completion =
        operation.log.make_last(kSandboxSpid, kCompletionEvent,
                                completion_event_data(outcome, std::max<int64_t>(now - start, 0)));
    auto events = operation.log.take_unsaved();
    events.push_back(completion);
    state_.drain();  // the operation's record and progress, written behind its work
    auto saved = state_.with([&](store::Database& db) {
        return db.transaction([&]() -> Result<void> {
            GROVE_TRY(EventTable(db).append(uuid, events));
            return OperationTable(db).finish(uuid, outcome, now);
        });
    });
    if (!saved) {
        // The row stays unfinished until the next start fails it; the log in memory is lost.
        log_.error("record the end of an operation",
                   {{"operation", uuid}, {"error", saved.error().to_string()}});
    }
    log_.info("operation finished", {{"operation", uuid},
                                     {"status", operation_status_name(outcome.status)},
                                     {"error", outcome.error.value_or("")}});
    // Out of the live table before the completion is published: a reader woken by it, or a
    // client acting on the completion it just read, then finds the operation finished.
    {
        std::lock_guard lock(mutex_);
        live_.erase(uuid);
    }
    operation.log.close_with(std::move(completion));
}

}  // namespace grove::daemon
