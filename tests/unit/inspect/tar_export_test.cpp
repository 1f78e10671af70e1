#include "inspect/tar_export.hpp"

#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "image_fixture.hpp"

namespace grove::inspect {
namespace {

struct TarEntry {
    std::string name;
    mode_t type = 0;
    mode_t perm = 0;
    std::string hardlink;
    std::string symlink;
    std::string data;
    std::map<std::string, std::string> xattrs;
    std::string uname;
    int64_t uid = -1;
    int64_t mtime = 0;
    long mtime_nsec = 0;
};

struct ArchiveReadFree {
    void operator()(::archive* a) const { archive_read_free(a); }
};

// Every entry of the tar readable from `fd`, read back with libarchive.
std::vector<TarEntry> read_tar(int fd) {
    std::unique_ptr<::archive, ArchiveReadFree> in(archive_read_new());
    archive_read_support_format_tar(in.get());
    EXPECT_EQ(archive_read_open_fd(in.get(), fd, 65536), ARCHIVE_OK);
    std::vector<TarEntry> entries;
    archive_entry* e = nullptr;
    int rc = ARCHIVE_OK;
    while ((rc = archive_read_next_header(in.get(), &e)) == ARCHIVE_OK) {
        TarEntry entry;
        entry.name = archive_entry_pathname(e);
        entry.type = archive_entry_filetype(e);
        entry.perm = archive_entry_perm(e);
        entry.hardlink = archive_entry_hardlink(e) != nullptr ? archive_entry_hardlink(e) : "";
        entry.symlink = archive_entry_symlink(e) != nullptr ? archive_entry_symlink(e) : "";
        entry.uname = archive_entry_uname(e) != nullptr ? archive_entry_uname(e) : "";
        entry.uid = archive_entry_uid(e);
        entry.mtime = archive_entry_mtime(e);
        entry.mtime_nsec = archive_entry_mtime_nsec(e);
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
            entry.xattrs[name].assign(static_cast<const char*>(value), size);
        }
        char buffer[65536];
        la_ssize_t n = 0;
        while ((n = archive_read_data(in.get(), buffer, sizeof(buffer))) > 0) {
            entry.data.append(buffer, static_cast<size_t>(n));
        }
        EXPECT_GE(n, 0) << archive_error_string(in.get());
        entries.push_back(std::move(entry));
    }
    EXPECT_EQ(rc, ARCHIVE_EOF) << archive_error_string(in.get());
    return entries;
}

class TarExportTest : public ImageFixture {
protected:
    void SetUp() override {
        ImageFixture::SetUp();
        file("bottom", "etc/passwd", "tester:x:" + std::to_string(::geteuid()) + ":0::/:/x\n");
        file("bottom", "etc/group", "testers:x:" + std::to_string(::getegid()) + ":\n");
        file("bottom", "data/a.txt", "bottom\n");
        file("bottom", "data/gone.txt", "gone\n");
        const auto hard = file("bottom", "data/hard1", "linked\n");
        std::filesystem::create_hard_link(hard, at("bottom", "data/hard2"));
        const timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000, 500}};
        ASSERT_EQ(::utimensat(AT_FDCWD, hard.c_str(), times, 0), 0);
        link("bottom", "data/abs", "/etc/passwd");
        link("bottom", "dir-link", "/data");
        ASSERT_EQ(::mkfifo(at("bottom", "data/fifo").c_str(), 0600), 0);
        set_xattr(file("mid", "data/a.txt", "mid\n"), "user.note", "from mid");
        file("top", "data/sub/deep.txt", "deep\n");
        // A merged directory has the topmost copy's xattrs, as overlayfs shows them.
        set_xattr(at("mid", "data"), "user.lower", "hidden");
        set_xattr(at("top", "data"), "user.dir", "yes");
    }

    // Exports `path` into a memfd and reads the tar back.
    std::vector<TarEntry> export_tar(std::string_view path, std::string* raw = nullptr) {
        auto out = base::UniqueFd::memfd("tar");
        EXPECT_TRUE(out);
        const LayerStack s = stack();
        auto users = UserDb::load(s);
        EXPECT_TRUE(users);
        auto written = write_tar(s, path, out->get(), &*users);
        EXPECT_TRUE(written) << written.error().to_string();
        EXPECT_EQ(::lseek(out->get(), 0, SEEK_SET), 0);
        if (raw != nullptr) {
            *raw = base::read_all(out->get()).value_or("");
            EXPECT_EQ(::lseek(out->get(), 0, SEEK_SET), 0);
        }
        return read_tar(out->get());
    }

    static const TarEntry* find(const std::vector<TarEntry>& entries, std::string_view name) {
        for (const auto& entry : entries) {
            if (entry.name == name) {
                return &entry;
            }
        }
        return nullptr;
    }
    static size_t index_of(const std::vector<TarEntry>& entries, std::string_view name) {
        const TarEntry* entry = find(entries, name);
        return entry == nullptr ? entries.size() : static_cast<size_t>(entry - entries.data());
    }
};

