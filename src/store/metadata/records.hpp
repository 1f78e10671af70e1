#pragma once

// The rows of the metadata store, as plain values.
//
// Vocabulary: an image is an immutable filesystem state named by a UUID, optionally tagged, whose
// parent is the image it was run from (none for an imported root), so images form a tree. A
// layer is an unpacked directory named by its short integer id; its `key` is the OCI chain ID
// ("sha256:...") for an imported layer or "run:<uuid>" for one a run produced, and its `parent`
// links it to the layer below, so an image's layers are the chain below its `top_layer`. A merged
// layer ("merged:<id>") holds the whole filesystem of the chain that ends at layer `merges`, in
// one directory: runs of deep chains mount it in place of that chain (image/flatten.hpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::store {

enum class ImageKind { kImported, kRun };

// "imported" or "run", as stored.
std::string_view image_kind_name(ImageKind kind);
Result<ImageKind> image_kind_from_name(std::string_view name);

struct LayerRecord {
    int64_t id = 0;
    std::string key;
    std::optional<int64_t> parent;
    std::optional<std::string> diff_id;
    std::optional<std::string> blob_digest;
    uint64_t size = 0;
    // The length of the chain that ends here: 1 without a parent (a merged layer too).
    int64_t depth = 1;
    // Merged layers only: the top layer of the chain this layer merges.
    std::optional<int64_t> merges;
    // False while the layer is being unpacked ('pending'); a pending layer found at startup is a
    // crash leftover to collect.
    bool ready = false;
};

struct ImageRecord {
    std::string uuid;
    std::optional<std::string> parent;
    std::optional<std::string> tag;
    ImageKind kind = ImageKind::kImported;
    int64_t created_ns = 0;  // unix time in nanoseconds
    // Free text: "import docker.io/library/busybox:latest", or the id of the run's operation.
    std::string operation;
    std::string config_json;  // the OCI image config, opaque here
    // Imported images only: what they were imported from, for re-import no-op lookups.
    std::optional<std::string> manifest_digest;
    std::optional<std::string> platform;
    std::optional<int64_t> top_layer;
    uint64_t size_logical = 0;
    uint64_t size_physical = 0;
};

// Every member narrows the list; the order is newest first, ties broken by uuid (created_ns DESC,
// uuid ASC), so paging with limit/offset is stable.
struct ImageFilter {
    std::optional<size_t> limit;
    size_t offset = 0;
    bool tagged_only = false;
    std::optional<std::string> tag_prefix;  // implies tagged
    std::optional<std::string> uuid_prefix;
    std::optional<ImageKind> kind;
    std::optional<int64_t> since_ns;  // created_ns >= since_ns
    std::optional<int64_t> until_ns;  // created_ns < until_ns: [since, until) windows tile
};

}  // namespace grove::store
