// containers::Manager's file methods (manager.hpp): reading, changes, copying in and commit.

#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "containers/manager.hpp"
#include "engine/disk_usage.hpp"
#include "image/layer_merge.hpp"
#include "runtime/rootfs/overlay_mount.hpp"

namespace grove::containers {
namespace {

namespace fs = std::filesystem;

std::string rfc3339_now() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09}Z", fmt::gmtime(now.tv_sec), now.tv_nsec);
}

}  // namespace

Result<inspect::LayerStack> Manager::filesystem(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const Container c, find(ref));
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(c.image_uuid));
    GROVE_ASSIGN_OR_RETURN(const image::RunDirs dirs, layers(image, c.config));
    std::vector<fs::path> stack{paths(c.id).upper()};
    stack.insert(stack.end(), dirs.lowers_top_first().begin(), dirs.lowers_top_first().end());
    return inspect::LayerStack::open(stack);
}

Result<std::vector<Change>> Manager::changes(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const Container c, find(ref));
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(c.image_uuid));
    GROVE_ASSIGN_OR_RETURN(const image::RunDirs dirs, layers(image, c.config));
    GROVE_ASSIGN_OR_RETURN(const auto lowers, inspect::LayerStack::open(dirs.lowers_top_first()));
    return upper_changes(paths(c.id).upper(), lowers);
}

Result<uint64_t> Manager::size_rw(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const Container c, find(ref));
    const fs::path upper = paths(c.id).upper();
    std::error_code ec;
    if (!fs::exists(upper, ec)) {
        return uint64_t{0};
    }
    return engine::disk_usage(upper);
}

Result<void> Manager::extract(std::string_view ref,
                              std::string_view path,
                              int input_fd,
                              const archive::ApplyOptions& options) {
    std::unique_lock lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(const Container c, find_locked(ref));
    if (c.state.running()) {
        // The container's root in its own mount namespace, mounts (tmpfs, binds) included.
        GROVE_ASSIGN_OR_RETURN(auto root,
                               base::UniqueFd::open(fmt::format("/proc/{}/root", c.state.pid),
                                                    O_RDONLY | O_DIRECTORY));
        lock.unlock();
        return extract_tar(root.get(), path, input_fd, options);
    }
    wait_not_busy(lock, c.id);
    busy_.insert(c.id);
    lock.unlock();
    base::ScopeExit not_busy([&] {
        const std::lock_guard relock(mutex_);
        busy_.erase(c.id);
        changed_.notify_all();
    });
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(c.image_uuid));
    GROVE_ASSIGN_OR_RETURN(const image::RunDirs dirs, layers(image, c.config));
    const ContainerPaths p = paths(c.id);
    // overlayfs wants an empty work directory; the shim makes its own fresh one at each start.
    std::error_code ec;
    fs::remove_all(p.work(), ec);
    if (ec || ::mkdir(p.work().c_str(), 0700) != 0) {
        return base::errno_error(ec ? ec.value() : errno, "create '{}'", p.work().string());
    }
    GROVE_ASSIGN_OR_RETURN(auto overlay, runtime::rootfs::OverlayMount::create(
                                             dirs.lowers_top_first(), p.upper(), p.work()));
    GROVE_TRY(extract_tar(overlay.fd(), path, input_fd, options));
    return overlay.close();
}

Result<store::ImageRecord> Manager::commit(std::string_view ref, const CommitSpec& spec) {
    GROVE_ASSIGN_OR_RETURN(const Container c, find(ref));
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(c.image_uuid));
    GROVE_ASSIGN_OR_RETURN(const std::string config,
                           commit_config(image.config_json, c, spec, rfc3339_now()));
    GROVE_ASSIGN_OR_RETURN(image::RunDirs dirs, layers(image, c.config));
    {
        // Paused like Docker's commit, so the copy is one moment of the container's files.
        bool paused = false;
        if (spec.pause && c.state.status == Status::kRunning) {
            GROVE_TRY(pause(c.id));
            paused = true;
        }
        base::ScopeExit resume([&] {
            if (paused) {
                (void)unpause(c.id);
            }
        });
        // The run's empty upper is replaced by a copy of the container's, whiteouts and opaque
        // markers kept; never hardlinks: the container goes on writing to its own files.
        if (::rmdir(dirs.upper().c_str()) != 0) {
            return base::last_errno_error("remove '{}'", dirs.upper().string());
        }
        GROVE_TRY(
            image::merge_layers({paths(c.id).upper()}, dirs.upper(),
                                {.links = image::MergeLinks::kCopy, .keep_overlay_form = true}));
    }
    GROVE_ASSIGN_OR_RETURN(auto committed, store_.commit_run(std::move(dirs), image,
                                                             {.ignore_paths = {},
                                                              .operation = spec.comment,
                                                              .tag = spec.tag,
                                                              .config_json = config}));
    return std::move(committed.image);
}

}  // namespace grove::containers
