#include "layer_fixture.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::archive::testing {

namespace {

la_ssize_t append(struct archive*, void* out, const void* buffer, size_t length) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

mode_t type_bits(EntryType type) {
    switch (type) {
        case EntryType::kDir:
            return AE_IFDIR;
        case EntryType::kSymlink:
            return AE_IFLNK;
        case EntryType::kFifo:
            return AE_IFIFO;
        case EntryType::kCharDevice:
            return AE_IFCHR;
        case EntryType::kFile:
        case EntryType::kHardlink:
            break;
    }
    return AE_IFREG;
}

std::string write_tar(const std::vector<TarEntry>& entries,
                      Compression compression,
                      int (*set_format)(struct archive*)) {
    std::string out;
    struct archive* writer = archive_write_new();
    EXPECT_EQ(set_format(writer), ARCHIVE_OK);
    // No zero padding after the compressed stream: a zstd reader rightly takes it for garbage.
    EXPECT_EQ(archive_write_set_bytes_in_last_block(writer, 1), ARCHIVE_OK);
    if (compression == Compression::kGzip) {
        EXPECT_EQ(archive_write_add_filter_gzip(writer), ARCHIVE_OK);
    } else if (compression == Compression::kZstd) {
        EXPECT_EQ(archive_write_add_filter_zstd(writer), ARCHIVE_OK);
    }
    EXPECT_EQ(archive_write_open(writer, &out, nullptr, append, nullptr), ARCHIVE_OK);
    for (const TarEntry& e : entries) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, e.name.c_str());
        archive_entry_set_filetype(entry, type_bits(e.type));
        const mode_t default_mode = e.type == EntryType::kDir       ? 0755
                                    : e.type == EntryType::kSymlink ? 0777
                                                                    : 0644;
        archive_entry_set_perm(entry, e.mode.value_or(default_mode));
        archive_entry_set_uid(entry, e.uid.value_or(::geteuid()));
        archive_entry_set_gid(entry, e.gid.value_or(::getegid()));
        archive_entry_set_mtime(entry, e.mtime, e.mtime_nsec);
        if (e.type == EntryType::kSymlink) {
            archive_entry_set_symlink(entry, e.link.c_str());
        } else if (e.type == EntryType::kHardlink) {
            archive_entry_set_hardlink(entry, e.link.c_str());
        } else if (e.type == EntryType::kCharDevice) {
            archive_entry_set_rdev(entry, makedev(1, 3));
        }
        if (e.type == EntryType::kFile) {
            archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
        }
        for (const auto& [key, value] : e.xattrs) {
            archive_entry_xattr_add_entry(entry, key.c_str(), value.data(), value.size());
        }
        EXPECT_EQ(archive_write_header(writer, entry), ARCHIVE_OK) << archive_error_string(writer);
        if (e.type == EntryType::kFile) {
            EXPECT_EQ(archive_write_data(writer, e.data.data(), e.data.size()),
                      static_cast<la_ssize_t>(e.data.size()));
        }
        archive_entry_free(entry);
    }
    EXPECT_EQ(archive_write_close(writer), ARCHIVE_OK);
    archive_write_free(writer);
    return out;
}

}  // namespace

std::string make_tar(const std::vector<TarEntry>& entries, Compression compression) {
    // Full PAX, as Go and Python write layers: nanosecond times, long names, xattrs.
    return write_tar(entries, compression, archive_write_set_format_pax);
}

std::string tar_claiming_size(const std::string& name, uint64_t size) {
    std::string tar = write_tar({{.name = name, .data = "x"}}, Compression::kNone,
                                archive_write_set_format_ustar);
    // ustar header: size at 124 (11 octal digits + NUL), checksum at 148 (6 octal digits, NUL,
    // space) summing the header with the checksum field read as spaces.
    const std::string octal = fmt::format("{:011o}", size);
    EXPECT_EQ(octal.size(), 11u);
    tar.replace(124, 11, octal);
    tar.replace(148, 8, 8, ' ');
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) {
        sum += static_cast<unsigned char>(tar[i]);
    }
    tar.replace(148, 8, fmt::format("{:06o}", sum) + std::string(1, '\0') + " ");
    return tar;
}

base::UniqueFd memfd_with(std::string_view bytes) {
    auto fd = base::UniqueFd::memfd("layer");
    EXPECT_TRUE(fd);
    EXPECT_TRUE(base::write_all(fd->get(), bytes));
    EXPECT_EQ(::lseek(fd->get(), 0, SEEK_SET), 0);
    return std::move(fd).value();
}

void ApplyTest::SetUp() {
    auto dir = base::TempDir::create("grove-layer-");
    ASSERT_TRUE(dir) << dir.error().to_string();
    dir_.emplace(std::move(dir).value());
}

Result<ApplyStats> ApplyTest::apply_bytes(std::string_view bytes, ApplyOptions options) {
    const base::UniqueFd input = memfd_with(bytes);
    GROVE_ASSIGN_OR_RETURN(auto root_fd,
                           base::UniqueFd::open(root().string(), O_RDONLY | O_DIRECTORY));
    options.log = &log_;
    return apply_layer(input.get(), root_fd.get(), options);
}

std::optional<struct stat> ApplyTest::lstat_of(std::string_view name) const {
    struct stat st {};
    if (::lstat(path(name).c_str(), &st) != 0) {
        return std::nullopt;
    }
    return st;
}

std::string ApplyTest::contents(std::string_view name) const {
    auto fd = base::UniqueFd::open(path(name).string(), O_RDONLY | O_NOFOLLOW);
    if (!fd) {
        return fmt::format("<{}>", fd.error().to_string());
    }
    return base::read_all(fd->get()).value_or("<read failed>");
}

std::optional<std::string> ApplyTest::xattr(std::string_view name, const char* key) const {
    std::string value(256, '\0');
    const ssize_t n = ::lgetxattr(path(name).c_str(), key, value.data(), value.size());
    if (n < 0) {
        return std::nullopt;
    }
    value.resize(static_cast<size_t>(n));
    return value;
}

}  // namespace grove::archive::testing
