#include "layer_merge.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>

#include <climits>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOverlayPrefix = "trusted.overlay.";
// overlayfs keeps the merged view's own trusted.overlay.* xattrs under this escaped prefix: they
// belong to the files and are copied like any other xattr.
constexpr std::string_view kEscapedPrefix = "trusted.overlay.overlay.";
constexpr const char* kOpaque = "trusted.overlay.opaque";
// Up to this many layer roots stay open for the whole merge; past it (a chain merged from its
// bottom) each directory visit opens its layer's root again, so a merge never runs out of fds.
constexpr size_t kMaxHeldRoots = 256;
constexpr size_t kCopyChunk = size_t{1} << 30;

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

std::string join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

// openat2 beneath `root_fd`, following no symlink and crossing no mount.
Result<base::UniqueFd> open_beneath(int root_fd, const std::string& rel, int flags) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const char* path = rel.empty() ? "." : rel.c_str();
    const long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd < 0) {
        return base::last_errno_error("open '{}'", rel);
    }
    return base::UniqueFd(static_cast<int>(fd));
}

// Where xattrs are read or written: an open fd (f*xattr), or a /proc/self/fd/N/name path whose
// last component is never followed (l*xattr), for entries that cannot be opened (symlinks).
struct XattrTarget {
    int fd = -1;
    std::string path;

    ssize_t list(char* buf, size_t size) const {
        return fd >= 0 ? ::flistxattr(fd, buf, size) : ::llistxattr(path.c_str(), buf, size);
    }
    ssize_t get(const char* name, void* buf, size_t size) const {
        return fd >= 0 ? ::fgetxattr(fd, name, buf, size)
                       : ::lgetxattr(path.c_str(), name, buf, size);
    }
    int set(const char* name, const void* value, size_t size) const {
        return fd >= 0 ? ::fsetxattr(fd, name, value, size, 0)
                       : ::lsetxattr(path.c_str(), name, value, size, 0);
    }
};

XattrTarget entry_in(int parent_fd, const std::string& name) {
    return XattrTarget{.fd = -1, .path = fmt::format("/proc/self/fd/{}/{}", parent_fd, name)};
}

XattrTarget opened(int fd) {
    return XattrTarget{.fd = fd, .path = {}};
}

Result<std::string> list_xattrs(const XattrTarget& target) {
    for (;;) {
        ssize_t size = target.list(nullptr, 0);
        if (size <= 0) {
            if (size == 0 || errno == ENOTSUP) {
                return std::string();
            }
            return base::last_errno_error("list xattrs");
        }
        std::string names(static_cast<size_t>(size), '\0');
        size = target.list(names.data(), names.size());
        if (size >= 0) {
            names.resize(static_cast<size_t>(size));
            return names;
        }
        if (errno != ERANGE) {  // ERANGE: the list grew meanwhile
            return base::last_errno_error("list xattrs");
        }
    }
}

Result<std::string> get_xattr(const XattrTarget& target, const char* name) {
    for (;;) {
        ssize_t size = target.get(name, nullptr, 0);
        if (size < 0) {
            return base::last_errno_error("read xattr '{}'", name);
        }
        std::string value(static_cast<size_t>(size), '\0');
        size = target.get(name, value.data(), value.size());
        if (size >= 0) {
            value.resize(static_cast<size_t>(size));
            return value;
        }
        if (errno != ERANGE) {
            return base::last_errno_error("read xattr '{}'", name);
        }
    }
}

// Copies every xattr but overlay's bookkeeping (opaque markers and the like, which describe the
// old stack): user.*, trusted.*, security.capability, POSIX ACLs, escaped overlay xattrs; and the
// opaque marker with `keep_opaque`.
Result<void> copy_xattrs(const XattrTarget& from, const XattrTarget& to, bool keep_opaque) {
    GROVE_ASSIGN_OR_RETURN(const std::string names, list_xattrs(from));
    for (size_t start = 0; start < names.size();) {
        size_t end = names.find('\0', start);
        end = end == std::string::npos ? names.size() : end;
        const std::string name = names.substr(start, end - start);
        start = end + 1;
        const std::string_view view(name);
        if (view.starts_with(kOverlayPrefix) && !view.starts_with(kEscapedPrefix) &&
            !(keep_opaque && view == kOpaque)) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const std::string value, get_xattr(from, name.c_str()));
        if (to.set(name.c_str(), value.data(), value.size()) != 0 && errno != ENOTSUP) {
            return base::last_errno_error("set xattr '{}'", name);
        }
    }
    return {};
}

