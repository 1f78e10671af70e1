#pragma once

// FileTable records uploaded files (records.hpp), one row per distinct content: uploading bytes
// the table knows already returns the existing row (its uuid unchanged) with updated_ns moved.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "daemon/records.hpp"
#include "store/metadata/database.hpp"

namespace grove::daemon {

class FileTable {
public:
    explicit FileTable(store::Database& db) : db_(db) {}

    // The row of `sha256` (lowercase hex): a new one with a fresh uuid, or the existing one with
    // updated_ns = now_ns.
    Result<FileRecord> put(std::string_view sha256, uint64_t size, int64_t now_ns);
    // NotFound if absent.
    Result<FileRecord> get(std::string_view uuid);
    Result<std::optional<FileRecord>> find_by_sha256(std::string_view sha256);
    // Newest upload first, ties broken by uuid.
    Result<std::vector<FileRecord>> list(const FileFilter& filter);

private:
    store::Database& db_;
};

}  // namespace grove::daemon
