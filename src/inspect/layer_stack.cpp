#include "layer_stack.hpp"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <map>
#include <memory>
#include <optional>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>

#include "base/error.hpp"

namespace grove::inspect {
namespace {

// Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

std::string relative(const std::string& path) {
    return path.size() <= 1 ? "" : path.substr(1);
}

std::string join(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};

std::deque<std::string> split(std::string_view path) {
    std::deque<std::string> parts;
    size_t start = 0;
    while (start < path.size()) {
        const size_t slash = std::min(path.find('/', start), path.size());
        if (slash > start) {
            parts.emplace_back(path.substr(start, slash - start));
        }
        start = slash + 1;
    }
    return parts;
}

}  // namespace

Result<LayerStack> LayerStack::open(const std::vector<std::filesystem::path>& layers) {
    if (layers.empty()) {
        return base::make_error(Code::kInvalidArgument, "an image needs at least one layer");
    }
    std::vector<base::UniqueFd> roots;
    roots.reserve(layers.size());
    for (const auto& layer : layers) {
        GROVE_ASSIGN_OR_RETURN(auto fd,
                               base::UniqueFd::open(layer.string(), O_RDONLY | O_DIRECTORY));
        roots.push_back(std::move(fd));
    }
    return LayerStack(std::move(roots));
}

Result<base::UniqueFd> LayerStack::open_in_layer(size_t layer,
                                                 const std::string& rel,
                                                 int flags) const {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const char* path = rel.empty() ? "." : rel.c_str();
    const long fd = ::syscall(SYS_openat2, roots_[layer].get(), path, &how, sizeof(how));
    if (fd < 0) {
        return base::last_errno_error("open '/{}' in layer {}", rel, layer);
    }
    return base::UniqueFd(static_cast<int>(fd));
}

namespace {

Result<bool> is_opaque(int dir_fd) {
    char value[2] = {};
    const ssize_t n = ::fgetxattr(dir_fd, "trusted.overlay.opaque", value, sizeof(value));
    if (n < 0) {
        if (errno == ENODATA || errno == ENOTSUP) {
            return false;
        }
        return base::last_errno_error("read opaque marker");
    }
    return n == 1 && value[0] == 'y';
}

}  // namespace

Result<Node> LayerStack::child(const Node& dir, const std::string& name) const {
    // "..", or a name with a slash, would reach outside `dir`, even outside a layer's root.
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
        return base::make_error(Code::kInvalidArgument, "bad entry name '{}'", name);
    }
    Node node;
    node.path = join(dir.path, name);
    const std::string rel = relative(node.path);
    for (const size_t layer : dir.layers) {
        GROVE_ASSIGN_OR_RETURN(auto parent,
                               open_in_layer(layer, relative(dir.path), O_PATH | O_DIRECTORY));
        struct stat st {};
        if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;
            }
            return base::last_errno_error("stat '{}' in layer {}", node.path, layer);
        }
        if (is_whiteout(st)) {
            break;
        }
        if (node.layers.empty()) {
            node.st = st;
        } else if (!S_ISDIR(st.st_mode)) {
            break;  // a directory above hides a non-directory below
        }
        node.layers.push_back(layer);
        if (!S_ISDIR(st.st_mode)) {
            break;
        }
        GROVE_ASSIGN_OR_RETURN(auto fd, open_in_layer(layer, rel, O_RDONLY | O_DIRECTORY));
        GROVE_ASSIGN_OR_RETURN(const bool opaque, is_opaque(fd.get()));
        if (opaque) {
            break;
        }
    }
    if (node.layers.empty()) {
        return base::errno_error(ENOENT, "'{}'", node.path);
    }
    return node;
}

