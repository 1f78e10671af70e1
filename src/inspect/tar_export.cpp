#include "inspect/tar_export.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <utility>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

#include "archive/entry_metadata.hpp"
#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "inspect/read_file.hpp"
#include "inspect/walk.hpp"

namespace grove::inspect {
namespace {

struct ArchiveFree {
    void operator()(::archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<::archive, ArchiveFree>;
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

Error archive_error(::archive* a) {
    const char* text = archive_error_string(a);
    std::string message = text != nullptr ? text : "libarchive failed without a message";
    const int err = archive_errno(a);
    return err > 0 ? base::errno_error_from(err, std::move(message))
                   : Error(Code::kInternal, std::move(message));
}

// Where libarchive's blocks go. A write error is kept here, not reported to libarchive: an
// archive that saw a failed write is never closed, and libarchive 3.6 then leaks its buffers.
// After an error, or once the export failed, blocks are dropped, so the trailer libarchive writes
// when it is freed cannot make a partial export look whole.
struct Output {
    int fd = -1;
    bool discard = false;
    std::optional<Error> error;

    // The outcome of a libarchive call on `a` that `failed` or not.
    Result<void> check(::archive* a, bool failed) const {
        if (error) {
            return *error;
        }
        return failed ? Result<void>(archive_error(a)) : Result<void>();
    }
};

la_ssize_t write_output(::archive*, void* client, const void* buffer, size_t length) {
    auto* output = static_cast<Output*>(client);
    if (!output->discard) {
        auto written = base::write_all(output->fd, {static_cast<const char*>(buffer), length});
        if (!written) {
            output->error = std::move(written).error();
            output->discard = true;
        }
    }
    return static_cast<la_ssize_t>(length);
}

// The xattrs of an open file or directory that an export may carry, in listing order.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(int fd,
                                                                     std::string_view path) {
    std::vector<std::pair<std::string, std::string>> xattrs;
    const ssize_t list_size = ::flistxattr(fd, nullptr, 0);
    if (list_size <= 0) {
        if (list_size < 0 && errno != ENOTSUP) {
            return base::last_errno_error("list xattrs of '{}'", path);
        }
        return xattrs;
    }
    std::string names(static_cast<size_t>(list_size), '\0');
    const ssize_t got = ::flistxattr(fd, names.data(), names.size());
    if (got < 0) {
        return base::last_errno_error("list xattrs of '{}'", path);
    }
    names.resize(static_cast<size_t>(got));
    for (size_t pos = 0; pos < names.size();) {
        const size_t end = std::min(names.find('\0', pos), names.size());
        const std::string name = names.substr(pos, end - pos);
        pos = end + 1;
        if (!archive::xattr_allowed(name)) {
            continue;
        }
        const ssize_t value_size = ::fgetxattr(fd, name.c_str(), nullptr, 0);
        if (value_size < 0) {
            return base::last_errno_error("read xattr '{}' of '{}'", name, path);
        }
        std::string value(static_cast<size_t>(value_size), '\0');
        const ssize_t value_got = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
        if (value_got < 0) {
            return base::last_errno_error("read xattr '{}' of '{}'", name, path);
        }
        value.resize(static_cast<size_t>(value_got));
        xattrs.emplace_back(name, std::move(value));
    }
    return xattrs;
}

class TarExporter {
public:
    TarExporter(const LayerStack& stack,
                const UserDb* users,
                ::archive* out,
                const Output& output,
                std::string start,
                std::optional<std::string> top_name,
                bool layer_form = false)
        : stack_(stack),
          users_(users),
          out_(out),
          output_(output),
          start_(std::move(start)),
          top_name_(std::move(top_name)),
          layer_form_(layer_form) {}

    // Writes the entry of `node` and, for a regular file, its data.
    Result<WalkControl> add(const Node& node);

private:
    Result<void> add_xattrs(int fd, const Node& node, archive_entry* entry);
    // With layer_form_: the markers of directory `dir` (opened as `fd`), whose entry names
    // start with `prefix`.
    Result<void> add_whiteouts(int fd, const Node& dir, const std::string& prefix);
    Result<void> add_marker(const std::string& name, const struct stat& st);
    Result<void> write_header(archive_entry* entry, const std::string& name);
    // The entry name of `path`: relative to "/", or below top_name_.
    std::string entry_name(const std::string& path) const {
        if (!top_name_ || start_ == "/") {
            return path.substr(1);
        }
        return *top_name_ + path.substr(start_.size());
    }

