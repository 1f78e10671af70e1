#include "engine/inject.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::engine {
namespace {

Result<base::UniqueFd> open_in_root(int root_fd, const std::string& path, int flags, mode_t mode) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
    if (fd < 0) {
        return base::last_errno_error("open '{}' in the sandbox", path);
    }
    return base::UniqueFd(static_cast<int>(fd));
}

// Creates the directories of `dir` that are missing, one component at a time, each resolved in
// the root so that no component can be a symlink out of it.
Result<void> make_parents(int root_fd, const std::string& dir) {
    std::string prefix;
    size_t start = 1;
    while (start < dir.size()) {
        const size_t slash = std::min(dir.find('/', start), dir.size());
        prefix = dir.substr(0, slash);
        start = slash + 1;
        auto existing = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, 0);
        if (existing) {
            continue;
        }
        if (existing.error().sys_errno() != ENOENT) {
            return std::move(existing).error();
        }
        const size_t cut = prefix.find_last_of('/');
        GROVE_ASSIGN_OR_RETURN(
            auto parent,
            open_in_root(root_fd, cut == 0 ? "/" : prefix.substr(0, cut), O_PATH | O_DIRECTORY, 0));
        const std::string name = prefix.substr(cut + 1);
        if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
            return base::last_errno_error("create directory '{}' in the sandbox", prefix);
        }
    }
    return {};
}

}  // namespace

Result<void> inject_files(int rootfs_fd, const std::vector<InjectedFile>& files) {
    for (const auto& file : files) {
        if (!file.path.starts_with('/') || file.path.ends_with('/')) {
            return base::make_error(Code::kInvalidArgument,
                                    "injected file path '{}' must be absolute and name a file",
                                    file.path);
        }
        GROVE_TRY(make_parents(rootfs_fd, file.path.substr(0, file.path.find_last_of('/'))));
        // O_NOFOLLOW: a symlink at the final component is replaced, not written through.
        const std::string& path = file.path;
        auto fd = open_in_root(rootfs_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                               file.mode & 07777);
        if (!fd && fd.error().sys_errno() == ELOOP) {
            GROVE_ASSIGN_OR_RETURN(
                auto parent,
                open_in_root(rootfs_fd, path.substr(0, std::max<size_t>(1, path.find_last_of('/'))),
                             O_PATH | O_DIRECTORY, 0));
            const std::string name = path.substr(path.find_last_of('/') + 1);
            if (::unlinkat(parent.get(), name.c_str(), 0) != 0) {
                return base::last_errno_error("replace the symlink '{}' in the sandbox", path);
            }
            fd = open_in_root(rootfs_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                              file.mode & 07777);
        }
        GROVE_ASSIGN_OR_RETURN(auto out, std::move(fd));
        GROVE_TRY(
            base::with_context(base::write_all(out.get(), file.content), "inject '{}'", path));
        // fchown before fchmod: chown clears setuid/setgid bits.
        if (::fchown(out.get(), file.uid, file.gid) != 0 ||
            ::fchmod(out.get(), file.mode & 07777) != 0) {
            return base::last_errno_error("set owner and mode of '{}' in the sandbox", path);
        }
    }
    return {};
}

}  // namespace grove::engine
