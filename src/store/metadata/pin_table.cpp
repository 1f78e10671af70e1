#include "store/metadata/pin_table.hpp"

#include "base/error.hpp"

namespace grove::store {

Result<void> PinTable::pin(std::string_view holder, std::string_view image) {
    {
        // Reset (destroyed) before the INSERT: a read statement left on its row keeps its read
        // transaction, which the INSERT would then have to upgrade, and SQLite refuses that at
        // once ("database is locked", no busy wait) when another process wrote meanwhile.
        GROVE_ASSIGN_OR_RETURN(auto exists, db_.prepare("SELECT 1 FROM images WHERE uuid = ?1"));
        GROVE_ASSIGN_OR_RETURN(const bool found, exists.bind(1, image).step());
        if (!found) {
            return base::make_error(Code::kNotFound, "image '{}' not found", image);
        }
    }
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare("INSERT OR REPLACE INTO image_pins (holder, image) VALUES (?1, ?2)"));
    return base::with_context(stmt.bind(1, holder).bind(2, image).run(), "pin image '{}'", image);
}

Result<void> PinTable::unpin(std::string_view holder) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM image_pins WHERE holder = ?1"));
    return base::with_context(stmt.bind(1, holder).run(), "unpin '{}'", holder);
}

Result<std::optional<std::string>> PinTable::pinning(std::string_view image) {
    GROVE_ASSIGN_OR_RETURN(auto stmt,
                           db_.prepare("SELECT holder FROM image_pins WHERE image = ?1 LIMIT 1"));
    GROVE_ASSIGN_OR_RETURN(const bool row, stmt.bind(1, image).step());
    return row ? std::optional<std::string>(stmt.column_text(0)) : std::nullopt;
}

Result<std::vector<std::string>> PinTable::holders(std::string_view prefix) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare("SELECT holder FROM image_pins WHERE substr(holder, 1, length(?1)) = ?1"));
    stmt.bind(1, prefix);
    std::vector<std::string> found;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return found;
        }
        found.push_back(stmt.column_text(0));
    }
}

}  // namespace grove::store
