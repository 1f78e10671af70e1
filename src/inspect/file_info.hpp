#pragma once

// Metadata of the entries of an image, as `stat` and `ls -l` would show them inside a container
// built from it, read through the layer stack without mounting or running anything.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"
#include "inspect/user_db.hpp"

namespace grove::inspect {

enum class EntryType { kFile, kDirectory, kSymlink, kFifo, kSocket, kCharDevice, kBlockDevice };

struct FileInfo {
    std::string path;  // canonical absolute path inside the image: "/etc/passwd"
    std::string name;  // the last component; "/" for the root
    EntryType type = EntryType::kFile;
    uint64_t size = 0;  // a symlink's is the length of its target, as lstat reports
    uint32_t mode = 0;  // permission bits with setuid, setgid and sticky (mode & 07777)
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<std::string> owner;  // names from the image's UserDb, when it has them
    std::optional<std::string> group;
    int64_t mtime_ns = 0;  // since the epoch
    uint64_t nlink = 0;
    uint64_t rdev = 0;           // for devices
    std::string symlink_target;  // for symlinks, verbatim
};

// "drwxr-xr-x", "-rwsr-xr-x", "lrwxrwxrwx": ls -l's first column.
std::string mode_string(EntryType type, uint32_t mode);

// The metadata of a resolved node; `users` may be null (no names).
Result<FileInfo> file_info(const LayerStack& stack, const Node& node, const UserDb* users);

// `path` with its final symlink followed (Follow::kFinal) or not (kNoFinal).
Result<FileInfo> stat_path(const LayerStack& stack,
                           std::string_view path,
                           Follow follow,
                           const UserDb* users);

// Like `ls`: a directory's entries sorted by name (symlinks among them not followed), or the
// single entry when `path` is not a directory. A symlink to a directory lists the directory; any
// other symlink, dangling ones included, is listed itself.
Result<std::vector<FileInfo>> list_path(const LayerStack& stack,
                                        std::string_view path,
                                        const UserDb* users);

}  // namespace grove::inspect
