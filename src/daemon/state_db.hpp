#pragma once

// StateDb is the daemon's persistent state: operations, their event logs, and uploaded files
// (records.hpp), in its own SQLite database, <root>/daemon.db, next to the image store's
// metadata.db.
//
// Why a database of its own rather than more tables in metadata.db:
// - write traffic: an operation's log is appended as it finishes and uploads are recorded one by
//   one; in metadata.db those commits would queue behind imports and run snapshots of every
//   `grove` process sharing the store (SQLite has one writer per file), and theirs behind ours;
// - ownership: the image store is shared by the CLI and the daemon, whereas operations are the
//   daemon's alone, with their own lifetime; deleting daemon.db forgets the daemon's history and
//   leaves every image intact;
// - the same store::Database underneath (WAL, synchronous=FULL, foreign keys, numbered
//   migrations in one transaction: schema.hpp), so nothing about durability differs.
// Images are named from here by UUID only; there is no foreign key across the two files.
//
// One daemon per root: open() takes <root>/daemon.lock (flock, exclusive, non-blocking) for the
// StateDb's lifetime, so a second groved on the same root fails at once instead of "recovering"
// the first one's operations.
//
// Recovery: an operation that was not finished when the previous daemon stopped (a crash, kill -9,
// a power loss) can never finish, since its run died with the daemon. open() finishes every such
// operation as FAILED "daemon restarted" and appends the matching completion event, so pollers
// and event followers see an end.
//
// Threading: one connection, serialized by a mutex; with() runs a body under it. Keep bodies
// short (no I/O besides the database). Writes nobody needs to wait for go to the StateDb's own
// writer thread instead (queue(), queue_unsynced()), which runs them one at a time in the order
// queued: an operation's record and its progress are written there while its run starts on a
// worker, so the run's start waits for neither the SQL nor the fsync.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "store/metadata/database.hpp"

namespace grove::daemon {

inline constexpr std::string_view kRestartedError = "daemon restarted";

class StateDb {
public:
    // Opens (creating) <root>/daemon.db and recovers it as above; `root` must exist. Unavailable
    // if another process holds the daemon lock.
    static Result<std::unique_ptr<StateDb>> open(const std::filesystem::path& root);

    StateDb(base::UniqueFd lock, store::Database db);

    // Runs `body(store::Database&)` with the connection to itself, and returns what it returns.
    template <typename F>
    auto with(F&& body) {
        std::lock_guard lock(mutex_);
        return std::forward<F>(body)(db_);
    }

    // Queues `write` for the writer thread; it commits fsynced, like with(). The future holds
    // its result once it is durable.
    std::future<Result<void>> queue(std::function<Result<void>(store::Database&)> write);
    // Queues `write` for the writer thread; its commits are not fsynced (synchronous=NORMAL):
    // they survive a crash of the daemon (kill -9: SQLite has written them to the WAL, in the
    // kernel's page cache), and a power loss only once a later fsynced commit has synced the
    // WAL, which holds them too. Only for state that recovery makes moot if it is lost: the
    // progress of an unfinished operation (ASSIGNED, EXECUTING, its first events), which the next
    // start fails as "daemon restarted" whatever it says. Never for anything a client learns as
    // done. `write` reports its own errors: nobody waits for it.
    void queue_unsynced(std::function<void(store::Database&)> write);
    // Returns once every write queued before the call has run.
    void drain();

    // How many operations open() found unfinished and failed.
    size_t recovered() const { return recovered_; }

private:
    struct QueuedWrite {
        std::function<void(store::Database&)> write;
        bool synced = true;
    };

    Result<void> recover();
    void push(QueuedWrite write);
    void write_queued(std::stop_token stop);

    base::UniqueFd lock_;  // the flock on daemon.lock, released when closed
    std::mutex mutex_;
    store::Database db_;
    size_t recovered_ = 0;

    std::mutex queue_mutex_;
    std::condition_variable_any queued_cv_;
    std::condition_variable written_cv_;
    std::deque<QueuedWrite> queue_;
    uint64_t queued_ = 0;   // writes ever queued
    uint64_t written_ = 0;  // writes ever run
    // Last: stopped, after writing what is queued, before anything it uses goes.
    std::jthread writer_;
};

}  // namespace grove::daemon
