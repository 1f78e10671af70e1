#pragma once

// TarReader reads the entries of a layer's plain tar stream (from a LayerStream, which
// decompresses and hashes it) with libarchive. It only reads: grove writes every entry itself
// (layer_writer.hpp), relative to the layer's fd.

#include <cstdint>
#include <memory>

#include <grove/result.hpp>

#include "archive/layer_stream.hpp"

struct archive;
struct archive_entry;

namespace grove::archive {

class TarReader {
public:
    // Reads from `stream`, which must outlive the reader. With `detect_compression`, libarchive
    // decompresses what the stream's first bytes say is gzip, bzip2, xz or zstd.
    static Result<TarReader> open(LayerStream& stream, bool detect_compression = false);

    // The next entry, or nullptr at the end of the archive; valid until the next call.
    // Unread data of the previous entry is skipped.
    Result<archive_entry*> next();

    // Writes the current entry's data into `fd` at the offsets the archive gives, so the holes
    // of a sparse entry stay holes, and sets the file size to `size` (the header's). Data past
    // `size` is DataLoss.
    Result<void> copy_data(int fd, uint64_t size);

private:
    struct Free {
        void operator()(struct archive* archive) const;
    };

    TarReader(std::unique_ptr<struct archive, Free> archive, LayerStream& stream)
        : archive_(std::move(archive)), stream_(&stream) {}

    Error archive_error(std::string_view what) const;

    std::unique_ptr<struct archive, Free> archive_;
    LayerStream* stream_;  // not owned
};

}  // namespace grove::archive
