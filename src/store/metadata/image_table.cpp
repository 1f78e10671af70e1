#include "store/metadata/image_table.hpp"

#include <algorithm>
#include <variant>

#include "base/error.hpp"
#include "store/metadata/pin_table.hpp"
#include "store/metadata/session_table.hpp"
#include "store/metadata/tag_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::store {
namespace {

// read_image() expects these columns, in this order.
constexpr std::string_view kSelectImages = R"sql(
    SELECT images.uuid, images.parent, tags.tag, images.kind, images.created_ns,
           images.operation, images.config_json, images.manifest_digest, images.platform,
           images.top_layer, images.size_logical, images.size_physical
    FROM images LEFT JOIN tags ON tags.uuid = images.uuid)sql";

constexpr std::string_view kNewestFirst = " ORDER BY images.created_ns DESC, images.uuid";

// How many candidates an ambiguous prefix error lists.
constexpr size_t kMaxCandidates = 5;

// The exclusive upper bound of the strings starting with `prefix`, for a range scan that uses
// the index (LIKE would not, and would treat '_' in tags as a wildcard). Tags and UUIDs are ASCII
// below 0x7f, so every one starting with `prefix` sorts below prefix + "\x7f".
std::string prefix_end(std::string_view prefix) {
    return std::string(prefix) + '\x7f';
}

Result<ImageRecord> read_image(const Statement& stmt) {
    GROVE_ASSIGN_OR_RETURN(const ImageKind kind, image_kind_from_name(stmt.column_text(3)));
    return ImageRecord{.uuid = stmt.column_text(0),
                       .parent = stmt.column_optional_text(1),
                       .tag = stmt.column_optional_text(2),
                       .kind = kind,
                       .created_ns = stmt.column_int64(4),
                       .operation = stmt.column_text(5),
                       .config_json = stmt.column_text(6),
                       .manifest_digest = stmt.column_optional_text(7),
                       .platform = stmt.column_optional_text(8),
                       .top_layer = stmt.column_optional_int64(9),
                       .size_logical = stmt.column_uint64(10),
                       .size_physical = stmt.column_uint64(11)};
}

Result<std::vector<ImageRecord>> read_images(Statement& stmt) {
    std::vector<ImageRecord> images;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return images;
        }
        GROVE_ASSIGN_OR_RETURN(auto image, read_image(stmt));
        images.push_back(std::move(image));
    }
}

}  // namespace

Result<void> ImageTable::insert(const ImageRecord& image,
                                std::span<const std::string> blob_digests) {
    if (!is_uuid(image.uuid)) {
        return base::make_error(Code::kInvalidArgument, "image id '{}' is not a lowercase UUID",
                                image.uuid);
    }
    if (image.tag) {
        GROVE_TRY(validate_tag(*image.tag));
    }
    auto result = db_.transaction([&]() -> Result<void> {
        GROVE_TRY(check_references(image));
        GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(R"sql(
            INSERT INTO images (uuid, parent, kind, created_ns, operation, config_json,
                                manifest_digest, platform, top_layer, size_logical, size_physical)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql"));
        GROVE_TRY(stmt.bind(1, image.uuid)
                      .bind(2, image.parent)
                      .bind(3, image_kind_name(image.kind))
                      .bind(4, image.created_ns)
                      .bind(5, image.operation)
                      .bind(6, image.config_json)
                      .bind(7, image.manifest_digest)
                      .bind(8, image.platform)
                      .bind(9, image.top_layer)
                      .bind(10, image.size_logical)
                      .bind(11, image.size_physical)
                      .run());
        for (const std::string& digest : blob_digests) {
            GROVE_ASSIGN_OR_RETURN(
                auto blob,
                db_.prepare("INSERT OR IGNORE INTO image_blobs (uuid, digest) VALUES (?1, ?2)"));
            GROVE_TRY(blob.bind(1, image.uuid).bind(2, digest).run());
        }
        if (image.tag) {
            GROVE_TRY(TagTable(db_).set(*image.tag, image.uuid));
        }
        return {};
    });
    return base::with_context(std::move(result), "insert image '{}'", image.uuid);
}

Result<ImageRecord> ImageTable::get(std::string_view uuid) {
    GROVE_ASSIGN_OR_RETURN(auto stmt,
                           db_.prepare(fmt::format("{} WHERE images.uuid = ?1", kSelectImages)));
    GROVE_ASSIGN_OR_RETURN(const bool row,
                           base::with_context(stmt.bind(1, uuid).step(), "get image '{}'", uuid));
    if (!row) {
        return base::make_error(Code::kNotFound, "image '{}' not found", uuid);
    }
    return read_image(stmt);
}

Result<std::optional<ImageRecord>> ImageTable::find_imported(std::string_view manifest_digest,
                                                             std::string_view platform) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare(fmt::format("{} WHERE images.manifest_digest = ?1 AND images.platform = ?2",
                                kSelectImages)));
    GROVE_ASSIGN_OR_RETURN(
        const bool row,
        base::with_context(stmt.bind(1, manifest_digest).bind(2, platform).step(),
                           "find image imported from '{}' for '{}'", manifest_digest, platform));
    if (!row) {
        return std::optional<ImageRecord>();
    }
    GROVE_ASSIGN_OR_RETURN(auto image, read_image(stmt));
    return std::optional<ImageRecord>(std::move(image));
}