Result<bool> is_opaque(const XattrTarget& dir) {
    char value[2] = {};
    const ssize_t n = dir.get(kOpaque, value, sizeof(value));
    if (n < 0) {
        if (errno == ENODATA || errno == ENOTSUP || errno == ERANGE) {
            return false;  // ERANGE: a longer value, so not "y"
        }
        return base::last_errno_error("read opaque marker");
    }
    return n == 1 && value[0] == 'y';
}

struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};

// Copies the bytes of `from` into `to`: a reflink where the filesystem can, else
// copy_file_range, else read and write.
Result<void> copy_data(int from, int to) {
    if (::ioctl(to, FICLONE, from) == 0) {
        return {};
    }
    for (bool first = true;; first = false) {
        const ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, kCopyChunk, 0);
        if (n == 0) {
            return {};
        }
        if (n > 0) {
            continue;
        }
        if (!first || (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)) {
            return base::last_errno_error("copy file data");
        }
        break;
    }
    char buf[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(from, buf, sizeof(buf));
        if (n == 0) {
            return {};
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("read file data");
        }
        GROVE_TRY(base::write_all(to, std::string_view(buf, static_cast<size_t>(n))));
    }
}

class Merger {
public:
    Merger(const std::vector<fs::path>& layers, const MergeOptions& options)
        : layers_(layers), options_(options) {}

    Result<MergeStats> run(const fs::path& dest);

private:
    // A directory of the result still to fill: its path from the root ("" for the root), the
    // layers whose directories merge into it (top first), and the times of the topmost one.
    struct DirTask {
        std::string rel;
        std::vector<size_t> layers;
        timespec times[2];
    };

    Result<base::UniqueFd> open_layer_dir(size_t layer, const std::string& rel) const;
    bool keep_opaque() const { return options_.keep_overlay_form; }
    Result<void> merge_dir(const DirTask& task, std::vector<DirTask>& todo);
    Result<void> make_dir(int src_parent,
                          const std::string& name,
                          const struct stat& st,
                          int dst_parent);
    Result<void> place(int src_parent,
                       const std::string& name,
                       const struct stat& st,
                       int dst_parent,
                       const std::string& rel);
    Result<void> copy(int src_parent,
                      const std::string& name,
                      const struct stat& st,
                      int dst_parent,
                      const std::string& rel);

    const std::vector<fs::path>& layers_;
    const MergeOptions& options_;
    std::vector<base::UniqueFd> roots_;  // every layer's root, unless there are too many
    base::UniqueFd dest_;
    MergeStats stats_;
    // Copies of inodes with several links, by source inode: the copy's path in the result, so
    // names that shared an inode in a layer share one in the result too.
    std::map<std::pair<dev_t, ino_t>, std::string> copies_;
};

Result<base::UniqueFd> Merger::open_layer_dir(size_t layer, const std::string& rel) const {
    Result<base::UniqueFd> dir = [&]() -> Result<base::UniqueFd> {
        if (!roots_.empty()) {
            return open_beneath(roots_[layer].get(), rel, O_RDONLY | O_DIRECTORY);
        }
        GROVE_ASSIGN_OR_RETURN(auto root,
                               base::UniqueFd::open(layers_[layer].string(), O_PATH | O_DIRECTORY));
        return open_beneath(root.get(), rel, O_RDONLY | O_DIRECTORY);
    }();
    return base::with_context(std::move(dir), "layer '{}'", layers_[layer].string());
}

Result<MergeStats> Merger::run(const fs::path& dest) {
    if (layers_.empty()) {
        return base::make_error(Code::kInvalidArgument, "a merge needs at least one layer");
    }
    if (layers_.size() <= kMaxHeldRoots) {
        for (const auto& layer : layers_) {
            GROVE_ASSIGN_OR_RETURN(auto root,
                                   base::UniqueFd::open(layer.string(), O_PATH | O_DIRECTORY));
            roots_.push_back(std::move(root));
        }
    }
    if (::mkdir(dest.c_str(), 0700) != 0) {
        return base::last_errno_error("create '{}'", dest.string());
    }
    GROVE_ASSIGN_OR_RETURN(dest_, base::UniqueFd::open(dest.string(), O_RDONLY | O_DIRECTORY));
    // The root merges every layer, and takes its attributes from the topmost.
    GROVE_ASSIGN_OR_RETURN(const auto top_root, open_layer_dir(0, ""));
    struct stat st {};
    if (::fstat(top_root.get(), &st) != 0 || ::fchown(dest_.get(), st.st_uid, st.st_gid) != 0 ||
        ::fchmod(dest_.get(), st.st_mode & 07777) != 0) {
        return base::last_errno_error("copy the root's attributes to '{}'", dest.string());
    }
    GROVE_TRY(
        base::with_context(copy_xattrs(opened(top_root.get()), opened(dest_.get()), keep_opaque()),
                           "copy the root's xattrs to '{}'", dest.string()));
    ++stats_.directories;
    DirTask root{.rel = {}, .layers = {}, .times = {st.st_atim, st.st_mtim}};
    for (size_t layer = 0; layer < layers_.size(); ++layer) {
        root.layers.push_back(layer);
    }
    // Depth first with an explicit stack: a hostile layer's nesting cannot overflow ours.
    std::vector<DirTask> todo;
    todo.push_back(std::move(root));
    while (!todo.empty()) {
        const DirTask task = std::move(todo.back());
        todo.pop_back();
        GROVE_TRY(base::with_context(merge_dir(task, todo), "merge '/{}'", task.rel));
    }
    return stats_;
}

