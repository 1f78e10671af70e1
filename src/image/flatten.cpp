// ImageStore's flattening of deep chains (flatten.hpp): which directories a run stacks, and the
// merged layers it stacks them on.

#include "flatten.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "base/digest.hpp"
#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "image_store.hpp"
#include "layer_lock.hpp"
#include "layer_merge.hpp"
#include "store/metadata/layer_table.hpp"

namespace grove::image {

namespace fs = std::filesystem;

namespace {

void remove_tree(const fs::path& path) {
    std::error_code ignored;  // what survives is removed by the next recovery
    fs::remove_all(path, ignored);
}

}  // namespace

FlattenStats ImageStore::flatten_stats() const {
    std::lock_guard guard(stats_mutex_);
    return flatten_stats_;
}

Result<std::vector<fs::path>> ImageStore::lowers_of(const store::ImageRecord& image) {
    if (!image.top_layer) {
        return base::make_error(Code::kFailedPrecondition, "image '{}' has no layers", image.uuid);
    }
    std::vector<store::LayerRecord> above;  // top first; the anchor last
    int64_t anchor_depth = 0;
    {
        std::lock_guard guard(db_mutex_);
        store::LayerTable layers(db_);
        GROVE_ASSIGN_OR_RETURN(const store::LayerRecord top, layers.get(*image.top_layer));
        anchor_depth = flatten_anchor(top.depth, options_.flatten_every);
        if (anchor_depth == 0) {
            GROVE_ASSIGN_OR_RETURN(const auto chain, layers.chain(top.id));
            std::vector<fs::path> lowers;
            lowers.reserve(chain.size());
            for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
                lowers.push_back(paths_.layer(it->id));
            }
            return lowers;
        }
        GROVE_ASSIGN_OR_RETURN(
            above, layers.top_of_chain(top.id, static_cast<size_t>(top.depth - anchor_depth + 1)));
    }
    if (above.back().depth != anchor_depth) {
        return base::make_error(Code::kDataLoss, "the chain of layer {} is broken at layer {}",
                                *image.top_layer, above.back().id);
    }
    GROVE_ASSIGN_OR_RETURN(const store::LayerRecord merged,
                           base::with_context(merged_layer(above.back()),
                                              "flatten the chain of image '{}'", image.uuid));
    above.pop_back();
    std::vector<fs::path> lowers;
    lowers.reserve(above.size() + 1);
    for (const auto& layer : above) {
        lowers.push_back(paths_.layer(layer.id));
    }
    lowers.push_back(paths_.layer(merged.id));
    return lowers;
}

Result<store::LayerRecord> ImageStore::merged_layer(const store::LayerRecord& anchor) {
    auto find_ready = [&]() -> Result<std::optional<store::LayerRecord>> {
        std::lock_guard guard(db_mutex_);
        GROVE_ASSIGN_OR_RETURN(auto found, store::LayerTable(db_).merged(anchor.id));
        return found && found->ready ? found : std::nullopt;
    };
    GROVE_ASSIGN_OR_RETURN(auto ready, find_ready());
    if (ready) {
        return std::move(*ready);
    }
    const std::string key = merged_layer_key(anchor.id);
    // Concurrent runs of this chain, in any process, wait here for the first one's merge.
    GROVE_ASSIGN_OR_RETURN(const LayerLock lock,
                           LayerLock::acquire(paths_.locks(), base::Digest::sha256_of(key)));
    GROVE_ASSIGN_OR_RETURN(ready, find_ready());
    if (ready) {
        return std::move(*ready);
    }

    const auto started = std::chrono::steady_clock::now();
    std::vector<fs::path> sources;  // top first
    int64_t id = 0;
    {
        std::lock_guard guard(db_mutex_);
        store::LayerTable layers(db_);
        GROVE_ASSIGN_OR_RETURN(const auto leftover, layers.merged(anchor.id));
        if (leftover) {
            // Pending, and we hold its lock: its builder died. Collect it and start over.
            log_.warn("removing a merged layer left half-built by a crash",
                      {{"layer", leftover->id}});
            remove_tree(paths_.new_layer(leftover->id));
            remove_tree(paths_.layer(leftover->id));
            GROVE_TRY(layers.remove(leftover->id));
        }
        // The chain down to the deepest layer that has a merged layer already: that one stands
        // for everything below.
        GROVE_ASSIGN_OR_RETURN(const auto chain, layers.chain_above_merged(anchor.id));
        GROVE_ASSIGN_OR_RETURN(const auto base, layers.merged(chain.back().id));
        for (size_t i = 0; i < chain.size(); ++i) {
            const bool merged_below = i + 1 == chain.size() && base && base->ready;
            sources.push_back(paths_.layer(merged_below ? base->id : chain[i].id));
        }
        GROVE_ASSIGN_OR_RETURN(id, layers.insert_pending({.key = key, .merges = anchor.id}));
    }
    const fs::path building = paths_.new_layer(id);
    const fs::path layer_dir = paths_.layer(id);
    base::ScopeExit discard([&] {
        remove_tree(building);
        remove_tree(layer_dir);
        std::lock_guard guard(db_mutex_);
        (void)store::LayerTable(db_).remove(id);
    });
    GROVE_ASSIGN_OR_RETURN(const MergeStats stats,
                           base::with_context(merge_layers(sources, building),
                                              "merge the chain of layer {}", anchor.id));
    const auto merged_at = std::chrono::steady_clock::now();
    {
        GROVE_ASSIGN_OR_RETURN(auto fd,
                               base::UniqueFd::open(building.string(), O_RDONLY | O_DIRECTORY));
        // The layer is marked ready next: its directories and links must be on disk first.
        if (::syncfs(fd.get()) != 0) {
            return base::last_errno_error("sync '{}'", building.string());
        }
    }
    if (::rename(building.c_str(), layer_dir.c_str()) != 0) {
        return base::last_errno_error("rename '{}' to '{}'", building.string(), layer_dir.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto layers_fd,
                           base::UniqueFd::open(paths_.layers().string(), O_RDONLY | O_DIRECTORY));
    if (::fsync(layers_fd.get()) != 0) {  // the rename itself
        return base::last_errno_error("sync '{}'", paths_.layers().string());
    }
    store::LayerRecord record;
    {
        std::lock_guard guard(db_mutex_);
        store::LayerTable layers(db_);
        GROVE_TRY(layers.mark_ready(id, stats.regular_bytes));
        GROVE_ASSIGN_OR_RETURN(record, layers.get(id));
    }
    discard.dismiss();

    const auto finished = std::chrono::steady_clock::now();
    const auto took = finished - started;
    const size_t entries = stats.directories + stats.linked + stats.copied;
    {
        std::lock_guard guard(stats_mutex_);
        ++flatten_stats_.merged_layers;
        flatten_stats_.total += took;
        flatten_stats_.last = took;
        flatten_stats_.last_sync = finished - merged_at;
        flatten_stats_.last_sources = sources.size();
        flatten_stats_.last_entries = entries;
    }
    log_.info("merged a deep chain",
              {{"layer", id},
               {"merges", anchor.id},
               {"depth", anchor.depth},
               {"sources", sources.size()},
               {"entries", entries},
               {"copied", stats.copied},
               {"ms", std::chrono::duration<double, std::milli>(took).count()}});
    return record;
}

}  // namespace grove::image