Result<std::vector<ImageRecord>> ImageTable::list(const ImageFilter& filter) {
    // Each condition appends its clause and the values of its '?' parameters, in order.
    std::string sql = fmt::format("{} WHERE 1", kSelectImages);
    std::vector<std::variant<int64_t, std::string>> params;
    if (filter.tagged_only) {
        sql += " AND tags.tag IS NOT NULL";
    }
    if (filter.tag_prefix) {
        sql += " AND tags.tag >= ? AND tags.tag < ?";
        params.emplace_back(*filter.tag_prefix);
        params.emplace_back(prefix_end(*filter.tag_prefix));
    }
    if (filter.uuid_prefix) {
        sql += " AND images.uuid >= ? AND images.uuid < ?";
        params.emplace_back(*filter.uuid_prefix);
        params.emplace_back(prefix_end(*filter.uuid_prefix));
    }
    if (filter.kind) {
        sql += " AND images.kind = ?";
        params.emplace_back(std::string(image_kind_name(*filter.kind)));
    }
    if (filter.since_ns) {
        sql += " AND images.created_ns >= ?";
        params.emplace_back(*filter.since_ns);
    }
    if (filter.until_ns) {
        sql += " AND images.created_ns < ?";
        params.emplace_back(*filter.until_ns);
    }
    sql += kNewestFirst;
    sql += " LIMIT ? OFFSET ?";
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(sql));
    int index = 1;
    for (const auto& param : params) {
        std::visit([&](const auto& value) { stmt.bind(index++, value); }, param);
    }
    // SQLite reads a negative LIMIT as "no limit".
    stmt.bind(index++, filter.limit ? static_cast<int64_t>(*filter.limit) : int64_t{-1});
    stmt.bind(index, filter.offset);
    return base::with_context(read_images(stmt), "list images");
}

Result<std::string> ImageTable::resolve(std::string_view ref) {
    if (is_uuid(ref)) {
        GROVE_ASSIGN_OR_RETURN(auto image, get(ref));
        return std::move(image.uuid);
    }
    GROVE_ASSIGN_OR_RETURN(auto tagged, TagTable(db_).get(ref));
    if (tagged) {
        return std::move(*tagged);
    }
    if (!is_uuid_prefix(ref)) {
        return base::make_error(Code::kNotFound, "no image is tagged '{}'", ref);
    }
    if (ref.size() < kMinUuidPrefix) {
        return base::make_error(Code::kNotFound,
                                "no image is tagged '{}' (image id prefixes need {} characters)",
                                ref, kMinUuidPrefix);
    }
    return resolve_prefix(ref);
}

Result<std::vector<ImageRecord>> ImageTable::children(std::string_view uuid) {
    GROVE_TRY(get(uuid));
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format("{} WHERE images.parent = ?1{}",
                                                              kSelectImages, kNewestFirst)));
    stmt.bind(1, uuid);
    return base::with_context(read_images(stmt), "children of image '{}'", uuid);
}

Result<std::vector<ImageRecord>> ImageTable::lineage(std::string_view uuid) {
    GROVE_TRY(get(uuid));
    // Parents exist before their children and images never change, so the walk cannot cycle.
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        WITH RECURSIVE ancestors (uuid, depth) AS (
            SELECT parent, 1 FROM images WHERE uuid = ?1 AND parent IS NOT NULL
            UNION ALL
            SELECT images.parent, ancestors.depth + 1
            FROM images JOIN ancestors ON images.uuid = ancestors.uuid
            WHERE images.parent IS NOT NULL)
        {} JOIN ancestors ON ancestors.uuid = images.uuid ORDER BY ancestors.depth)sql",
                                                              kSelectImages)));
    stmt.bind(1, uuid);
    return base::with_context(read_images(stmt), "lineage of image '{}'", uuid);
}

