#include "runtime/rootfs/overlay_mount.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>
#include <utility>

#include "base/error.hpp"

namespace grove::runtime::rootfs {
namespace {

namespace fs = std::filesystem;

// See the header for why each option is set.
constexpr const char* kSafeOptions[][2] = {
    {"metacopy", "off"}, {"redirect_dir", "nofollow"}, {"index", "off"}};

Result<void> check_lowers(const std::vector<fs::path>& lowers) {
    if (lowers.empty()) {
        return base::make_error(Code::kInvalidArgument,
                                "an overlay needs at least one lower layer");
    }
    if (lowers.size() > kMaxLowerLayers) {
        return base::make_error(Code::kOutOfRange,
                                "{} lower layers exceed overlayfs' limit of {}; flatten the chain",
                                lowers.size(), kMaxLowerLayers);
    }
    return {};
}

Result<void> set_string(int fs_fd, const char* key, const std::string& value) {
    if (fsconfig(fs_fd, FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
        return base::last_errno_error("overlay option {}='{}'", key, value);
    }
    return {};
}

// The new mount API: one fsconfig per layer, so neither the page nor fsconfig's 256-byte value
// limit bounds the chain. Returns Unimplemented when the kernel lacks "lowerdir+".
Result<base::UniqueFd> mount_new_api(const std::vector<fs::path>& lowers,
                                     const fs::path& upper,
                                     const fs::path& work,
                                     unsigned attrs) {
    base::UniqueFd fs_fd(fsopen("overlay", FSOPEN_CLOEXEC));
    if (!fs_fd) {
        return base::last_errno_error("fsopen overlay");
    }
    for (size_t i = 0; i < lowers.size(); ++i) {
        if (fsconfig(fs_fd.get(), FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str(), 0) != 0) {
            const int err = errno;
            if (i == 0 && err == EINVAL) {
                return base::make_error(Code::kUnimplemented, "kernel lacks overlay 'lowerdir+'");
            }
            return base::errno_error(err, "overlay lower layer '{}'", lowers[i].string());
        }
    }
    if (!upper.empty()) {
        GROVE_TRY(set_string(fs_fd.get(), "upperdir", upper.string()));
        GROVE_TRY(set_string(fs_fd.get(), "workdir", work.string()));
        if (fsconfig(fs_fd.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0) != 0) {
            return base::last_errno_error("overlay option volatile");
        }
    }
    for (const auto& option : kSafeOptions) {
        GROVE_TRY(set_string(fs_fd.get(), option[0], option[1]));
    }
    if (fsconfig(fs_fd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
        return base::last_errno_error("create overlay of {} layers", lowers.size());
    }
    base::UniqueFd mnt(fsmount(fs_fd.get(), FSMOUNT_CLOEXEC, attrs));
    if (!mnt) {
        return base::last_errno_error("fsmount overlay");
    }
    return mnt;
}

// Old kernels: mount(2) needs a target, so mount on a private temporary directory, clone the
// mount into a detached tree and drop the temporary mount. The caller sees the same fd either way.
Result<base::UniqueFd> mount_legacy(const std::vector<fs::path>& lowers,
                                    const fs::path& upper,
                                    const fs::path& work,
                                    unsigned long flags) {
    GROVE_ASSIGN_OR_RETURN(std::string data, legacy_mount_data(lowers, upper, work));
    std::string tmp = (fs::temp_directory_path() / "grove-ovl-XXXXXX").string();
    if (mkdtemp(tmp.data()) == nullptr) {
        return base::last_errno_error("mkdtemp '{}'", tmp);
    }
    if (mount("overlay", tmp.c_str(), "overlay", flags, data.c_str()) != 0) {
        const int err = errno;
        rmdir(tmp.c_str());
        return base::errno_error(err, "mount overlay of {} layers", lowers.size());
    }
    base::UniqueFd tree(open_tree(AT_FDCWD, tmp.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    const int err = errno;
    umount2(tmp.c_str(), MNT_DETACH);
    rmdir(tmp.c_str());
    if (!tree) {
        return base::errno_error(err, "open_tree of overlay at '{}'", tmp);
    }
    return tree;
}

Result<base::UniqueFd> mount_overlay(const std::vector<fs::path>& lowers,
                                     const fs::path& upper,
                                     const fs::path& work,
                                     bool read_only,
                                     MountApi api) {
    GROVE_TRY(check_lowers(lowers));
    if (api == MountApi::kAuto) {
        auto fd = mount_new_api(lowers, upper, work, read_only ? MOUNT_ATTR_RDONLY : 0);
        if (fd.has_value() || fd.error().code() != Code::kUnimplemented) {
            return fd;
        }
    }
    return mount_legacy(lowers, upper, work, read_only ? MS_RDONLY : 0);
}

}  // namespace

Result<std::string> legacy_mount_data(const std::vector<fs::path>& lowers_top_first,
                                      const fs::path& upper,
                                      const fs::path& work) {
    GROVE_TRY(check_lowers(lowers_top_first));
    std::string data = "lowerdir=";
    auto append_path = [&data](const fs::path& path) -> Result<void> {
        if (path.string().find_first_of(":,") != std::string::npos) {
            return base::make_error(Code::kInvalidArgument, "overlay path '{}' contains ':' or ','",
                                    path.string());
        }
        data += path.string();
        return {};
    };
    for (size_t i = 0; i < lowers_top_first.size(); ++i) {
        if (i > 0) {
            data += ':';
        }
        GROVE_TRY(append_path(lowers_top_first[i]));
    }
    if (!upper.empty()) {
        data += ",upperdir=";
        GROVE_TRY(append_path(upper));
        data += ",workdir=";
        GROVE_TRY(append_path(work));
        data += ",volatile";
    }
    for (const auto& option : kSafeOptions) {
        data += fmt::format(",{}={}", option[0], option[1]);
    }
    if (data.size() > kMaxLegacyMountData) {
        return base::make_error(Code::kResourceExhausted,
                                "overlay options for {} layers take {} bytes, over one page",
                                lowers_top_first.size(), data.size());
    }
    return data;
}

OverlayMount::OverlayMount(OverlayMount&& other) noexcept
    : fd_(std::move(other.fd_)), target_(std::exchange(other.target_, {})) {}

OverlayMount& OverlayMount::operator=(OverlayMount&& other) noexcept {
    if (this != &other) {
        (void)close();
        fd_ = std::move(other.fd_);
        target_ = std::exchange(other.target_, {});
    }
    return *this;
}

OverlayMount::~OverlayMount() {
    (void)close();
}

Result<OverlayMount> OverlayMount::create(const std::vector<fs::path>& lowers_top_first,
                                          const fs::path& upper,
                                          const fs::path& work,
                                          MountApi api) {
    if (upper.empty() || work.empty()) {
        return base::make_error(Code::kInvalidArgument, "a writable overlay needs upper and work");
    }
    GROVE_ASSIGN_OR_RETURN(auto fd, mount_overlay(lowers_top_first, upper, work, false, api));
    return OverlayMount(std::move(fd));
}

Result<OverlayMount> OverlayMount::create_read_only(const std::vector<fs::path>& lowers_top_first,
                                                    MountApi api) {
    if (lowers_top_first.size() != 1) {
        GROVE_ASSIGN_OR_RETURN(auto fd, mount_overlay(lowers_top_first, {}, {}, true, api));
        return OverlayMount(std::move(fd));
    }
    const fs::path& layer = lowers_top_first.front();
    base::UniqueFd tree(open_tree(AT_FDCWD, layer.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) {
        return base::last_errno_error("open_tree '{}'", layer.string());
    }
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
        return base::last_errno_error("make bind of '{}' read-only", layer.string());
    }
    return OverlayMount(std::move(tree));
}

Result<void> OverlayMount::attach(const fs::path& target) {
    if (!target_.empty()) {
        return base::make_error(Code::kFailedPrecondition, "overlay already attached at '{}'",
                                target_.string());
    }
    if (move_mount(fd_.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        return base::last_errno_error("attach overlay at '{}'", target.string());
    }
    target_ = target;
    return {};
}

Result<void> OverlayMount::close() {
    Result<void> result;
    if (!target_.empty()) {
        if (umount2(target_.c_str(), MNT_DETACH) != 0) {
            result = base::last_errno_error("unmount overlay at '{}'", target_.string());
        }
        target_.clear();
    }
    fd_.reset();
    return result;
}

}  // namespace grove::runtime::rootfs
