#pragma once

// Image manifests and indexes (OCI image spec v1, Docker schema 2 manifest and manifest list),
// parsed from registry or layout bytes into typed values.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "descriptor.hpp"

namespace grove::oci {

// Manifests and indexes larger than this are refused before parsing (the distribution spec lets
// registries cap them at 4 MiB).
inline constexpr size_t kMaxManifestSize = 4 << 20;

struct Manifest {
    std::string media_type;  // kOciManifest or kDockerManifest
    Descriptor config;
    std::vector<Descriptor> layers;
};

struct Index {
    std::string media_type;  // kOciIndex or kDockerManifestList
    std::vector<Descriptor> manifests;

    // The first entry whose platform matches `want` (entries without a platform never match).
    // NotFound names the platforms on offer.
    Result<Descriptor> select(const Platform& want) const;
};

enum class DocumentKind { kManifest, kIndex };

// Which kind `bytes` is: from `content_type` when it names one, else from the document's own
// "mediaType", else by shape ("manifests" vs "layers"), as old OCI documents omit mediaType.
Result<DocumentKind> detect_document(std::string_view content_type, std::string_view bytes);

// Parses and validates: schemaVersion 2, known layer media types, valid descriptors.
Result<Manifest> parse_manifest(std::string_view bytes);
Result<Index> parse_index(std::string_view bytes);

}  // namespace grove::oci
