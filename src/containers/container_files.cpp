#include "containers/container_files.hpp"

#include <algorithm>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "image/archive_extract.hpp"
#include "runtime/rootfs/in_root.hpp"

namespace grove::containers {
namespace {

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool is_opaque(int dir_fd) {
    char value[2] = {};
    return ::fgetxattr(dir_fd, "trusted.overlay.opaque", value, sizeof(value)) == 1 &&
           value[0] == 'y';
}

// A directory of the upper still to list, with the lowers' merged directory of the same path
// (none below an opaque or added directory: everything there is added).
struct Pending {
    std::string path;  // "" for the root, else "/a/b"
    base::UniqueFd fd;
    std::optional<inspect::Node> lower;
};

Result<void> list_dir(Pending& dir,
                      const inspect::LayerStack& lowers,
                      std::vector<Change>& changes,
                      std::vector<Pending>& todo) {
    GROVE_ASSIGN_OR_RETURN(const auto names, base::with_context(image::list_directory(dir.fd.get()),
                                                                "list '{}'", dir.path));
    for (const std::string& name : names) {
        const std::string path = dir.path + "/" + name;
        struct stat st {};
        if (::fstatat(dir.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            return base::last_errno_error("stat '{}'", path);
        }
        if (is_whiteout(st)) {
            changes.push_back({path, ChangeKind::kDeleted});
            continue;
        }
        std::optional<inspect::Node> lower;
        if (dir.lower) {
            auto found = lowers.child(*dir.lower, name);
            if (found) {
                lower = std::move(found).value();
            } else if (found.error().code() != Code::kNotFound) {
                return found.error();
            }
        }
        if (!S_ISDIR(st.st_mode)) {
            changes.push_back({path, lower ? ChangeKind::kModified : ChangeKind::kAdded});
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(
            auto sub,
            base::UniqueFd::open_at(dir.fd.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        if (is_opaque(sub.get())) {
            // Whatever the lowers held there is gone, and the directory's entries are new.
            changes.push_back({path, ChangeKind::kDeleted});
            lower.reset();
        } else {
            changes.push_back({path, lower ? ChangeKind::kModified : ChangeKind::kAdded});
        }
        if (lower && !S_ISDIR(lower->st.st_mode)) {
            lower.reset();
        }
        todo.push_back({path, std::move(sub), std::move(lower)});
    }
    return {};
}

}  // namespace

Result<std::vector<Change>> upper_changes(const std::filesystem::path& upper,
                                          const inspect::LayerStack& lowers) {
    std::vector<Change> changes;
    std::vector<Pending> todo;
    GROVE_ASSIGN_OR_RETURN(auto root, base::UniqueFd::open(upper, O_RDONLY | O_DIRECTORY));
    GROVE_ASSIGN_OR_RETURN(auto lower_root, lowers.lookup("/", inspect::Follow::kNoFinal));
    todo.push_back({"", std::move(root), std::move(lower_root)});
    // Depth first with an explicit stack: the container may nest directories deeply.
    while (!todo.empty()) {
        Pending dir = std::move(todo.back());
        todo.pop_back();
        GROVE_TRY(list_dir(dir, lowers, changes, todo));
    }
    std::sort(changes.begin(), changes.end(),
              [](const Change& a, const Change& b) { return a.path < b.path; });
    return changes;
}

Result<void> extract_tar(int root_fd,
                         std::string_view path,
                         int input_fd,
                         const archive::ApplyOptions& options) {
    const std::string target(path.empty() ? "/" : path);
    const int fd = runtime::rootfs::open_in_root(root_fd, target.c_str(), O_RDONLY);
    if (fd < 0) {
        return base::errno_error(-fd, "open '{}' in the container", target);
    }
    const base::UniqueFd dir(fd);
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0) {
        return base::last_errno_error("stat '{}' in the container", target);
    }
    if (!S_ISDIR(st.st_mode)) {
        return base::make_error(Code::kInvalidArgument, "extraction point '{}' is not a directory",
                                target);
    }
    GROVE_TRY(archive::apply_layer(input_fd, dir.get(), options));
    return {};
}

}  // namespace grove::containers
