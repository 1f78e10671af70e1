#include "run_snapshot.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <linux/openat2.h>
#include <mutex>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "image_store.hpp"
#include "store/metadata/layer_table.hpp"
#include "store/metadata/tag_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::image {

namespace fs = std::filesystem;

RunDirs& RunDirs::operator=(RunDirs&& other) noexcept {
    if (this != &other) {
        discard();
        id_ = std::move(other.id_);
        dir_ = std::exchange(other.dir_, {});
        lowers_ = std::move(other.lowers_);
        image_uuid_ = std::move(other.image_uuid_);
        lock_ = std::exchange(other.lock_, std::nullopt);
        janitor_ = other.janitor_;
    }
    return *this;
}

void RunDirs::discard() {
    if (!dir_.empty()) {
        janitor_->remove(std::exchange(dir_, {}), std::exchange(lock_, std::nullopt));
    }
    lock_.reset();
}

namespace run_snapshot {
namespace {

constexpr std::string_view kOverlayPrefix = "trusted.overlay.";
constexpr std::string_view kOpaque = "trusted.overlay.opaque";
// overlayfs stores the merged view's own trusted.overlay.* xattrs under this escaped prefix; they
// belong to the files, not to the old lower stack.
constexpr std::string_view kEscapedPrefix = "trusted.overlay.overlay.";

// Removes overlay's bookkeeping (origin, impure, redirect, nlink, uuid, ...): it describes the
// lower stack the run was mounted on and would be wrong once the upper is a lower itself. Only
// what the layer format needs stays: opaque on directories (whiteouts are devices, no xattr).
Result<void> strip_overlay_xattrs(const fs::path& path, bool is_dir) {
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size <= 0) {
        return size == 0 || errno == ENOTSUP
                   ? Result<void>{}
                   : Result<void>{base::last_errno_error("list xattrs of '{}'", path.string())};
    }
    std::string names(static_cast<size_t>(size), '\0');
    size = ::llistxattr(path.c_str(), names.data(), names.size());
    if (size < 0) {
        return base::last_errno_error("list xattrs of '{}'", path.string());
    }
    names.resize(static_cast<size_t>(size));
    for (size_t start = 0; start < names.size();) {
        const size_t end = names.find('\0', start);
        const std::string name = names.substr(start, end - start);
        start = end == std::string::npos ? names.size() : end + 1;
        const std::string_view view(name);
        const bool keep = !view.starts_with(kOverlayPrefix) || view.starts_with(kEscapedPrefix) ||
                          (is_dir && view == kOpaque);
        if (!keep && ::lremovexattr(path.c_str(), name.c_str()) != 0 && errno != ENODATA) {
            return base::last_errno_error("remove xattr '{}' of '{}'", name, path.string());
        }
    }
    return {};
}

// openat2 beneath `dir_fd` following no symlink: the upper's contents were written by the
// container, and a symlink it planted must not send an unlink or rmdir outside the upper.
// An invalid fd on failure (ELOOP when a symlink was met).
base::UniqueFd open_beneath(int dir_fd, const fs::path& rel, int flags) {
    struct open_how how = {};
    how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const std::string path = rel.empty() ? "." : rel.string();
    return base::UniqueFd(
        static_cast<int>(::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof(how))));
}

std::optional<struct stat> stat_beneath(int dir_fd, const fs::path& rel) {
    const base::UniqueFd fd = open_beneath(dir_fd, rel, O_PATH);
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        return std::nullopt;
    }
    return st;
}

// Removes `rel` beneath `dir_fd`; false when a directory is not empty (or the path is gone).
Result<bool> remove_beneath(int dir_fd, const fs::path& rel, bool directory) {
    const base::UniqueFd parent = open_beneath(dir_fd, rel.parent_path(), O_PATH | O_DIRECTORY);
    if (!parent) {
        return false;
    }
    if (::unlinkat(parent.get(), rel.filename().c_str(), directory ? AT_REMOVEDIR : 0) == 0) {
        return true;
    }
    if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT) {
        return false;
    }
    return base::last_errno_error("remove '{}' from the upper directory", rel.string());
}

bool is_opaque(int dir_fd, const fs::path& rel) {
    const base::UniqueFd fd = open_beneath(dir_fd, rel, O_RDONLY | O_DIRECTORY);
    return fd && ::fgetxattr(fd.get(), std::string(kOpaque).c_str(), nullptr, 0) >= 0;
}

// The entry `rel` as the lowers show it (the topmost one that has it), if any.
std::optional<struct stat> lower_entry(const std::vector<base::UniqueFd>& lowers_top_first,
                                       const fs::path& rel) {
    for (const auto& lower : lowers_top_first) {
        if (auto st = stat_beneath(lower.get(), rel)) {
            return st;
        }
    }
    return std::nullopt;
}

