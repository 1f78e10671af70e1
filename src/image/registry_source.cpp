#include "registry_source.hpp"

#include "base/error.hpp"

namespace grove::image {
namespace {

SourceDocument to_document(registry::FetchedManifest fetched) {
    return SourceDocument{std::move(fetched.bytes), std::move(fetched.media_type),
                          std::move(fetched.digest)};
}

}  // namespace

Result<SourceDocument> RegistrySource::root() {
    GROVE_ASSIGN_OR_RETURN(auto fetched, client_.fetch_manifest(ref_));
    return to_document(std::move(fetched));
}

Result<SourceDocument> RegistrySource::manifest(const oci::Descriptor& descriptor) {
    GROVE_ASSIGN_OR_RETURN(auto fetched, client_.fetch_manifest(ref_, descriptor.digest));
    return to_document(std::move(fetched));
}

}  // namespace grove::image
