#pragma once

// gzip Content-Encoding over zlib, incrementally: each flush() returns the compressed bytes of
// its input ending on a byte boundary (Z_SYNC_FLUSH), so a client can decompress everything
// sent so far; finish() returns the rest and the gzip trailer (CRC-32 and size).

#include <memory>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::http {

class GzipEncoder {
public:
    static Result<GzipEncoder> create();
    GzipEncoder(GzipEncoder&&) noexcept;
    GzipEncoder& operator=(GzipEncoder&&) noexcept;
    ~GzipEncoder();

    // Compresses `data` and flushes (Z_SYNC_FLUSH).
    Result<std::string> flush(std::string_view data);
    // Compresses `data`, if any, then ends the stream with the trailer.
    Result<std::string> finish(std::string_view data = {});

private:
    struct State;
    explicit GzipEncoder(std::unique_ptr<State> state);
    Result<std::string> deflate(std::string_view data, int flush_mode);

    std::unique_ptr<State> state_;  // zlib's stream points to itself: it must not move
};

// `data` as one complete gzip member.
Result<std::string> gzip_compress(std::string_view data);

}  // namespace grove::http
