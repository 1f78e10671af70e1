// grove's import of an image must hold exactly the files `umoci unpack` extracts from the same
// image: names, types, contents, modes, owners, symlink targets, hardlink groups and xattrs.
// umoci 0.4 reads gzip layers only, so the `layers` image is first rewritten with all-gzip layers
// by skopeo (the diff_ids, i.e. the uncompressed tars, do not change); grove imports the original.

#include <fcntl.h>
#include <filesystem>
#include <map>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/digest.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/layout_source.hpp"
#include "inspect/walk.hpp"

namespace grove::testing {
namespace {

namespace fs = std::filesystem;

// What is compared of one entry. mtimes are left out: umoci sets directory times as it pleases.
struct Entry {
    mode_t mode = 0;  // type and permission bits
    uid_t uid = 0;
    gid_t gid = 0;
    std::string content;  // sha256 of a file, target of a symlink
    std::map<std::string, std::string> xattrs;
    std::string hardlink_group;  // the first path (in walk order) sharing the inode

    friend bool operator==(const Entry&, const Entry&) = default;
};

std::ostream& operator<<(std::ostream& out, const Entry& e) {
    out << fmt::format("mode {:o} owner {}:{} content '{}' link-group '{}' xattrs", e.mode, e.uid,
                       e.gid, e.content, e.hardlink_group);
    for (const auto& [k, v] : e.xattrs) {
        out << " " << k << "=" << v;
    }
    return out;
}

// user.* xattrs with a value: umoci 0.4 drops empty ones, which is its gap, not grove's.
std::map<std::string, std::string> user_xattrs(int fd) {
    std::map<std::string, std::string> out;
    char names[4096];
    const ssize_t n = ::flistxattr(fd, names, sizeof(names));
    for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
        const std::string name = names + i;
        char value[4096];
        const ssize_t len = ::fgetxattr(fd, name.c_str(), value, sizeof(value));
        if (name.starts_with("user.") && len > 0) {
            out[name] = std::string(value, static_cast<size_t>(len));
        }
    }
    return out;
}

void fill(Entry& e, const struct stat& st, int fd_or_minus_one) {
    e.mode = st.st_mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    if (S_ISREG(st.st_mode) && fd_or_minus_one >= 0) {
        e.content = base::sha256_fd(fd_or_minus_one)->str();
    }
    if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && fd_or_minus_one >= 0) {
        e.xattrs = user_xattrs(fd_or_minus_one);
    }
}

using Tree = std::map<std::string, Entry>;

// Hardlink groups are compared by their visible members: a file whose other links an upper layer
// hid keeps nlink > 1 in grove's view (as in an overlay mount) but is alone, as in umoci's.
void drop_single_member_groups(Tree& tree) {
    std::map<std::string, int> members;
    for (const auto& [path, e] : tree) {
        if (!e.hardlink_group.empty()) {
            ++members[e.hardlink_group];
        }
    }
    for (auto& [path, e] : tree) {
        if (!e.hardlink_group.empty() && members[e.hardlink_group] < 2) {
            e.hardlink_group.clear();
        }
    }
}

Tree umoci_tree(const fs::path& rootfs) {
    Tree tree;
    std::map<std::pair<dev_t, ino_t>, std::string> inodes;
    for (auto it = fs::recursive_directory_iterator(rootfs);
         it != fs::recursive_directory_iterator(); ++it) {
        // lexically: fs::relative would resolve symlinks, on the host.
        const std::string path = "/" + it->path().lexically_relative(rootfs).string();
        struct stat st {};
        EXPECT_EQ(::lstat(it->path().c_str(), &st), 0);
        Entry& e = tree[path];
        base::UniqueFd fd;
        if (!S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
            fd = base::UniqueFd::open(it->path().string(), O_RDONLY).value_or(base::UniqueFd());
        }
        fill(e, st, fd.valid() ? fd.get() : -1);
        if (S_ISLNK(st.st_mode)) {
            e.content = fs::read_symlink(it->path()).string();
        }
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
            e.hardlink_group = inodes.try_emplace({st.st_dev, st.st_ino}, path).first->second;
        }
    }
    return tree;
}

