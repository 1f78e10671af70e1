#include "archive/layer_writer.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive_entry.h>

#include "archive/entry_name.hpp"
#include "base/error.hpp"

namespace grove::archive {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr const char* kOpaqueXattr = "trusted.overlay.opaque";

}  // namespace

Result<void> LayerWriter::write(TarReader& reader, archive_entry* entry) {
    const char* pathname = archive_entry_pathname(entry);
    if (pathname == nullptr) {
        return base::make_error(Code::kInvalidArgument, "layer entry without a name");
    }
    const std::string_view raw = pathname;
    if (++stats_.entries > options_.limits.max_entries) {
        return base::make_error(Code::kResourceExhausted,
                                "layer has more than {} entries, at entry '{}'",
                                options_.limits.max_entries, raw);
    }
    GROVE_TRY(normalise_entry_name(raw, options_.limits.max_path_length, "layer entry", name_));
    GROVE_TRY(check_limits(entry, raw));
    if (options_.owner) {
        archive_entry_set_uid(entry, options_.owner->first);
        archive_entry_set_gid(entry, options_.owner->second);
        archive_entry_set_uname(entry, nullptr);
        archive_entry_set_gname(entry, nullptr);
    }
    return base::with_context(write_entry(reader, entry, raw), "apply layer entry '{}'", raw);
}

Result<void> LayerWriter::check_limits(archive_entry* entry, std::string_view raw) {
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) {
        return {};
    }
    const int64_t size = archive_entry_size(entry);
    if (size < 0) {
        return base::make_error(Code::kInvalidArgument, "layer entry '{}' has a negative size",
                                raw);
    }
    const ApplyLimits& limits = options_.limits;
    if (static_cast<uint64_t>(size) > limits.max_entry_size) {
        return base::make_error(Code::kResourceExhausted,
                                "layer entry '{}' is {} bytes, over the limit of {}", raw, size,
                                limits.max_entry_size);
    }
    if (static_cast<uint64_t>(size) > limits.max_total_size - stats_.regular_bytes) {
        return base::make_error(Code::kResourceExhausted,
                                "layer entry '{}' takes the layer over its limit of {} bytes", raw,
                                limits.max_total_size);
    }
    return {};
}

Result<void> LayerWriter::write_entry(TarReader& reader,
                                      archive_entry* entry,
                                      std::string_view raw) {
    // AUFS keeps hardlink targets in a top-level `.wh..wh.plnk/`; overlayfs has no use for it.
    if (options_.whiteouts && name_.starts_with(kWhiteoutMetaPrefix) && name_ != kOpaqueMarker) {
        return {};
    }
    const auto [parent_path, base_name] = split_entry_name(name_);
    if (options_.whiteouts && base_name.starts_with(kWhiteoutPrefix)) {
        return write_whiteout(parent_path, base_name);
    }
    const mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFCHR || type == AE_IFBLK) {
        ++stats_.skipped_devices;
        skip("skip device node in layer", raw);
        return {};
    }
    if (name_.empty()) {
        // "./": the layer root itself, which only a directory entry can describe.
        if (type != AE_IFDIR) {
            return base::make_error(Code::kInvalidArgument, "the layer root is not a directory");
        }
        GROVE_TRY(apply_owner_mode_xattrs({.fd = tree_.root()}, entry, raw, options_.log));
        dir_times_.push_back({std::string(), times_of(entry)});
        return {};
    }
    GROVE_ASSIGN_OR_RETURN(const int parent, tree_.make_dir(parent_path));
    // A suffix of name_, so NUL-terminated.
    const char* base = base_name.data();
    if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
        return write_hardlink(parent, base, target);
    }
    switch (type) {
        case AE_IFDIR:
            return write_directory(parent, base, entry);
        case AE_IFREG:
            return write_regular(reader, parent, base, entry);
        case AE_IFLNK:
        case AE_IFIFO:
            return write_by_name(parent, base, entry);
        default:
            skip("skip layer entry of unsupported type", raw);
            return {};
    }
}

template <typename Create>
Result<void> LayerWriter::create_replacing(int parent, const char* base, Create create) {
    if (create() >= 0) {
        return {};
    }
    if (errno != EEXIST) {
        return base::last_errno_error("create '{}'", base);
    }
    GROVE_TRY(check_not_directory(parent, base));
    GROVE_TRY(tree_.remove(parent, base));
    if (create() < 0) {
        return base::last_errno_error("create '{}'", base);
    }
    return {};
}

Result<void> LayerWriter::write_whiteout(std::string_view parent_path, std::string_view base) {
    if (base == kOpaqueMarker) {
        GROVE_ASSIGN_OR_RETURN(const int parent, tree_.make_dir(parent_path));
        if (::fsetxattr(parent, kOpaqueXattr, "y", 1, 0) != 0) {
            return base::last_errno_error("set '{}' on the directory", kOpaqueXattr);
        }
        ++stats_.whiteouts;
        return {};
    }
    if (base.starts_with(kWhiteoutMetaPrefix)) {
        // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlayfs.
        return {};
    }
    const std::string_view hidden = base.substr(kWhiteoutPrefix.size());
    if (hidden.empty() || hidden == "." || hidden == "..") {
        return base::make_error(Code::kInvalidArgument, "invalid whiteout");
    }
    GROVE_ASSIGN_OR_RETURN(const int parent, tree_.make_dir(parent_path));
    // A whiteout hides lower layers only: when this layer has its own entry of that name, that
    // entry hides them already and stays.
    if (::mknodat(parent, hidden.data(), S_IFCHR, makedev(0, 0)) != 0 && errno != EEXIST) {
        return base::last_errno_error("create whiteout device");
    }
    ++stats_.whiteouts;
    return {};
}

