#pragma once

// ImageStore is grove's image store on one root directory (store_paths.hpp): import, naming,
// the image tree, garbage collection, and read access to an image's files. Several processes may
// open the same root at once: metadata is SQLite in WAL mode, blobs and layers are published by
// rename under per-item locks, and StoreLock keeps GC and recovery away from imports in flight.
//
// Opening a store recovers from crashes: when no other process is working in it, pending layers
// (an unpack or a merge that never finished) and layer directories without a row are removed; the
// content store removes abandoned ingests itself, and run directories a crash left behind go too.
//
// Deep chains are flattened transparently (flatten.hpp): runs and filesystem() of an image deeper
// than StoreOptions::flatten_every read a merged layer in place of the chain's bottom.

#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "flatten.hpp"
#include "importer.hpp"
#include "inspect/layer_stack.hpp"
#include "mountpoint_layer.hpp"
#include "run_snapshot.hpp"
#include "store/content/content_store.hpp"
#include "store/metadata/database.hpp"
#include "store/metadata/image_table.hpp"
#include "store/metadata/session_table.hpp"
#include "store_paths.hpp"

namespace grove::image {

struct GcStats {
    size_t layers_removed = 0;
    size_t blobs_removed = 0;
    uint64_t bytes_freed = 0;  // blob bytes
};

struct StoreOptions {
    // Runs mount at most this many of an image's own layers, over one merged layer standing for
    // the rest of the chain (flatten.hpp); kMinFlattenEvery..kMaxFlattenEvery.
    size_t flatten_every = kDefaultFlattenEvery;
    // Run directories made ahead of the runs that take them (janitor.hpp); a process that makes
    // at most one run (the CLI) wants 0.
    size_t spare_run_dirs = 2;
};

class ImageStore {
public:
    static Result<std::unique_ptr<ImageStore>> open(const std::filesystem::path& root,
                                                    base::Logger log,
                                                    StoreOptions options = {});
    // Use open(): it creates the layout and recovers from crashes first.
    ImageStore(StorePaths paths,
               store::ContentStore content,
               store::Database db,
               base::Logger log,
               StoreOptions options)
        : paths_(std::move(paths)),
          content_(std::move(content)),
          db_(std::move(db)),
          log_(std::move(log)),
          options_(options),
          janitor_(paths_.runs(), options.spare_run_dirs) {}

    const StorePaths& paths() const { return paths_; }
    // The blobs imports stored (manifests, configs, layers as fetched), read by `docker push`.
    const store::ContentStore& content() const { return content_; }

    Result<ImportResult> import(ImageSource& source, const ImportOptions& options);

    // How resolve() treats a full UUID: kStrict checks that the image exists; kLenient takes it
    // as it is (ConTree's `images.use(uuid)` versus `use(uuid, strict=True)`), so a client can
    // name an image it learnt of elsewhere without a lookup. Tags and prefixes are looked up
    // either way.
    enum class Lookup { kStrict, kLenient };

    // The UUID that `ref` (a UUID, a unique UUID prefix or a tag) names.
    Result<std::string> resolve(std::string_view ref, Lookup lookup);
    // The image `ref` names.
    Result<store::ImageRecord> find(std::string_view ref);
    Result<std::vector<store::ImageRecord>> list(const store::ImageFilter& filter);
    // Moves `tag` onto the image `ref` names.
    Result<store::ImageRecord> tag(std::string_view ref, std::string_view tag);
    Result<void> untag(std::string_view tag);
    Result<void> remove(std::string_view ref, store::ImageRemoveOptions options);
    Result<std::vector<store::ImageRecord>> lineage(std::string_view ref);
    Result<std::vector<store::ImageRecord>> children(std::string_view ref);

    // Runs `body` with the store's sessions (session_table.hpp), one user of the database at a
    // time; `body` returns a Result.
    template <typename Body>
    auto with_sessions(Body&& body) {
        std::lock_guard guard(db_mutex_);
        store::SessionTable sessions(db_);
        return body(sessions);
    }

