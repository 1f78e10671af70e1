// Runs leave images behind: real overlay mounts of a store's image, files written as a run
// would, then unmount and commit. Covers unchanged runs, new files, whiteouts, opaque
// directories, chains, parallel siblings, the O(changed) cost, mount points the runtime made,
// overlay's xattrs, and crash leftovers. Needs root (mounts, trusted xattrs).

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/requirements.hpp"
#include "helpers/run_dirs.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/layout_source.hpp"
#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/rootfs/overlay_mount.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;
using runtime::rootfs::OverlayMount;
using testing::TestImages;

class RunSnapshotTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(grove::testing::missing_root());
        GROVE_REQUIRE(grove::testing::missing_overlay());
        auto images = TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        images_.emplace(std::move(images).value());
        auto dir = base::TempDir::create("grove-runs-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        reopen();
    }

    void reopen() {
        store_.reset();
        auto opened = ImageStore::open(root(), base::Logger::stderr_text());
        ASSERT_TRUE(opened) << opened.error().to_string();
        store_ = std::move(opened).value();
    }

    fs::path root() const { return dir_->path() / "root"; }

    store::ImageRecord import(const std::string& name) {
        auto source = LayoutSource::open(images_->dir() / name, "latest");
        EXPECT_TRUE(source);
        auto result = store_->import(**source, {});
        EXPECT_TRUE(result) << result.error().to_string();
        return std::move(result)->image;
    }

    // Mounts a run of `image`, lets `body` change the merged tree, and unmounts.
    RunDirs run(const store::ImageRecord& image, const std::function<void(const fs::path&)>& body) {
        auto dirs = store_->prepare_run(image);
        EXPECT_TRUE(dirs) << dirs.error().to_string();
        auto mount = OverlayMount::create(dirs->lowers_top_first(), dirs->upper(), dirs->work());
        EXPECT_TRUE(mount) << mount.error().to_string();
        const fs::path target = dir_->path() / ("mnt-" + dirs->id());
        fs::create_directory(target);
        EXPECT_TRUE(mount->attach(target));
        body(target);
        EXPECT_TRUE(mount->close());
        return std::move(dirs).value();
    }

    CommitResult commit(RunDirs dirs,
                        const store::ImageRecord& parent,
                        CommitOptions options = {}) {
        auto result = store_->commit_run(std::move(dirs), parent, options);
        EXPECT_TRUE(result) << result.error().to_string();
        return std::move(result).value();
    }

    std::string read(const store::ImageRecord& image, std::string_view path) {
        auto fs = store_->filesystem(image);
        EXPECT_TRUE(fs) << fs.error().to_string();
        auto node = fs->lookup(path);
        if (!node) {
            return "<" + std::string(code_name(node.error().code())) + ">";
        }
        auto fd = fs->open_file(*node);
        return fd ? base::read_all(fd->get()).value_or("<unreadable>") : "<unopenable>";
    }

    size_t count(const fs::path& dir) const {
        return static_cast<size_t>(std::distance(fs::directory_iterator(dir), {}));
    }

    std::optional<TestImages> images_;
    std::optional<base::TempDir> dir_;
    std::unique_ptr<ImageStore> store_;
};

