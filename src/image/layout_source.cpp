#include "layout_source.hpp"

#include <fcntl.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "oci/manifest.hpp"
#include "verified_stream.hpp"

namespace grove::image {
namespace {

constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";

}  // namespace

Result<std::unique_ptr<LayoutSource>> LayoutSource::open(const std::filesystem::path& dir,
                                                         const std::string& ref) {
    GROVE_ASSIGN_OR_RETURN(base::UniqueFd dir_fd,
                           base::UniqueFd::open(dir.string(), O_RDONLY | O_DIRECTORY));
    GROVE_ASSIGN_OR_RETURN(auto layout_fd,
                           base::UniqueFd::open_at(dir_fd.get(), "oci-layout", O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(auto layout_text, base::read_all(layout_fd.get(), 64 << 10));
    GROVE_ASSIGN_OR_RETURN(auto layout, base::parse_json(layout_text));
    if (layout.value("imageLayoutVersion", "") != "1.0.0") {
        return base::make_error(Code::kUnimplemented, "'{}': unsupported OCI layout version",
                                dir.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto index_fd,
                           base::UniqueFd::open_at(dir_fd.get(), "index.json", O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(auto index_text,
                           base::read_all(index_fd.get(), oci::kMaxManifestSize + 1));
    GROVE_ASSIGN_OR_RETURN(oci::Index index, base::with_context(oci::parse_index(index_text),
                                                                "'{}/index.json'", dir.string()));
    std::vector<const oci::Descriptor*> matches;
    for (const auto& entry : index.manifests) {
        const auto name = entry.annotations.find(std::string(kRefName));
        if (ref.empty() || (name != entry.annotations.end() && name->second == ref)) {
            matches.push_back(&entry);
        }
    }
    if (matches.size() != 1) {
        if (ref.empty()) {
            return base::make_error(Code::kInvalidArgument,
                                    "'{}' holds {} images: name one as oci:{}:<ref>", dir.string(),
                                    index.manifests.size(), dir.string());
        }
        return base::make_error(matches.empty() ? Code::kNotFound : Code::kFailedPrecondition,
                                "'{}' has {} images named '{}'", dir.string(), matches.size(), ref);
    }
    return std::make_unique<LayoutSource>(dir, ref, std::move(dir_fd), *matches.front());
}

std::string LayoutSource::describe() const {
    return "oci:" + dir_.string() + (ref_.empty() ? "" : ":" + ref_);
}

Result<SourceDocument> LayoutSource::document(const oci::Descriptor& descriptor) {
    if (descriptor.size > static_cast<int64_t>(oci::kMaxManifestSize)) {
        return base::make_error(Code::kOutOfRange, "document '{}' of {} bytes is too large",
                                descriptor.digest.str(), descriptor.size);
    }
    std::string bytes;
    GROVE_TRY(blob(descriptor,
                   [&](std::span<const std::byte> chunk) -> Result<void> {
                       bytes.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
                       return {};
                   },
                   {}));
    return SourceDocument{std::move(bytes), descriptor.media_type, descriptor.digest};
}

Result<void> LayoutSource::blob(const oci::Descriptor& descriptor,
                                const BlobSink& sink,
                                const BlobProgress& progress) {
    // The digest was validated as <algorithm>:<lowercase hex>, so this path has no '..' or '/'.
    const std::string path =
        fmt::format("blobs/{}/{}", descriptor.digest.algorithm(), descriptor.digest.encoded());
    GROVE_ASSIGN_OR_RETURN(
        auto fd, base::with_context(base::UniqueFd::open_at(dir_fd_.get(), path, O_RDONLY), "'{}'",
                                    describe()));
    return base::with_context(stream_verified(fd.get(), descriptor, sink, progress), "'{}'",
                              describe());
}

}  // namespace grove::image
