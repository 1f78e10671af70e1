#pragma once

// Where an import reads from, in the CLI's syntax (skopeo's transport names):
//
//   oci:<dir>[:<ref>]                    an OCI layout directory (LayoutSource)
//   oci-archive:<file>[:<ref>]           a tar of an OCI layout (archive_sources.hpp)
//   docker-archive:<file>[:<repo:tag>]   a `docker save` tar (archive_sources.hpp)
//   rootfs:<dir or tarball>              a plain root filesystem (rootfs_source.hpp)
//   anything else                        a registry reference: "busybox", "docker://busybox",
//                                        "host:5000/team/app:1"; a prefix that is none of the
//                                        transports above is part of the reference, as
//                                        "host:5000" is
//
// Paths may contain ':', so the filesystem decides where the path ends: it is the longest
// prefix of the text after the transport that ends at a ':' (or at the very end) and exists, and
// the text after that ':' is the ref. "x.tar:busybox:latest" is the file "x.tar" with the ref
// "busybox:latest", unless "x.tar:busybox" exists too, which the longer prefix wins. rootfs takes
// no ref: all of its text is the path. When no prefix exists the spec is NotFound.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "image_source.hpp"
#include "oci/reference.hpp"

namespace grove::image {

enum class Transport { kRegistry, kOci, kOciArchive, kDockerArchive, kRootfs };

struct SourceSpec {
    Transport transport = Transport::kRegistry;
    std::filesystem::path path;               // empty for kRegistry
    std::string ref;                          // after the path; empty when absent
    std::optional<oci::Reference> reference;  // set for kRegistry only
};

// Parses `spec`, looking at the filesystem to split paths from refs (see above).
Result<SourceSpec> parse_source_spec(std::string_view spec);

using RegistryOpener = std::function<Result<std::unique_ptr<ImageSource>>(const oci::Reference&)>;

struct SourceContext {
    // Where archives are extracted and rootfs directories packed: a directory on the store's
    // filesystem (its root will do), so a large image does not fill /tmp. $TMPDIR when empty.
    std::filesystem::path scratch;
    // Opens registry references; the registry source lives elsewhere. Unset: registry references
    // are FailedPrecondition.
    RegistryOpener registry;
};

Result<std::unique_ptr<ImageSource>> open_source(std::string_view spec,
                                                 const SourceContext& context);

}  // namespace grove::image
