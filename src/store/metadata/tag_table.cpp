#include "store/metadata/tag_table.hpp"

#include "base/error.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::store {
namespace {

constexpr size_t kMaxTagLength = 255;

constexpr bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr bool is_separator(char c) {
    return c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
}

}  // namespace

Result<void> validate_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > kMaxTagLength) {
        return base::make_error(Code::kInvalidArgument, "tag '{}' must be 1 to {} characters", tag,
                                kMaxTagLength);
    }
    if (!is_alnum(tag.front())) {
        return base::make_error(Code::kInvalidArgument,
                                "tag '{}' must start with a lowercase letter or a digit", tag);
    }
    for (const char c : tag) {
        if (!is_alnum(c) && !is_separator(c)) {
            return base::make_error(
                Code::kInvalidArgument,
                "tag '{}' may only hold lowercase letters, digits and . _ - / :", tag);
        }
    }
    if (is_uuid(tag)) {
        return base::make_error(Code::kInvalidArgument,
                                "tag '{}' has the form of an image id and would shadow it", tag);
    }
    return {};
}

Result<void> TagTable::set(std::string_view tag, std::string_view uuid) {
    GROVE_TRY(validate_tag(tag));
    auto result = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(auto image, db_.prepare("SELECT 1 FROM images WHERE uuid = ?1"));
        image.bind(1, uuid);
        GROVE_ASSIGN_OR_RETURN(const bool exists, image.step());
        if (!exists) {
            return base::make_error(Code::kNotFound, "image '{}' not found", uuid);
        }
        // At most one tag per image: drop the image's other tag before taking this one.
        GROVE_ASSIGN_OR_RETURN(auto untag,
                               db_.prepare("DELETE FROM tags WHERE uuid = ?1 AND tag <> ?2"));
        GROVE_TRY(untag.bind(1, uuid).bind(2, tag).run());
        GROVE_ASSIGN_OR_RETURN(auto upsert, db_.prepare(R"sql(
            INSERT INTO tags (tag, uuid) VALUES (?1, ?2)
            ON CONFLICT (tag) DO UPDATE SET uuid = excluded.uuid)sql"));
        return upsert.bind(1, tag).bind(2, uuid).run();
    });
    return base::with_context(std::move(result), "tag image '{}' as '{}'", uuid, tag);
}

Result<void> TagTable::remove(std::string_view tag) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM tags WHERE tag = ?1"));
    GROVE_TRY(base::with_context(stmt.bind(1, tag).run(), "remove tag '{}'", tag));
    if (db_.changes() == 0) {
        return base::make_error(Code::kNotFound, "tag '{}' not found", tag);
    }
    return {};
}

Result<std::optional<std::string>> TagTable::get(std::string_view tag) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("SELECT uuid FROM tags WHERE tag = ?1"));
    GROVE_ASSIGN_OR_RETURN(const bool row,
                           base::with_context(stmt.bind(1, tag).step(), "get tag '{}'", tag));
    if (!row) {
        return std::optional<std::string>();
    }
    return std::optional<std::string>(stmt.column_text(0));
}

}  // namespace grove::store
