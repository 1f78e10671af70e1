#pragma once

// LayerTable records the unpacked layer directories. A layer is inserted 'pending' before its
// directory is filled and marked ready once the directory is published, so a crash mid-unpack
// leaves a pending row that startup finds (pending()) and collects. Layers of one chain may be
// unpacked in parallel, so a pending layer may sit on a pending parent; an image, however, may
// only reference a chain that is ready throughout (ImageTable::insert checks).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "store/metadata/database.hpp"
#include "store/metadata/records.hpp"

namespace grove::store {

class LayerTable {
public:
    explicit LayerTable(Database& db) : db_(db) {}

    Result<std::optional<LayerRecord>> find(std::string_view key);
    // NotFound if there is no layer `id`.
    Result<LayerRecord> get(int64_t id);
    // Inserts `layer` as pending and returns its new id (layer.id and layer.ready are ignored).
    // AlreadyExists if a layer has the same key; FailedPrecondition if the parent does not exist.
    Result<int64_t> insert_pending(const LayerRecord& layer);
    // Publishes a pending layer with its final size. NotFound if it does not exist,
    // FailedPrecondition if it is ready already.
    Result<void> mark_ready(int64_t id, uint64_t size);
    // The chain that ends at `top_id`, bottom layer first: the order of overlay's lowerdir, read
    // right to left. NotFound if `top_id` does not exist.
    Result<std::vector<LayerRecord>> chain(int64_t top_id);
    // The pending layers, oldest first.
    Result<std::vector<LayerRecord>> pending();
    // Deletes the row (the directory is the caller's). FailedPrecondition while an image's
    // top_layer or a child layer references it; NotFound if it does not exist.
    Result<void> remove(int64_t id);

private:
    Database& db_;
};

// The columns read_layer() expects, in order, for queries over `layers`.
inline constexpr std::string_view kLayerColumns =
    "layers.id, layers.key, layers.parent, layers.diff_id, layers.blob_digest, layers.size, "
    "layers.state";

// Reads the current row of a statement that selected kLayerColumns first.
LayerRecord read_layer(const Statement& stmt);

}  // namespace grove::store
