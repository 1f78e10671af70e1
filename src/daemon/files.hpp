#pragma once

// Files is the upload store behind ConTree's /v1/files: bytes a client sends once and runs then
// place in their sandboxes by uuid. Content-addressed: the bytes go to a content store as they
// arrive, hashed on the way, and uploading the same bytes again returns the same file (same
// uuid), so clients can probe by sha256 and skip uploads.
//
// The bytes live in a content store of their own (<root>/files/blobs/sha256/<hex>), not in the
// image store's: that one's GC deletes every blob no image references, and no image references an
// upload. The rows are in the daemon's state (FileTable).

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "daemon/records.hpp"
#include "daemon/state_db.hpp"
#include "store/content/content_store.hpp"

namespace grove::daemon {

class Files {
public:
    // Reads the next bytes of an upload into the buffer; 0 at the end.
    using Reader = std::function<Result<size_t>(std::span<char>)>;

    // `dir` holds the content (created if missing); `state` must outlive the Files.
    static Result<std::unique_ptr<Files>> open(const std::filesystem::path& dir, StateDb& state);
    Files(store::ContentStore content, StateDb& state)
        : content_(std::move(content)), state_(state) {}

    // Stores everything `read` returns as one file.
    Result<FileRecord> upload(const Reader& read);
    // NotFound if there is no file `uuid`.
    Result<FileRecord> get(std::string_view uuid);
    Result<std::optional<FileRecord>> find_by_sha256(std::string_view sha256);
    Result<std::vector<FileRecord>> list(const FileFilter& filter);
    // The bytes of file `uuid`; OutOfRange if it is larger than `max_size`.
    Result<std::string> read(std::string_view uuid, size_t max_size);
    // Where file `uuid`'s bytes are, for a reader that wants them in place (an import of an
    // uploaded archive); read-only, like every blob.
    Result<std::filesystem::path> path(std::string_view uuid);

private:
    store::ContentStore content_;
    StateDb& state_;
};

}  // namespace grove::daemon