TEST_F(TarExportTest, ExportsTheMergedImageRelativeToRoot) {
    std::string raw;
    const auto entries = export_tar("/", &raw);
    std::vector<std::string> names;
    names.reserve(entries.size());
    for (const auto& entry : entries) {
        names.push_back(entry.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"data/", "data/a.txt", "data/abs", "data/fifo",
                                               "data/gone.txt", "data/hard1", "data/hard2",
                                               "data/sub/", "data/sub/deep.txt", "dir-link", "etc/",
                                               "etc/group", "etc/passwd"}));

    const TarEntry* a = find(entries, "data/a.txt");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->data, "mid\n");
    EXPECT_EQ(a->xattrs, (std::map<std::string, std::string>{{"user.note", "from mid"}}));
    EXPECT_EQ(a->uname, "tester");
    EXPECT_EQ(a->uid, ::geteuid());
    EXPECT_EQ(find(entries, "data/")->xattrs,
              (std::map<std::string, std::string>{{"user.dir", "yes"}}));
    EXPECT_NE(raw.find("SCHILY.xattr.user.note=from mid"), std::string::npos);
    EXPECT_EQ(raw.find("LIBARCHIVE.xattr"), std::string::npos);

    EXPECT_EQ(find(entries, "data/abs")->type, AE_IFLNK);
    EXPECT_EQ(find(entries, "data/abs")->symlink, "/etc/passwd");
    EXPECT_EQ(find(entries, "dir-link")->symlink, "/data");  // not followed: no dir-link/...
    EXPECT_EQ(find(entries, "data/fifo")->type, AE_IFIFO);
    EXPECT_EQ(find(entries, "data/fifo")->perm, 0600u);

    const TarEntry* hard1 = find(entries, "data/hard1");
    EXPECT_EQ(hard1->data, "linked\n");
    EXPECT_EQ(hard1->mtime, 1'600'000'000);
    EXPECT_EQ(hard1->mtime_nsec, 500);
    EXPECT_NE(raw.find("mtime=1600000000.0000005"), std::string::npos);
    EXPECT_EQ(find(entries, "data/hard2")->hardlink, "data/hard1");
    EXPECT_EQ(find(entries, "data/hard2")->data, "");
}

TEST_F(TarExportTest, ROOT_NoWhiteoutsNorOverlayXattrs) {
    GROVE_SKIP_UNLESS_ROOT();
    whiteout("top", "data/gone.txt");
    set_xattr(at("mid", "data/a.txt"), "trusted.overlay.origin", "x");
    set_xattr(at("mid", "data/a.txt"), "trusted.kept", "k");
    set_xattr(at("top", "data"), "trusted.overlay.opaque", "n");
    const auto entries = export_tar("/data");
    EXPECT_EQ(find(entries, "data/gone.txt"), nullptr);
    for (const auto& entry : entries) {
        EXPECT_NE(entry.type, AE_IFCHR) << entry.name;
    }
    EXPECT_EQ(
        find(entries, "data/a.txt")->xattrs,
        (std::map<std::string, std::string>{{"trusted.kept", "k"}, {"user.note", "from mid"}}));
    EXPECT_EQ(find(entries, "data/")->xattrs,
              (std::map<std::string, std::string>{{"user.dir", "yes"}}));
}

TEST_F(TarExportTest, ExportsASingleFileWithAPlainHeader) {
    const timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, at("bottom", "etc/passwd").c_str(), times, 0), 0);
    std::string raw;
    const auto entries = export_tar("/etc/passwd", &raw);
    EXPECT_EQ(raw.find("mtime="), std::string::npos);  // whole seconds fit in ustar
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].name, "etc/passwd");
    EXPECT_EQ(entries[0].data, "tester:x:" + std::to_string(::geteuid()) + ":0::/:/x\n");
}

TEST_F(TarExportTest, FollowsOnlyTheStartPath) {
    const auto entries = export_tar("/dir-link/sub");
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].name, "data/sub/");
    EXPECT_EQ(entries[1].name, "data/sub/deep.txt");
    EXPECT_LT(index_of(entries, "data/sub/"), index_of(entries, "data/sub/deep.txt"));
}

