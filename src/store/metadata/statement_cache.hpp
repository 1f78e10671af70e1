#pragma once

// StatementCache keeps one connection's prepared statements by their SQL text, so a statement
// that runs again is not parsed and planned again: preparing one of grove's statements costs
// more than running it (a daemon spawn ran nine of them, ~40% of its SQLite time in the parser
// and the planner). Each cached statement is lent to one Statement at a time, which resets it
// when done; whoever asks for the same text while it is lent prepares a statement of its own.
// The texts are the code's own, so a few dozen at most; past `capacity` nothing more is kept.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3_stmt;

namespace grove::store {

class StatementCache {
public:
    struct Entry {
        sqlite3_stmt* stmt = nullptr;
        bool lent = false;
    };

    explicit StatementCache(size_t capacity) : capacity_(capacity) {}
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;
    // Finalizes every statement: call before closing their connection.
    ~StatementCache();

    // The entry for `sql`, or nullptr if there is none.
    Entry* find(std::string_view sql);
    // Keeps `stmt`, prepared from `sql`, and returns its entry; nullptr (the caller keeps
    // ownership) once the cache is full.
    Entry* insert(std::string_view sql, sqlite3_stmt* stmt);

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view text) const {
            return std::hash<std::string_view>{}(text);
        }
    };

    size_t capacity_;
    // Entries on the heap: a Statement holds its entry's address while the map may rehash.
    std::unordered_map<std::string, std::unique_ptr<Entry>, Hash, std::equal_to<>> entries_;
};

}  // namespace grove::store