Result<void> LayerWriter::write_directory(int parent, const char* base, archive_entry* entry) {
    // An existing directory only gets new metadata, keeping what earlier entries put in it.
    if (::mkdirat(parent, base, 0700) != 0 && errno != EEXIST) {
        return base::last_errno_error("create directory");
    }
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    base::UniqueFd dir(::openat(parent, base, kFlags));
    if (!dir && (errno == ENOTDIR || errno == ELOOP)) {
        if (options_.keep_dir_kinds) {
            return base::make_error(Code::kInvalidArgument,
                                    "cannot overwrite non-directory '{}' with directory", name_);
        }
        GROVE_TRY(tree_.remove(parent, base));
        if (::mkdirat(parent, base, 0700) != 0) {
            return base::last_errno_error("create directory");
        }
        dir.reset(::openat(parent, base, kFlags));
    }
    if (!dir) {
        return base::last_errno_error("open directory");
    }
    GROVE_TRY(apply_owner_mode_xattrs({.fd = dir.get()}, entry, name_, options_.log));
    dir_times_.push_back({name_, times_of(entry)});
    return {};
}

Result<void> LayerWriter::write_regular(TarReader& reader,
                                        int parent,
                                        const char* base,
                                        archive_entry* entry) {
    base::UniqueFd file;
    GROVE_TRY(create_replacing(parent, base, [&] {
        file.reset(
            ::openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        return file.get();
    }));
    const auto size = static_cast<uint64_t>(archive_entry_size(entry));
    GROVE_TRY(reader.copy_data(file.get(), size));
    stats_.regular_bytes += size;
    const MetadataTarget target{.fd = file.get()};
    GROVE_TRY(apply_owner_mode_xattrs(target, entry, name_, options_.log));
    return apply_times(target, times_of(entry));
}

Result<void> LayerWriter::write_hardlink(int parent, const char* base, const char* target) {
    const auto outside = [&](std::string_view why) {
        return base::make_error(Code::kInvalidArgument, "hardlink to '{}' outside the layer: {}",
                                target, why);
    };
    if (auto clean = normalise_entry_name(target, options_.limits.max_path_length,
                                          "hardlink target", link_name_);
        !clean) {
        return outside(clean.error().message());
    }
    if (link_name_.empty()) {
        return outside("the layer root");
    }
    if (link_name_ == name_) {
        return outside("a link to itself");
    }
    const auto [target_parent_path, target_base] = split_entry_name(link_name_);
    auto target_parent = tree_.open_dir(target_parent_path);
    if (!target_parent) {
        return outside(target_parent.error().message());
    }
    struct stat st {};
    if (::fstatat(target_parent->get(), target_base.data(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return errno == ENOENT ? outside("no such entry in this layer")
                               : base::last_errno_error("stat hardlink target '{}'", target);
    }
    if (S_ISDIR(st.st_mode)) {
        return outside("a directory");
    }
    // Flags 0: a target that is a symlink is linked itself, never followed.
    return create_replacing(parent, base, [&] {
        return ::linkat(target_parent->get(), target_base.data(), parent, base, 0);
    });
}

Result<void> LayerWriter::write_by_name(int parent, const char* base, archive_entry* entry) {
    if (archive_entry_filetype(entry) == AE_IFLNK) {
        const char* link = archive_entry_symlink(entry);
        if (link == nullptr) {
            return base::make_error(Code::kInvalidArgument, "symlink without a target");
        }
        GROVE_TRY(create_replacing(parent, base, [&] { return ::symlinkat(link, parent, base); }));
    } else {
        GROVE_TRY(create_replacing(parent, base, [&] { return ::mkfifoat(parent, base, 0600); }));
    }
    const MetadataTarget target{.parent_fd = parent, .name = base};
    GROVE_TRY(apply_owner_mode_xattrs(target, entry, name_, options_.log));
    return apply_times(target, times_of(entry));
}

Result<void> LayerWriter::check_not_directory(int parent, const char* base) const {
    struct stat st {};
    if (!options_.keep_dir_kinds || ::fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(st.st_mode)) {
        return {};
    }
    return base::make_error(Code::kInvalidArgument,
                            "cannot overwrite directory '{}' with non-directory", name_);
}

void LayerWriter::skip(std::string_view what, std::string_view raw) const {
    if (options_.log != nullptr) {
        options_.log->warn(what, {{"entry", raw}});
    }
}

Result<void> LayerWriter::finish() {
    // Setting a directory's times does not touch its parent's, so the order does not matter.
    for (const DirTimes& dir : dir_times_) {
        auto fd = tree_.open_dir(dir.path);
        if (!fd) {
            // A later entry replaced the directory (by a file, or a symlink that must not be
            // followed); that entry's own times stand.
            if (fd.error().code() == Code::kInvalidArgument ||
                fd.error().code() == Code::kNotFound) {
                continue;
            }
            return base::with_context(Result<void>(std::move(fd).error()),
                                      "set times of directory '{}'", dir.path);
        }
        GROVE_TRY(base::with_context(apply_times({.fd = fd->get()}, dir.times),
                                     "set times of directory '{}'", dir.path));
    }
    return {};
}

}  // namespace grove::archive
