#pragma once

// RegistrySource imports from an OCI distribution registry through the registry client, which
// handles mirrors, authentication, retries and verification.

#include <string>

#include "image_source.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

namespace grove::image {

class RegistrySource final : public ImageSource {
public:
    // `client` is borrowed and must outlive the source.
    RegistrySource(registry::Client& client, oci::Reference ref)
        : client_(client), ref_(std::move(ref)) {}

    std::string describe() const override { return ref_.to_string(); }
    Result<SourceDocument> root() override;
    Result<SourceDocument> manifest(const oci::Descriptor& descriptor) override;
    Result<void> blob(const oci::Descriptor& descriptor,
                      const BlobSink& sink,
                      const BlobProgress& progress) override {
        return client_.fetch_blob(ref_, descriptor, sink, progress);
    }

private:
    registry::Client& client_;
    oci::Reference ref_;
};

}  // namespace grove::image
