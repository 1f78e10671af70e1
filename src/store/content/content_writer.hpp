#pragma once

// ContentWriter streams one blob into an ingest of the content store (see content_store.hpp),
// hashing as it goes, and publishes it under its digest on commit(). It holds the ingest's lock
// from ContentStore::writer() until commit() or destruction; destroying it without a commit
// removes the ingest, so an aborted download leaves nothing behind.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "base/unique_fd.hpp"
#include "ingest.hpp"

namespace grove::store {

class ContentWriter {
public:
    ContentWriter(ContentWriter&&) noexcept = default;
    ContentWriter& operator=(ContentWriter&&) noexcept = default;
    ContentWriter(const ContentWriter&) = delete;
    ContentWriter& operator=(const ContentWriter&) = delete;
    ~ContentWriter() = default;

    // Appends `data` with write(2) straight from the caller's buffer. OutOfRange, writing nothing,
    // if the blob would exceed its expected size.
    Result<void> write(std::span<const std::byte> data);
    Result<void> write(std::string_view data) { return write(std::as_bytes(std::span(data))); }

    // Bytes written so far.
    uint64_t offset() const { return offset_; }

    // Verifies the size and digest if they were expected, makes the data durable and read-only,
    // and renames it to blobs/sha256/<hex>. A mismatch is DataLoss. Finding the digest already
    // committed by another writer counts as success. Whatever the outcome, the ingest is gone
    // afterwards and the writer accepts no more calls (FailedPrecondition).
    Result<base::Digest> commit();

private:
    friend class ContentStore;
    ContentWriter(std::string ref,
                  Ingest ingest,
                  base::UniqueFd data,
                  std::filesystem::path blobs_dir,
                  std::optional<base::Digest> expected,
                  std::optional<uint64_t> expected_size);

    Result<void> check_open() const;
    Result<base::Digest> verify_and_publish();
    // "blob 'sha256:..'" when the digest is known in advance, else "ingest '<ref>'".
    std::string describe() const;

    std::string ref_;
    Ingest ingest_;
    base::UniqueFd data_;  // invalid once committed
    std::filesystem::path blobs_dir_;
    std::optional<base::Digest> expected_;
    std::optional<uint64_t> expected_size_;
    base::Sha256 hasher_;
    uint64_t offset_ = 0;
};

}  // namespace grove::store
