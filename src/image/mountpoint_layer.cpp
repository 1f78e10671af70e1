#include "mountpoint_layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/digest.hpp"
#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "base/unique_fd.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;

// One entry of a mount point layer.
struct StubEntry {
    std::string path;
    bool directory = false;
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    timespec mtime{};
};

// The entries that make `needs` exist over `image`, parents first.
Result<std::vector<StubEntry>> plan_entries(const inspect::LayerStack& image,
                                            const std::vector<MountpointNeed>& needs) {
    std::vector<StubEntry> entries;
    auto planned = [&](const std::string& path) {
        for (const auto& entry : entries) {
            if (entry.path == path) {
                return true;
            }
        }
        return false;
    };
    for (const auto& need : needs) {
        auto found = image.lookup("/" + need.path, inspect::Follow::kNoFinal);
        if (found) {
            // Present, or the wrong type, which the runtime reports as before; only a symlink
            // where a file is needed is hidden.
            if (need.directory || !S_ISLNK(found->st.st_mode)) {
                continue;
            }
        } else if (found.error().code() != Code::kNotFound) {
            return found.error();
        }
        // Its parents must be real directories in the image or missing altogether.
        std::vector<StubEntry> parents;
        bool usable = true;
        for (fs::path parent = fs::path(need.path).parent_path(); !parent.empty();
             parent = parent.parent_path()) {
            StubEntry dir{.path = parent.string(), .directory = true, .mode = 0755};
            auto node = image.lookup("/" + dir.path, inspect::Follow::kNoFinal);
            if (node) {
                if (!S_ISDIR(node->st.st_mode)) {
                    usable = false;
                    break;
                }
                dir.mode = node->st.st_mode & 07777;
                dir.uid = node->st.st_uid;
                dir.gid = node->st.st_gid;
                dir.mtime = node->st.st_mtim;
            } else if (node.error().code() != Code::kNotFound) {
                return node.error();
            }
            parents.insert(parents.begin(), std::move(dir));
        }
        if (!usable) {
            continue;
        }
        for (auto& parent : parents) {
            if (!planned(parent.path)) {
                entries.push_back(std::move(parent));
            }
        }
        if (!planned(need.path)) {
            entries.push_back({.path = need.path,
                               .directory = need.directory,
                               .mode = static_cast<mode_t>(need.directory ? 0755 : 0644)});
        }
    }
    return entries;
}

std::string digest_of(const std::vector<StubEntry>& entries) {
    std::string text;
    for (const auto& e : entries) {
        text += fmt::format("{} {} {:o} {} {} {}.{}\n", e.directory ? 'd' : 'f', e.path, e.mode,
                            e.uid, e.gid, e.mtime.tv_sec, e.mtime.tv_nsec);
    }
    return std::string(base::Digest::sha256_of(text).encoded().substr(0, 32));
}

Result<void> build(const fs::path& dir, const std::vector<StubEntry>& entries) {
    if (::mkdir(dir.c_str(), 0755) != 0) {
        return base::last_errno_error("create '{}'", dir.string());
    }
    for (const auto& e : entries) {
        const fs::path path = dir / e.path;
        if (e.directory) {
            if (::mkdir(path.c_str(), e.mode) != 0) {
                return base::last_errno_error("create '{}'", path.string());
            }
        } else {
            GROVE_ASSIGN_OR_RETURN(
                auto fd, base::UniqueFd::open(path.string(), O_WRONLY | O_CREAT | O_EXCL, e.mode));
        }
        if (::lchown(path.c_str(), e.uid, e.gid) != 0 || ::chmod(path.c_str(), e.mode) != 0) {
            return base::last_errno_error("set the owner and mode of '{}'", path.string());
        }
    }
    // Children first: creating an entry would change its parent's mtime again.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        const timespec times[2] = {it->mtime, it->mtime};
        if (it->directory && it->mtime.tv_sec != 0 &&
            ::utimensat(AT_FDCWD, (dir / it->path).c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
            return base::last_errno_error("set the mtime of '{}'", it->path);
        }
    }
    base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::syncfs(fd.get()) != 0) {
        return base::last_errno_error("sync '{}'", dir.string());
    }
    return {};
}

}  // namespace

Result<std::optional<fs::path>> mountpoint_layer(const fs::path& stubs,
                                                 const inspect::LayerStack& image,
                                                 const std::vector<MountpointNeed>& needs) {
    GROVE_ASSIGN_OR_RETURN(const auto entries, plan_entries(image, needs));
    if (entries.empty()) {
        return std::optional<fs::path>();
    }
    const fs::path layer = stubs / digest_of(entries);
    if (fs::is_directory(layer)) {
        return std::optional(layer);
    }
    // Built aside and renamed into place, so a layer is never seen half made.
    const fs::path tmp = stubs / ("tmp-" + store::new_uuid());
    base::ScopeExit remove_tmp([&] {
        std::error_code ignored;
        fs::remove_all(tmp, ignored);
    });
    GROVE_TRY(build(tmp, entries));
    if (::rename(tmp.c_str(), layer.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY) {
        return base::last_errno_error("publish '{}'", layer.string());
    }
    return std::optional(layer);
}

}  // namespace grove::image