Tree grove_tree(const inspect::LayerStack& files) {
    Tree tree;
    std::map<std::pair<dev_t, ino_t>, std::string> inodes;
    auto root = files.lookup("/");
    EXPECT_TRUE(root);
    auto walked =
        inspect::walk(files, *root, [&](const inspect::Node& node) -> Result<inspect::WalkControl> {
            if (node.path == "/") {
                return inspect::WalkControl::kContinue;
            }
            Entry& e = tree[node.path];
            base::UniqueFd fd;
            if (S_ISREG(node.st.st_mode)) {
                GROVE_ASSIGN_OR_RETURN(fd, files.open_file(node));
            } else if (S_ISDIR(node.st.st_mode)) {
                GROVE_ASSIGN_OR_RETURN(fd, files.open_directory(node));
            }
            fill(e, node.st, fd.valid() ? fd.get() : -1);
            if (S_ISLNK(node.st.st_mode)) {
                GROVE_ASSIGN_OR_RETURN(e.content, files.read_link(node));
            }
            if (S_ISREG(node.st.st_mode) && node.st.st_nlink > 1) {
                e.hardlink_group =
                    inodes.try_emplace({node.st.st_dev, node.st.st_ino}, node.path).first->second;
            }
            return inspect::WalkControl::kContinue;
        });
    EXPECT_TRUE(walked) << walked.error().to_string();
    return tree;
}

class UmociCompareTest : public ::testing::TestWithParam<std::string> {};

TEST_P(UmociCompareTest, ROOT_ImportedTreeEqualsUmociUnpack) {
    GROVE_REQUIRE(missing_root());
    GROVE_REQUIRE(missing_program("umoci"));
    GROVE_REQUIRE(missing_program("skopeo"));
    auto images = TestImages::load();
    ASSERT_TRUE(images) << images.error().to_string();
    auto tmp = base::TempDir::create("grove-umoci-", "/var/tmp");
    ASSERT_TRUE(tmp);
    const std::string name = GetParam();

    // umoci's side, from an all-gzip copy of the image.
    const std::string gzip_layout = (tmp->path() / "gzip").string();
    auto copied =
        base::run_command({.argv = {"skopeo", "--insecure-policy", "copy", "--quiet",
                                    "--dest-compress", "--dest-compress-format", "gzip",
                                    images->oci_ref(name), "oci:" + gzip_layout + ":latest"}},
                          std::chrono::minutes(3));
    ASSERT_TRUE(copied && copied->status.success()) << (copied ? copied->err : "");
    const fs::path bundle = tmp->path() / "bundle";
    auto unpacked = base::run_command(
        {.argv = {"umoci", "unpack", "--image", gzip_layout + ":latest", bundle.string()}},
        std::chrono::minutes(3));
    ASSERT_TRUE(unpacked && unpacked->status.success()) << (unpacked ? unpacked->err : "");

    // grove's side, from the original image.
    auto store = image::ImageStore::open(tmp->path() / "store", base::Logger::stderr_text());
    ASSERT_TRUE(store) << store.error().to_string();
    auto source = image::LayoutSource::open(images->dir() / name, "latest");
    ASSERT_TRUE(source);
    auto imported = (*store)->import(**source, {});
    ASSERT_TRUE(imported) << imported.error().to_string();
    auto files = (*store)->filesystem(imported->image);
    ASSERT_TRUE(files);

    Tree expected = umoci_tree(bundle / "rootfs");
    Tree actual = grove_tree(*files);
    drop_single_member_groups(expected);
    drop_single_member_groups(actual);
    ASSERT_GT(expected.size(), 100u);
    for (const auto& [path, entry] : expected) {
        const auto it = actual.find(path);
        if (it == actual.end()) {
            ADD_FAILURE() << "grove lacks " << path;
            continue;
        }
        EXPECT_EQ(it->second, entry) << path;
    }
    for (const auto& [path, entry] : actual) {
        EXPECT_TRUE(expected.contains(path)) << "grove has an extra " << path;
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, UmociCompareTest, ::testing::Values("busybox", "layers"));

}  // namespace
}  // namespace grove::testing
