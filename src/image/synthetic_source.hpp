#pragma once

// SyntheticSource serves an image grove assembles itself instead of reading it whole from a
// registry or a layout: a docker-archive's manifest.json or a root filesystem becomes an OCI
// manifest (and for a rootfs a config) built in memory, over blob files on disk. It computes
// every digest itself when a blob is added, and still verifies each blob while serving it, as
// the files (a user's tarball) may change in between.
//
// The manifest JSON is generated deterministically (sorted keys, no timestamps), so the same
// input gives the same manifest digest and importing it again is a no-op.

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "image_source.hpp"

namespace grove::image {

class SyntheticSource final : public ImageSource {
public:
    // `scratch`, when set, holds blob files (extracted or generated ones) and is removed with the
    // source, after their fds are closed.
    SyntheticSource(std::string description, std::optional<base::TempDir> scratch)
        : description_(std::move(description)), scratch_(std::move(scratch)) {}

    // Serves the regular file `fd` as a blob of `media_type`; it is hashed now and read with
    // pread (from offset 0) when served, so several threads can stream it at once.
    Result<oci::Descriptor> add_blob_file(base::UniqueFd fd, std::string media_type);
    // Serves `bytes` (a config) as a blob of `media_type`.
    oci::Descriptor add_blob_bytes(std::string bytes, std::string media_type);
    // Builds the OCI manifest over `config` and `layers` (blobs added before), and makes it the
    // root document.
    void set_manifest(const oci::Descriptor& config, const std::vector<oci::Descriptor>& layers);

    std::string describe() const override { return description_; }
    Result<SourceDocument> root() override;
    Result<SourceDocument> manifest(const oci::Descriptor& descriptor) override;
    Result<void> blob(const oci::Descriptor& descriptor,
                      const BlobSink& sink,
                      const BlobProgress& progress) override;

private:
    // A document held in memory, or a file read with pread.
    using Blob = std::variant<std::string, base::UniqueFd>;

    std::string description_;
    std::optional<base::TempDir> scratch_;  // declared before blobs_: outlives their fds
    std::map<base::Digest, Blob> blobs_;
    std::optional<SourceDocument> root_;
};

}  // namespace grove::image