Result<void> Merger::merge_dir(const DirTask& task, std::vector<DirTask>& todo) {
    GROVE_ASSIGN_OR_RETURN(const auto dest_dir,
                           open_beneath(dest_.get(), task.rel, O_RDONLY | O_DIRECTORY));
    // A name is done once something hides whatever the lower layers hold under it.
    struct Seen {
        bool done = false;
        size_t subdir = 0;  // its index in `subdirs` while a merged directory collects layers
    };
    std::unordered_map<std::string, Seen> seen;
    std::vector<DirTask> subdirs;
    for (size_t k = 0; k < task.layers.size(); ++k) {
        const size_t layer = task.layers[k];
        const bool bottom = k + 1 == task.layers.size();
        GROVE_ASSIGN_OR_RETURN(const auto dir, open_layer_dir(layer, task.rel));
        GROVE_ASSIGN_OR_RETURN(auto iter_fd, dir.dup());
        DIR* raw = ::fdopendir(iter_fd.get());
        if (raw == nullptr) {
            return base::last_errno_error("list layer '{}'", layers_[layer].string());
        }
        (void)iter_fd.release();  // owned by the DIR stream now
        const std::unique_ptr<DIR, DirCloser> stream(raw);
        for (;;) {
            errno = 0;
            const dirent* ent = ::readdir(stream.get());
            if (ent == nullptr) {
                if (errno != 0) {
                    return base::last_errno_error("list layer '{}'", layers_[layer].string());
                }
                break;
            }
            const std::string name = ent->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            auto [it, fresh] = seen.try_emplace(name);
            Seen& entry = it->second;
            if (entry.done) {
                continue;
            }
            struct stat st {};
            if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                return base::last_errno_error("stat '{}' in layer '{}'", join(task.rel, name),
                                              layers_[layer].string());
            }
            const bool is_dir = S_ISDIR(st.st_mode);
            if (is_whiteout(st) || !is_dir) {
                // Topmost: a whiteout deletes the name, anything else is the entry. Below a
                // directory: either ends the merge of that directory.
                if (fresh && (!is_whiteout(st) || options_.keep_overlay_form)) {
                    GROVE_TRY(place(dir.get(), name, st, dest_dir.get(), join(task.rel, name)));
                }
                entry.done = true;
                continue;
            }
            if (fresh) {
                GROVE_TRY(make_dir(dir.get(), name, st, dest_dir.get()));
                entry.subdir = subdirs.size();
                subdirs.push_back(DirTask{.rel = join(task.rel, name),
                                          .layers = {layer},
                                          .times = {st.st_atim, st.st_mtim}});
            } else {
                subdirs[entry.subdir].layers.push_back(layer);
            }
            if (!bottom) {
                GROVE_ASSIGN_OR_RETURN(entry.done, is_opaque(entry_in(dir.get(), name)));
            }
        }
    }
    // Every entry of this directory exists now, so its mtime stays what is set here.
    if (::futimens(dest_dir.get(), task.times) != 0) {
        return base::last_errno_error("set times");
    }
    for (auto& subdir : subdirs) {
        todo.push_back(std::move(subdir));
    }
    return {};
}

