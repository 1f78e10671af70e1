#include "archive/entry_metadata.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::archive {

namespace {

constexpr std::array<std::string_view, 2> kRefusedPrefixes{"trusted.overlay.", "user.overlay."};
constexpr std::array<std::string_view, 2> kAllowedPrefixes{"user.", "trusted."};
constexpr std::array<std::string_view, 3> kAllowedNames{
    "security.capability", "system.posix_acl_access", "system.posix_acl_default"};
constexpr uint64_t kMaxId = 0xfffffffe;  // (uid_t)-1 means "unchanged" to chown

void warn(const base::Logger* log,
          std::string_view msg,
          std::string_view entry_name,
          std::string_view xattr) {
    if (log != nullptr) {
        log->warn(msg, {{"entry", entry_name}, {"xattr", xattr}});
    }
}

Result<void> apply_owner(const MetadataTarget& target, archive_entry* entry) {
    const int64_t uid = archive_entry_uid(entry);
    const int64_t gid = archive_entry_gid(entry);
    if (uid < 0 || gid < 0 || static_cast<uint64_t>(uid) > kMaxId ||
        static_cast<uint64_t>(gid) > kMaxId) {
        return base::make_error(Code::kInvalidArgument, "invalid owner {}:{}", uid, gid);
    }
    const int rc = target.fd >= 0
                       ? ::fchown(target.fd, static_cast<uid_t>(uid), static_cast<gid_t>(gid))
                       : ::fchownat(target.parent_fd, target.name, static_cast<uid_t>(uid),
                                    static_cast<gid_t>(gid), AT_SYMLINK_NOFOLLOW);
    if (rc != 0) {
        return base::last_errno_error("chown to {}:{}", uid, gid);
    }
    return {};
}

Result<void> apply_mode(const MetadataTarget& target, archive_entry* entry) {
    const mode_t mode = archive_entry_perm(entry) & 07777;
    if (target.fd >= 0) {
        if (::fchmod(target.fd, mode) != 0) {
            return base::last_errno_error("chmod to {:04o}", mode);
        }
        return {};
    }
    // Linux has no symlink modes; a by-name target that is not a symlink is a fifo grove just
    // created, which fchmodat cannot follow anywhere.
    if (archive_entry_filetype(entry) == AE_IFLNK) {
        return {};
    }
    if (::fchmodat(target.parent_fd, target.name, mode, 0) != 0) {
        return base::last_errno_error("chmod to {:04o}", mode);
    }
    return {};
}

Result<void> apply_xattrs(const MetadataTarget& target,
                          archive_entry* entry,
                          std::string_view entry_name,
                          const base::Logger* log) {
    if (archive_entry_xattr_reset(entry) == 0) {
        return {};
    }
    // lsetxattr on the parent's /proc path reaches the entry itself without following it: only
    // the last component could be a symlink, and lsetxattr does not follow that one.
    const std::string by_name =
        target.fd >= 0 ? std::string()
                       : fmt::format("/proc/self/fd/{}/{}", target.parent_fd, target.name);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
        if (!xattr_allowed(name)) {
            warn(log, "skip xattr not allowed in a layer", entry_name, name);
            continue;
        }
        const int rc = target.fd >= 0 ? ::fsetxattr(target.fd, name, value, size, 0)
                                      : ::lsetxattr(by_name.c_str(), name, value, size, 0);
        if (rc == 0) {
            continue;
        }
        if (errno == ENOTSUP || errno == EPERM) {
            warn(log, "skip xattr the filesystem refused", entry_name, name);
            continue;
        }
        return base::last_errno_error("set xattr '{}'", name);
    }
    return {};
}

}  // namespace

bool xattr_allowed(std::string_view name) {
    for (const std::string_view prefix : kRefusedPrefixes) {
        if (name.starts_with(prefix)) {
            return false;
        }
    }
    for (const std::string_view prefix : kAllowedPrefixes) {
        if (name.starts_with(prefix) && name.size() > prefix.size()) {
            return true;
        }
    }
    for (const std::string_view allowed : kAllowedNames) {
        if (name == allowed) {
            return true;
        }
    }
    return false;
}

Result<void> apply_owner_mode_xattrs(const MetadataTarget& target,
                                     archive_entry* entry,
                                     std::string_view entry_name,
                                     const base::Logger* log) {
    GROVE_TRY(apply_owner(target, entry));
    GROVE_TRY(apply_mode(target, entry));
    return apply_xattrs(target, entry, entry_name, log);
}

EntryTimes times_of(archive_entry* entry) {
    EntryTimes result{};
    if (archive_entry_mtime_is_set(entry) == 0) {
        result.times[0].tv_nsec = UTIME_OMIT;
        result.times[1].tv_nsec = UTIME_OMIT;
        return result;
    }
    result.times[1] = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
    result.times[0] = archive_entry_atime_is_set(entry) != 0
                          ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                          : result.times[1];
    return result;
}

Result<void> apply_times(const MetadataTarget& target, const EntryTimes& times) {
    const int rc = target.fd >= 0 ? ::futimens(target.fd, times.times)
                                  : ::utimensat(target.parent_fd, target.name, times.times,
                                                AT_SYMLINK_NOFOLLOW);
    if (rc != 0) {
        return base::last_errno_error("set times");
    }
    return {};
}

}  // namespace grove::archive