void write(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

TEST_F(RunSnapshotTest, ROOT_UnchangedRunIsTheParent) {
    const auto base = import("busybox");
    const size_t layers = count(root() / "layers");
    auto dirs =
        run(base, [](const fs::path& root) { EXPECT_TRUE(fs::exists(root / "etc/passwd")); });
    const auto result = commit(std::move(dirs), base, {.tag = "same"});
    EXPECT_FALSE(result.changed);
    EXPECT_EQ(result.image.uuid, base.uuid);
    EXPECT_EQ(store_->find("same")->uuid, base.uuid);
    EXPECT_EQ(count(root() / "layers"), layers);
    store_->wait_for_cleanup();
    EXPECT_EQ(testing::run_dirs_left(root() / "runs"), 0u);
}

TEST_F(RunSnapshotTest, ROOT_WrittenFileMakesAChildImage) {
    const auto base = import("busybox");
    auto dirs = run(base, [](const fs::path& root) {
        write(root / "hello.txt", "hello\n");
        write(root / "etc/added", "added\n");
    });
    const auto result = commit(std::move(dirs), base, {.operation = "op-1", .tag = "child"});
    ASSERT_TRUE(result.changed);
    const auto& image = result.image;
    EXPECT_NE(image.uuid, base.uuid);
    EXPECT_EQ(image.parent, base.uuid);
    EXPECT_EQ(image.kind, store::ImageKind::kRun);
    EXPECT_EQ(image.operation, "op-1");
    EXPECT_EQ(image.config_json, base.config_json);
    EXPECT_EQ(image.size_logical, base.size_logical + 12);
    EXPECT_EQ(store_->find("child")->uuid, image.uuid);
    EXPECT_EQ(read(image, "/hello.txt"), "hello\n");
    EXPECT_EQ(read(image, "/etc/added"), "added\n");
    EXPECT_EQ(read(image, "/etc/passwd"), read(base, "/etc/passwd"));
    EXPECT_EQ(read(base, "/hello.txt"), "<not_found>") << "the parent is immutable";
    EXPECT_FALSE(fs::exists(root() / "layers" / std::to_string(*image.top_layer) / "work"));
    store_->wait_for_cleanup();
    EXPECT_EQ(testing::run_dirs_left(root() / "runs"), 0u);
}

TEST_F(RunSnapshotTest, ROOT_DeletedFileIsAWhiteout) {
    const auto base = import("busybox");
    auto dirs = run(base, [](const fs::path& root) { fs::remove(root / "etc/passwd"); });
    const auto image = commit(std::move(dirs), base).image;
    EXPECT_EQ(read(image, "/etc/passwd"), "<not_found>");
    EXPECT_EQ(read(image, "/etc/group").substr(0, 5), "root:");
}

TEST_F(RunSnapshotTest, ROOT_RecreatedDirectoryIsOpaque) {
    const auto base = import("busybox");
    auto dirs = run(base, [](const fs::path& root) {
        fs::remove_all(root / "etc");
        fs::create_directory(root / "etc");
        write(root / "etc/only", "only\n");
    });
    const auto image = commit(std::move(dirs), base).image;
    auto fs = store_->filesystem(image);
    ASSERT_TRUE(fs);
    auto etc = fs->lookup("/etc");
    ASSERT_TRUE(etc);
    auto entries = fs->list(*etc);
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].name, "only");
}

TEST_F(RunSnapshotTest, ROOT_ChainOfRunsKeepsLineage) {
    auto image = import("busybox");
    for (int i = 0; i < 3; ++i) {
        auto dirs = run(image, [i](const fs::path& root) {
            write(root / ("step-" + std::to_string(i)), std::to_string(i));
        });
        image = commit(std::move(dirs), image).image;
    }
    auto lineage = store_->lineage(image.uuid);
    ASSERT_TRUE(lineage);
    EXPECT_EQ(lineage->size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(read(image, "/step-" + std::to_string(i)), std::to_string(i));
    }
}

TEST_F(RunSnapshotTest, ROOT_ParallelRunsAreIsolatedSiblings) {
    const auto base = import("busybox");
    auto a = store_->prepare_run(base);
    auto b = store_->prepare_run(base);
    ASSERT_TRUE(a && b);
    auto mount_a = OverlayMount::create(a->lowers_top_first(), a->upper(), a->work());
    auto mount_b = OverlayMount::create(b->lowers_top_first(), b->upper(), b->work());
    ASSERT_TRUE(mount_a && mount_b);
    const fs::path ta = dir_->path() / "a", tb = dir_->path() / "b";
    fs::create_directory(ta);
    fs::create_directory(tb);
    ASSERT_TRUE(mount_a->attach(ta));
    ASSERT_TRUE(mount_b->attach(tb));
    write(ta / "from-a", "a");
    write(tb / "from-b", "b");
    EXPECT_FALSE(fs::exists(ta / "from-b"));
    EXPECT_FALSE(fs::exists(tb / "from-a"));
    ASSERT_TRUE(mount_a->close());
    ASSERT_TRUE(mount_b->close());
    const auto image_a = commit(std::move(*a), base).image;
    const auto image_b = commit(std::move(*b), base).image;
    EXPECT_EQ(read(image_a, "/from-b"), "<not_found>");
    EXPECT_EQ(read(image_b, "/from-a"), "<not_found>");
    EXPECT_EQ(store_->children(base.uuid)->size(), 2u);
}

