#include "daemon/files.hpp"

#include <array>

#include "base/error.hpp"
#include "daemon/file_table.hpp"
#include "daemon/wire_time.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::daemon {

Result<std::unique_ptr<Files>> Files::open(const std::filesystem::path& dir, StateDb& state) {
    GROVE_ASSIGN_OR_RETURN(auto content, store::ContentStore::open(dir));
    return std::make_unique<Files>(std::move(content), state);
}

Result<FileRecord> Files::upload(const Reader& read) {
    // A ref of its own per upload: concurrent uploads, even of the same bytes, never wait for
    // each other; the content store publishes identical content once.
    GROVE_ASSIGN_OR_RETURN(
        auto writer, content_.writer("upload-" + store::new_uuid(), std::nullopt, std::nullopt));
    std::array<char, 64 * 1024> buf{};
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const size_t n, read(buf));
        if (n == 0) {
            break;
        }
        GROVE_TRY(writer.write(std::string_view(buf.data(), n)));
    }
    const uint64_t size = writer.offset();
    GROVE_ASSIGN_OR_RETURN(const base::Digest digest, writer.commit());
    const std::string sha256(digest.encoded());
    return state_.with(
        [&](store::Database& db) { return FileTable(db).put(sha256, size, now_ns()); });
}

Result<FileRecord> Files::get(std::string_view uuid) {
    return state_.with([&](store::Database& db) { return FileTable(db).get(uuid); });
}

Result<std::optional<FileRecord>> Files::find_by_sha256(std::string_view sha256) {
    return state_.with([&](store::Database& db) { return FileTable(db).find_by_sha256(sha256); });
}

Result<std::vector<FileRecord>> Files::list(const FileFilter& filter) {
    return state_.with([&](store::Database& db) { return FileTable(db).list(filter); });
}

Result<std::string> Files::read(std::string_view uuid, size_t max_size) {
    GROVE_ASSIGN_OR_RETURN(const FileRecord file, get(uuid));
    GROVE_ASSIGN_OR_RETURN(const auto digest, base::Digest::parse("sha256:" + file.sha256));
    return base::with_context(content_.read_blob(digest, max_size), "file '{}'", uuid);
}

Result<std::filesystem::path> Files::path(std::string_view uuid) {
    GROVE_ASSIGN_OR_RETURN(const FileRecord file, get(uuid));
    GROVE_ASSIGN_OR_RETURN(const auto digest, base::Digest::parse("sha256:" + file.sha256));
    return content_.blob_path(digest);
}

}  // namespace grove::daemon
