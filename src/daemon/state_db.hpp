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
// short (no I/O besides the database).

#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>

#include <grove/result.hpp>

#include "base/scope_exit.hpp"
#include "base/unique_fd.hpp"
#include "store/metadata/database.hpp"

namespace grove::daemon {

inline constexpr std::string_view kRestartedError = "daemon restarted";

class StateDb {
public:
    // Opens (creating) <root>/daemon.db and recovers it as above; `root` must exist. Unavailable
    // if another process holds the daemon lock.
    static Result<std::unique_ptr<StateDb>> open(const std::filesystem::path& root);

    StateDb(base::UniqueFd lock, store::Database db) : lock_(std::move(lock)), db_(std::move(db)) {}

    // Runs `body(store::Database&)` with the connection to itself, and returns what it returns.
    template <typename F>
    auto with(F&& body) {
        std::lock_guard lock(mutex_);
        return std::forward<F>(body)(db_);
    }

    // Like with(), but the body's commits are not fsynced (synchronous=NORMAL): they survive a
    // crash of the daemon (kill -9: SQLite has written them to the WAL, in the kernel's page
    // cache), and a power loss only once a later commit through with() has fsynced the WAL,
    // which holds them too. Only for state that recovery makes moot if it is lost: the progress
    // of an unfinished operation (ASSIGNED, EXECUTING, its first events), which the next start
    // fails as "daemon restarted" whatever it says. Never for anything a client learns as done.
    template <typename F>
    auto with_unsynced(F&& body) {
        std::lock_guard lock(mutex_);
        relax_sync();
        const base::ScopeExit restore([this] { restore_sync(); });
        return std::forward<F>(body)(db_);
    }

    // How many operations open() found unfinished and failed.
    size_t recovered() const { return recovered_; }

private:
    Result<void> recover();
    void relax_sync();
    // Aborts if it fails: commits would stop being durable without anyone knowing.
    void restore_sync();

    base::UniqueFd lock_;  // the flock on daemon.lock, released when closed
    std::mutex mutex_;
    store::Database db_;
    size_t recovered_ = 0;
};

}  // namespace grove::daemon
