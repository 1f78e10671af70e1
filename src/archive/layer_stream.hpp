#pragma once

// LayerStream turns a layer blob (a tar, optionally gzip or zstd compressed) into the plain tar
// stream, chunk by chunk, and hashes every byte of it on the way: the result is the layer's
// diff_id (OCI image spec), which the image config commits to. Decompressing here rather than in
// libarchive is what makes the diff_id available without a second pass over the data.
//
// finish() reads the stream to its very end (a tar's zero padding counts towards the diff_id),
// requires the compressed stream to end cleanly (a truncated gzip or zstd stream is DataLoss),
// and returns the diff_id.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <grove/result.hpp>

#include "archive/compression.hpp"
#include "base/digest.hpp"

namespace grove::archive {

class LayerStream {
public:
    LayerStream(LayerStream&&) noexcept;
    LayerStream& operator=(LayerStream&&) noexcept;
    ~LayerStream();

    // Reads `fd` (borrowed, read sequentially).
    static Result<LayerStream> open(int fd, Compression compression);

    // The next chunk of the plain tar, valid until the next call; empty at the end.
    Result<std::span<const std::byte>> read();
    // Drains the rest and returns the sha256 of the whole plain stream.
    Result<base::Digest> finish();

    // The error of the last failed read(): libarchive's callback can only say "failed", so the
    // reader asks here for the real one.
    const std::optional<Error>& last_error() const { return last_error_; }
    void set_last_error(Error error) { last_error_ = std::move(error); }

private:
    struct State;
    explicit LayerStream(std::unique_ptr<State> state);

    Result<size_t> fill_input();
    // Refills the input when it is used up; true once it is exhausted, which must happen at a
    // gzip member or zstd frame boundary (DataLoss "truncated <codec> stream" otherwise).
    Result<bool> input_ended(std::string_view codec);
    Result<std::span<const std::byte>> read_plain();
    Result<std::span<const std::byte>> read_gzip();
    Result<std::span<const std::byte>> read_zstd();

    std::unique_ptr<State> state_;  // heap: zlib's z_stream must not move once initialised
    std::optional<Error> last_error_;
};

}  // namespace grove::archive