Result<void> Merger::make_dir(int src_parent,
                              const std::string& name,
                              const struct stat& st,
                              int dst_parent) {
    if (::mkdirat(dst_parent, name.c_str(), 0700) != 0) {
        return base::last_errno_error("create directory '{}'", name);
    }
    GROVE_ASSIGN_OR_RETURN(
        auto dir, base::UniqueFd::open_at(dst_parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    // Owner first: chown clears setgid, which the mode then restores.
    if (::fchown(dir.get(), st.st_uid, st.st_gid) != 0 ||
        ::fchmod(dir.get(), st.st_mode & 07777) != 0) {
        return base::last_errno_error("set owner and mode of directory '{}'", name);
    }
    GROVE_TRY(base::with_context(
        copy_xattrs(entry_in(src_parent, name), opened(dir.get()), keep_opaque()), "directory '{}'",
        name));
    ++stats_.directories;
    return {};
}

Result<void> Merger::place(int src_parent,
                           const std::string& name,
                           const struct stat& st,
                           int dst_parent,
                           const std::string& rel) {
    if (S_ISREG(st.st_mode)) {
        stats_.regular_bytes += static_cast<uint64_t>(st.st_size);
    }
    if (options_.links == MergeLinks::kHardlink) {
        // Never AT_SYMLINK_FOLLOW: a symlink is linked as itself.
        if (::linkat(src_parent, name.c_str(), dst_parent, name.c_str(), 0) == 0) {
            ++stats_.linked;
            return {};
        }
        if (errno != EMLINK) {
            return base::last_errno_error("link '{}'", rel);
        }
    }
    return copy(src_parent, name, st, dst_parent, rel);
}

Result<void> Merger::copy(int src_parent,
                          const std::string& name,
                          const struct stat& st,
                          int dst_parent,
                          const std::string& rel) {
    const std::pair<dev_t, ino_t> inode{st.st_dev, st.st_ino};
    if (st.st_nlink > 1) {
        const auto copied = copies_.find(inode);
        if (copied != copies_.end()) {
            if (::linkat(dest_.get(), copied->second.c_str(), dst_parent, name.c_str(), 0) == 0) {
                ++stats_.linked;
                return {};
            }
            if (errno != EMLINK) {
                return base::last_errno_error("link '{}' to '{}'", rel, copied->second);
            }
        }
    }
    const timespec times[2] = {st.st_atim, st.st_mtim};
    if (S_ISREG(st.st_mode)) {
        GROVE_ASSIGN_OR_RETURN(auto from,
                               base::UniqueFd::open_at(src_parent, name, O_RDONLY | O_NOFOLLOW));
        GROVE_ASSIGN_OR_RETURN(
            auto to, base::UniqueFd::open_at(dst_parent, name,
                                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
        GROVE_TRY(base::with_context(copy_data(from.get(), to.get()), "copy '{}'", rel));
        // Owner, then mode (chown clears setuid), then xattrs (it clears security.capability
        // too), then times, which every other change bumps.
        if (::fchown(to.get(), st.st_uid, st.st_gid) != 0 ||
            ::fchmod(to.get(), st.st_mode & 07777) != 0) {
            return base::last_errno_error("set owner and mode of '{}'", rel);
        }
        GROVE_TRY(base::with_context(copy_xattrs(opened(from.get()), opened(to.get()), false),
                                     "copy '{}'", rel));
        if (::futimens(to.get(), times) != 0) {
            return base::last_errno_error("set times of '{}'", rel);
        }
    } else {
        if (S_ISLNK(st.st_mode)) {
            std::string target(PATH_MAX, '\0');
            const ssize_t n = ::readlinkat(src_parent, name.c_str(), target.data(), target.size());
            if (n < 0) {
                return base::last_errno_error("read link '{}'", rel);
            }
            target.resize(static_cast<size_t>(n));
            if (::symlinkat(target.c_str(), dst_parent, name.c_str()) != 0) {
                return base::last_errno_error("create symlink '{}'", rel);
            }
        } else if (::mknodat(dst_parent, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) !=
                   0) {
            return base::last_errno_error("create node '{}'", rel);
        }
        if (::fchownat(dst_parent, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
            return base::last_errno_error("set owner of '{}'", rel);
        }
        // A fresh device, fifo or socket, never a symlink: fchmodat cannot follow anything.
        if (!S_ISLNK(st.st_mode) &&
            ::fchmodat(dst_parent, name.c_str(), st.st_mode & 07777, 0) != 0) {
            return base::last_errno_error("set mode of '{}'", rel);
        }
        GROVE_TRY(base::with_context(
            copy_xattrs(entry_in(src_parent, name), entry_in(dst_parent, name), false), "copy '{}'",
            rel));
        if (::utimensat(dst_parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
            return base::last_errno_error("set times of '{}'", rel);
        }
    }
    if (st.st_nlink > 1) {
        copies_.insert_or_assign(inode, rel);
    }
    ++stats_.copied;
    return {};
}

}  // namespace

Result<MergeStats> merge_layers(const std::vector<fs::path>& layers_top_first,
                                const fs::path& dest,
                                const MergeOptions& options) {
    return Merger(layers_top_first, options).run(dest);
}

}  // namespace grove::image