TEST_F(RunSnapshotTest, ROOT_CommitCostsChangedFilesOnly) {
    const auto base = import("layers");  // a 64 MiB file and 10k files
    auto dirs = run(base, [](const fs::path& root) { write(root / "data/one.txt", "one\n"); });
    struct stat written {};
    ASSERT_EQ(::stat((dirs.upper() / "data/one.txt").c_str(), &written), 0);
    const auto start = std::chrono::steady_clock::now();
    auto result = store_->commit_run(std::move(dirs), base, {});
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(result) << result.error().to_string();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    std::cout << "commit of a 1-file run over the layers image: " << us << " us\n";
    // The new layer is the upper itself (renamed, the file's inode unchanged: nothing copied)
    // and holds exactly the change, whatever the size of the image below.
    const fs::path layer = root() / "layers" / std::to_string(*result->image.top_layer);
    struct stat kept {};
    ASSERT_EQ(::stat((layer / "data/one.txt").c_str(), &kept), 0);
    EXPECT_EQ(kept.st_ino, written.st_ino);
    EXPECT_EQ(std::distance(fs::recursive_directory_iterator(layer), {}), 2)
        << "data, data/one.txt";
    EXPECT_EQ(read(result->image, "/data/one.txt"), "one\n");
    EXPECT_EQ(read(result->image, "/data/plain.txt"), "from the uncompressed layer\n");
}

TEST_F(RunSnapshotTest, ROOT_RuntimeMountPointsAreLeftOut) {
    const auto base = import("busybox");
    std::vector<std::string> created;
    auto prepare = [&](const fs::path& root) {
        auto root_fd = base::UniqueFd::open(root.string(), O_PATH | O_DIRECTORY);
        ASSERT_TRUE(root_fd) << root_fd.error().to_string();
        auto made = runtime::rootfs::prepare_mountpoints(
            root_fd->get(),
            {.rootfs = root,
             .generated_files = {
                 {"etc/hostname", ""}, {"etc/hosts", ""}, {"etc/resolv.conf", ""}}});
        ASSERT_TRUE(made) << made.error().to_string();
        created = *made;
        // busybox has proc, dev and sys: directory mount points as the runtime makes them for
        // images that lack one, at the top and inside an existing directory.
        fs::create_directory(root / "mnt-top");
        fs::create_directory(root / "bin/mnt-inner");
        created.push_back("mnt-top");
        created.push_back("/bin/mnt-inner");
    };
    auto dirs = run(base, prepare);
    ASSERT_FALSE(created.empty());
    EXPECT_NE(std::find(created.begin(), created.end(), "etc/hostname"), created.end());
    const auto unchanged = commit(std::move(dirs), base, {.ignore_paths = created});
    EXPECT_FALSE(unchanged.changed);
    EXPECT_EQ(unchanged.image.uuid, base.uuid);

    // With a real change beside them, the mount points still stay out of the image.
    dirs = run(base, [&](const fs::path& root) {
        prepare(root);
        write(root / "etc/real", "real\n");
        write(root / "etc/hosts", "written by the run\n");  // no longer what the runtime made
    });
    const auto changed = commit(std::move(dirs), base, {.ignore_paths = created});
    ASSERT_TRUE(changed.changed);
    EXPECT_EQ(read(changed.image, "/etc/real"), "real\n");
    EXPECT_EQ(read(changed.image, "/etc/hosts"), "written by the run\n");
    for (const auto& path : created) {
        if (path != "etc/hosts") {
            EXPECT_EQ(read(changed.image, "/" + path), "<not_found>") << path;
        }
    }
}