Result<Node> LayerStack::lookup(std::string_view path, Follow follow) const {
    Node root{"/", {}, {}};
    if (::fstat(roots_[0].get(), &root.st) != 0) {
        return base::last_errno_error("stat the image root");
    }
    for (size_t layer = 0; layer < roots_.size(); ++layer) {
        root.layers.push_back(layer);
        GROVE_ASSIGN_OR_RETURN(const bool opaque, is_opaque(roots_[layer].get()));
        if (opaque) {
            break;
        }
    }
    // The resolved ancestors of the current position, so ".." needs no second lookup.
    std::vector<Node> stack{std::move(root)};
    std::deque<std::string> todo = split(path);
    int symlinks = 0;
    while (!todo.empty()) {
        std::string name = std::move(todo.front());
        todo.pop_front();
        if (name == ".") {
            continue;
        }
        if (name == "..") {
            if (stack.size() > 1) {  // ".." of the root is the root, as in RESOLVE_IN_ROOT
                stack.pop_back();
            }
            continue;
        }
        const Node& dir = stack.back();
        if (!S_ISDIR(dir.st.st_mode)) {
            return base::errno_error(ENOTDIR, "lookup '{}': '{}'", path, dir.path);
        }
        GROVE_ASSIGN_OR_RETURN(Node next,
                               base::with_context(child(dir, name), "lookup '{}'", path));
        if (S_ISLNK(next.st.st_mode) && (!todo.empty() || follow == Follow::kFinal)) {
            if (++symlinks > kMaxSymlinks) {
                return base::errno_error(ELOOP, "lookup '{}'", path);
            }
            GROVE_ASSIGN_OR_RETURN(const std::string target, read_link(next));
            if (target.starts_with('/')) {
                stack.resize(1);
            }
            auto parts = split(target);
            todo.insert(todo.begin(), parts.begin(), parts.end());
            continue;
        }
        stack.push_back(std::move(next));
    }
    return std::move(stack.back());
}

Result<std::vector<DirEntry>> LayerStack::list(const Node& dir) const {
    if (!S_ISDIR(dir.st.st_mode)) {
        return base::errno_error(ENOTDIR, "list '{}'", dir.path);
    }
    // nullopt marks a name whited out by an upper layer.
    std::map<std::string, std::optional<DirEntry>> seen;
    for (const size_t layer : dir.layers) {
        GROVE_ASSIGN_OR_RETURN(auto fd,
                               open_in_layer(layer, relative(dir.path), O_RDONLY | O_DIRECTORY));
        GROVE_ASSIGN_OR_RETURN(auto iter_fd, fd.dup());
        DIR* raw = ::fdopendir(iter_fd.get());
        if (raw == nullptr) {
            return base::last_errno_error("list '{}' in layer {}", dir.path, layer);
        }
        (void)iter_fd.release();  // now owned by the DIR stream
        std::unique_ptr<DIR, DirCloser> stream(raw);
        while (const dirent* ent = ::readdir(stream.get())) {
            const std::string name = ent->d_name;
            if (name == "." || name == ".." || seen.contains(name)) {
                continue;
            }
            struct stat st {};
            if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                return base::last_errno_error("stat '{}' in layer {}", join(dir.path, name), layer);
            }
            seen.emplace(name,
                         is_whiteout(st) ? std::nullopt : std::optional(DirEntry{name, st, layer}));
        }
    }
    std::vector<DirEntry> entries;
    entries.reserve(seen.size());
    for (auto& [name, entry] : seen) {
        if (entry) {
            entries.push_back(std::move(*entry));
        }
    }
    return entries;
}

Result<base::UniqueFd> LayerStack::open_file(const Node& file) const {
    if (!S_ISREG(file.st.st_mode)) {
        return base::make_error(Code::kFailedPrecondition, "'{}' is not a regular file", file.path);
    }
    return open_in_layer(file.layers.front(), relative(file.path), O_RDONLY);
}

Result<base::UniqueFd> LayerStack::open_directory(const Node& dir) const {
    if (!S_ISDIR(dir.st.st_mode)) {
        return base::make_error(Code::kFailedPrecondition, "'{}' is not a directory", dir.path);
    }
    return open_in_layer(dir.layers.front(), relative(dir.path), O_RDONLY | O_DIRECTORY);
}

Result<std::string> LayerStack::read_link(const Node& link) const {
    GROVE_ASSIGN_OR_RETURN(auto fd,
                           open_in_layer(link.layers.front(), relative(link.path), O_PATH));
    std::string target(PATH_MAX, '\0');
    const ssize_t n = ::readlinkat(fd.get(), "", target.data(), target.size());
    if (n < 0) {
        return base::last_errno_error("read link '{}'", link.path);
    }
    target.resize(static_cast<size_t>(n));
    return target;
}

}  // namespace grove::inspect
