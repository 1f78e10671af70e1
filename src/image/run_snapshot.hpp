#pragma once

// Runs leave new images behind. ImageStore::prepare_run() hands out the directories of one run
// (RunDirs): a fresh upper and work directory under <root>/runs/<run-id>/ and the image's layer
// directories as the lowers (for a deep chain, its top layers over one merged layer:
// flatten.hpp). The caller (the runtime) mounts the overlay; the store never mounts.
// After the overlay is unmounted, ImageStore::commit_run() turns the upper directory into a new
// layer by renaming it into layers/<id>: no copy and no tar, so a commit costs O(changed files)
// however big the image is. A run that changed nothing yields its parent image itself, so one
// UUID always names one filesystem state.
//
// A run holds the store lock shared from prepare_run() until commit or discard: removing an image
// and collecting garbage meanwhile would pull layers from under the mounted overlay. Recovery
// (which needs the lock exclusive) removes the run directories a crash left behind.

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grove/result.hpp>

#include "janitor.hpp"
#include "store/metadata/records.hpp"
#include "store_lock.hpp"

namespace grove::image {

class ImageStore;

// The directories of one run; removed on destruction unless committed.
class RunDirs {
public:
    RunDirs(RunDirs&& other) noexcept
        : id_(std::move(other.id_)),
          dir_(std::exchange(other.dir_, {})),
          lowers_(std::move(other.lowers_)),
          image_uuid_(std::move(other.image_uuid_)),
          lock_(std::exchange(other.lock_, std::nullopt)),
          janitor_(other.janitor_) {}
    RunDirs& operator=(RunDirs&& other) noexcept;
    RunDirs(const RunDirs&) = delete;
    RunDirs& operator=(const RunDirs&) = delete;
    ~RunDirs() { discard(); }

    const std::string& id() const { return id_; }
    // <root>/runs/<run-id>/upper and .../work: what OverlayMount::create takes with the lowers.
    std::filesystem::path upper() const { return dir_ / "upper"; }
    std::filesystem::path work() const { return dir_ / "work"; }
    // The image's layer directories, top first (overlay's order); at most
    // StoreOptions::flatten_every + 1 of them, the last one merged for a deep chain.
    const std::vector<std::filesystem::path>& lowers_top_first() const { return lowers_; }
    // The UUID of the image the run started from.
    const std::string& image_uuid() const { return image_uuid_; }

    // Hands the directories to the store's janitor, which removes them and then releases the
    // store lock; the overlay must be unmounted.
    void discard();

private:
    friend class ImageStore;
    RunDirs(std::string id,
            std::filesystem::path dir,
            std::vector<std::filesystem::path> lowers,
            std::string image_uuid,
            StoreLock lock,
            Janitor& janitor)
        : id_(std::move(id)),
          dir_(std::move(dir)),
          lowers_(std::move(lowers)),
          image_uuid_(std::move(image_uuid)),
          lock_(std::move(lock)),
          janitor_(&janitor) {}

    std::string id_;
    std::filesystem::path dir_;  // empty once discarded or moved from
    std::vector<std::filesystem::path> lowers_;
    std::string image_uuid_;
    std::optional<StoreLock> lock_;  // shared, so GC and recovery wait for the run
    Janitor* janitor_;
};

struct CommitOptions {
    // Paths relative to / that the runtime created as mount points (what
    // rootfs::prepare_mountpoints returns). Left out of the snapshot while they are still the
    // empty file or directory the runtime made, together with the directories copied up only
    // to hold them.
    std::vector<std::string> ignore_paths;
    std::string operation;  // free text recorded with the new image
    // Set on the result: the new image, or the parent when nothing changed.
    std::optional<std::string> tag;
    std::optional<std::string> config_json;  // default: the parent's
};

struct DeriveOptions {
    std::optional<std::string> tag;
    std::string operation;                   // free text recorded with the new image
    std::optional<std::string> config_json;  // default: the parent's
};

struct CommitResult {
    store::ImageRecord image;
    bool changed = false;  // false: `image` is the parent itself
};

namespace run_snapshot {

// Up to this many changed files and directories are fsync'ed one by one; more take one syncfs.
inline constexpr size_t kMaxFsyncEach = 64;

// What commit_run needs to know about an upper directory after clean_upper().
struct UpperStats {
    bool empty = true;
    uint64_t regular_bytes = 0;  // bytes of regular files: what the run added to the image
    size_t syncable = 0;         // regular files and directories
    std::vector<std::filesystem::path> to_sync;  // relative; the first kMaxFsyncEach of them
};

// Makes a run's upper directory a layer: drops `ignore_paths` still as the runtime made them
// (and parents that are bare copy-ups, judged against `lowers_top_first`), strips overlay's
// bookkeeping xattrs, and measures what is left. Walks only the upper directory.
Result<UpperStats> clean_upper(const std::filesystem::path& upper,
                               const std::vector<std::filesystem::path>& lowers_top_first,
                               const std::vector<std::string>& ignore_paths);

}  // namespace run_snapshot
}  // namespace grove::image
