#include "store/metadata/statement_cache.hpp"

#include <sqlite3.h>

namespace grove::store {

StatementCache::~StatementCache() {
    for (const auto& [sql, entry] : entries_) {
        sqlite3_finalize(entry->stmt);
    }
}

StatementCache::Entry* StatementCache::find(std::string_view sql) {
    const auto it = entries_.find(sql);
    return it == entries_.end() ? nullptr : it->second.get();
}

StatementCache::Entry* StatementCache::insert(std::string_view sql, sqlite3_stmt* stmt) {
    if (entries_.size() >= capacity_) {
        return nullptr;
    }
    auto [it, inserted] =
        entries_.emplace(std::string(sql), std::make_unique<Entry>(Entry{.stmt = stmt}));
    return inserted ? it->second.get() : nullptr;
}

}  // namespace grove::store
