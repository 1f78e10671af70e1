#include "archive/gzip.hpp"

#include <string_view>
#include <unistd.h>
#include <vector>
#include <zlib.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::archive {
namespace {

constexpr size_t kChunk = 256 << 10;
// zlib's windowBits for a gzip wrapper instead of zlib's own.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kMemLevel = 8;

struct Deflate {
    z_stream stream{};
    bool ready = false;
    ~Deflate() {
        if (ready) {
            deflateEnd(&stream);
        }
    }
};

}  // namespace

Result<uint64_t> gzip_fd(int in_fd, int out_fd) {
    Deflate deflate;
    if (deflateInit2(&deflate.stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kMemLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return base::make_error(Code::kResourceExhausted, "deflateInit2 failed");
    }
    deflate.ready = true;
    std::vector<unsigned char> in(kChunk);
    std::vector<unsigned char> out(kChunk);
    uint64_t written = 0;
    for (int flush = Z_NO_FLUSH; flush != Z_FINISH;) {
        const ssize_t n = ::read(in_fd, in.data(), in.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("read gzip input");
        }
        flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
        deflate.stream.next_in = in.data();
        deflate.stream.avail_in = static_cast<uInt>(n);
        do {
            deflate.stream.next_out = out.data();
            deflate.stream.avail_out = static_cast<uInt>(out.size());
            if (const int rc = ::deflate(&deflate.stream, flush); rc == Z_STREAM_ERROR) {
                return base::make_error(Code::kInternal, "deflate failed: {}", rc);
            }
            const size_t produced = out.size() - deflate.stream.avail_out;
            GROVE_TRY(base::write_all(
                out_fd, std::string_view(reinterpret_cast<const char*>(out.data()), produced)));
            written += produced;
        } while (deflate.stream.avail_out == 0);
    }
    return written;
}

}  // namespace grove::archive
