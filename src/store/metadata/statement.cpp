#include "store/metadata/statement.hpp"

#include <limits>
#include <utility>

#include <sqlite3.h>

#include "base/error.hpp"
#include "store/metadata/sqlite_error.hpp"

namespace grove::store {

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      lease_(std::exchange(other.lease_, nullptr)),
      bind_error_(std::move(other.bind_error_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        release();
        db_ = other.db_;
        stmt_ = std::exchange(other.stmt_, nullptr);
        lease_ = std::exchange(other.lease_, nullptr);
        bind_error_ = std::move(other.bind_error_);
    }
    return *this;
}

Statement::~Statement() {
    release();
}

// Reset and finalize repeat the last step's error, which step() has already reported. A lent
// statement loses its bindings too, so none outlives the call that made it.
void Statement::release() {
    if (lease_ != nullptr) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        *std::exchange(lease_, nullptr) = false;
    } else {
        sqlite3_finalize(stmt_);
    }
    stmt_ = nullptr;
}

Statement& Statement::bind(int index, std::string_view value) {
    return check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                          SQLITE_TRANSIENT, SQLITE_UTF8),
                      index);
}

Statement& Statement::bind(int index, std::nullopt_t) {
    return check_bind(sqlite3_bind_null(stmt_, index), index);
}

Statement& Statement::bind_int64(int index, int64_t value) {
    return check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}

Statement& Statement::bind_uint64(int index, uint64_t value) {
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        if (!bind_error_) {
            bind_error_ = base::make_error(
                Code::kOutOfRange, "bind parameter {}: {} does not fit in int64", index, value);
        }
        return *this;
    }
    return bind_int64(index, static_cast<int64_t>(value));
}

Statement& Statement::check_bind(int rc, int index) {
    if (rc != SQLITE_OK && !bind_error_) {
        bind_error_ = sqlite_error(db_, rc, fmt::format("bind parameter {}", index));
    }
    return *this;
}

Result<bool> Statement::step() {
    if (bind_error_) {
        return *bind_error_;
    }
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    return sqlite_error(db_, rc, "sqlite");
}

Result<void> Statement::run() {
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, step());
        if (!row) {
            return {};
        }
    }
}

int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

uint64_t Statement::column_uint64(int column) const {
    return static_cast<uint64_t>(sqlite3_column_int64(stmt_, column));
}

std::string Statement::column_text(int column) const {
    // sqlite3_column_text before sqlite3_column_bytes, as SQLite documents, so the size is that
    // of the UTF-8 form.
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(text), static_cast<size_t>(size)};
}

std::optional<int64_t> Statement::column_optional_int64(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_int64(column);
}

std::optional<std::string> Statement::column_optional_text(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_text(column);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

}  // namespace grove::store
