#pragma once

// Flattening keeps runs of deep chains as fast as runs of shallow ones. Every committed run adds a
// layer, so a session of thousands of runs builds a chain thousands of layers deep, while
// overlayfs stacks at most 500 lowers and a mount costs more the more it stacks. So the store
// never hands a run more than `flatten_every` of the image's own layers: the rest of the chain
// below them is mounted as one merged layer (layer_merge.hpp), built once and kept.
//
// Anchors. For an image whose chain is `depth` layers deep, the merged layer stands for the
// chain's bottom `anchor` layers, where `anchor` is the largest multiple of `flatten_every` below
// `depth` (flatten_anchor()). The anchor depends on the depth alone, so every image above the same
// anchor layer shares one merged layer: a session pays for a merge once every `flatten_every`
// runs, and branches from any of those images reuse it. The mount then stacks between 2 and
// `flatten_every` + 1 lowers, whatever the depth. A merged layer is built on the deepest merged
// layer below it on the same chain (the previous anchor's, usually), so a merge reads the
// previous merged layer plus `flatten_every` layers; without one it reads the chain from its
// bottom, at any depth (nothing is mounted to merge).
//
// Storage. A merged layer is a row of the layers table (key "merged:<anchor layer id>", `merges`
// = the anchor layer, no parent) and a directory layers/<id>, like any layer: inserted pending,
// built in layers/new-<id>, synced, renamed into place and marked ready; the anchor layer's
// LayerLock makes concurrent runs (threads or processes) build it once, the others wait and use
// it. A crash leaves a pending row (removed with its directory by recovery, or by the next
// builder, which holds the lock) or a new-<id> directory (recovery removes directories that are
// not a layer's). Its files are hardlinks into the layers it merges, so it costs directories and
// inodes' link counts, not data, and it stays valid when those layers go.
//
// GC. A merged layer is kept while the layer it merges has a child in use, since only images
// deeper than the anchor mount it; it goes with the last of them (GcQueries).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace grove::image {

inline constexpr size_t kDefaultFlattenEvery = 64;
// overlayfs takes 500 lowers, one of which is the merged layer.
inline constexpr size_t kMaxFlattenEvery = 499;
inline constexpr size_t kMinFlattenEvery = 2;

// The depth of the anchor layer, whose chain a run of an image `depth` layers deep mounts as one
// merged layer; 0 when the chain is short enough to mount as it is.
constexpr int64_t flatten_anchor(int64_t depth, size_t every) {
    const auto step = static_cast<int64_t>(every);
    return depth <= step ? 0 : (depth - 1) / step * step;
}

// The key of the merged layer of the chain that ends at layer `layer_id`.
inline std::string merged_layer_key(int64_t layer_id) {
    return "merged:" + std::to_string(layer_id);
}

// What one ImageStore spent on merges since it was opened.
struct FlattenStats {
    size_t merged_layers = 0;  // built
    std::chrono::nanoseconds total{0};
    std::chrono::nanoseconds last{0};
    std::chrono::nanoseconds last_sync{0};  // of `last`: making the merged layer durable
    size_t last_sources = 0;  // layers read by the last merge (a merged base counts as one)
    size_t last_entries = 0;  // entries the last merge wrote, directories included
};

}  // namespace grove::image
