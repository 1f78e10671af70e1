#include "archive/layer_tree.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <memory>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "base/error.hpp"

namespace grove::archive {

namespace {

constexpr mode_t kImplicitDirMode = 0755;

// openat2 confined to `dirfd`; -1 with errno on failure. ELOOP means a symlink was met.
int open_beneath(int dirfd, const char* path, int flags) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    while (true) {
        const long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        // EAGAIN: a concurrent rename elsewhere on the mount made the kernel give up the lookup.
        if (fd >= 0 || (errno != EINTR && errno != EAGAIN)) {
            return static_cast<int>(fd);
        }
    }
}

Error lookup_error(int err, std::string_view path) {
    switch (err) {
        case ELOOP:
            return base::make_error(Code::kInvalidArgument, "directory '{}' goes through a symlink",
                                    path);
        case ENOTDIR:
            return base::make_error(Code::kInvalidArgument,
                                    "'{}' is not a directory (or goes through a non-directory)",
                                    path);
        case EXDEV:
            return base::make_error(Code::kInvalidArgument, "directory '{}' escapes the layer",
                                    path);
        default:
            return base::errno_error(err, "open directory '{}'", path);
    }
}

struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};

// Empties and removes the directory `name` in `parent`, descending through fds only.
Result<void> remove_tree(int parent, const char* name) {
    const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return base::last_errno_error("open directory '{}' to remove it", name);
    }
    const std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
    if (!dir) {
        const Error error = base::last_errno_error("read directory '{}'", name);
        ::close(fd);
        return error;
    }
    // Collected first: POSIX leaves readdir unspecified while the directory changes.
    std::vector<std::string> children;
    errno = 0;
    while (const dirent* child = ::readdir(dir.get())) {
        const std::string_view child_name = child->d_name;
        if (child_name != "." && child_name != "..") {
            children.emplace_back(child_name);
        }
    }
    if (errno != 0) {
        return base::last_errno_error("read directory '{}'", name);
    }
    for (const std::string& child : children) {
        if (::unlinkat(fd, child.c_str(), 0) == 0) {
            continue;
        }
        if (errno != EISDIR) {
            return base::last_errno_error("remove '{}'", child);
        }
        GROVE_TRY(remove_tree(fd, child.c_str()));
    }
    if (::unlinkat(parent, name, AT_REMOVEDIR) != 0) {
        return base::last_errno_error("remove directory '{}'", name);
    }
    return {};
}

}  // namespace

Result<int> LayerTree::make_dir(std::string_view path) {
    if (path.empty()) {
        return root_fd_;
    }
    if (cached_fd_ && cached_path_ == path) {
        return cached_fd_.get();
    }
    cached_fd_.reset();
    cached_path_.assign(path);
    const int fd = open_beneath(root_fd_, cached_path_.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        cached_fd_.reset(fd);
    } else if (errno == ENOENT) {
        GROVE_ASSIGN_OR_RETURN(cached_fd_, make_dir_walk(path));
    } else {
        return lookup_error(errno, path);
    }
    return cached_fd_.get();
}

Result<base::UniqueFd> LayerTree::make_dir_walk(std::string_view path) {
    base::UniqueFd current;
    std::string component;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t end = path.find('/', pos);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        component.assign(path.substr(pos, end - pos));
        const std::string_view walked = path.substr(0, end);
        pos = end + 1;
        const int at = current ? current.get() : root_fd_;
        int fd = open_beneath(at, component.c_str(), O_RDONLY | O_DIRECTORY);
        bool created = false;
        if (fd < 0 && errno == ENOENT) {
            if (::mkdirat(at, component.c_str(), kImplicitDirMode) == 0) {
                created = true;
            } else if (errno != EEXIST) {
                return base::last_errno_error("create directory '{}'", walked);
            }
            fd = open_beneath(at, component.c_str(), O_RDONLY | O_DIRECTORY);
        }
        if (fd < 0) {
            return lookup_error(errno, walked);
        }
        current.reset(fd);
        // The mode must not depend on the daemon's umask.
        if (created && ::fchmod(fd, kImplicitDirMode) != 0) {
            return base::last_errno_error("chmod directory '{}'", walked);
        }
    }
    return current;
}

Result<base::UniqueFd> LayerTree::open_dir(std::string_view path) const {
    const std::string name = path.empty() ? std::string(".") : std::string(path);
    const int fd = open_beneath(root_fd_, name.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return lookup_error(errno, path);
    }
    return base::UniqueFd(fd);
}

Result<void> LayerTree::remove(int dirfd, const char* name) {
    if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) {
        return {};
    }
    if (errno != EISDIR) {
        return base::last_errno_error("remove '{}'", name);
    }
    cached_path_.clear();
    return remove_tree(dirfd, name);
}

}  // namespace grove::archive
