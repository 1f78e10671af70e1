#include "daemon/file_table.hpp"

#include <string>

#include "base/error.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::daemon {
namespace {

constexpr std::string_view kSelect = "SELECT uuid, sha256, size, created_ns, updated_ns FROM files";

FileRecord read_file(const store::Statement& stmt) {
    return FileRecord{.uuid = stmt.column_text(0),
                      .sha256 = stmt.column_text(1),
                      .size = stmt.column_uint64(2),
                      .created_ns = stmt.column_int64(3),
                      .updated_ns = stmt.column_int64(4)};
}

Result<std::optional<FileRecord>> read_one(store::Statement& stmt) {
    GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) {
        return std::optional<FileRecord>{};
    }
    return std::optional<FileRecord>(read_file(stmt));
}

bool is_sha256_hex(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

Result<FileRecord> FileTable::put(std::string_view sha256, uint64_t size, int64_t now_ns) {
    if (!is_sha256_hex(sha256)) {
        return base::make_error(Code::kInvalidArgument, "'{}' is not a lowercase sha256", sha256);
    }
    std::optional<FileRecord> record;
    GROVE_TRY(db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(auto insert, db_.prepare(R"sql(
            INSERT INTO files (uuid, sha256, size, created_ns, updated_ns)
            VALUES (?1, ?2, ?3, ?4, ?4)
            ON CONFLICT (sha256) DO UPDATE SET updated_ns = excluded.updated_ns)sql"));
        GROVE_TRY(
            insert.bind(1, store::new_uuid()).bind(2, sha256).bind(3, size).bind(4, now_ns).run());
        GROVE_ASSIGN_OR_RETURN(record, find_by_sha256(sha256));
        return {};
    }));
    if (!record) {
        return base::make_error(Code::kInternal, "file '{}' vanished after its insert", sha256);
    }
    return *std::move(record);
}

Result<FileRecord> FileTable::get(std::string_view uuid) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(std::string(kSelect) + " WHERE uuid = ?1"));
    stmt.bind(1, uuid);
    GROVE_ASSIGN_OR_RETURN(auto record, read_one(stmt));
    if (!record) {
        return base::make_error(Code::kNotFound, "file '{}' not found", uuid);
    }
    return *std::move(record);
}

Result<std::optional<FileRecord>> FileTable::find_by_sha256(std::string_view sha256) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(std::string(kSelect) + " WHERE sha256 = ?1"));
    stmt.bind(1, sha256);
    return read_one(stmt);
}

Result<std::vector<FileRecord>> FileTable::list(const FileFilter& filter) {
    // An unset filter binds NULL, which its condition lets through; LIMIT -1 is "no limit".
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(std::string(kSelect) + R"sql(
        WHERE (?1 IS NULL OR updated_ns >= ?1) AND (?2 IS NULL OR updated_ns < ?2)
        ORDER BY updated_ns DESC, uuid LIMIT ?3 OFFSET ?4)sql"));
    stmt.bind(1, filter.since_ns).bind(2, filter.until_ns);
    stmt.bind(3, filter.limit ? static_cast<int64_t>(*filter.limit) : int64_t{-1});
    stmt.bind(4, static_cast<int64_t>(filter.offset));
    std::vector<FileRecord> files;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return files;
        }
        files.push_back(read_file(stmt));
    }
}

}  // namespace grove::daemon
