#include "verified_stream.hpp"

#include <cerrno>
#include <unistd.h>
#include <vector>

#include "base/error.hpp"

namespace grove::image {

Result<void> VerifiedStream::write(std::span<const std::byte> chunk) {
    if (done_ + chunk.size() > static_cast<uint64_t>(expected_.size)) {
        return base::make_error(Code::kDataLoss, "blob '{}' is longer than its {} bytes",
                                expected_.digest.str(), expected_.size);
    }
    hasher_.update(chunk);
    done_ += chunk.size();
    return sink_(chunk);
}

Result<void> VerifiedStream::finish() {
    if (done_ != static_cast<uint64_t>(expected_.size)) {
        return base::make_error(Code::kDataLoss, "blob '{}' has {} bytes, want {}",
                                expected_.digest.str(), done_, expected_.size);
    }
    const base::Digest got = hasher_.finish();
    if (got != expected_.digest) {
        return base::make_error(Code::kDataLoss, "blob '{}' failed verification: got '{}'",
                                expected_.digest.str(), got.str());
    }
    return {};
}

Result<void> stream_verified(int fd,
                             const oci::Descriptor& expected,
                             const BlobSink& sink,
                             const BlobProgress& progress) {
    VerifiedStream stream(expected, sink);
    std::vector<std::byte> buf(1 << 20);
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("read blob '{}'", expected.digest.str());
        }
        if (n == 0) {
            break;
        }
        GROVE_TRY(stream.write(std::span(buf.data(), static_cast<size_t>(n))));
        if (progress) {
            progress(stream.done(), static_cast<uint64_t>(expected.size));
        }
    }
    return stream.finish();
}

}  // namespace grove::image
