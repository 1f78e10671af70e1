#include "synthetic_source.hpp"

#include <cerrno>
#include <unistd.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "oci/media_types.hpp"
#include "verified_stream.hpp"

namespace grove::image {
namespace {

// Calls `fn` with each chunk of the file `fd`, from offset 0 to its end. pread leaves the file
// offset alone, so concurrent readers of one fd do not disturb each other.
template <typename F>
Result<void> for_each_chunk(int fd, F&& fn) {
    std::vector<std::byte> buf(1 << 20);
    for (off_t offset = 0;;) {
        const ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("read blob file");
        }
        if (n == 0) {
            return {};
        }
        GROVE_TRY(fn(std::span<const std::byte>(buf.data(), static_cast<size_t>(n))));
        offset += n;
    }
}

}  // namespace

Result<oci::Descriptor> SyntheticSource::add_blob_file(base::UniqueFd fd, std::string media_type) {
    base::Sha256 hasher;
    int64_t size = 0;
    GROVE_TRY(for_each_chunk(fd.get(), [&](std::span<const std::byte> chunk) -> Result<void> {
        hasher.update(chunk);
        size += static_cast<int64_t>(chunk.size());
        return {};
    }));
    oci::Descriptor descriptor{std::move(media_type), hasher.finish(), size, std::nullopt, {}};
    // A file listed twice (docker save repeats identical layers) is served from the first fd.
    blobs_.try_emplace(descriptor.digest, std::move(fd));
    return descriptor;
}

oci::Descriptor SyntheticSource::add_blob_bytes(std::string bytes, std::string media_type) {
    oci::Descriptor descriptor{std::move(media_type),
                               base::Digest::sha256_of(bytes),
                               static_cast<int64_t>(bytes.size()),
                               std::nullopt,
                               {}};
    blobs_.try_emplace(descriptor.digest, Blob(std::move(bytes)));
    return descriptor;
}

void SyntheticSource::set_manifest(const oci::Descriptor& config,
                                   const std::vector<oci::Descriptor>& layers) {
    base::Json layer_list = base::Json::array();
    for (const auto& layer : layers) {
        layer_list.push_back(layer.to_json());
    }
    // nlohmann's objects keep their keys sorted, so dump() is deterministic.
    const base::Json manifest = {{"schemaVersion", 2},
                                 {"mediaType", std::string(oci::media_type::kOciManifest)},
                                 {"config", config.to_json()},
                                 {"layers", std::move(layer_list)}};
    std::string bytes = manifest.dump();
    base::Digest digest = base::Digest::sha256_of(bytes);
    root_ = SourceDocument{std::move(bytes), std::string(oci::media_type::kOciManifest),
                           std::move(digest)};
}

Result<SourceDocument> SyntheticSource::root() {
    if (!root_) {
        return base::make_error(Code::kFailedPrecondition, "'{}' has no manifest", description_);
    }
    return *root_;
}

Result<SourceDocument> SyntheticSource::manifest(const oci::Descriptor& descriptor) {
    if (!root_ || descriptor.digest != root_->digest) {
        return base::make_error(Code::kNotFound, "'{}' has no manifest '{}'", description_,
                                descriptor.digest.str());
    }
    return *root_;
}

Result<void> SyntheticSource::blob(const oci::Descriptor& descriptor,
                                   const BlobSink& sink,
                                   const BlobProgress& progress) {
    const auto it = blobs_.find(descriptor.digest);
    if (it == blobs_.end()) {
        return base::make_error(Code::kNotFound, "'{}' has no blob '{}'", description_,
                                descriptor.digest.str());
    }
    VerifiedStream stream(descriptor, sink);
    if (const auto* bytes = std::get_if<std::string>(&it->second)) {
        GROVE_TRY(stream.write(std::as_bytes(std::span(*bytes))));
    } else {
        const int fd = std::get<base::UniqueFd>(it->second).get();
        GROVE_TRY(base::with_context(
            for_each_chunk(fd,
                           [&](std::span<const std::byte> chunk) -> Result<void> {
                               GROVE_TRY(stream.write(chunk));
                               if (progress) {
                                   progress(stream.done(), static_cast<uint64_t>(descriptor.size));
                               }
                               return {};
                           }),
            "'{}'", description_));
    }
    return base::with_context(stream.finish(), "'{}'", description_);
}

}  // namespace grove::image
