#pragma once

// Owner, mode, xattrs and times of a layer entry, applied in the order the kernel requires:
// chown clears setuid/setgid and security.capability, so the mode and xattrs come after it, and
// times come last because every other change bumps ctime (and writing children bumps a
// directory's mtime, which is why directories get their times at the end of the layer).

#include <ctime>
#include <string_view>

#include <grove/result.hpp>

#include "base/log.hpp"

struct archive_entry;

namespace grove::archive {

// Where metadata goes: an open fd (regular files, directories), or a name in a directory for
// entries grove cannot open for writing (symlinks, fifos), which is never followed.
struct MetadataTarget {
    int fd = -1;
    int parent_fd = -1;
    const char* name = nullptr;
};

// Whether an xattr from a layer tar may be applied: user.*, trusted.*, security.capability and
// POSIX ACLs, but never overlayfs' own (trusted.overlay.*, user.overlay.*), which would let a
// layer forge whiteouts, opaque directories or redirects, nor other security.* labels (SELinux,
// IMA), which belong to the host.
bool xattr_allowed(std::string_view name);

// Applies the entry's owner, then mode, then xattrs; disallowed xattrs are skipped with a warning
// through `log` (may be null), and so are xattrs the filesystem refuses (ENOTSUP, EPERM).
Result<void> apply_owner_mode_xattrs(const MetadataTarget& target,
                                     archive_entry* entry,
                                     std::string_view entry_name,
                                     const base::Logger* log);

// {atime, mtime} for utimensat; the atime defaults to the mtime, and a tar without times leaves
// them alone.
struct EntryTimes {
    timespec times[2];
};
EntryTimes times_of(archive_entry* entry);
Result<void> apply_times(const MetadataTarget& target, const EntryTimes& times);

}  // namespace grove::archive
