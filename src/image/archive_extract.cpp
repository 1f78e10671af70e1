#include "archive_extract.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archive/apply_layer.hpp"
#include "base/error.hpp"
#include "oci/media_types.hpp"

namespace grove::image {
namespace {

struct CloseDir {
    void operator()(DIR* dir) const { ::closedir(dir); }
};

Error not_plain(std::string_view path) {
    return base::make_error(Code::kInvalidArgument,
                            "'{}' in the archive is neither a regular file nor a directory", path);
}

// Every entry below the directory `dir_fd` (named `path` in messages) is a directory or a
// regular file.
Result<void> check_plain_tree(int dir_fd, const std::string& path) {
    GROVE_ASSIGN_OR_RETURN(const auto names, list_directory(dir_fd));
    for (const std::string& name : names) {
        const std::string child = fmt::format("{}/{}", path, name);
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            return base::last_errno_error("stat '{}' in the archive", child);
        }
        if (S_ISDIR(st.st_mode)) {
            GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open_at(
                                                dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            GROVE_TRY(check_plain_tree(fd.get(), child));
        } else if (!S_ISREG(st.st_mode)) {
            return not_plain(child);
        }
    }
    return {};
}

}  // namespace

Result<std::vector<std::string>> list_directory(int dir_fd) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open_at(dir_fd, ".", O_RDONLY | O_DIRECTORY));
    std::unique_ptr<DIR, CloseDir> dir(::fdopendir(fd.get()));
    if (!dir) {
        return base::last_errno_error("read directory");
    }
    (void)fd.release();  // the DIR owns it now
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    if (errno != 0) {
        return base::last_errno_error("read directory");
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<archive::Compression> sniff_compression(int fd) {
    std::array<unsigned char, 4> magic{};
    ssize_t n;
    do {
        n = ::pread(fd, magic.data(), magic.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return base::last_errno_error("read magic bytes");
    }
    if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        return archive::Compression::kGzip;
    }
    if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
        return archive::Compression::kZstd;
    }
    return archive::Compression::kNone;
}

std::string_view layer_media_type(archive::Compression compression) {
    switch (compression) {
        case archive::Compression::kGzip:
            return oci::media_type::kOciLayerGzip;
        case archive::Compression::kZstd:
            return oci::media_type::kOciLayerZstd;
        case archive::Compression::kNone:
            break;
    }
    return oci::media_type::kOciLayer;
}

Result<ExtractedArchive> extract_archive(const std::filesystem::path& file,
                                         const std::filesystem::path& scratch) {
    GROVE_ASSIGN_OR_RETURN(auto input, base::UniqueFd::open(file.string(), O_RDONLY));
    struct stat st {};
    if (::fstat(input.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", file.string());
    }
    if (!S_ISREG(st.st_mode)) {
        return base::make_error(Code::kInvalidArgument, "'{}' is not a regular file",
                                file.string());
    }
    GROVE_ASSIGN_OR_RETURN(const auto compression, sniff_compression(input.get()));
    GROVE_ASSIGN_OR_RETURN(auto temp, base::TempDir::create("grove-archive-", scratch));
    std::filesystem::path dir = temp.path() / "archive";
    if (::mkdir(dir.c_str(), 0700) != 0) {
        return base::last_errno_error("create '{}'", dir.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto dir_fd, base::UniqueFd::open(dir.string(), O_RDONLY | O_DIRECTORY));
    GROVE_TRY(base::with_context(
        archive::apply_layer(input.get(), dir_fd.get(), {.compression = compression}),
        "extract '{}'", file.string()));
    return ExtractedArchive{std::move(temp), std::move(dir), std::move(dir_fd)};
}

Result<base::UniqueFd> open_beneath(int dir_fd, std::string_view path) {
    if (path.empty() || path.front() == '/') {
        return base::make_error(Code::kInvalidArgument, "'{}' in the archive is not relative",
                                path);
    }
    for (size_t start = 0; start <= path.size();) {
        const size_t end = std::min(path.find('/', start), path.size());
        if (path.substr(start, end - start) == "..") {
            return base::make_error(Code::kInvalidArgument,
                                    "'{}' in the archive leads out of it ('..')", path);
        }
        start = end + 1;
    }
    open_how how{};
    // O_NONBLOCK: a fifo named by a hostile archive must not block the open.
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const std::string name(path);
    const long fd = ::syscall(SYS_openat2, dir_fd, name.c_str(), &how, sizeof(how));
    if (fd < 0) {
        if (errno == EXDEV || errno == ELOOP) {
            return base::make_error(Code::kInvalidArgument,
                                    "'{}' in the archive leads out of it through a symlink", path);
        }
        return base::last_errno_error("open '{}' in the archive", path);
    }
    base::UniqueFd file(static_cast<int>(fd));
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) {
        return base::last_errno_error("stat '{}' in the archive", path);
    }
    if (!S_ISREG(st.st_mode)) {
        return base::make_error(Code::kInvalidArgument, "'{}' in the archive is not a regular file",
                                path);
    }
    return file;
}

Result<void> check_layout_tree(int dir_fd) {
    for (const char* name : {"oci-layout", "index.json", "blobs"}) {
        struct stat st {};
        if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;  // LayoutSource reports what is missing
            }
            return base::last_errno_error("stat '{}' in the archive", name);
        }
        if (S_ISDIR(st.st_mode)) {
            GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open_at(
                                                dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            GROVE_TRY(check_plain_tree(fd.get(), name));
        } else if (!S_ISREG(st.st_mode)) {
            return not_plain(name);
        }
    }
    return {};
}

}  // namespace grove::image
