#pragma once

// ImageTable records the image tree. Images are immutable once inserted: only their tag moves
// (TagTable), and a row is removed only when nothing depends on it.
//
// Resolving a reference (resolve()), in this order:
// 1. a full UUID names that image (tags can never have the UUID form, see tag_table.hpp);
// 2. an exact tag;
// 3. a unique prefix of at least kMinUuidPrefix characters of a UUID. Fewer characters would
//    match by accident as the store grows (git's rule). An ambiguous prefix is
//    FailedPrecondition listing the candidates: the input is well formed, the store's state
//    makes it fail.
//
// Removal (remove()): an image with children is refused even with force, as Docker and
// containerd do, since orphaning children would cut them from their lineage. A tagged image is
// refused unless forced; force removes the tag with the image.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "store/metadata/database.hpp"
#include "store/metadata/records.hpp"

namespace grove::store {

struct ImageRemoveOptions {
    bool force = false;  // untag a tagged image instead of refusing
};

class ImageTable {
public:
    static constexpr size_t kMinUuidPrefix = 4;

    explicit ImageTable(Database& db) : db_(db) {}

    // Inserts `image` and the digests of the blobs it references (manifest, config, layers) in
    // one transaction. image.tag, if set, is moved onto the new image. FailedPrecondition if the
    // parent image or the top layer does not exist, or a layer of the chain is not ready;
    // AlreadyExists if the UUID, or the (manifest_digest, platform) of an imported image, is
    // taken already.
    Result<void> insert(const ImageRecord& image, std::span<const std::string> blob_digests);
    // NotFound if there is no such image.
    Result<ImageRecord> get(std::string_view uuid);
    // The image imported from this manifest for this platform, if any: a re-import is a no-op.
    Result<std::optional<ImageRecord>> find_imported(std::string_view manifest_digest,
                                                     std::string_view platform);
    Result<std::vector<ImageRecord>> list(const ImageFilter& filter);
    // The UUID `ref` names (rules above). NotFound if nothing matches.
    Result<std::string> resolve(std::string_view ref);
    // The images whose parent is `uuid`, newest first. NotFound if `uuid` does not exist.
    Result<std::vector<ImageRecord>> children(std::string_view uuid);
    // The ancestors of `uuid`: its parent first, the root last. NotFound if it does not exist.
    Result<std::vector<ImageRecord>> lineage(std::string_view uuid);
    // Deletes the image and its blob references (its layers and blobs are GC's). NotFound if it
    // does not exist; FailedPrecondition per the rules above.
    Result<void> remove(std::string_view uuid, ImageRemoveOptions options = {});

private:
    Result<std::string> resolve_prefix(std::string_view prefix);
    Result<void> check_references(const ImageRecord& image);

    Database& db_;
};

}  // namespace grove::store
