#include "rootfs_tar.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

#include "archive/entry_metadata.hpp"
#include "archive_extract.hpp"
#include "base/error.hpp"

namespace grove::image {
namespace {

struct FreeArchive {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct FreeEntry {
    void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};
using EntryPtr = std::unique_ptr<archive_entry, FreeEntry>;
using Xattrs = std::vector<std::pair<std::string, std::string>>;

// Runs an xattr call of the shape call(buffer, size) twice, first for the size; a value that
// grows in between (ERANGE) is asked for again.
template <typename Call>
Result<std::optional<std::string>> read_sized(Call call) {
    for (;;) {
        const ssize_t size = call(nullptr, 0);
        if (size < 0) {
            // ENODATA: removed since it was listed; ENOTSUP: a filesystem without xattrs.
            if (errno == ENODATA || errno == ENOTSUP) {
                return std::optional<std::string>();
            }
            return base::last_errno_error("read xattrs");
        }
        std::string buffer(static_cast<size_t>(size), '\0');
        const ssize_t n = call(buffer.data(), buffer.size());
        if (n >= 0) {
            buffer.resize(static_cast<size_t>(n));
            return std::optional<std::string>(std::move(buffer));
        }
        if (errno != ERANGE) {
            return base::last_errno_error("read xattrs");
        }
    }
}

// The xattrs a layer may carry, sorted by name: read through `fd` when it is open, else through
// `by_name`, the parent's /proc path, with the l* calls, which do not follow a final symlink.
Result<Xattrs> read_xattrs(int fd, const std::string& by_name) {
    GROVE_ASSIGN_OR_RETURN(const auto list, read_sized([&](char* buf, size_t size) {
                               return fd >= 0 ? ::flistxattr(fd, buf, size)
                                              : ::llistxattr(by_name.c_str(), buf, size);
                           }));
    Xattrs xattrs;
    for (size_t start = 0; list && start < list->size();) {
        const std::string name = list->c_str() + start;
        start += name.size() + 1;
        if (!archive::xattr_allowed(name)) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(auto value, read_sized([&](char* buf, size_t size) {
                                   return fd >= 0 ? ::fgetxattr(fd, name.c_str(), buf, size)
                                                  : ::lgetxattr(by_name.c_str(), name.c_str(), buf,
                                                                size);
                               }));
        if (value) {
            xattrs.emplace_back(name, std::move(*value));
        }
    }
    std::sort(xattrs.begin(), xattrs.end());
    return xattrs;
}

// libarchive converts names from the charset of the calling thread's locale, so a process that
// called setlocale would write other bytes. Pinning the C locale on this thread while packing
// keeps the tar the same everywhere: ASCII names need no PAX header, and other names are written
// as the raw bytes the filesystem holds (hdrcharset=BINARY). Asking for BINARY for every entry
// instead would add a PAX header to each one.
class CLocaleScope {
public:
    CLocaleScope() : locale_(::newlocale(LC_ALL_MASK, "C", nullptr)) {
        if (locale_ != nullptr) {
            previous_ = ::uselocale(locale_);
        }
    }
    CLocaleScope(const CLocaleScope&) = delete;
    CLocaleScope& operator=(const CLocaleScope&) = delete;
    ~CLocaleScope() {
        if (locale_ != nullptr) {
            ::uselocale(previous_);
            ::freelocale(locale_);
        }
    }

    bool active() const { return locale_ != nullptr; }

private:
    locale_t locale_;
    locale_t previous_ = nullptr;
};

class Packer {
public:
    Packer(struct archive* archive, int out_fd, dev_t root_dev)
        : archive_(archive), out_fd_(out_fd), root_dev_(root_dev) {}

    Result<void> open() {
        if (archive_write_set_format_pax_restricted(archive_.get()) != ARCHIVE_OK ||
            archive_write_open(archive_.get(), this, nullptr, &Packer::write_callback, nullptr) !=
                ARCHIVE_OK) {
            return archive_error("start tar");
        }
        return {};
    }

    // Packs the entries of the directory `dir_fd`, whose entry names start with `prefix`.
    Result<void> pack_dir(int dir_fd, const std::string& prefix) {
        GROVE_ASSIGN_OR_RETURN(const auto names, list_directory(dir_fd));
        for (const std::string& name : names) {
            GROVE_TRY(
                base::with_context(pack(dir_fd, name, prefix + name), "pack '{}{}'", prefix, name));
        }
        return {};
    }

    Result<void> close() {
        if (archive_write_close(archive_.get()) != ARCHIVE_OK) {
            return archive_error("finish tar");
        }
        return {};
    }

private:
    static la_ssize_t write_callback(struct archive*, void* self, const void* data, size_t size) {
        auto* packer = static_cast<Packer*>(self);
        auto written = base::write_all(packer->out_fd_, {static_cast<const char*>(data), size});
        if (!written) {
            packer->write_error_ = std::move(written).error();
            return -1;
        }
        return static_cast<la_ssize_t>(size);
    }

    Error archive_error(std::string_view what) const {
        if (write_error_) {
            return *write_error_;
        }
        return base::make_error(Code::kInternal, "{}: {}", what,
                                archive_error_string(archive_.get()));
    }