TEST_F(TarExportTest, StreamsIntoAPipe) {
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe);
    const LayerStack s = stack();
    Result<void> written;
    {
        std::jthread writer([&] {
            written = write_tar(s, "/", pipe->write.get(), nullptr);
            pipe->write.reset();
        });
        const auto entries = read_tar(pipe->read.get());
        EXPECT_EQ(entries.size(), 13u);
        EXPECT_EQ(find(entries, "data/a.txt")->uname, "");
        // The reader stops at the end marker; drain the block padding so the writer finishes.
        EXPECT_TRUE(base::read_all(pipe->read.get()));
    }
    EXPECT_TRUE(written) << written.error().to_string();
}

TEST_F(TarExportTest, AFailedExportEndsWithoutATrailer) {
    // A directory path longer than PATH_MAX in the layer makes the walk fail after some entries.
    auto fd = base::UniqueFd::open(at("bottom", "data").string(), O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(fd);
    const std::string name(200, 'n');
    for (int i = 0; i < 25; ++i) {
        ASSERT_EQ(::mkdirat(fd->get(), name.c_str(), 0755), 0);
        auto next = base::UniqueFd::open_at(fd->get(), name, O_RDONLY | O_DIRECTORY);
        ASSERT_TRUE(next);
        *fd = std::move(next).value();
    }
    auto out = base::UniqueFd::memfd("tar");
    ASSERT_TRUE(out);
    auto written = write_tar(stack(), "/", out->get(), nullptr);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().sys_errno(), ENAMETOOLONG);
    ASSERT_EQ(::lseek(out->get(), 0, SEEK_SET), 0);
    const std::string raw = base::read_all(out->get()).value_or("");
    // Two zero blocks end a tar: a partial export must not look whole.
    EXPECT_TRUE(raw.size() < 1024 || raw.substr(raw.size() - 1024) != std::string(1024, '\0'));
}

TEST_F(TarExportTest, WriteErrorsAreReported) {
    base::UniqueFd out(::memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    ASSERT_TRUE(out);
    ASSERT_EQ(::fcntl(out.get(), F_ADD_SEALS, F_SEAL_WRITE), 0);
    auto written = write_tar(stack(), "/", out.get(), nullptr);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().sys_errno(), EPERM) << written.error().to_string();
}

TEST_F(TarExportTest, MissingPathFails) {
    auto out = base::UniqueFd::memfd("tar");
    ASSERT_TRUE(out);
    EXPECT_EQ(write_tar(stack(), "/nope", out->get(), nullptr).error().code(), Code::kNotFound);
}

// One layer as docker's overlay2 diff writes it: whiteouts as ".wh." files, an opaque directory
// with ".wh..wh..opq" right after its entry, and the same bytes each time.
TEST_F(TarExportTest, ROOT_LayerTarMarksWhiteoutsAndOpaqueDirectories) {
    GROVE_SKIP_UNLESS_ROOT();
    whiteout("top", "old");
    whiteout("top", "data/gone.txt");
    set_xattr(at("top", "data/sub"), "trusted.overlay.opaque", "y");
    const auto layer_tar = [&](std::string* raw) {
        auto out = base::UniqueFd::memfd("layer");
        EXPECT_TRUE(out);
        auto written = write_layer_tar(at("top", ""), out->get());
        EXPECT_TRUE(written) << written.error().to_string();
        EXPECT_EQ(::lseek(out->get(), 0, SEEK_SET), 0);
        *raw = base::read_all(out->get()).value_or("");
        EXPECT_EQ(::lseek(out->get(), 0, SEEK_SET), 0);
        return read_tar(out->get());
    };
    std::string raw;
    std::string again;
    const auto entries = layer_tar(&raw);
    layer_tar(&again);
    EXPECT_EQ(raw, again);
    std::vector<std::string> names;
    for (const auto& entry : entries) {
        names.push_back(entry.name);
        if (entry.name.find(".wh.") != std::string::npos) {
            EXPECT_EQ(entry.type, AE_IFREG) << entry.name;
            EXPECT_EQ(entry.data, "") << entry.name;
        }
    }
    EXPECT_EQ(names, (std::vector<std::string>{".wh.old", "data/", "data/.wh.gone.txt", "data/sub/",
                                               "data/sub/.wh..wh..opq", "data/sub/deep.txt"}));
    EXPECT_EQ(find(entries, "data/sub/")->xattrs.count("trusted.overlay.opaque"), 0u);
}

}  // namespace
}  // namespace grove::inspect
