#pragma once

// VerifiedStream checks a blob while it streams: it counts and hashes every chunk on its way to
// the sink and fails as soon as more than the expected size arrives, then finish() checks the
// size and digest. Sources that read local, untrusted files (layouts, archives) use it; the
// registry client verifies by itself.

#include <cstdint>
#include <span>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "image_source.hpp"
#include "oci/descriptor.hpp"

namespace grove::image {

class VerifiedStream {
public:
    VerifiedStream(const oci::Descriptor& expected, const BlobSink& sink)
        : expected_(expected), sink_(sink) {}

    Result<void> write(std::span<const std::byte> chunk);
    Result<void> finish();
    uint64_t done() const { return done_; }

private:
    const oci::Descriptor& expected_;
    const BlobSink& sink_;
    base::Sha256 hasher_;
    uint64_t done_ = 0;
};

// Streams the file `fd` (from its current offset) through a VerifiedStream into `sink`.
Result<void> stream_verified(int fd,
                             const oci::Descriptor& expected,
                             const BlobSink& sink,
                             const BlobProgress& progress);

}  // namespace grove::image
