#include "image_store.hpp"

#include <charconv>
#include <fcntl.h>
#include <linux/fs.h>
#include <set>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/metadata/gc_queries.hpp"
#include "store/metadata/layer_table.hpp"
#include "store/metadata/pin_table.hpp"
#include "store/metadata/tag_table.hpp"
#include "store/metadata/uuid.hpp"
#include "store_lock.hpp"

namespace grove::image {
namespace {

Result<void> make_dir(const std::filesystem::path& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
        return base::last_errno_error("create '{}'", path.string());
    }
    return {};
}

// ext4's Orlov allocator spreads a "top directory"'s subdirectories over the block groups
// instead of packing them next to their parent. Every run creates and deletes a few directories
// under runs/; packed into one group, each new inode there had to step over every inode deleted
// in the last 30 s (ext4 without a journal never reuses those sooner), and a run's setup grew
// from 0.4 to several ms within a busy minute. Other filesystems ignore the flag or lack it.
void spread_subdirectories(const std::filesystem::path& dir) {
    base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    int flags = 0;
    if (fd && ::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_TOPDIR_FL) == 0) {
        flags |= FS_TOPDIR_FL;
        (void)::ioctl(fd.get(), FS_IOC_SETFLAGS, &flags);
    }
}

void remove_tree(const std::filesystem::path& path) {
    std::error_code ignored;  // a directory that survives is retried by the next recovery
    std::filesystem::remove_all(path, ignored);
}

}  // namespace

Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::filesystem::path& root,
                                                     base::Logger log,
                                                     StoreOptions options) {
    if (options.flatten_every < kMinFlattenEvery || options.flatten_every > kMaxFlattenEvery) {
        return base::make_error(Code::kInvalidArgument, "flatten_every {} is outside {}..{}",
                                options.flatten_every, kMinFlattenEvery, kMaxFlattenEvery);
    }
    StorePaths paths{root};
    GROVE_TRY(make_dir(root, 0700));
    GROVE_TRY(make_dir(paths.layers(), 0700));
    GROVE_TRY(make_dir(paths.locks(), 0700));
    GROVE_TRY(make_dir(paths.runs(), 0700));
    GROVE_TRY(make_dir(paths.stubs(), 0700));
    spread_subdirectories(paths.runs());
    GROVE_ASSIGN_OR_RETURN(auto content, store::ContentStore::open(paths.content()));
    GROVE_ASSIGN_OR_RETURN(auto db, store::Database::open(paths.database()));
    auto image_store = std::make_unique<ImageStore>(std::move(paths), std::move(content),
                                                    std::move(db), std::move(log), options);
    GROVE_TRY(base::with_context(image_store->recover(), "recover store '{}'", root.string()));
    return image_store;
}

Result<void> ImageStore::recover() {
    GROVE_ASSIGN_OR_RETURN(auto lock,
                           StoreLock::try_acquire(paths_.root, StoreLock::Mode::kExclusive));
    if (!lock) {
        return {};  // another process is importing: its pending layers are not leftovers
    }
    std::lock_guard guard(db_mutex_);
    store::LayerTable layers(db_);
    GROVE_ASSIGN_OR_RETURN(auto pending, layers.pending());
    // Children before parents: a pending layer may sit on another pending one.
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
        log_.warn("removing a layer left half-unpacked by a crash", {{"layer", it->key}});
        remove_tree(paths_.layer(it->id));
        GROVE_TRY(layers.remove(it->id));
    }
    std::error_code ec;
    // No run is in flight (each holds the lock shared): these lost their process.
    for (const auto& entry : std::filesystem::directory_iterator(paths_.runs(), ec)) {
        if (!entry.path().filename().string().starts_with(Janitor::kSparePrefix)) {
            log_.warn("removing a run directory left by a crash",
                      {{"run", entry.path().filename().string()}});
        }
        // A crashed run may have left its rootfs mounted: detach it, or the removal would go
        // through the mount and the mount itself would stay on the host.
        for (const auto& sub : std::filesystem::directory_iterator(entry.path(), ec)) {
            ::umount2(sub.path().c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);  // EINVAL: not a mount
        }
        remove_tree(entry.path());
    }
    for (const auto& entry : std::filesystem::directory_iterator(paths_.stubs(), ec)) {
        if (entry.path().filename().string().starts_with("tmp-")) {
            remove_tree(entry.path());  // a mount point layer a crash left half built
        }
    }
    for (const auto& entry : std::filesystem::directory_iterator(paths_.layers(), ec)) {
        const std::string name = entry.path().filename().string();
        int64_t id = 0;
        const auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), id);
        const bool numeric = err == std::errc() && end == name.data() + name.size();
        if (numeric && layers.get(id)) {
            continue;
        }
        log_.warn("removing a layer directory no metadata references", {{"dir", name}});
        remove_tree(entry.path());
    }
    return {};
}

Result<ImportResult> ImageStore::import(ImageSource& source, const ImportOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto lock, StoreLock::acquire(paths_.root, StoreLock::Mode::kShared));
    // Its own connection, so imports run concurrently; SQLite serialises their short writes.
    GROVE_ASSIGN_OR_RETURN(auto db, store::Database::open(paths_.database()));
    return Importer(paths_, content_, db, log_).run(source, options);
}

