#pragma once

// Database owns one SQLite connection to the metadata store (`<root>/metadata.db`). open() makes
// the connection safe to share the file with other connections and processes, then brings the
// schema up to date:
// - journal_mode=WAL: readers never block the writer nor each other, across processes;
// - busy_timeout (kBusyTimeout): a writer waits for another's transaction instead of failing;
// - foreign_keys=ON: SQLite leaves them off per connection unless asked;
// - synchronous=FULL: the WAL is fsynced at every commit, so an image whose id was returned to a
//   client survives a power loss (NORMAL would only survive a process crash). Commits happen
//   once per import or run, next to filesystem work that dwarfs one fsync.
// - the migrations (migrations.hpp) run in one BEGIN IMMEDIATE transaction, so two processes
//   opening a fresh store migrate it once; PRAGMA user_version records the schema version, and
//   a store newer than this binary is refused rather than misread.
//
// Prepared statements are cached by their SQL text for the connection's life
// (statement_cache.hpp).
//
// A Database is not thread-safe (the connection is opened SQLITE_OPEN_NOMUTEX, and a
// transaction belongs to the whole connection): use one per thread, or serialize access. The
// table classes hold a Database&, so a Database must stay in place (and alive) while they exist.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include <grove/result.hpp>

#include "store/metadata/migrations.hpp"
#include "store/metadata/statement.hpp"
#include "store/metadata/statement_cache.hpp"

struct sqlite3;

namespace grove::store {

class Database {
public:
    static constexpr std::chrono::milliseconds kBusyTimeout{10'000};

    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    // Opens (creating if needed) the store at `path`; its directory must exist.
    static Result<Database> open(const std::filesystem::path& path) {
        return open(path, migrations());
    }
    // Opens another database with the same settings and its own schema, `schema` being its
    // migrations, versions 1..N in order (the daemon's state, daemon/state_db.hpp).
    static Result<Database> open(const std::filesystem::path& path,
                                 std::span<const Migration> schema);

    // A statement for `sql` (one statement), from the cache when it has one that is not in use.
    Result<Statement> prepare(std::string_view sql);
    // Runs one or more ';'-separated statements that take no parameters.
    Result<void> exec(std::string_view sql);

    // Runs `body` in a write transaction (BEGIN IMMEDIATE, so the write lock is taken up front and
    // waits out other writers under busy_timeout instead of failing on upgrade). Commits if
    // `body` succeeds; rolls everything back and returns its error otherwise. Called inside
    // another transaction it nests as a SAVEPOINT, so the table methods, which use transactions
    // themselves, compose into one atomic unit.
    Result<void> transaction(const std::function<Result<void>()>& body);
    // Runs `body` with commits that outlive any process's crash but not a power cut (the WAL is
    // not fsynced: synchronous=NORMAL), for what whoever opens the store next re-derives; then
    // back to FULL, the connection's setting (aborts if that fails: commits would stop being
    // durable without anyone knowing). A failure to relax only costs the fsync.
    Result<void> unsynced(const std::function<Result<void>()>& body);

    // Rows changed by the last INSERT, UPDATE or DELETE.
    int64_t changes() const;
    // The schema version: the number of the last migration applied.
    Result<int64_t> user_version();

private:
    explicit Database(sqlite3* db);
    void close();
    Result<void> configure();
    Result<void> migrate(std::span<const Migration> schema);

    sqlite3* db_ = nullptr;
    std::unique_ptr<StatementCache> cache_;  // finalized by close(), before the connection
};

}  // namespace grove::store