Result<void> ImageTable::remove(std::string_view uuid, ImageRemoveOptions options) {
    auto result = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const ImageRecord image, get(uuid));
        GROVE_ASSIGN_OR_RETURN(auto count,
                               db_.prepare("SELECT count(*) FROM images WHERE parent = ?1"));
        GROVE_TRY(count.bind(1, uuid).step());
        if (const int64_t children = count.column_int64(0); children > 0) {
            return base::make_error(Code::kFailedPrecondition,
                                    "image has {} child image(s); remove them first", children);
        }
        // A session's history pins its images (session_table.hpp).
        GROVE_ASSIGN_OR_RETURN(const auto session, SessionTable(db_).pinning(uuid));
        if (session) {
            return base::make_error(Code::kFailedPrecondition,
                                    "image is in the history of session '{}'; remove it first",
                                    *session);
        }
        GROVE_ASSIGN_OR_RETURN(const auto holder, PinTable(db_).pinning(uuid));
        if (holder) {
            return base::make_error(Code::kFailedPrecondition,
                                    "image is in use by {}; remove it first", *holder);
        }
        if (image.tag) {
            if (!options.force) {
                return base::make_error(Code::kFailedPrecondition,
                                        "image is tagged '{}'; untag it or force", *image.tag);
            }
            GROVE_TRY(TagTable(db_).remove(*image.tag));
        }
        GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM images WHERE uuid = ?1"));
        return stmt.bind(1, uuid).run();
    });
    return base::with_context(std::move(result), "remove image '{}'", uuid);
}

Result<std::string> ImageTable::resolve_prefix(std::string_view prefix) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare(
            "SELECT uuid FROM images WHERE uuid >= ?1 AND uuid < ?2 ORDER BY uuid LIMIT ?3"));
    stmt.bind(1, prefix).bind(2, prefix_end(prefix)).bind(3, kMaxCandidates + 1);
    std::vector<std::string> matches;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row,
                               base::with_context(stmt.step(), "resolve prefix '{}'", prefix));
        if (!row) {
            break;
        }
        matches.push_back(stmt.column_text(0));
    }
    if (matches.empty()) {
        return base::make_error(Code::kNotFound, "no image is tagged or has an id starting '{}'",
                                prefix);
    }
    if (matches.size() > 1) {
        const bool more = matches.size() > kMaxCandidates;
        matches.resize(std::min(matches.size(), kMaxCandidates));
        return base::make_error(Code::kFailedPrecondition,
                                "image id prefix '{}' is ambiguous: {}{}", prefix,
                                fmt::join(matches, ", "), more ? ", ..." : "");
    }
    return std::move(matches.front());
}

Result<void> ImageTable::check_references(const ImageRecord& image) {
    // Checked here, not left to the foreign keys, because SQLite's error names neither the
    // constraint nor the row.
    if (image.parent) {
        auto parent = get(*image.parent);
        if (!parent) {
            if (parent.error().code() == Code::kNotFound) {
                return base::make_error(Code::kFailedPrecondition,
                                        "parent image '{}' does not exist", *image.parent);
            }
            return std::move(parent).error();
        }
    }
    if (!image.top_layer) {
        return {};
    }
    // The walk stops above the first layer another image has on top: that image's insert checked
    // the rest of the chain, and a ready layer never becomes pending again. A run's image thus
    // checks two layers, however deep its chain.
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(R"sql(
        WITH RECURSIVE chain (id) AS (
            SELECT id FROM layers WHERE id = ?1
            UNION ALL
            SELECT layers.parent FROM layers JOIN chain ON layers.id = chain.id
            WHERE layers.parent IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM images WHERE images.top_layer = layers.parent))
        SELECT layers.id, layers.key, layers.state FROM chain JOIN layers ON layers.id = chain.id)sql"));
    stmt.bind(1, *image.top_layer);
    bool found = false;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            break;
        }
        found = true;
        if (stmt.column_text(2) != "ready") {
            return base::make_error(Code::kFailedPrecondition, "layer {} ('{}') is still pending",
                                    stmt.column_int64(0), stmt.column_text(1));
        }
    }
    if (!found) {
        return base::make_error(Code::kFailedPrecondition, "layer {} does not exist",
                                *image.top_layer);
    }
    return {};
}

}  // namespace grove::store
