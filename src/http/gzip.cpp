#include "http/gzip.hpp"

#include <zlib.h>

#include "base/error.hpp"

namespace grove::http {

struct GzipEncoder::State {
    z_stream stream{};
    bool finished = false;
    ~State() { deflateEnd(&stream); }
};

GzipEncoder::GzipEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
GzipEncoder::GzipEncoder(GzipEncoder&&) noexcept = default;
GzipEncoder& GzipEncoder::operator=(GzipEncoder&&) noexcept = default;
GzipEncoder::~GzipEncoder() = default;

Result<GzipEncoder> GzipEncoder::create() {
    auto state = std::make_unique<State>();
    // windowBits 15 + 16: a gzip header and trailer instead of zlib's; level 6 is zlib's default
    // trade-off; memLevel 8 is its default too.
    const int rc = deflateInit2(&state->stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        // deflateEnd on a stream whose init failed is harmless (Z_STREAM_ERROR).
        return base::make_error(Code::kInternal, "deflateInit2: zlib error {}", rc);
    }
    return GzipEncoder(std::move(state));
}

Result<std::string> GzipEncoder::deflate(std::string_view data, int flush_mode) {
    if (state_->finished) {
        return Error(Code::kFailedPrecondition, "gzip stream already finished");
    }
    // zlib takes at most 4 GiB (uInt) per call: larger inputs go in pieces, with the flush mode
    // applied to the last one only.
    constexpr size_t kMaxPiece = size_t{1} << 30;
    z_stream& zs = state_->stream;
    std::string out;
    char buffer[16384];
    for (;;) {
        const std::string_view piece = data.substr(0, kMaxPiece);
        data.remove_prefix(piece.size());
        const int mode = data.empty() ? flush_mode : Z_NO_FLUSH;
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));  // NOLINT: zlib
        zs.avail_in = static_cast<uInt>(piece.size());
        for (;;) {
            zs.next_out = reinterpret_cast<Bytef*>(buffer);  // NOLINT: zlib API
            zs.avail_out = sizeof(buffer);
            const int rc = ::deflate(&zs, mode);
            if (rc == Z_STREAM_ERROR) {
                return Error(Code::kInternal, "deflate: zlib stream error");
            }
            out.append(buffer, sizeof(buffer) - zs.avail_out);
            if (rc == Z_STREAM_END) {
                state_->finished = true;
                break;
            }
            // Done when deflate had output room left: all input taken and the flush complete.
            if (zs.avail_out != 0 && zs.avail_in == 0) {
                break;
            }
        }
        if (data.empty() || state_->finished) {
            break;
        }
    }
    zs.next_in = nullptr;
    zs.avail_in = 0;
    return out;
}

Result<std::string> GzipEncoder::flush(std::string_view data) {
    return deflate(data, Z_SYNC_FLUSH);
}

Result<std::string> GzipEncoder::finish(std::string_view data) {
    return deflate(data, Z_FINISH);
}

Result<std::string> gzip_compress(std::string_view data) {
    GROVE_ASSIGN_OR_RETURN(GzipEncoder encoder, GzipEncoder::create());
    return encoder.finish(data);
}

}  // namespace grove::http