// Drops `rel` from the upper while it is still the empty file or directory the runtime created,
// then the parents that overlay copied up only to hold it: empty, not opaque, and with the
// lower's mode and owner (their mtime changed when the mount point was created in them).
Result<void> drop_mountpoint(int upper_fd,
                             const std::vector<base::UniqueFd>& lowers_top_first,
                             const fs::path& rel) {
    const auto st = stat_beneath(upper_fd, rel);
    if (!st || !((S_ISREG(st->st_mode) && st->st_size == 0) || S_ISDIR(st->st_mode))) {
        return {};  // gone, behind a symlink, or written by the run: part of the result
    }
    GROVE_ASSIGN_OR_RETURN(const bool removed, remove_beneath(upper_fd, rel, S_ISDIR(st->st_mode)));
    for (fs::path parent = rel.parent_path(); removed && !parent.empty();
         parent = parent.parent_path()) {
        const auto up = stat_beneath(upper_fd, parent);
        if (!up || !S_ISDIR(up->st_mode) || is_opaque(upper_fd, parent)) {
            return {};
        }
        const auto low = lower_entry(lowers_top_first, parent);
        if (!low || !S_ISDIR(low->st_mode) || low->st_mode != up->st_mode ||
            low->st_uid != up->st_uid || low->st_gid != up->st_gid) {
            return {};  // the run made or changed this directory
        }
        GROVE_ASSIGN_OR_RETURN(const bool pruned, remove_beneath(upper_fd, parent, true));
        if (!pruned) {
            return {};  // it holds other changes
        }
    }
    return {};
}

}  // namespace

Result<UpperStats> clean_upper(const fs::path& upper,
                               const std::vector<fs::path>& lowers_top_first,
                               const std::vector<std::string>& ignore_paths) {
    GROVE_ASSIGN_OR_RETURN(auto upper_fd,
                           base::UniqueFd::open(upper.string(), O_PATH | O_DIRECTORY));
    std::vector<base::UniqueFd> lower_fds;
    if (!ignore_paths.empty()) {
        for (const auto& lower : lowers_top_first) {
            GROVE_ASSIGN_OR_RETURN(auto fd,
                                   base::UniqueFd::open(lower.string(), O_PATH | O_DIRECTORY));
            lower_fds.push_back(std::move(fd));
        }
    }
    for (const auto& ignored : ignore_paths) {
        const fs::path rel = fs::path(ignored).relative_path().lexically_normal();
        if (rel.empty() || rel.begin()->string() == "..") {
            return base::make_error(Code::kInvalidArgument, "bad ignore path '{}'", ignored);
        }
        GROVE_TRY(drop_mountpoint(upper_fd.get(), lower_fds, rel));
    }
    UpperStats stats;
    GROVE_TRY(strip_overlay_xattrs(upper, true));
    std::error_code ec;
    fs::recursive_directory_iterator it(upper, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        stats.empty = false;
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) {
            return base::last_errno_error("stat '{}'", it->path().string());
        }
        GROVE_TRY(strip_overlay_xattrs(it->path(), S_ISDIR(st.st_mode)));
        if (S_ISREG(st.st_mode)) {
            stats.regular_bytes += static_cast<uint64_t>(st.st_size);
        }
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
            ++stats.syncable;
            if (stats.syncable <= kMaxFsyncEach) {
                stats.to_sync.push_back(it->path().lexically_relative(upper));
            }
        }
    }
    if (ec) {
        return base::errno_error(ec.value(), "walk upper directory '{}'", upper.string());
    }
    return stats;
}

}  // namespace run_snapshot

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// An image made from `parent`: its files plus `added` bytes of them in `top_layer`.
store::ImageRecord child_image(std::string uuid,
                               const store::ImageRecord& parent,
                               std::optional<int64_t> top_layer,
                               uint64_t added,
                               const DeriveOptions& options) {
    return store::ImageRecord{.uuid = std::move(uuid),
                              .parent = parent.uuid,
                              .tag = options.tag,
                              .kind = store::ImageKind::kRun,
                              .created_ns = now_ns(),
                              .operation = options.operation,
                              .config_json = options.config_json.value_or(parent.config_json),
                              .top_layer = top_layer,
                              .size_logical = parent.size_logical + added,
                              // No blobs: what the image adds on disk is its layer's files.
                              .size_physical = parent.size_physical + added};
}

