#include "archive/tar_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/error.hpp"

namespace grove::archive {

namespace {

// libarchive's ARCHIVE_ERRNO_FILE_FORMAT on Linux (archive_private.h, not in archive.h).
constexpr int kArchiveFormatErrno = EILSEQ;

// libarchive's read callback: the next chunk of the plain tar from the LayerStream.
la_ssize_t read_stream(struct archive* archive, void* client, const void** buffer) {
    auto* stream = static_cast<LayerStream*>(client);
    auto chunk = stream->read();
    if (!chunk) {
        archive_set_error(archive, EIO, "%s", chunk.error().message().c_str());
        return -1;
    }
    *buffer = chunk->data();
    return static_cast<la_ssize_t>(chunk->size());
}

}  // namespace

void TarReader::Free::operator()(struct archive* archive) const {
    archive_read_free(archive);
}

Error TarReader::archive_error(std::string_view what) const {
    if (stream_->last_error()) {  // the stream's own error says more than libarchive's copy
        return Error(*stream_->last_error()).add_context(what);
    }
    const int err = archive_errno(archive_.get());
    const char* text = archive_error_string(archive_.get());
    const std::string message = fmt::format("{}: {}", what, text != nullptr ? text : "unknown");
    // A real errno comes from reading the fd; libarchive's own codes (ARCHIVE_ERRNO_MISC = -1,
    // ARCHIVE_ERRNO_FILE_FORMAT) mean the stream itself is corrupt or truncated.
    if (err > 0 && err != kArchiveFormatErrno) {
        return Error(base::code_from_errno(err), message, err);
    }
    return Error(Code::kDataLoss, message);
}

Result<TarReader> TarReader::open(LayerStream& stream, bool detect_compression) {
    std::unique_ptr<struct archive, Free> archive(archive_read_new());
    if (!archive) {
        return base::make_error(Code::kResourceExhausted, "allocate a tar reader");
    }
    TarReader reader(std::move(archive), stream);
    struct archive* a = reader.archive_.get();
    // Only the tar format, and no filter unless asked: a layer's LayerStream has decompressed
    // the data already.
    if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
        return reader.archive_error("set up the tar reader");
    }
    if (detect_compression) {
        for (const auto support :
             {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
              archive_read_support_filter_xz, archive_read_support_filter_zstd}) {
            // ARCHIVE_WARN would mean an external program for that codec: not for untrusted data.
            if (support(a) != ARCHIVE_OK) {
                return reader.archive_error("set up the tar reader's decompression");
            }
        }
    }
    if (archive_read_open(a, &stream, nullptr, read_stream, nullptr) != ARCHIVE_OK) {
        return reader.archive_error("open the layer stream");
    }
    return reader;
}

Result<archive_entry*> TarReader::next() {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(archive_.get(), &entry);
    // ARCHIVE_WARN reports names that do not convert to the current locale; the bytes are kept
    // as they are, which is what the filesystem wants.
    if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        return entry;
    }
    if (rc == ARCHIVE_EOF) {
        return nullptr;
    }
    return archive_error("read layer tar");
}

Result<void> TarReader::copy_data(int fd, uint64_t size) {
    uint64_t end = 0;
    while (true) {
        const void* block = nullptr;
        size_t length = 0;
        la_int64_t offset = 0;
        const int rc = archive_read_data_block(archive_.get(), &block, &length, &offset);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            return archive_error("read entry data");
        }
        if (offset < 0 || static_cast<uint64_t>(offset) > size ||
            length > size - static_cast<uint64_t>(offset)) {
            return base::make_error(Code::kDataLoss, "entry data goes past its size {}", size);
        }
        const char* data = static_cast<const char*>(block);
        while (length > 0) {
            const ssize_t n = ::pwrite(fd, data, length, offset);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return base::last_errno_error("write entry data");
            }
            data += n;
            length -= static_cast<size_t>(n);
            offset += n;
        }
        end = std::max(end, static_cast<uint64_t>(offset));
    }
    // A sparse entry may end in a hole, which no block covers.
    if (end < size && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        return base::last_errno_error("extend entry to {} bytes", size);
    }
    return {};
}

}  // namespace grove::archive
