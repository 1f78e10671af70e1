#include "daemon/state_db.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/event_table.hpp"
#include "daemon/operation_table.hpp"
#include "daemon/schema.hpp"
#include "daemon/wire_time.hpp"

namespace grove::daemon {

Result<std::unique_ptr<StateDb>> StateDb::open(const std::filesystem::path& root) {
    const auto lock_path = root / "daemon.lock";
    GROVE_ASSIGN_OR_RETURN(auto lock,
                           base::UniqueFd::open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return base::make_error(Code::kUnavailable,
                                    "another groved serves the store '{}' (it holds '{}')",
                                    root.string(), lock_path.string());
        }
        return base::last_errno_error("lock '{}'", lock_path.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto db, store::Database::open(root / "daemon.db", daemon_schema()));
    auto state = std::make_unique<StateDb>(std::move(lock), std::move(db));
    GROVE_TRY(base::with_context(state->recover(), "recover the daemon's operations"));
    return state;
}

StateDb::StateDb(base::UniqueFd lock, store::Database db)
    : lock_(std::move(lock)),
      db_(std::move(db)),
      writer_([this](std::stop_token stop) { write_queued(std::move(stop)); }) {}

std::future<Result<void>> StateDb::queue(std::function<Result<void>(store::Database&)> write) {
    // std::function needs a copyable callable, hence the promise behind a shared_ptr.
    auto done = std::make_shared<std::promise<Result<void>>>();
    auto future = done->get_future();
    push({.write = [write = std::move(write), done](store::Database& db) {
        done->set_value(write(db));
    }});
    return future;
}

void StateDb::queue_unsynced(std::function<void(store::Database&)> write) {
    push({.write = std::move(write), .synced = false});
}

void StateDb::push(QueuedWrite write) {
    {
        std::lock_guard lock(queue_mutex_);
        queue_.push_back(std::move(write));
        ++queued_;
    }
    queued_cv_.notify_one();
}

void StateDb::drain() {
    std::unique_lock lock(queue_mutex_);
    const uint64_t target = queued_;
    written_cv_.wait(lock, [&] { return written_ >= target; });
}

void StateDb::write_queued(std::stop_token stop) {
    for (;;) {
        QueuedWrite next;
        {
            std::unique_lock lock(queue_mutex_);
            // Once stopped, the queue is still written out before the thread ends.
            queued_cv_.wait(lock, stop, [&] { return !queue_.empty(); });
            if (queue_.empty()) {
                return;
            }
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        {
            std::lock_guard lock(mutex_);
            if (next.synced) {
                next.write(db_);
            } else {
                (void)db_.unsynced([&]() -> Result<void> {
                    next.write(db_);
                    return {};
                });
            }
        }
        {
            std::lock_guard lock(queue_mutex_);
            ++written_;
        }
        written_cv_.notify_all();
    }
}

Result<void> StateDb::recover() {
    return with([&](store::Database& db) {
        return db.transaction([&]() -> Result<void> {
            OperationTable operations(db);
            EventTable events(db);
            GROVE_ASSIGN_OR_RETURN(const auto unfinished, operations.unfinished());
            const int64_t now = now_ns();
            for (const OperationRecord& record : unfinished) {
                const OperationOutcome outcome{.status = OperationStatus::kFailed,
                                               .error = std::string(kRestartedError)};
                GROVE_ASSIGN_OR_RETURN(const int64_t id, events.next_id(record.uuid));
                const EventRecord completion{.id = id,
                                             .ts_ns = now,
                                             .spid = kSandboxSpid,
                                             .type = std::string(kCompletionEvent),
                                             .data_json = base::dump_json(completion_event_data(
                                                 outcome, record.duration_ns(now)))};
                GROVE_TRY(events.append(record.uuid, {&completion, 1}));
                GROVE_TRY(operations.finish(record.uuid, outcome, now));
            }
            recovered_ = unfinished.size();
            return Result<void>{};
        });
    });
}

}  // namespace grove::daemon
