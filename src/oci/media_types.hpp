#pragma once

// The media types grove reads: OCI image spec v1 and their Docker schema 2 equivalents.

#include <string_view>

namespace grove::oci::media_type {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

// The Accept header for manifest requests, most preferred first.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

inline bool is_index(std::string_view type) {
    return type == kOciIndex || type == kDockerManifestList;
}
inline bool is_manifest(std::string_view type) {
    return type == kOciManifest || type == kDockerManifest;
}
inline bool is_layer(std::string_view type) {
    return type == kOciLayer || type == kOciLayerGzip || type == kOciLayerZstd ||
           type == kDockerLayerGzip;
}

}  // namespace grove::oci::media_type