// A few changed files are synced one by one, so the commit's cost does not depend on what else
// is dirty on the store's filesystem (syncfs would flush other writers' data too); past
// kMaxFsyncEach one syncfs is cheaper than that many fsyncs.
Result<void> sync_layer(int layer_fd, const run_snapshot::UpperStats& stats) {
    if (stats.syncable > run_snapshot::kMaxFsyncEach) {
        return ::syncfs(layer_fd) == 0 ? Result<void>{} : base::last_errno_error("syncfs");
    }
    for (const auto& rel : stats.to_sync) {
        GROVE_ASSIGN_OR_RETURN(
            auto fd, base::UniqueFd::open_at(layer_fd, rel.string(), O_RDONLY | O_NOFOLLOW));
        if (::fsync(fd.get()) != 0) {
            return base::last_errno_error("fsync '{}'", rel.string());
        }
    }
    return ::fsync(layer_fd) == 0 ? Result<void>{} : base::last_errno_error("fsync");
}

Result<void> make_dir(const fs::path& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0) {
        return base::last_errno_error("create '{}'", path.string());
    }
    return {};
}

}  // namespace

Result<std::optional<fs::path>> ImageStore::mountpoint_layer_of(
    const store::ImageRecord& image,
    const std::vector<fs::path>& lowers,
    const std::vector<MountpointNeed>& needs) {
    constexpr size_t kMaxRememberedStubs = 10000;
    std::string key = image.uuid;
    for (const auto& need : needs) {
        key += (need.directory ? "|d:" : "|f:") + need.path;
    }
    {
        std::lock_guard guard(stubs_mutex_);
        if (const auto it = stubs_.find(key); it != stubs_.end()) {
            return it->second;
        }
    }
    GROVE_ASSIGN_OR_RETURN(const auto files, inspect::LayerStack::open(lowers));
    GROVE_ASSIGN_OR_RETURN(auto layer, mountpoint_layer(paths_.stubs(), files, needs));
    std::lock_guard guard(stubs_mutex_);
    if (stubs_.size() >= kMaxRememberedStubs) {
        stubs_.clear();
    }
    stubs_.emplace(std::move(key), layer);
    return layer;
}

Result<std::vector<fs::path>> ImageStore::stack_of(const store::ImageRecord& image,
                                                   const std::vector<MountpointNeed>& mountpoints,
                                                   fs::path* image_top) {
    if (!image.top_layer) {
        return base::make_error(Code::kFailedPrecondition, "image '{}' has no layers", image.uuid);
    }
    {
        std::lock_guard guard(db_mutex_);
        GROVE_TRY(store::ImageTable(db_).get(image.uuid));  // not removed before we locked
    }
    // Every committed run adds a layer, and overlayfs takes at most 500 lowers: a deep chain
    // comes as its top layers over one merged layer (flatten.hpp).
    GROVE_ASSIGN_OR_RETURN(std::vector<fs::path> lowers, lowers_of(image));
    if (image_top != nullptr) {
        *image_top = lowers.front();
    }
    if (!mountpoints.empty()) {
        GROVE_ASSIGN_OR_RETURN(const auto stub, mountpoint_layer_of(image, lowers, mountpoints));
        if (stub) {
            lowers.insert(lowers.begin(), *stub);
        }
    }
    return lowers;
}

Result<std::vector<fs::path>> ImageStore::container_lowers(
    const store::ImageRecord& image, const std::vector<MountpointNeed>& mountpoints) {
    GROVE_ASSIGN_OR_RETURN(auto lock, StoreLock::acquire(paths_.root, StoreLock::Mode::kShared));
    return stack_of(image, mountpoints);
}

Result<RunDirs> ImageStore::prepare_run(const store::ImageRecord& image,
                                        const std::vector<MountpointNeed>& mountpoints) {
    // Taken before reading the chain, so no GC can remove a layer between the read and the
    // mount; GC in flight makes us wait.
    GROVE_ASSIGN_OR_RETURN(auto lock, StoreLock::acquire(paths_.root, StoreLock::Mode::kShared));
    fs::path image_top;
    GROVE_ASSIGN_OR_RETURN(std::vector<fs::path> lowers, stack_of(image, mountpoints, &image_top));
    std::string id = store::new_uuid();
    const std::optional<fs::path> spare = janitor_.take_spare(id);
    const fs::path dir = spare.value_or(paths_.runs() / id);
    if (!spare) {
        GROVE_TRY(make_dir(dir, 0700));
    }
    RunDirs dirs(std::move(id), dir, std::move(lowers), image.uuid, std::move(lock), janitor_);
    if (!spare) {
        GROVE_TRY(make_dir(dirs.upper(), 0755));
        GROVE_TRY(make_dir(dirs.work(), 0700));
    }
    // The merged root takes its attributes from the upper directory: give it the image's.
    struct stat top {};
    if (::stat(image_top.c_str(), &top) != 0 ||
        ::chown(dirs.upper().c_str(), top.st_uid, top.st_gid) != 0 ||
        ::chmod(dirs.upper().c_str(), top.st_mode & 07777) != 0) {
        return base::last_errno_error("prepare upper directory of run '{}'", dirs.id());
    }
    return dirs;
}

