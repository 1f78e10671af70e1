#pragma once

// Sources that read an image from a single archive file, extracted first into a private
// temporary directory (archive_extract.hpp) that lives as long as the source:
//
// - `oci-archive:<file>[:<ref>]`: a tar of an OCI layout (what `skopeo copy ... oci-archive:`
//   writes), served by LayoutSource; `ref` selects the index entry as for `oci:`.
// - `docker-archive:<file>[:<repo:tag>]`: a `docker save` tar. When it holds an OCI layout
//   (Docker 25 and later write one next to manifest.json), that layout is served as it is and
//   `ref` matches the entry's io.containerd.image.name (compared as normalised references) or
//   its org.opencontainers.image.ref.name. Otherwise the manifest.json entry whose RepoTags holds
//   `ref` (or the only entry) becomes a synthesised OCI manifest: the config file as the config
//   blob, and each Layers file as a layer blob typed by its magic bytes. Identical archives give
//   identical manifests, so importing one again is a no-op.
//
// Names in manifest.json are resolved beneath the extracted directory (open_beneath): '..',
// absolute names and symlinks leading out are InvalidArgument.

#include <filesystem>
#include <memory>
#include <string>

#include <grove/result.hpp>

#include "image_source.hpp"

namespace grove::image {

// `scratch` receives the extracted archive ($TMPDIR when empty); put it on the store's
// filesystem to avoid filling a small /tmp.
Result<std::unique_ptr<ImageSource>> open_oci_archive(const std::filesystem::path& file,
                                                      const std::string& ref,
                                                      const std::filesystem::path& scratch);

Result<std::unique_ptr<ImageSource>> open_docker_archive(const std::filesystem::path& file,
                                                         const std::string& ref,
                                                         const std::filesystem::path& scratch);

}  // namespace grove::image
