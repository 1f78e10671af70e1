#include "archive/layer_stream.hpp"

#include <cerrno>
#include <unistd.h>
#include <vector>
#include <zlib.h>
#include <zstd.h>

#include "base/error.hpp"

namespace grove::archive {
namespace {

constexpr size_t kBufferSize = 1 << 20;

}  // namespace

struct LayerStream::State {
    State(int fd_in, Compression compression_in) : fd(fd_in), compression(compression_in) {}
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {
        if (zlib_ready) {
            inflateEnd(&zlib);
        }
        ZSTD_freeDCtx(zstd);
    }

    int fd;
    Compression compression;
    std::vector<std::byte> in = std::vector<std::byte>(kBufferSize);
    std::vector<std::byte> out = std::vector<std::byte>(kBufferSize);
    size_t in_pos = 0;
    size_t in_len = 0;
    bool input_eof = false;
    // Whether the compressed data seen so far ends at a member/frame boundary.
    bool at_boundary = true;
    bool done = false;
    z_stream zlib{};
    bool zlib_ready = false;
    ZSTD_DCtx* zstd = nullptr;
    base::Sha256 hasher;
};

LayerStream::LayerStream(std::unique_ptr<State> state) : state_(std::move(state)) {}
LayerStream::LayerStream(LayerStream&&) noexcept = default;
LayerStream& LayerStream::operator=(LayerStream&&) noexcept = default;
LayerStream::~LayerStream() = default;

Result<LayerStream> LayerStream::open(int fd, Compression compression) {
    auto state = std::make_unique<State>(fd, compression);
    if (compression == Compression::kGzip) {
        // 16 + MAX_WBITS: a gzip wrapper, not raw deflate or zlib.
        if (inflateInit2(&state->zlib, 16 + MAX_WBITS) != Z_OK) {
            return base::make_error(Code::kResourceExhausted, "set up gzip decompression");
        }
        state->zlib_ready = true;
    } else if (compression == Compression::kZstd) {
        state->zstd = ZSTD_createDCtx();
        if (state->zstd == nullptr) {
            return base::make_error(Code::kResourceExhausted, "set up zstd decompression");
        }
    }
    return LayerStream(std::move(state));
}

Result<size_t> LayerStream::fill_input() {
    State& s = *state_;
    for (;;) {
        const ssize_t n = ::read(s.fd, s.in.data(), s.in.size());
        if (n >= 0) {
            s.in_pos = 0;
            s.in_len = static_cast<size_t>(n);
            s.input_eof = n == 0;
            return s.in_len;
        }
        if (errno != EINTR) {
            return base::last_errno_error("read layer stream");
        }
    }
}

Result<std::span<const std::byte>> LayerStream::read() {
    if (state_->done) {
        return std::span<const std::byte>{};
    }
    Result<std::span<const std::byte>> chunk = std::span<const std::byte>{};
    switch (state_->compression) {
        case Compression::kNone:
            chunk = read_plain();
            break;
        case Compression::kGzip:
            chunk = read_gzip();
            break;
        case Compression::kZstd:
            chunk = read_zstd();
            break;
    }
    if (!chunk) {
        last_error_ = chunk.error();
        return chunk;
    }
    if (chunk->empty()) {
        state_->done = true;
    }
    state_->hasher.update(*chunk);
    return chunk;
}

Result<std::span<const std::byte>> LayerStream::read_plain() {
    State& s = *state_;
    GROVE_ASSIGN_OR_RETURN(const size_t n, fill_input());
    return std::span<const std::byte>(s.in.data(), n);
}

Result<bool> LayerStream::input_ended(std::string_view codec) {
    State& s = *state_;
    if (s.in_pos == s.in_len && !s.input_eof) {
        GROVE_TRY(fill_input());
    }
    if (s.in_pos < s.in_len || !s.input_eof) {
        return false;
    }
    if (!s.at_boundary) {
        return base::make_error(Code::kDataLoss, "truncated {} stream", codec);
    }
    return true;
}

Result<std::span<const std::byte>> LayerStream::read_gzip() {
    State& s = *state_;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool ended, input_ended("gzip"));
        if (ended) {
            return std::span<const std::byte>{};
        }
        if (s.at_boundary && inflateReset(&s.zlib) != Z_OK) {  // a new gzip member starts
            return base::make_error(Code::kInternal, "reset gzip decompression");
        }
        s.at_boundary = false;
        s.zlib.next_in = reinterpret_cast<Bytef*>(s.in.data() + s.in_pos);
        s.zlib.avail_in = static_cast<uInt>(s.in_len - s.in_pos);
        s.zlib.next_out = reinterpret_cast<Bytef*>(s.out.data());
        s.zlib.avail_out = static_cast<uInt>(s.out.size());
        const int rc = inflate(&s.zlib, Z_NO_FLUSH);
        s.in_pos = s.in_len - s.zlib.avail_in;
        if (rc == Z_STREAM_END) {
            s.at_boundary = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return base::make_error(Code::kDataLoss, "corrupt gzip stream: {}",
                                    s.zlib.msg != nullptr ? s.zlib.msg : "inflate failed");
        }
        const size_t produced = s.out.size() - s.zlib.avail_out;
        if (produced > 0) {
            return std::span<const std::byte>(s.out.data(), produced);
        }
    }
}

Result<std::span<const std::byte>> LayerStream::read_zstd() {
    State& s = *state_;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool ended, input_ended("zstd"));
        if (ended) {
            return std::span<const std::byte>{};
        }
        ZSTD_inBuffer input{s.in.data(), s.in_len, s.in_pos};
        ZSTD_outBuffer output{s.out.data(), s.out.size(), 0};
        const size_t rc = ZSTD_decompressStream(s.zstd, &output, &input);
        if (ZSTD_isError(rc) != 0) {
            return base::make_error(Code::kDataLoss, "corrupt zstd stream: {}",
                                    ZSTD_getErrorName(rc));
        }
        s.in_pos = input.pos;
        s.at_boundary = rc == 0;  // 0: a frame is complete and flushed
        if (output.pos > 0) {
            return std::span<const std::byte>(s.out.data(), output.pos);
        }
    }
}

Result<base::Digest> LayerStream::finish() {
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const auto chunk, read());
        if (chunk.empty()) {
            return state_->hasher.finish();
        }
    }
}

}  // namespace grove::archive