Result<CommitResult> ImageStore::commit_run(RunDirs&& dirs,
                                            const store::ImageRecord& parent,
                                            const CommitOptions& options) {
    RunDirs run = std::move(dirs);  // discarded on every return below unless renamed away
    if (run.dir_.empty()) {
        return base::make_error(Code::kFailedPrecondition, "run was discarded already");
    }
    if (run.image_uuid() != parent.uuid || !parent.top_layer) {
        return base::make_error(Code::kInvalidArgument,
                                "run '{}' started from image '{}', not '{}'", run.id(),
                                run.image_uuid(), parent.uuid);
    }
    GROVE_ASSIGN_OR_RETURN(
        const auto stats,
        base::with_context(
            run_snapshot::clean_upper(run.upper(), run.lowers_top_first(), options.ignore_paths),
            "snapshot run '{}'", run.id()));
    const bool new_config = options.config_json && *options.config_json != parent.config_json;
    if (stats.empty && !new_config) {
        // One UUID names one filesystem state: an unchanged run is its parent.
        store::ImageRecord same = parent;
        if (options.tag) {
            std::lock_guard guard(db_mutex_);
            GROVE_TRY(store::TagTable(db_).set(*options.tag, parent.uuid));
            same.tag = options.tag;
        }
        return CommitResult{std::move(same), false};
    }
    if (stats.empty) {
        // The same files under another config (preserve_env).
        GROVE_ASSIGN_OR_RETURN(auto record, derive(parent, {.tag = options.tag,
                                                            .operation = options.operation,
                                                            .config_json = options.config_json}));
        return CommitResult{std::move(record), true};
    }

    const std::string uuid = store::new_uuid();
    int64_t layer_id = 0;
    {
        std::lock_guard guard(db_mutex_);
        GROVE_ASSIGN_OR_RETURN(layer_id, store::LayerTable(db_).insert_pending(
                                             {.key = "run:" + uuid, .parent = parent.top_layer}));
    }
    const fs::path layer_dir = paths_.layer(layer_id);
    base::ScopeExit discard_layer([&] {
        std::error_code ignored;
        fs::remove_all(layer_dir, ignored);
        std::lock_guard guard(db_mutex_);
        (void)store::LayerTable(db_).remove(layer_id);
    });
    // O(1): the upper directory becomes the layer (runs/ and layers/ share the store's fs).
    if (::rename(run.upper().c_str(), layer_dir.c_str()) != 0) {
        return base::last_errno_error("move upper of run '{}' to '{}'", run.id(),
                                      layer_dir.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto layer_fd,
                           base::UniqueFd::open(layer_dir.string(), O_RDONLY | O_DIRECTORY));
    // The layer is marked ready next: its files must be on disk first.
    GROVE_TRY(base::with_context(sync_layer(layer_fd.get(), stats), "sync layer directory '{}'",
                                 layer_dir.string()));
    GROVE_ASSIGN_OR_RETURN(auto layers_fd,
                           base::UniqueFd::open(paths_.layers().string(), O_RDONLY | O_DIRECTORY));
    if (::fsync(layers_fd.get()) != 0) {  // the rename itself
        return base::last_errno_error("sync '{}'", paths_.layers().string());
    }
    store::ImageRecord record = child_image(
        uuid, parent, layer_id, stats.regular_bytes,
        {.tag = options.tag, .operation = options.operation, .config_json = options.config_json});
    {
        std::lock_guard guard(db_mutex_);
        GROVE_TRY(db_.transaction([&]() -> Result<void> {
            GROVE_TRY(store::LayerTable(db_).mark_ready(layer_id, stats.regular_bytes));
            return store::ImageTable(db_).insert(record, {});
        }));
    }
    discard_layer.dismiss();
    return CommitResult{std::move(record), true};
}

Result<store::ImageRecord> ImageStore::derive(const store::ImageRecord& parent,
                                              const DeriveOptions& options) {
    store::ImageRecord record =
        child_image(store::new_uuid(), parent, parent.top_layer, 0, options);
    std::lock_guard guard(db_mutex_);
    GROVE_TRY(store::ImageTable(db_).insert(record, {}));
    return record;
}

}  // namespace grove::image