TEST_F(RunSnapshotTest, ROOT_MountPointBehindASymlinkIsNeverFollowed) {
    const auto base = import("busybox");
    // The run replaced /etc with a symlink to a host directory holding an empty "hostname".
    const fs::path host = dir_->path() / "host";
    fs::create_directory(host);
    write(host / "hostname", "");
    auto dirs = run(base, [&](const fs::path& root) {
        fs::remove_all(root / "etc");
        fs::create_directory_symlink(host, root / "etc");
    });
    const auto result = commit(std::move(dirs), base, {.ignore_paths = {"etc/hostname"}});
    EXPECT_TRUE(result.changed);
    EXPECT_TRUE(fs::exists(host / "hostname")) << "commit removed a file outside the upper";
}

TEST_F(RunSnapshotTest, ROOT_OverlayBookkeepingXattrsAreStripped) {
    const auto base = import("busybox");
    auto dirs = run(base, [](const fs::path& root) {
        write(root / "etc/file", "x");
        fs::create_directory(root / "newdir");
    });
    // What overlay may leave in an upper: origin on copied-up files, impure on directories.
    const auto upper = dirs.upper();
    ASSERT_EQ(::setxattr((upper / "etc/file").c_str(), "trusted.overlay.origin", "abc", 3, 0), 0);
    ASSERT_EQ(::setxattr((upper / "etc").c_str(), "trusted.overlay.impure", "y", 1, 0), 0);
    ASSERT_EQ(::setxattr((upper / "newdir").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    ASSERT_EQ(::setxattr((upper / "etc/file").c_str(), "user.kept", "1", 1, 0), 0);
    const auto image = commit(std::move(dirs), base).image;
    const fs::path layer = root() / "layers" / std::to_string(*image.top_layer);
    char value[8];
    EXPECT_LT(::lgetxattr((layer / "etc/file").c_str(), "trusted.overlay.origin", value, 8), 0);
    EXPECT_LT(::lgetxattr((layer / "etc").c_str(), "trusted.overlay.impure", value, 8), 0);
    EXPECT_EQ(::lgetxattr((layer / "newdir").c_str(), "trusted.overlay.opaque", value, 8), 1);
    EXPECT_EQ(::lgetxattr((layer / "etc/file").c_str(), "user.kept", value, 8), 1);
}

TEST_F(RunSnapshotTest, ROOT_CrashLeftoversGoOnReopenButLiveRunsStay) {
    const auto base = import("busybox");
    fs::create_directories(root() / "runs" / "crashed" / "upper" / "etc");
    write(root() / "runs" / "crashed" / "upper" / "etc" / "junk", "junk");
    reopen();
    EXPECT_EQ(testing::run_dirs_left(root() / "runs"), 0u);

    // A run in flight holds the lock shared: another opener's recovery leaves it alone.
    auto live = store_->prepare_run(base);
    ASSERT_TRUE(live);
    auto other = ImageStore::open(root(), base::Logger::stderr_text());
    ASSERT_TRUE(other);
    EXPECT_TRUE(fs::exists(live->upper()));
    live->discard();
    store_->wait_for_cleanup();
    EXPECT_EQ(testing::run_dirs_left(root() / "runs"), 0u);
}

TEST_F(RunSnapshotTest, ROOT_RecoveryUnmountsWhatACrashedRunLeftMounted) {
    // A run killed before it could unmount: its rootfs is still mounted in the host's namespace.
    const fs::path rootfs = root() / "runs" / "crashed-run" / "rootfs";
    fs::create_directories(rootfs);
    ASSERT_EQ(::mount("tmpfs", rootfs.c_str(), "tmpfs", 0, nullptr), 0);
    std::ofstream(rootfs / "inside") << "x";
    reopen();
    EXPECT_FALSE(fs::exists(root() / "runs" / "crashed-run"));
    std::ifstream mounts("/proc/self/mountinfo");
    const std::string text((std::istreambuf_iterator<char>(mounts)), {});
    EXPECT_EQ(text.find(rootfs.string()), std::string::npos) << "the mount leaked";
}

}  // namespace
}  // namespace grove::image
