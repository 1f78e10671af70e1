#include "content_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/scope_exit.hpp"

namespace grove::store {

ContentWriter::ContentWriter(std::string ref,
                             Ingest ingest,
                             base::UniqueFd data,
                             std::filesystem::path blobs_dir,
                             std::optional<base::Digest> expected,
                             std::optional<uint64_t> expected_size)
    : ref_(std::move(ref)),
      ingest_(std::move(ingest)),
      data_(std::move(data)),
      blobs_dir_(std::move(blobs_dir)),
      expected_(std::move(expected)),
      expected_size_(expected_size) {}

Result<void> ContentWriter::write(std::span<const std::byte> data) {
    GROVE_TRY(check_open());
    if (expected_size_ && data.size() > *expected_size_ - offset_) {
        return base::make_error(Code::kOutOfRange,
                                "{}: writing {} bytes at offset {} exceeds the expected size {}",
                                describe(), data.size(), offset_, *expected_size_);
    }
    while (!data.empty()) {
        const ssize_t n = ::write(data_.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("{}: write at offset {}", describe(), offset_);
        }
        // Hash what reached the file, so offset() and the digest agree even after a failure.
        hasher_.update(data.first(static_cast<size_t>(n)));
        offset_ += static_cast<uint64_t>(n);
        data = data.subspan(static_cast<size_t>(n));
    }
    return {};
}

Result<base::Digest> ContentWriter::commit() {
    GROVE_TRY(check_open());
    base::ScopeExit finish([this] {
        data_.reset();
        ingest_.remove();
    });
    return verify_and_publish();
}

Result<void> ContentWriter::check_open() const {
    if (!data_.valid()) {
        return base::make_error(Code::kFailedPrecondition, "{} is already committed", describe());
    }
    return {};
}

Result<base::Digest> ContentWriter::verify_and_publish() {
    base::Digest digest = hasher_.finish();
    if ((expected_ && digest != *expected_) || (expected_size_ && offset_ != *expected_size_)) {
        std::string want = expected_size_ ? fmt::format(", want {} bytes", *expected_size_) : "";
        return base::make_error(Code::kDataLoss, "{} failed verification: got {} ({} bytes){}",
                                describe(), digest.str(), offset_, want);
    }
    // Read-only and durable before it gets its name: a committed blob is immutable and whole.
    if (::fchmod(data_.get(), 0444) != 0) {
        return base::last_errno_error("chmod ingest '{}'", ref_);
    }
    if (::fsync(data_.get()) != 0) {
        return base::last_errno_error("fsync ingest '{}'", ref_);
    }
    const std::filesystem::path blob = blobs_dir_ / digest.encoded();
    // NOREPLACE keeps a committed blob untouched when another writer published it first.
    if (::renameat2(AT_FDCWD, ingest_.data_path().c_str(), AT_FDCWD, blob.c_str(),
                    RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) {
            return digest;
        }
        return base::last_errno_error("publish blob '{}'", digest.str());
    }
    GROVE_ASSIGN_OR_RETURN(auto dir,
                           base::UniqueFd::open(blobs_dir_.string(), O_RDONLY | O_DIRECTORY));
    if (::fsync(dir.get()) != 0) {
        return base::last_errno_error("fsync '{}'", blobs_dir_.string());
    }
    return digest;
}

std::string ContentWriter::describe() const {
    if (expected_) {
        return fmt::format("blob '{}'", expected_->str());
    }
    return fmt::format("ingest '{}'", ref_);
}

}  // namespace grove::store