    // `holder` (a long-lived container: "container <id>") uses the image `uuid` until unpinned:
    // removing the image is refused, so GC keeps its layers (store/metadata/pin_table.hpp).
    // Not fsynced (Database::unsynced): the holders pin again and drop the pins of what is gone
    // when they open (containers::Manager::open), before anything could remove an image.
    Result<void> pin(std::string_view holder, std::string_view uuid);
    Result<void> unpin(std::string_view holder);
    // The holders whose names start with `prefix`.
    Result<std::vector<std::string>> pin_holders(std::string_view prefix);
    // What keeps the image `uuid` from removal, if anything: a session's history ("session
    // 'name'") or a pin's holder.
    Result<std::optional<std::string>> user_of(std::string_view uuid);

    // Removes the layers and blobs no image references. Waits for imports in flight.
    Result<GcStats> collect_garbage();

    // The image's files, read through its layers without mounting (through a merged layer for a
    // deep chain, which this may build).
    Result<inspect::LayerStack> filesystem(const store::ImageRecord& image);

    // The directories of a run of `image` (run_snapshot.hpp); holds the store lock shared until
    // committed or discarded. Defined in run_snapshot.cpp.
    // `mountpoints` are the paths the runtime mounts on: those the image lacks come from a mount
    // point layer stacked on top (mountpoint_layer.hpp).
    Result<RunDirs> prepare_run(const store::ImageRecord& image,
                                const std::vector<MountpointNeed>& mountpoints = {});
    // What prepare_run() stacks, without the run's directories: a long-lived container has its
    // own upper, and its pin (pin()) keeps the layers. The store lock is held for the read only.
    Result<std::vector<std::filesystem::path>> container_lowers(
        const store::ImageRecord& image, const std::vector<MountpointNeed>& mountpoints);
    // After the run's overlay is unmounted: the parent itself when the upper holds nothing (after
    // dropping options.ignore_paths), else a new run image whose layer is the renamed upper.
    // Consumes `dirs` either way.
    Result<CommitResult> commit_run(RunDirs&& dirs,
                                    const store::ImageRecord& parent,
                                    const CommitOptions& options);

    // A new image with `parent`'s files (its top layer, no layer of its own) under another name
    // or config: the Docker API's second tag of an image, since a grove image has one tag.
    // Defined in run_snapshot.cpp, whose unchanged runs with a new config take the same path.
    Result<store::ImageRecord> derive(const store::ImageRecord& parent,
                                      const DeriveOptions& options);

    // Returns once the directories of every run finished so far are removed (they go in the
    // background: janitor.hpp).
    void wait_for_cleanup() { janitor_.drain(); }

    // What flattening cost so far (flatten.cpp).
    FlattenStats flatten_stats() const;

private:
    Result<void> recover();
    // The directories to stack for `image`, top first: its chain, or for a deep chain its top
    // layers over the merged layer of the rest, built first if missing. The caller holds the
    // store lock shared. Defined in flatten.cpp, like merged_layer().
    Result<std::vector<std::filesystem::path>> lowers_of(const store::ImageRecord& image);
    // The layers a run of `image` stacks, top first: lowers_of() under the mount point layer
    // `mountpoints` need, if any; `image_top`, if given, is set to the image's own top. The
    // caller holds the store lock shared.
    Result<std::vector<std::filesystem::path>> stack_of(
        const store::ImageRecord& image,
        const std::vector<MountpointNeed>& mountpoints,
        std::filesystem::path* image_top = nullptr);
    // The mount point layer for `image` with `lowers`, remembered per image and set of needs.
    Result<std::optional<std::filesystem::path>> mountpoint_layer_of(
        const store::ImageRecord& image,
        const std::vector<std::filesystem::path>& lowers,
        const std::vector<MountpointNeed>& needs);
    // The ready merged layer of the chain that ends at `anchor`, built if missing.
    Result<store::LayerRecord> merged_layer(const store::LayerRecord& anchor);

    StorePaths paths_;
    store::ContentStore content_;
    std::mutex db_mutex_;  // db_ is one SQLite connection: one user at a time
    store::Database db_;
    base::Logger log_;
    const StoreOptions options_;
    mutable std::mutex stats_mutex_;
    FlattenStats flatten_stats_;  // guarded by stats_mutex_
    std::mutex stubs_mutex_;
    // Image uuid + needs -> its mount point layer; images are immutable, so entries never go
    // stale, and the map is cleared past kMaxRememberedStubs.
    std::unordered_map<std::string, std::optional<std::filesystem::path>> stubs_;
    Janitor janitor_;  // last: drains before the rest goes
};

}  // namespace grove::image