    Result<void> pack(int dir_fd, const std::string& name, const std::string& path) {
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            // Removed since the directory was listed: it is not part of the tree any more.
            return errno == ENOENT ? Result<void>{} : base::last_errno_error("stat");
        }
        const std::string by_name = fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
        switch (st.st_mode & S_IFMT) {
            case S_IFDIR: {
                GROVE_ASSIGN_OR_RETURN(
                    auto fd,
                    base::UniqueFd::open_at(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
                GROVE_TRY(restat(fd.get(), st, S_IFDIR));
                GROVE_ASSIGN_OR_RETURN(const auto xattrs, read_xattrs(fd.get(), {}));
                GROVE_TRY(write_header(make_entry(path, st, 0, xattrs)));
                return st.st_dev == root_dev_ ? pack_dir(fd.get(), path + "/") : Result<void>{};
            }
            case S_IFREG:
                return pack_regular(dir_fd, name, path, st);
            case S_IFLNK: {
                std::string target(PATH_MAX + 1, '\0');
                const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
                if (n < 0) {
                    return base::last_errno_error("read symlink");
                }
                target.resize(static_cast<size_t>(n));
                GROVE_ASSIGN_OR_RETURN(const auto xattrs, read_xattrs(-1, by_name));
                EntryPtr entry = make_entry(path, st, 0, xattrs);
                archive_entry_copy_symlink(entry.get(), target.c_str());
                return write_header(std::move(entry));
            }
            case S_IFIFO: {
                GROVE_ASSIGN_OR_RETURN(const auto xattrs, read_xattrs(-1, by_name));
                return write_header(make_entry(path, st, 0, xattrs));
            }
            default:
                return {};  // device nodes and sockets (see the header)
        }
    }

    Result<void> pack_regular(int dir_fd,
                              const std::string& name,
                              const std::string& path,
                              struct stat& st) {
        // O_NONBLOCK: if a fifo replaced the file since fstatat, opening it must not hang.
        GROVE_ASSIGN_OR_RETURN(
            auto fd, base::UniqueFd::open_at(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
        GROVE_TRY(restat(fd.get(), st, S_IFREG));
        if (st.st_nlink > 1) {
            const auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, path);
            if (!first) {
                EntryPtr entry = make_entry(path, st, 0, {});
                archive_entry_copy_hardlink(entry.get(), it->second.c_str());
                return write_header(std::move(entry));
            }
        }
        GROVE_ASSIGN_OR_RETURN(const auto xattrs, read_xattrs(fd.get(), {}));
        GROVE_TRY(write_header(make_entry(path, st, st.st_size, xattrs)));
        buffer_.resize(1 << 20);
        for (auto left = static_cast<uint64_t>(st.st_size); left > 0;) {
            const ssize_t n =
                ::read(fd.get(), buffer_.data(), std::min<uint64_t>(left, buffer_.size()));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return base::last_errno_error("read");
            }
            if (n == 0) {
                return base::make_error(Code::kAborted, "the file shrank while it was packed");
            }
            if (archive_write_data(archive_.get(), buffer_.data(), static_cast<size_t>(n)) < 0) {
                return archive_error("write tar");
            }
            left -= static_cast<uint64_t>(n);
        }
        return {};
    }

    // Re-reads the metadata through the opened fd, so the entry describes what is packed, and
    // checks that nothing else took the name in between.
    static Result<void> restat(int fd, struct stat& st, mode_t type) {
        if (::fstat(fd, &st) != 0) {
            return base::last_errno_error("stat");
        }
        if ((st.st_mode & S_IFMT) != type) {
            return base::make_error(Code::kAborted, "the entry changed type while it was packed");
        }
        return {};
    }

    static EntryPtr make_entry(const std::string& path,
                               const struct stat& st,
                               int64_t size,
                               const Xattrs& xattrs) {
        EntryPtr entry(archive_entry_new());
        archive_entry_copy_pathname(entry.get(), path.c_str());
        // Linux's S_IF* values are the tar types libarchive's AE_IF* name.
        archive_entry_set_filetype(entry.get(), st.st_mode & S_IFMT);
        archive_entry_set_perm(entry.get(), st.st_mode & 07777);
        archive_entry_set_uid(entry.get(), st.st_uid);
        archive_entry_set_gid(entry.get(), st.st_gid);
        archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        archive_entry_set_size(entry.get(), size);
        for (const auto& [name, value] : xattrs) {
            archive_entry_xattr_add_entry(entry.get(), name.c_str(), value.data(), value.size());
        }
        return entry;
    }

    Result<void> write_header(EntryPtr entry) {
        if (archive_write_header(archive_.get(), entry.get()) < ARCHIVE_WARN) {
            return archive_error("write tar header");
        }
        return {};
    }

    std::unique_ptr<struct archive, FreeArchive> archive_;
    int out_fd_;
    dev_t root_dev_;
    std::optional<Error> write_error_;  // the real cause when write_callback failed
    // Regular files with several links: the name each was first packed under.
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
    std::vector<char> buffer_;
};

}  // namespace

Result<void> write_rootfs_tar(int dir_fd, int out_fd) {
    struct stat root {};
    if (::fstat(dir_fd, &root) != 0) {
        return base::last_errno_error("stat the root filesystem directory");
    }
    const CLocaleScope c_locale;
    if (!c_locale.active()) {
        return base::last_errno_error("create the C locale");
    }
    struct archive* archive = archive_write_new();
    if (archive == nullptr) {
        return base::make_error(Code::kResourceExhausted, "allocate a tar writer");
    }
    Packer packer(archive, out_fd, root.st_dev);
    GROVE_TRY(packer.open());
    GROVE_TRY(packer.pack_dir(dir_fd, ""));
    return packer.close();
}

}  // namespace grove::image
