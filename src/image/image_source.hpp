#pragma once

// ImageSource is where an import reads an image from: a registry, an OCI layout directory, an
// archive. It hands out the documents and blobs the image is made of; the importer decides what
// to fetch, verifies, stores and unpacks. Every implementation verifies what it returns against
// the digests that name it, as sources are untrusted.

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "oci/descriptor.hpp"

namespace grove::image {

struct SourceDocument {
    std::string bytes;
    std::string media_type;  // as the source declared it; may be empty or generic
    base::Digest digest;     // sha256 of bytes
};

using BlobSink = std::function<Result<void>(std::span<const std::byte>)>;
using BlobProgress = std::function<void(uint64_t done, uint64_t total)>;

class ImageSource {
public:
    virtual ~ImageSource() = default;

    // "docker.io/library/busybox:latest", "oci:/dir:tag": for messages and image records.
    virtual std::string describe() const = 0;
    // The document the source's reference names: a manifest or an index.
    virtual Result<SourceDocument> root() = 0;
    // A manifest named by an index entry.
    virtual Result<SourceDocument> manifest(const oci::Descriptor& descriptor) = 0;
    // Streams a blob into `sink`, chunk by chunk, failing with DataLoss unless exactly
    // descriptor.size bytes with descriptor.digest arrive. Called from several threads at once.
    virtual Result<void> blob(const oci::Descriptor& descriptor,
                              const BlobSink& sink,
                              const BlobProgress& progress) = 0;
};

}  // namespace grove::image
