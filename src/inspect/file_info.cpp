#include "inspect/file_info.hpp"

#include <sys/stat.h>

#include "base/error.hpp"
#include "inspect/walk.hpp"

namespace grove::inspect {
namespace {

EntryType type_of(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFDIR:
            return EntryType::kDirectory;
        case S_IFLNK:
            return EntryType::kSymlink;
        case S_IFIFO:
            return EntryType::kFifo;
        case S_IFSOCK:
            return EntryType::kSocket;
        case S_IFCHR:
            return EntryType::kCharDevice;
        case S_IFBLK:
            return EntryType::kBlockDevice;
        default:
            return EntryType::kFile;
    }
}

std::string base_name(const std::string& path) {
    return path == "/" ? path : path.substr(path.rfind('/') + 1);
}

}  // namespace

Result<FileInfo> file_info(const LayerStack& stack, const Node& node, const UserDb* users) {
    const struct stat& st = node.st;
    FileInfo info{
        .path = node.path,
        .name = base_name(node.path),
        .type = type_of(st.st_mode),
        .size = static_cast<uint64_t>(st.st_size),
        .mode = static_cast<uint32_t>(st.st_mode & 07777),
        .uid = st.st_uid,
        .gid = st.st_gid,
        .mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
        .nlink = static_cast<uint64_t>(st.st_nlink),
        .rdev = static_cast<uint64_t>(st.st_rdev),
    };
    if (users != nullptr) {
        info.owner = users->user(st.st_uid);
        info.group = users->group(st.st_gid);
    }
    if (info.type == EntryType::kSymlink) {
        GROVE_ASSIGN_OR_RETURN(info.symlink_target, stack.read_link(node));
    }
    return info;
}

Result<FileInfo> stat_path(const LayerStack& stack,
                           std::string_view path,
                           Follow follow,
                           const UserDb* users) {
    GROVE_ASSIGN_OR_RETURN(const Node node, stack.lookup(path, follow));
    return file_info(stack, node, users);
}

Result<std::vector<FileInfo>> list_path(const LayerStack& stack,
                                        std::string_view path,
                                        const UserDb* users) {
    GROVE_ASSIGN_OR_RETURN(Node node, stack.lookup(path, Follow::kNoFinal));
    if (S_ISLNK(node.st.st_mode)) {
        // A link that does not resolve to a directory (dangling, looping) is listed itself.
        auto target = stack.lookup(path, Follow::kFinal);
        if (target && S_ISDIR(target->st.st_mode)) {
            node = std::move(target).value();
        }
    }
    std::vector<FileInfo> infos;
    if (!S_ISDIR(node.st.st_mode)) {
        GROVE_ASSIGN_OR_RETURN(FileInfo info, file_info(stack, node, users));
        infos.push_back(std::move(info));
        return infos;
    }
    GROVE_ASSIGN_OR_RETURN(const auto entries, stack.list(node));
    infos.reserve(entries.size());
    for (const DirEntry& entry : entries) {
        GROVE_ASSIGN_OR_RETURN(const Node child, child_node(stack, node, entry));
        GROVE_ASSIGN_OR_RETURN(FileInfo info, file_info(stack, child, users));
        infos.push_back(std::move(info));
    }
    return infos;
}

std::string mode_string(EntryType type, uint32_t mode) {
    std::string out(10, '-');
    switch (type) {
        case EntryType::kDirectory:
            out[0] = 'd';
            break;
        case EntryType::kSymlink:
            out[0] = 'l';
            break;
        case EntryType::kFifo:
            out[0] = 'p';
            break;
        case EntryType::kSocket:
            out[0] = 's';
            break;
        case EntryType::kCharDevice:
            out[0] = 'c';
            break;
        case EntryType::kBlockDevice:
            out[0] = 'b';
            break;
        case EntryType::kFile:
            break;
    }
    static constexpr char kRwx[] = "rwx";
    for (int bit = 0; bit < 9; ++bit) {
        if ((mode & (0400u >> bit)) != 0) {
            out[1 + bit] = kRwx[bit % 3];
        }
    }
    // setuid, setgid and sticky show in the execute slots: lowercase when execute is set too.
    const auto special = [&](uint32_t flag, size_t slot, char with_exec) {
        if ((mode & flag) != 0) {
            out[slot] = out[slot] == 'x' ? with_exec : static_cast<char>(with_exec - 'a' + 'A');
        }
    };
    special(04000, 3, 's');
    special(02000, 6, 's');
    special(01000, 9, 't');
    return out;
}

}  // namespace grove::inspect
