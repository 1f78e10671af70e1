#pragma once

// LayoutSource imports from an OCI image layout directory (index.json + blobs/<alg>/<hex>), as
// `oci:<dir>[:<ref>]` names it. The ref selects the index.json entry whose
// org.opencontainers.image.ref.name annotation equals it; without a ref the layout must hold
// exactly one entry. Everything read is verified against its descriptor.

#include <filesystem>
#include <memory>
#include <string>

#include "base/unique_fd.hpp"
#include "image_source.hpp"

namespace grove::image {

class LayoutSource final : public ImageSource {
public:
    static Result<std::unique_ptr<LayoutSource>> open(const std::filesystem::path& dir,
                                                      const std::string& ref);
    // Use open(): it validates the layout and selects `root`.
    LayoutSource(std::filesystem::path dir,
                 std::string ref,
                 base::UniqueFd dir_fd,
                 oci::Descriptor root)
        : dir_(std::move(dir)),
          ref_(std::move(ref)),
          dir_fd_(std::move(dir_fd)),
          root_(std::move(root)) {}

    std::string describe() const override;
    Result<SourceDocument> root() override { return document(root_); }
    Result<SourceDocument> manifest(const oci::Descriptor& descriptor) override {
        return document(descriptor);
    }
    Result<void> blob(const oci::Descriptor& descriptor,
                      const BlobSink& sink,
                      const BlobProgress& progress) override;

private:
    Result<SourceDocument> document(const oci::Descriptor& descriptor);

    std::filesystem::path dir_;
    std::string ref_;
    base::UniqueFd dir_fd_;
    oci::Descriptor root_;
};

}  // namespace grove::image
