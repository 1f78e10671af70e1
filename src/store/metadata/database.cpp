#include "store/metadata/database.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "store/metadata/sqlite_error.hpp"

namespace grove::store {

namespace {

// More than the distinct statements grove's code has (a few dozen).
constexpr size_t kCachedStatements = 128;

}  // namespace

Database::Database(sqlite3* db)
    : db_(db), cache_(std::make_unique<StatementCache>(kCachedStatements)) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        cache_ = std::move(other.cache_);
    }
    return *this;
}

Database::~Database() {
    close();
}

// close_v2 defers the close until every Statement is finalized instead of failing with BUSY.
void Database::close() {
    cache_.reset();
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

Result<Database> Database::open(const std::filesystem::path& path,
                                std::span<const Migration> schema) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &raw,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
        nullptr);
    // Even a failed open returns a handle (for its error message); the Database closes it.
    Database db(raw);
    if (rc != SQLITE_OK) {
        return sqlite_error(raw, rc, fmt::format("open metadata store '{}'", path.string()));
    }
    GROVE_TRY(base::with_context(db.configure(), "configure metadata store '{}'", path.string()));
    GROVE_TRY(base::with_context(db.migrate(schema), "migrate metadata store '{}'", path.string()));
    return db;
}

Result<Statement> Database::prepare(std::string_view sql) {
    StatementCache::Entry* cached = cache_->find(sql);
    if (cached != nullptr && !cached->lent) {
        cached->lent = true;
        return Statement(db_, cached->stmt, &cached->lent);
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                           cached != nullptr ? 0 : SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        return sqlite_error(db_, rc, "prepare");
    }
    if (stmt == nullptr) {  // only whitespace or comments
        return base::make_error(Code::kInvalidArgument, "no SQL statement in '{}'", sql);
    }
    if (cached == nullptr) {
        if (StatementCache::Entry* entry = cache_->insert(sql, stmt)) {
            entry->lent = true;
            return Statement(db_, stmt, &entry->lent);
        }
    }
    return Statement(db_, stmt);
}

Result<void> Database::exec(std::string_view sql) {
    // One statement (BEGIN, COMMIT, a PRAGMA) goes through the cache; a script is run as is.
    if (sql.find(';') == std::string_view::npos) {
        GROVE_ASSIGN_OR_RETURN(auto stmt, prepare(sql));
        return stmt.run();
    }
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        return sqlite_error(db_, rc, "sqlite");
    }
    return {};
}

Result<void> Database::transaction(const std::function<Result<void>()>& body) {
    // Outside BEGIN, SQLite is in autocommit mode; inside, a nested call becomes a savepoint.
    const bool nested = sqlite3_get_autocommit(db_) == 0;
    GROVE_TRY(exec(nested ? "SAVEPOINT grove_nested" : "BEGIN IMMEDIATE"));
    Result<void> result = body();
    if (result) {
        result = exec(nested ? "RELEASE grove_nested" : "COMMIT");
    }
    // Some errors (SQLITE_FULL, IOERR) make SQLite roll back on its own; then there is no
    // transaction left to end.
    if (!result && sqlite3_get_autocommit(db_) == 0) {
        // A failing rollback cannot be handled better than by reporting `result`, the cause.
        (void)exec(nested ? "ROLLBACK TO grove_nested; RELEASE grove_nested" : "ROLLBACK");
    }
    return result;
}

Result<void> Database::unsynced(const std::function<Result<void>()>& body) {
    (void)exec("PRAGMA synchronous = NORMAL");
    const base::ScopeExit restore([this] {
        if (auto restored = exec("PRAGMA synchronous = FULL"); !restored) {
            std::fprintf(stderr, "grove: cannot restore synchronous=FULL on a database: %s\n",
                         restored.error().to_string().c_str());
            std::abort();
        }
    });
    return body();
}

int64_t Database::changes() const {
    return sqlite3_changes64(db_);
}

Result<int64_t> Database::user_version() {
    GROVE_ASSIGN_OR_RETURN(auto stmt, prepare("PRAGMA user_version"));
    GROVE_TRY(stmt.step());
    return stmt.column_int64(0);
}

Result<void> Database::configure() {
    sqlite3_extended_result_codes(db_, 1);
    // Set first, so switching to WAL below already waits for other processes.
    sqlite3_busy_timeout(db_, static_cast<int>(kBusyTimeout.count()));
    GROVE_TRY(exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL"));
    GROVE_ASSIGN_OR_RETURN(auto stmt, prepare("PRAGMA journal_mode = WAL"));
    GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
    // SQLite answers with the mode it kept; a filesystem without shared memory keeps another.
    if (!row || stmt.column_text(0) != "wal") {
        return base::make_error(Code::kFailedPrecondition,
                                "journal_mode WAL is not supported here");
    }
    return {};
}

Result<void> Database::migrate(std::span<const Migration> schema) {
    const int latest = schema.back().version;
    // The common case, a store already at this version, needs no write lock: opening the store
    // (every CLI command does) must not wait behind another process's write transaction.
    GROVE_ASSIGN_OR_RETURN(const int64_t seen, user_version());
    if (seen == latest) {
        return {};
    }
    return transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const int64_t current, user_version());
        if (current == latest) {
            return {};
        }
        if (current > latest) {
            return base::make_error(Code::kFailedPrecondition,
                                    "schema version {} is newer than this grove's ({})", current,
                                    latest);
        }
        for (const Migration& migration : schema) {
            if (migration.version > current) {
                GROVE_TRY(
                    base::with_context(exec(migration.sql), "migration {}", migration.version));
            }
        }
        return exec(fmt::format("PRAGMA user_version = {}", latest));
    });
}

}  // namespace grove::store
