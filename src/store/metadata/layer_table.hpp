#pragma once

// LayerTable records the unpacked layer directories. A layer is inserted 'pending' before its
// directory is filled and marked ready once the directory is published, so a crash mid-unpack
// leaves a pending row that startup finds (pending()) and collects. Layers of one chain may be
// unpacked in parallel, so a pending layer may sit on a pending parent; an image, however, may
// only reference a chain that is ready throughout (ImageTable::insert checks).
//
// A merged layer (LayerRecord::merges set, no parent) stands for the chain that ends at the layer
// it merges; it goes through the same pending/ready states. merged() finds it, and
// chain_above_merged() tells what a new one would have to merge.

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
    // Inserts `layer` as pending and returns its new id (layer.id, layer.depth and layer.ready
    // are ignored: the depth is the parent's plus one). AlreadyExists if a layer has the same key
    // or merges the same layer; FailedPrecondition if the parent or the merged layer does not
    // exist, or if a merged layer has a parent.
    Result<int64_t> insert_pending(const LayerRecord& layer);
    // Publishes a pending layer with its final size. NotFound if it does not exist,
    // FailedPrecondition if it is ready already.
    Result<void> mark_ready(int64_t id, uint64_t size);
    // The chain that ends at `top_id`, bottom layer first: the order of overlay's lowerdir, read
    // right to left. NotFound if `top_id` does not exist.
    Result<std::vector<LayerRecord>> chain(int64_t top_id);
    // The top `count` layers of the chain that ends at `top_id` (fewer if it is shorter), top
    // first. Reads only those rows, however deep the chain. NotFound if `top_id` does not exist.
    Result<std::vector<LayerRecord>> top_of_chain(int64_t top_id, size_t count);
    // The merged layer of the chain that ends at `layer_id`, pending or ready, if any.
    Result<std::optional<LayerRecord>> merged(int64_t layer_id);
    // The chain that ends at `top_id`, top first, down to the first layer whose chain has a
    // ready merged layer (included, last), or down to the bottom when none has: what merging the
    // chain needs to read. NotFound if `top_id` does not exist.
    Result<std::vector<LayerRecord>> chain_above_merged(int64_t top_id);
    // The pending layers, oldest first.
    Result<std::vector<LayerRecord>> pending();
    // Deletes the row (the directory is the caller's). FailedPrecondition while an image's
    // top_layer, a child layer or a merged layer references it; NotFound if it does not exist.
    Result<void> remove(int64_t id);

private:
    Database& db_;
};

// The columns read_layer() expects, in order, for queries over `layers`.
inline constexpr std::string_view kLayerColumns =
    "layers.id, layers.key, layers.parent, layers.diff_id, layers.blob_digest, layers.size, "
    "layers.state, layers.depth, layers.merges";

// Reads the current row of a statement that selected kLayerColumns first.
LayerRecord read_layer(const Statement& stmt);

}  // namespace grove::store