    const LayerStack& stack_;
    const UserDb* users_;
    ::archive* out_;
    const Output& output_;
    const std::string start_;  // the exported node's path
    const std::optional<std::string> top_name_;
    const bool layer_form_;  // one layer as an OCI layer: its whiteouts become .wh. entries
    // The first exported name of each multiply-linked inode: later names become tar hardlinks.
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

Result<WalkControl> TarExporter::add(const Node& node) {
    const struct stat& st = node.st;
    const std::string name = entry_name(node.path);
    if (node.path == "/" && layer_form_) {
        GROVE_ASSIGN_OR_RETURN(const auto fd, stack_.open_directory(node));
        GROVE_TRY(add_whiteouts(fd.get(), node, ""));
    }
    if (node.path == "/" || S_ISSOCK(st.st_mode)) {
        return WalkControl::kContinue;
    }
    EntryPtr entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), name.c_str());
    archive_entry_set_mode(entry.get(), st.st_mode);
    archive_entry_set_uid(entry.get(), st.st_uid);
    archive_entry_set_gid(entry.get(), st.st_gid);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (users_ != nullptr) {
        if (auto owner = users_->user(st.st_uid)) {
            archive_entry_copy_uname(entry.get(), owner->c_str());
        }
        if (auto group = users_->group(st.st_gid)) {
            archive_entry_copy_gname(entry.get(), group->c_str());
        }
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
        const auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, name);
        if (!first) {
            archive_entry_copy_hardlink(entry.get(), it->second.c_str());
            GROVE_TRY(write_header(entry.get(), name));
            return WalkControl::kContinue;
        }
    }
    if (S_ISLNK(st.st_mode)) {
        GROVE_ASSIGN_OR_RETURN(const std::string target, stack_.read_link(node));
        archive_entry_copy_symlink(entry.get(), target.c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        archive_entry_set_rdevmajor(entry.get(), major(st.st_rdev));
        archive_entry_set_rdevminor(entry.get(), minor(st.st_rdev));
    } else if (S_ISDIR(st.st_mode)) {
        GROVE_ASSIGN_OR_RETURN(const auto fd, stack_.open_directory(node));
        GROVE_TRY(add_xattrs(fd.get(), node, entry.get()));
        GROVE_TRY(write_header(entry.get(), name));
        if (layer_form_) {
            GROVE_TRY(add_whiteouts(fd.get(), node, name + "/"));
        }
        return WalkControl::kContinue;
    }
    if (!S_ISREG(st.st_mode)) {
        GROVE_TRY(write_header(entry.get(), name));
        return WalkControl::kContinue;
    }
    GROVE_ASSIGN_OR_RETURN(const auto fd, stack_.open_file(node));
    GROVE_TRY(add_xattrs(fd.get(), node, entry.get()));
    archive_entry_set_size(entry.get(), st.st_size);
    GROVE_TRY(write_header(entry.get(), name));
    // The header promised st_size bytes: libarchive pads with zeros if the file came up short.
    GROVE_TRY(read_fd(
        fd.get(), node.path,
        [&](std::span<const std::byte> chunk) -> Result<void> {
            const bool failed = archive_write_data(out_, chunk.data(), chunk.size()) < 0;
            return base::with_context(output_.check(out_, failed), "write data of '{}'", node.path);
        },
        0, static_cast<uint64_t>(st.st_size)));
    return WalkControl::kContinue;
}

Result<void> TarExporter::add_xattrs(int fd, const Node& node, archive_entry* entry) {
    GROVE_ASSIGN_OR_RETURN(const auto xattrs, read_xattrs(fd, node.path));
    for (const auto& [name, value] : xattrs) {
        archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
    }
    return {};
}

Result<void> TarExporter::add_whiteouts(int fd, const Node& dir, const std::string& prefix) {
    char opaque[2] = {};
    const ssize_t n = ::fgetxattr(fd, "trusted.overlay.opaque", opaque, sizeof(opaque));
    if (n < 0 && errno != ENODATA && errno != ENOTSUP) {
        return base::last_errno_error("read the opaque marker of '{}'", dir.path);
    }
    if (n == 1 && opaque[0] == 'y') {
        GROVE_TRY(add_marker(prefix + ".wh..wh..opq", dir.st));
    }
    // Sorted, as the walk's entries are: readdir's order is the filesystem's.
    std::map<std::string, struct stat> whiteouts;
    GROVE_ASSIGN_OR_RETURN(auto iter_fd, base::UniqueFd::open_at(fd, ".", O_RDONLY | O_DIRECTORY));
    DIR* raw = ::fdopendir(iter_fd.get());
    if (raw == nullptr) {
        return base::last_errno_error("list '{}'", dir.path);
    }
    (void)iter_fd.release();  // now owned by the DIR stream
    const std::unique_ptr<DIR, int (*)(DIR*)> stream(raw, ::closedir);
    while (const dirent* ent = ::readdir(stream.get())) {
        if (ent->d_type != DT_CHR && ent->d_type != DT_UNKNOWN) {
            continue;
        }
        struct stat st {};
        if (::fstatat(fd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            return base::last_errno_error("stat '{}' in '{}'", ent->d_name, dir.path);
        }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
            whiteouts.emplace(ent->d_name, st);
        }
    }
    for (const auto& [name, st] : whiteouts) {
        GROVE_TRY(add_marker(prefix + ".wh." + name, st));
    }
    return {};
}

// An empty regular file named `name`, with the owner, permissions and mtime of what it marks.
Result<void> TarExporter::add_marker(const std::string& name, const struct stat& st) {
    EntryPtr entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), name.c_str());
    archive_entry_set_mode(entry.get(), S_IFREG | (st.st_mode & 07777));
    archive_entry_set_uid(entry.get(), st.st_uid);
    archive_entry_set_gid(entry.get(), st.st_gid);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size(entry.get(), 0);
    return write_header(entry.get(), name);
}

