#pragma once

// OverlayMount owns an overlayfs mount built in the caller's mount namespace: the parent prepares
// a run's rootfs before cloning the container. The mount starts detached (an fd from fsmount),
// so nothing is visible in any namespace until attach() moves it onto a path.
//
// Options are chosen for untrusted layers (images come from registries):
//   metacopy=off         metacopy trusts lower xattrs to point at file data elsewhere
//   redirect_dir=nofollow  an untrusted lower must not redirect lookups to other directories;
//                        renaming a lower directory then fails with EXDEV (mv copies instead)
//   index=off            the same layer is shared by many concurrent mounts; the inode index
//                        would tie a layer to one upper and fail later mounts with ESTALE
//   volatile             (writable mounts) no syncfs of the upper's whole filesystem at unmount,
//                        which made a run's cost depend on what else was dirty on the host; a
//                        commit fsyncs exactly the files it keeps, and a crashed run's upper is
//                        never mounted again (recovery deletes it)

#include <filesystem>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::runtime::rootfs {

// overlayfs refuses a 501st lower layer; longer chains must be flattened by the caller.
inline constexpr size_t kMaxLowerLayers = 500;
// The legacy mount(2) data string is copied into one page, terminator included.
inline constexpr size_t kMaxLegacyMountData = 4095;

enum class MountApi {
    kAuto,    // fsconfig "lowerdir+" (kernel >= 6.7), else the legacy string through mount(2)
    kLegacy,  // always the legacy string: for tests and old kernels
};

class OverlayMount {
public:
    OverlayMount(OverlayMount&& other) noexcept;
    OverlayMount& operator=(OverlayMount&& other) noexcept;
    OverlayMount(const OverlayMount&) = delete;
    OverlayMount& operator=(const OverlayMount&) = delete;
    // Unmounts (MNT_DETACH) if attached; closing the fd releases a detached mount.
    ~OverlayMount();

    // A writable overlay of `lowers_top_first` (overlay's order: the first one wins) with the
    // run's `upper` and `work` directories (same filesystem, work empty).
    static Result<OverlayMount> create(const std::vector<std::filesystem::path>& lowers_top_first,
                                       const std::filesystem::path& upper,
                                       const std::filesystem::path& work,
                                       MountApi api = MountApi::kAuto);
    // A read-only view without an upper: an overlay of the lowers, or for a single layer a
    // read-only bind mount (overlayfs needs two lowers when there is no upper).
    static Result<OverlayMount> create_read_only(
        const std::vector<std::filesystem::path>& lowers_top_first, MountApi api = MountApi::kAuto);

    // The detached mount's fd (O_CLOEXEC); usable with move_mount or openat.
    int fd() const { return fd_.get(); }
    // Moves the mount onto `target` in the caller's namespace; the destructor then unmounts it.
    Result<void> attach(const std::filesystem::path& target);
    const std::filesystem::path& target() const { return target_; }
    // Unmounts now and reports failure (the destructor only logs).
    Result<void> close();

private:
    explicit OverlayMount(base::UniqueFd fd) : fd_(std::move(fd)) {}

    base::UniqueFd fd_;
    std::filesystem::path target_;  // empty while detached
};

// The legacy mount(2) data string "lowerdir=a:b,upperdir=u,workdir=w,<options>" (upper and
// work empty for a read-only overlay). ResourceExhausted past one page; InvalidArgument for a
// path containing ':' or ',' which the string cannot carry unescaped.
Result<std::string> legacy_mount_data(const std::vector<std::filesystem::path>& lowers_top_first,
                                      const std::filesystem::path& upper,
                                      const std::filesystem::path& work);

}  // namespace grove::runtime::rootfs
