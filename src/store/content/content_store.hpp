#pragma once

// ContentStore is grove's content-addressed blob store, the local implementation of containerd's
// content store. Vocabulary: a `ref` names an ingest, a write in progress (any caller string,
// e.g. "layer-sha256:ab..."); a `digest` names committed content.
//
// Layout under the root R:
//   R/blobs/sha256/<hex>       committed blobs: immutable, mode 0444
//   R/ingest/<name>/data       the bytes written so far
//   R/ingest/<name>/lock       flock'ed by the ingest's only writer
// where <name> is the first 32 hex digits of sha256(ref), a safe directory name for any ref.
//
// Blobs are published by renaming the verified, fsynced data of an ingest, so no reader ever
// sees a partial blob. All methods are safe to call from several threads and processes at once.
// Only GC removes blobs.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "base/unique_fd.hpp"
#include "content_writer.hpp"

namespace grove::store {

class ContentStore {
public:
    // Creates R/blobs/sha256 and R/ingest if missing, and removes the ingests that no live writer
    // holds: leftovers of a crashed process.
    static Result<ContentStore> open(std::filesystem::path root);

    Result<bool> exists(const base::Digest& digest) const;
    // NotFound if absent.
    Result<uint64_t> size(const base::Digest& digest) const;
    // O_RDONLY; NotFound if absent.
    Result<base::UniqueFd> open_blob(const base::Digest& digest) const;
    // The whole blob, for small ones (manifests, configs); OutOfRange if it exceeds `max_size`.
    Result<std::string> read_blob(const base::Digest& digest, size_t max_size) const;
    std::filesystem::path blob_path(const base::Digest& digest) const;

    // Starts the ingest `ref`, waiting while another writer (thread or process) holds it. Once it
    // is ours: AlreadyExists if `expected` is already committed, which callers treat as done
    // (someone else fetched it). Leftover data of a crashed writer of `ref` is discarded.
    // Unimplemented if `expected` is not sha256.
    Result<ContentWriter> writer(const std::string& ref,
                                 std::optional<base::Digest> expected,
                                 std::optional<uint64_t> expected_size);
    // Stores `data` as one blob, verifying it against `expected` if given (DataLoss on mismatch).
    // Idempotent: an already committed blob is success.
    Result<base::Digest> write_blob(std::string_view data,
                                    std::optional<base::Digest> expected = std::nullopt);

    // For GC only. NotFound if absent.
    Result<void> remove(const base::Digest& digest);
    // Every committed blob, sorted.
    Result<std::vector<base::Digest>> list() const;

private:
    explicit ContentStore(std::filesystem::path root) : root_(std::move(root)) {}
    std::filesystem::path blobs_dir() const { return root_ / "blobs" / "sha256"; }
    std::filesystem::path ingest_root() const { return root_ / "ingest"; }
    Result<void> remove_abandoned_ingests() const;

    std::filesystem::path root_;
};

}  // namespace grove::store