Result<void> TarExporter::write_header(archive_entry* entry, const std::string& name) {
    // ARCHIVE_WARN only reports a lossy name or owner conversion; the entry is written.
    const bool failed = archive_write_header(out_, entry) < ARCHIVE_WARN;
    return base::with_context(output_.check(out_, failed), "write tar header of '{}'", name);
}

// The tar of `start` and what is below it.
Result<void> export_tree(const LayerStack& stack,
                         const Node& start,
                         int out_fd,
                         const UserDb* users,
                         const std::optional<std::string>& top_name,
                         bool layer_form) {
    Output output{.fd = out_fd};
    ArchivePtr out(archive_write_new());
    base::ScopeExit discard_on_failure([&] { output.discard = true; });
    // PAX: a plain ustar header unless an entry needs an extended one (long names, xattrs, big
    // ids, or an mtime with nanoseconds, which docker truncates but grove keeps). Xattrs go only
    // in the SCHILY.xattr form every reader knows, not also in libarchive's own duplicate.
    if (archive_write_set_format_pax(out.get()) != ARCHIVE_OK ||
        archive_write_set_format_option(out.get(), "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
        archive_write_open2(out.get(), &output, nullptr, write_output, nullptr, nullptr) !=
            ARCHIVE_OK) {
        return archive_error(out.get()).add_context("start tar stream");
    }
    TarExporter exporter(stack, users, out.get(), output, start.path, top_name, layer_form);
    GROVE_TRY(
        base::with_context(walk(stack, start, [&](const Node& node) { return exporter.add(node); }),
                           "export '{}'", start.path));
    // Close writes the end-of-archive blocks; free would too, but could not report a failure.
    const bool close_failed = archive_write_close(out.get()) != ARCHIVE_OK;
    GROVE_TRY(output.check(out.get(), close_failed).context("finish tar stream"));
    discard_on_failure.dismiss();
    return {};
}

}  // namespace

Result<void> write_tar(const LayerStack& stack,
                       std::string_view path,
                       int out_fd,
                       const UserDb* users,
                       const TarOptions& options) {
    GROVE_ASSIGN_OR_RETURN(const Node start, stack.lookup(path, options.follow));
    return export_tree(stack, start, out_fd, users, options.top_name, false);
}

Result<void> write_layer_tar(const std::filesystem::path& layer, int out_fd) {
    GROVE_ASSIGN_OR_RETURN(const LayerStack stack, LayerStack::open({layer}));
    GROVE_ASSIGN_OR_RETURN(const Node root, stack.lookup("/"));
    return export_tree(stack, root, out_fd, nullptr, std::nullopt, true);
}

}  // namespace grove::inspect
