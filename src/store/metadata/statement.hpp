#pragma once

// Statement owns one prepared SQLite statement (sqlite3_finalize on destruction). Parameters are
// 1-based and columns 0-based, as in SQLite. Binding does not fail at the call site: the first
// bind error is kept and returned by step() or run(), so binds chain:
//
//   GROVE_ASSIGN_OR_RETURN(auto stmt, db.prepare("SELECT size FROM layers WHERE id = ?1"));
//   stmt.bind(1, id);
//   GROVE_ASSIGN_OR_RETURN(bool row, stmt.step());
//
// A Statement must not outlive its Database, and, like the connection, is used by one thread at
// a time. One lent by the Database's cache is reset and returned to it instead of finalized.

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <grove/result.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace grove::store {

class Statement {
public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    template <std::integral I>
    requires(!std::same_as<I, bool>) Statement& bind(int index, I value) {
        if constexpr (std::is_signed_v<I>) {
            return bind_int64(index, static_cast<int64_t>(value));
        } else {
            return bind_uint64(index, static_cast<uint64_t>(value));
        }
    }
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, std::nullopt_t);
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value.has_value() ? bind(index, *value) : bind(index, std::nullopt);
    }

    // True when a row is ready to read, false once the statement is done.
    Result<bool> step();
    // Steps to completion, ignoring any rows (an INSERT, an UPDATE, a DELETE).
    Result<void> run();

    int64_t column_int64(int column) const;
    // Sizes are stored as INTEGER (int64) under a CHECK (>= 0), so the cast cannot wrap.
    uint64_t column_uint64(int column) const;
    std::string column_text(int column) const;
    std::optional<int64_t> column_optional_int64(int column) const;
    std::optional<std::string> column_optional_text(int column) const;

private:
    friend class Database;
    // `lease`: the cache entry's flag to clear when done, or nullptr to finalize.
    Statement(sqlite3* db, sqlite3_stmt* stmt, bool* lease = nullptr)
        : db_(db), stmt_(stmt), lease_(lease) {}
    void release();

    Statement& bind_int64(int index, int64_t value);
    Statement& bind_uint64(int index, uint64_t value);
    Statement& check_bind(int rc, int index);
    bool is_null(int column) const;

    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
    bool* lease_ = nullptr;
    std::optional<Error> bind_error_;
};

}  // namespace grove::store