Result<std::string> ImageStore::resolve(std::string_view ref, Lookup lookup) {
    if (lookup == Lookup::kLenient && store::is_uuid(ref)) {
        return std::string(ref);
    }
    std::lock_guard guard(db_mutex_);
    return store::ImageTable(db_).resolve(ref);
}

Result<store::ImageRecord> ImageStore::find(std::string_view ref) {
    std::lock_guard guard(db_mutex_);
    store::ImageTable images(db_);
    GROVE_ASSIGN_OR_RETURN(const std::string uuid, images.resolve(ref));
    return images.get(uuid);
}

Result<std::vector<store::ImageRecord>> ImageStore::list(const store::ImageFilter& filter) {
    std::lock_guard guard(db_mutex_);
    return store::ImageTable(db_).list(filter);
}

Result<store::ImageRecord> ImageStore::tag(std::string_view ref, std::string_view tag) {
    std::lock_guard guard(db_mutex_);
    store::ImageTable images(db_);
    GROVE_ASSIGN_OR_RETURN(const std::string uuid, images.resolve(ref));
    GROVE_TRY(store::TagTable(db_).set(tag, uuid));
    return images.get(uuid);
}

Result<void> ImageStore::untag(std::string_view tag) {
    std::lock_guard guard(db_mutex_);
    return store::TagTable(db_).remove(tag);
}

Result<void> ImageStore::remove(std::string_view ref, store::ImageRemoveOptions options) {
    std::lock_guard guard(db_mutex_);
    store::ImageTable images(db_);
    GROVE_ASSIGN_OR_RETURN(const std::string uuid, images.resolve(ref));
    return images.remove(uuid, options);
}

Result<std::vector<store::ImageRecord>> ImageStore::lineage(std::string_view ref) {
    std::lock_guard guard(db_mutex_);
    store::ImageTable images(db_);
    GROVE_ASSIGN_OR_RETURN(const std::string uuid, images.resolve(ref));
    return images.lineage(uuid);
}

Result<std::vector<store::ImageRecord>> ImageStore::children(std::string_view ref) {
    std::lock_guard guard(db_mutex_);
    store::ImageTable images(db_);
    GROVE_ASSIGN_OR_RETURN(const std::string uuid, images.resolve(ref));
    return images.children(uuid);
}

Result<void> ImageStore::pin(std::string_view holder, std::string_view uuid) {
    std::lock_guard guard(db_mutex_);
    return db_.unsynced([&] { return store::PinTable(db_).pin(holder, uuid); });
}

Result<void> ImageStore::unpin(std::string_view holder) {
    std::lock_guard guard(db_mutex_);
    return db_.unsynced([&] { return store::PinTable(db_).unpin(holder); });
}

Result<std::vector<std::string>> ImageStore::pin_holders(std::string_view prefix) {
    std::lock_guard guard(db_mutex_);
    return store::PinTable(db_).holders(prefix);
}

Result<std::optional<std::string>> ImageStore::user_of(std::string_view uuid) {
    std::lock_guard guard(db_mutex_);
    GROVE_ASSIGN_OR_RETURN(const auto session, store::SessionTable(db_).pinning(uuid));
    if (session) {
        return fmt::format("session '{}'", *session);
    }
    return store::PinTable(db_).pinning(uuid);
}

Result<GcStats> ImageStore::collect_garbage() {
    GROVE_ASSIGN_OR_RETURN(auto lock, StoreLock::acquire(paths_.root, StoreLock::Mode::kExclusive));
    std::lock_guard guard(db_mutex_);
    GcStats stats;
    store::LayerTable layers(db_);
    store::GcQueries queries(db_);
    // Removing a layer can orphan its parent: repeat until nothing more goes.
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(auto unreferenced, queries.unreferenced_layers());
        if (unreferenced.empty()) {
            break;
        }
        for (const auto& layer : unreferenced) {
            GROVE_TRY(layers.remove(layer.id));
            remove_tree(paths_.layer(layer.id));
            ++stats.layers_removed;
        }
    }
    GROVE_ASSIGN_OR_RETURN(const std::set<std::string> referenced, queries.referenced_blobs());
    GROVE_ASSIGN_OR_RETURN(const auto blobs, content_.list());
    for (const auto& blob : blobs) {
        if (referenced.contains(blob.str())) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const uint64_t size, content_.size(blob));
        GROVE_TRY(content_.remove(blob));
        ++stats.blobs_removed;
        stats.bytes_freed += size;
    }
    log_.info("garbage collected", {{"layers", stats.layers_removed},
                                    {"blobs", stats.blobs_removed},
                                    {"bytes", stats.bytes_freed}});
    return stats;
}

Result<inspect::LayerStack> ImageStore::filesystem(const store::ImageRecord& image) {
    if (!image.top_layer) {
        return base::make_error(Code::kFailedPrecondition, "image '{}' has no layers", image.uuid);
    }
    // Held while the layers are opened, so GC cannot remove them (or a merged layer being built)
    // in between; the opened directories stay readable afterwards.
    GROVE_ASSIGN_OR_RETURN(auto lock, StoreLock::acquire(paths_.root, StoreLock::Mode::kShared));
    GROVE_ASSIGN_OR_RETURN(const auto dirs, lowers_of(image));
    return inspect::LayerStack::open(dirs);
}

}  // namespace grove::image
