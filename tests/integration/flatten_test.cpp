// Flattening deep chains (image/flatten.hpp, image/layer_merge.hpp) on real overlay mounts: a
// merged layer shows exactly what the overlay of its chain shows; a 600-run session keeps its
// files with bounded mounts, and branches from early images keep their state; concurrent runs
// merge once; a crash mid-merge leaves nothing after reopen; GC keeps the merged layers in use
// and drops the rest; a chain without merged layers is merged from its bottom. Needs root.

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/digest.hpp"
#include "base/temp_dir.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/layer_merge.hpp"
#include "image/layout_source.hpp"
#include "runtime/rootfs/overlay_mount.hpp"
#include "store/metadata/database.hpp"
#include "store/metadata/layer_table.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;
using runtime::rootfs::OverlayMount;
using Tree = std::map<std::string, std::string>;

void write(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

void append(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::app) << text;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A whiteout, as overlay writes one into an upper directory.
void whiteout(const fs::path& path) {
    ASSERT_EQ(::mknod(path.c_str(), S_IFCHR, makedev(0, 0)), 0) << path;
}

// One line per entry under `root` (symlinks never followed): type and mode, owner, mtime, then
// the content's digest, the link target or the device, and the xattrs but overlay's own. Link
// counts and atimes are left out: merged layers add links, and reading moves atimes.
Tree describe(const fs::path& root) {
    Tree tree;
    std::map<std::pair<dev_t, ino_t>, std::string> digests;  // busybox links one binary 400 times
    auto add = [&](const fs::path& path, const std::string& rel) {
        struct stat st {};
        ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
        std::string line = fmt::format("{:o} {}:{} {}.{}", st.st_mode, st.st_uid, st.st_gid,
                                       st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (S_ISREG(st.st_mode)) {
            auto& digest = digests[{st.st_dev, st.st_ino}];
            if (digest.empty()) {
                auto fd = base::UniqueFd::open(path.string(), O_RDONLY);
                ASSERT_TRUE(fd);
                digest = base::sha256_fd(fd->get()).value().str();
            }
            line += fmt::format(" {} {}", st.st_size, digest);
        } else if (S_ISLNK(st.st_mode)) {
            line += " -> " + fs::read_symlink(path).string();
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            line += fmt::format(" dev {}:{}", major(st.st_rdev), minor(st.st_rdev));
        }
        char names[4096];
        const ssize_t size = ::llistxattr(path.c_str(), names, sizeof(names));
        std::set<std::string> sorted;
        for (ssize_t start = 0; start < size;) {
            const std::string name(names + start);
            start += static_cast<ssize_t>(name.size()) + 1;
            if (!name.starts_with("trusted.overlay.")) {
                char value[256];
                const ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof(value));
                sorted.insert(name + "=" +
                              std::string(value, static_cast<size_t>(std::max(n, 0L))));
            }
        }
        for (const auto& xattr : sorted) {
            line += " " + xattr;
        }
        tree[rel] = line;
    };
    add(root, "/");
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        add(it->path(), "/" + it->path().lexically_relative(root).string());
    }
    return tree;
}

// The entries that differ between two trees, for failure messages.
std::string diff(const Tree& got, const Tree& want) {
    std::string out;
    for (const auto& [path, line] : want) {
        const auto it = got.find(path);
        if (it == got.end()) {
            out += fmt::format("\n  missing {}: {}", path, line);
        } else if (it->second != line) {
            out += fmt::format("\n  {}: got {}\n  {}  want {}", path, it->second,
                               std::string(path.size(), ' '), line);
        }
    }
    for (const auto& [path, line] : got) {
        if (!want.contains(path)) {
            out += fmt::format("\n  extra {}: {}", path, line);
        }
    }
    return out;
}

// The files a session test tracks: /log and every file in /files, /gen and /etc.
Tree contents(const fs::path& root) {
    Tree tree;
    if (fs::exists(root / "log")) {
        tree["/log"] = slurp(root / "log");
    }
    for (const char* dir : {"files", "gen", "etc"}) {
        if (!fs::is_directory(root / dir)) {
            continue;
        }
        for (const auto& entry : fs::directory_iterator(root / dir)) {
            tree[fmt::format("/{}/{}", dir, entry.path().filename().string())] =
                slurp(entry.path());
        }
    }
    return tree;
}

// The same, read without mounting (ImageStore::filesystem, `grove ls` and `grove cat`).
Tree contents(const inspect::LayerStack& stack) {
    Tree tree;
    auto read = [&](const inspect::Node& node) {
        auto fd = stack.open_file(node);
        EXPECT_TRUE(fd) << fd.error().to_string();
        return fd ? base::read_all(fd->get()).value_or("<unreadable>") : "<unopenable>";
    };
    if (auto log = stack.lookup("/log")) {
        tree["/log"] = read(*log);
    }
    for (const char* dir : {"files", "gen", "etc"}) {
        auto node = stack.lookup(std::string("/") + dir);
        if (!node) {
            continue;
        }
        auto entries = stack.list(*node);
        EXPECT_TRUE(entries) << entries.error().to_string();
        for (const auto& entry : entries.value_or(std::vector<inspect::DirEntry>{})) {
            const std::string path = fmt::format("/{}/{}", dir, entry.name);
            auto file = stack.lookup(path);
            EXPECT_TRUE(file) << path;
            tree[path] = file ? read(*file) : "<lost>";
        }
    }
    return tree;
}

class FlattenTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(grove::testing::missing_root());
        GROVE_REQUIRE(grove::testing::missing_overlay());
        auto images = testing::TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        images_.emplace(std::move(images).value());
        auto dir = base::TempDir::create("grove-flatten-", "/var/tmp");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        open();
    }

    void open(StoreOptions options = {}) {
        store_.reset();
        auto opened =
            ImageStore::open(root(), base::Logger::stderr_text(base::LogLevel::kWarn), options);
        ASSERT_TRUE(opened) << opened.error().to_string();
        store_ = std::move(opened).value();
    }

    fs::path root() const { return dir_->path() / "root"; }
    fs::path layer_dir(int64_t id) const { return root() / "layers" / std::to_string(id); }

    store::ImageRecord import(const std::string& name) {
        auto source = LayoutSource::open(images_->dir() / name, "latest");
        EXPECT_TRUE(source);
        auto result = store_->import(**source, {});
        EXPECT_TRUE(result) << result.error().to_string();
        return std::move(result)->image;
    }

    // A run of `image` on a real overlay, which `body` changes; returns the image it leaves.
    store::ImageRecord run(const store::ImageRecord& image,
                           const std::function<void(const fs::path&)>& body) {
        auto dirs = store_->prepare_run(image);
        EXPECT_TRUE(dirs) << dirs.error().to_string();
        if (!dirs) {
            return image;
        }
        max_lowers_ = std::max(max_lowers_, dirs->lowers_top_first().size());
        {
            auto mount =
                OverlayMount::create(dirs->lowers_top_first(), dirs->upper(), dirs->work());
            EXPECT_TRUE(mount) << mount.error().to_string();
            if (!mount) {
                return image;
            }
            const fs::path target = dir_->path() / "mnt";
            fs::create_directories(target);
            EXPECT_TRUE(mount->attach(target));
            body(target);
            EXPECT_TRUE(mount->close());
        }
        auto committed = store_->commit_run(std::move(*dirs), image, {});
        EXPECT_TRUE(committed) << committed.error().to_string();
        return committed ? committed->image : image;
    }

    // A run without a mount: `body` writes the upper directory in overlay's form itself (a
    // whiteout is a 0/0 character device). Fast, for long chains.
    store::ImageRecord commit_upper(const store::ImageRecord& image,
                                    const std::function<void(const fs::path&)>& body,
                                    ImageStore* store = nullptr) {
        store = store ? store : store_.get();
        auto dirs = store->prepare_run(image);
        EXPECT_TRUE(dirs) << dirs.error().to_string();
        if (!dirs) {
            return image;
        }
        max_lowers_ = std::max(max_lowers_, dirs->lowers_top_first().size());
        body(dirs->upper());
        auto committed = store->commit_run(std::move(*dirs), image, {});
        EXPECT_TRUE(committed) << committed.error().to_string();
        return committed ? committed->image : image;
    }

    // The directories a run of `image` stacks, top first.
    std::vector<fs::path> lowers(const store::ImageRecord& image, ImageStore* store = nullptr) {
        auto dirs = (store ? store : store_.get())->prepare_run(image);
        EXPECT_TRUE(dirs) << dirs.error().to_string();
        return dirs ? dirs->lowers_top_first() : std::vector<fs::path>{};
    }

    // Runs `read` on a read-only overlay of `lowers` (top first).
    template <typename F>
    auto mounted(const std::vector<fs::path>& lowers, F read) {
        auto mount = OverlayMount::create_read_only(lowers);
        EXPECT_TRUE(mount) << mount.error().to_string();
        const fs::path target = dir_->path() / "view";
        fs::create_directories(target);
        EXPECT_TRUE(mount && mount->attach(target));
        auto result = read(target);
        EXPECT_TRUE(!mount || mount->close());
        return result;
    }

    std::optional<testing::TestImages> images_;
    std::optional<base::TempDir> dir_;
    std::unique_ptr<ImageStore> store_;
    size_t max_lowers_ = 0;
};

TEST_F(FlattenTest, ROOT_MergedLayerShowsWhatItsChainShows) {
    open({.flatten_every = kMaxFlattenEvery});  // no flattening: the test merges by hand
    auto image = import("busybox");
    image = run(image, [](const fs::path& root) {
        fs::create_directories(root / "a/sub");
        write(root / "a/new.txt", "new\n");
        write(root / "etc/passwd", "changed\n");
        fs::create_symlink("/etc/passwd", root / "lnk");
        fs::create_hard_link(root / "a/new.txt", root / "a/hl");
        fs::create_hard_link(root / "a/new.txt", root / "a/hl2");
        ASSERT_EQ(::mkfifo((root / "a/fifo").c_str(), 0640), 0);
        ASSERT_EQ(::setxattr((root / "a/new.txt").c_str(), "user.note", "v", 1, 0), 0);
        ASSERT_EQ(::chmod((root / "a/new.txt").c_str(), 04755), 0);
        write(root / "a/owned", "o");
        ASSERT_EQ(::chown((root / "a/owned").c_str(), 1000, 1001), 0);
        ASSERT_EQ(::setxattr((root / "a").c_str(), "user.dir", "d", 1, 0), 0);
        write(root / "usr/bin/tool", "tool");
        write(root / "one-inode", "two names");
        fs::create_hard_link(root / "one-inode", root / "same-inode");
    });
    image = run(image, [](const fs::path& root) {
        fs::remove(root / "etc/group");
        fs::remove(root / "a/hl");
        fs::remove_all(root / "usr");  // a whole directory of the base
        fs::create_directories(root / "deep/x/y/z");
        write(root / "deep/x/y/z/f", "f");
        write(root / "deep/x/keep", "k");
    });
    image = run(image, [](const fs::path& root) {
        fs::remove_all(root / "etc");  // recreated: opaque
        fs::create_directory(root / "etc");
        write(root / "etc/only", "only\n");
        fs::remove_all(root / "deep/x/y");
        fs::create_directories(root / "deep/x/y");
        write(root / "deep/x/y/other", "other");
    });
    image = run(image, [](const fs::path& root) {
        write(root / "etc/group", "root:x:0:\n");  // back, inside the opaque directory
        fs::remove_all(root / "a");
        write(root / "a", "a is a file now");  // a directory replaced by a file
        fs::remove(root / "lnk");
        fs::create_directories(root / "lnk/inside");  // a symlink replaced by a directory
        fs::create_directories(root / "usr/bin");     // a directory back over its whiteout
        write(root / "usr/bin/again", "again");
    });
    image = run(image, [](const fs::path& root) {
        fs::rename(root / "etc/only", root / "etc/moved");
        ASSERT_EQ(::mknod((root / "dev/device").c_str(), S_IFCHR | 0640, makedev(1, 3)), 0);
        ASSERT_EQ(::chmod((root / "tmp").c_str(), 0700), 0);
        write(root / "deep/x/keep", "kept, changed");
        const timespec times[2] = {{1000, 0}, {2000, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, (root / "deep").c_str(), times, 0), 0);
    });
    const auto all = lowers(image);
    ASSERT_EQ(all.size(), 6u);
    const Tree want = mounted(all, describe);
    ASSERT_TRUE(want.contains("/etc/moved") && !want.contains("/etc/passwd") &&
                want.contains("/usr/bin/again") && !want.contains("/usr/bin/tool"))
        << "the chain is not what the test built";

    for (const auto links : {MergeLinks::kHardlink, MergeLinks::kCopy}) {
        const fs::path merged = dir_->path() / fmt::format("merged-{}", static_cast<int>(links));
        auto stats = merge_layers(all, merged, {.links = links});
        ASSERT_TRUE(stats) << stats.error().to_string();
        struct stat first {
        }, second{}, source{};
        ASSERT_EQ(::lstat((merged / "one-inode").c_str(), &first), 0);
        ASSERT_EQ(::lstat((merged / "same-inode").c_str(), &second), 0);
        ASSERT_EQ(::lstat((all[4] / "one-inode").c_str(), &source), 0);
        EXPECT_EQ(first.st_ino, second.st_ino) << "names of one inode still share one";
        if (links == MergeLinks::kHardlink) {
            EXPECT_EQ(stats->copied, 0u);
            EXPECT_EQ(first.st_ino, source.st_ino);
        } else {
            EXPECT_GT(stats->copied, 0u);
            EXPECT_NE(first.st_ino, source.st_ino);
        }
        const Tree got = describe(merged);
        EXPECT_EQ(got, want) << diff(got, want);
    }

    // A run over the merged layer copies a shared inode up before changing it: the layer it
    // came from stays as it was.
    const Tree layer_before = describe(all[4]);
    {
        const fs::path merged = dir_->path() / "merged-0";
        const fs::path upper = dir_->path() / "upper", work = dir_->path() / "work";
        fs::create_directories(upper);
        fs::create_directories(work);
        auto mount = OverlayMount::create({merged}, upper, work);
        ASSERT_TRUE(mount) << mount.error().to_string();
        const fs::path target = dir_->path() / "writable";
        fs::create_directories(target);
        ASSERT_TRUE(mount->attach(target));
        append(target / "one-inode", " and more");
        ASSERT_EQ(::chmod((target / "same-inode").c_str(), 0600), 0);
        ASSERT_EQ(::setxattr((target / "one-inode").c_str(), "user.new", "1", 1, 0), 0);
        EXPECT_EQ(slurp(target / "one-inode"), "two names and more");
        ASSERT_TRUE(mount->close());
    }
    const Tree layer_after = describe(all[4]);
    EXPECT_EQ(layer_after, layer_before) << diff(layer_after, layer_before);
    EXPECT_EQ(slurp(all[4] / "one-inode"), "two names");

    // A merged bottom under the layers above it, as runs stack them, at every split.
    for (size_t keep = 1; keep < all.size(); ++keep) {
        const fs::path merged = dir_->path() / fmt::format("bottom-{}", keep);
        auto stats = merge_layers({all.begin() + static_cast<ptrdiff_t>(keep), all.end()}, merged);
        ASSERT_TRUE(stats) << stats.error().to_string();
        std::vector<fs::path> stack(all.begin(), all.begin() + static_cast<ptrdiff_t>(keep));
        stack.push_back(merged);
        const Tree got = mounted(stack, describe);
        EXPECT_EQ(got, want) << "over a merge of the bottom " << all.size() - keep << " layers"
                             << diff(got, want);
    }
}

TEST_F(FlattenTest, ROOT_FileAtTheLinkLimitIsCopied) {
    // A layer whose file has as many links as the filesystem allows (ext4: 65,000), most of
    // them outside the layer, next to a file with two names.
    const fs::path layer = dir_->path() / "layer", others = dir_->path() / "others";
    fs::create_directories(layer / "dir");
    fs::create_directories(others);
    write(layer / "dir/full", "linked to the limit");
    write(layer / "pair-1", "pair");
    fs::create_hard_link(layer / "pair-1", layer / "pair-2");
    ASSERT_EQ(::setxattr((layer / "dir/full").c_str(), "user.kept", "1", 1, 0), 0);
    bool full = false;
    for (int i = 0; i < 70'000 && !full; ++i) {
        if (::link((layer / "dir/full").c_str(), (others / std::to_string(i)).c_str()) != 0) {
            ASSERT_EQ(errno, EMLINK);
            full = true;
        }
    }
    if (!full) {
        GTEST_SKIP() << "this filesystem allows more than 70,000 links";
    }
    const fs::path merged = dir_->path() / "merged";
    auto stats = merge_layers({layer}, merged);
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(stats->copied, 1u);
    EXPECT_EQ(stats->linked, 2u);
    const Tree want = describe(layer);
    const Tree got = describe(merged);
    EXPECT_EQ(got, want) << diff(got, want);
    struct stat copy {};
    ASSERT_EQ(::lstat((merged / "dir/full").c_str(), &copy), 0);
    EXPECT_EQ(copy.st_nlink, 1u);
}

// The layers image exercises every layer rule as imports write them (whiteouts, opaque
// directories, hardlinks, xattrs, setuid, a fifo, odd names, 10,000 files). With the bench images
// ($GROVE_TEST_IMAGES=~/.cache/grove-tests/bench-images), debian is merged too.
TEST_F(FlattenTest, ROOT_MergedImportedLayersShowWhatTheirOverlayShows) {
    open({.flatten_every = kMaxFlattenEvery});
    for (const std::string name : {"layers", "debian"}) {
        if (!fs::exists(images_->dir() / name)) {
            continue;
        }
        SCOPED_TRACE(name);
        const auto all = lowers(import(name));
        const Tree want = mounted(all, describe);
        const fs::path merged = dir_->path() / ("merged-" + name);
        auto stats = merge_layers(all, merged);
        ASSERT_TRUE(stats) << stats.error().to_string();
        EXPECT_EQ(stats->copied, 0u);
        Tree got = describe(merged);
        EXPECT_EQ(got, want) << diff(got, want);
        if (all.size() > 1) {  // the bottom merged under the top layer
            const fs::path bottom = dir_->path() / ("bottom-" + name);
            ASSERT_TRUE(merge_layers({all.begin() + 1, all.end()}, bottom));
            got = mounted({all[0], bottom}, describe);
            EXPECT_EQ(got, want) << diff(got, want);
        }
    }
}

TEST_F(FlattenTest, ROOT_LongSessionKeepsItsFilesWithBoundedMounts) {
    const auto started = std::chrono::steady_clock::now();
    auto image = import("busybox");
    Tree model = {{"/etc/passwd", slurp(lowers(image).front() / "etc/passwd")},
                  {"/etc/group", slurp(lowers(image).front() / "etc/group")}};
    std::vector<std::pair<store::ImageRecord, Tree>> branches;
    constexpr int kSteps = 600;
    for (int i = 1; i <= kSteps; ++i) {
        image = run(image, [i](const fs::path& root) {
            fs::create_directories(root / "files");
            append(root / "log", fmt::format("{}\n", i));
            write(root / "files" / fmt::format("f{}", i), std::to_string(i));
            if (i % 7 == 0) {
                fs::remove(root / "files" / fmt::format("f{}", i - 5));
            }
            if (i % 11 == 0) {
                write(root / "files/f1", fmt::format("rewritten at {}", i));
            }
            if (i % 97 == 0) {  // recreated: opaque, only the new file
                fs::remove_all(root / "gen");
                fs::create_directory(root / "gen");
                write(root / "gen" / fmt::format("g{}", i), "fresh");
            } else if (i % 13 == 0) {
                fs::create_directories(root / "gen");
                write(root / "gen" / fmt::format("g{}", i), "added");
            }
            if (i == 123) {
                fs::remove_all(root / "etc");
            }
            if (i == 124) {
                fs::create_directory(root / "etc");
                write(root / "etc/passwd", "root:x:0:0::/:/bin/sh\n");
            }
        });
        model["/log"] += fmt::format("{}\n", i);
        model[fmt::format("/files/f{}", i)] = std::to_string(i);
        if (i % 7 == 0) {
            model.erase(fmt::format("/files/f{}", i - 5));
        }
        if (i % 11 == 0) {
            model["/files/f1"] = fmt::format("rewritten at {}", i);
        }
        if (i % 97 == 0) {
            std::erase_if(model, [](const auto& kv) { return kv.first.starts_with("/gen/"); });
            model[fmt::format("/gen/g{}", i)] = "fresh";
        } else if (i % 13 == 0) {
            model[fmt::format("/gen/g{}", i)] = "added";
        }
        if (i == 123) {
            std::erase_if(model, [](const auto& kv) { return kv.first.starts_with("/etc/"); });
        }
        if (i == 124) {
            model["/etc/passwd"] = "root:x:0:0::/:/bin/sh\n";
        }
        if (i == 10 || i == 300) {
            branches.emplace_back(image, model);
        }
    }
    EXPECT_LE(max_lowers_, kDefaultFlattenEvery + 1) << "a run stacked too many layers";
    // Runs of images 65..600 layers deep use 9 anchors, each merged once, from the previous one.
    const auto stats = store_->flatten_stats();
    EXPECT_EQ(stats.merged_layers, 9u);
    EXPECT_EQ(stats.last_sources, kDefaultFlattenEvery + 1);
    std::cout << fmt::format(
        "{} runs in {} ms; {} merges took {} ms, the last one {} ms\n", kSteps,
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                              started)
            .count(),
        stats.merged_layers,
        std::chrono::duration_cast<std::chrono::milliseconds>(stats.total).count(),
        std::chrono::duration<double, std::milli>(stats.last).count());

    // The last image, mounted as a run would mount it and read without mounting.
    const auto final_lowers = lowers(image);
    EXPECT_EQ(final_lowers.size(), 601u - 576u + 1u);
    Tree got = mounted(final_lowers, [](const fs::path& root) { return contents(root); });
    EXPECT_EQ(got, model) << diff(got, model);
    auto files = store_->filesystem(image);
    ASSERT_TRUE(files) << files.error().to_string();
    got = contents(*files);
    EXPECT_EQ(got, model) << diff(got, model);

    // Branches from earlier images see their own state, and run on.
    for (const auto& [branch, branch_model] : branches) {
        const auto child = run(branch, [&](const fs::path& root) {
            got = contents(root);
            EXPECT_EQ(got, branch_model) << diff(got, branch_model);
            write(root / "files/branch", "b");
        });
        Tree child_model = branch_model;
        child_model["/files/branch"] = "b";
        got = mounted(lowers(child), [](const fs::path& root) { return contents(root); });
        EXPECT_EQ(got, child_model) << diff(got, child_model);
    }
}

TEST_F(FlattenTest, ROOT_ConcurrentRunsMergeOnce) {
    open({.flatten_every = 4});
    auto image = import("busybox");
    for (int i = 1; i <= 4; ++i) {
        image = commit_upper(image, [i](const fs::path& upper) {
            write(upper / fmt::format("f{}", i), std::to_string(i));
        });
    }
    // A second store on the same root stands for another process.
    auto other = ImageStore::open(root(), base::Logger::stderr_text(base::LogLevel::kWarn),
                                  {.flatten_every = 4});
    ASSERT_TRUE(other) << other.error().to_string();
    constexpr int kThreads = 8;
    std::vector<std::vector<fs::path>> seen(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                auto dirs = (t % 2 == 0 ? store_.get() : other->get())->prepare_run(image);
                EXPECT_TRUE(dirs) << dirs.error().to_string();
                if (dirs) {
                    seen[t] = dirs->lowers_top_first();
                }
            });
        }
    }
    for (const auto& lowers : seen) {
        EXPECT_EQ(lowers, seen[0]);
    }
    ASSERT_EQ(seen[0].size(), 2u);  // the top layer over the merge of the 4 below it
    EXPECT_EQ(store_->flatten_stats().merged_layers + (*other)->flatten_stats().merged_layers, 1u);
}

TEST_F(FlattenTest, ROOT_CrashMidMergeLeavesNothingAfterReopen) {
    open({.flatten_every = kMaxFlattenEvery});  // the chain first, merged by nothing yet
    std::vector<store::ImageRecord> images{import("busybox")};  // images[d] is d layers deep
    images.insert(images.begin(), images.front());
    for (int d = 2; d <= 9; ++d) {
        images.push_back(commit_upper(images.back(), [d](const fs::path& upper) {
            write(upper / fmt::format("f{}", d), std::to_string(d));
        }));
    }
    // What a crash leaves: a pending merged layer, half-built in new-<id>, or already renamed
    // into place but not marked ready.
    auto leave_merge = [&](int64_t anchor) {
        auto db = store::Database::open(root() / "metadata.db");
        EXPECT_TRUE(db);
        auto id = store::LayerTable(*db).insert_pending(
            {.key = merged_layer_key(anchor), .merges = anchor});
        EXPECT_TRUE(id) << id.error().to_string();
        fs::create_directories(root() / "layers" / fmt::format("new-{}", *id) / "etc");
        write(root() / "layers" / fmt::format("new-{}", *id) / "etc/half", "half");
        fs::create_directories(layer_dir(*id) / "etc");
        return *id;
    };
    auto row_exists = [&](int64_t id) {
        auto db = store::Database::open(root() / "metadata.db");
        return store::LayerTable(*db).get(id).has_value();
    };

    const int64_t crashed = leave_merge(*images[4].top_layer);
    open({.flatten_every = 4});  // recovers
    EXPECT_FALSE(row_exists(crashed));
    EXPECT_FALSE(fs::exists(root() / "layers" / fmt::format("new-{}", crashed)));
    EXPECT_FALSE(fs::exists(layer_dir(crashed)));
    auto merged = lowers(images[5]);
    ASSERT_EQ(merged.size(), 2u);
    EXPECT_NE(merged.back(), layer_dir(crashed));
    EXPECT_EQ(store_->flatten_stats().merged_layers, 1u);

    // While another process works in the store, opening it recovers nothing; the next merge of
    // that chain, which holds its lock, collects the leftover itself.
    const int64_t second = leave_merge(*images[8].top_layer);
    auto live = store_->prepare_run(images[1]);
    ASSERT_TRUE(live);
    auto other = ImageStore::open(root(), base::Logger::stderr_text(base::LogLevel::kWarn),
                                  {.flatten_every = 4});
    ASSERT_TRUE(other);
    EXPECT_TRUE(row_exists(second));
    merged = lowers(images[9], other->get());
    ASSERT_EQ(merged.size(), 2u);
    EXPECT_FALSE(row_exists(second));
    EXPECT_FALSE(fs::exists(root() / "layers" / fmt::format("new-{}", second)));
    EXPECT_FALSE(fs::exists(layer_dir(second)));
    EXPECT_EQ((*other)->flatten_stats().merged_layers, 1u);
    EXPECT_EQ((*other)->flatten_stats().last_sources, 5u) << "merged on the merge of layer 4";
    auto files = (*other)->filesystem(images[9]);
    ASSERT_TRUE(files);
    for (int d = 2; d <= 9; ++d) {
        auto node = files->lookup(fmt::format("/f{}", d));
        EXPECT_TRUE(node) << d;
    }
}

TEST_F(FlattenTest, ROOT_GcKeepsMergedLayersInUseAndDropsTheRest) {
    open({.flatten_every = 4});
    std::vector<store::ImageRecord> images{import("busybox")};  // images[d] is d layers deep
    images.insert(images.begin(), images.front());
    for (int d = 2; d <= 10; ++d) {
        images.push_back(commit_upper(images.back(), [d](const fs::path& upper) {
            write(upper / fmt::format("f{}", d), std::to_string(d));
        }));
    }
    const fs::path merged4 = lowers(images[5]).back();
    const fs::path merged8 = lowers(images[10]).back();
    EXPECT_EQ(store_->flatten_stats().merged_layers, 2u);
    auto gc = store_->collect_garbage();
    ASSERT_TRUE(gc) << gc.error().to_string();
    EXPECT_EQ(gc->layers_removed, 0u);

    // Without the images above layer 8 nothing mounts its merge: that goes, the one of layer 4
    // stays (image 8's runs mount it).
    ASSERT_TRUE(store_->remove(images[10].uuid, {}));
    ASSERT_TRUE(store_->remove(images[9].uuid, {}));
    gc = store_->collect_garbage();
    ASSERT_TRUE(gc) << gc.error().to_string();
    EXPECT_EQ(gc->layers_removed, 3u);
    EXPECT_TRUE(fs::exists(merged4));
    EXPECT_FALSE(fs::exists(merged8));

    // A new branch from image 8 reuses the merge of layer 4; its child merges layer 8 again.
    const auto branch = commit_upper(images[8], [](const fs::path& upper) {
        write(upper / "branch", "b");
        whiteout(upper / "f3");
    });
    EXPECT_EQ(store_->flatten_stats().merged_layers, 2u);
    EXPECT_EQ(lowers(branch).size(), 2u);
    EXPECT_EQ(store_->flatten_stats().merged_layers, 3u);
    auto files = store_->filesystem(branch);
    ASSERT_TRUE(files);
    EXPECT_TRUE(files->lookup("/branch"));
    EXPECT_TRUE(files->lookup("/f8"));
    EXPECT_FALSE(files->lookup("/f9"));
    EXPECT_FALSE(files->lookup("/f3"));
    EXPECT_TRUE(files->lookup("/f2"));

    // Without images, every layer goes, merged ones included.
    ASSERT_TRUE(store_->remove(branch.uuid, {}));
    for (int d = 8; d >= 1; --d) {
        ASSERT_TRUE(store_->remove(images[d].uuid, {})) << d;
    }
    gc = store_->collect_garbage();
    ASSERT_TRUE(gc) << gc.error().to_string();
    EXPECT_TRUE(fs::is_empty(root() / "layers"));
}

TEST_F(FlattenTest, ROOT_ChainWithoutMergedLayersIsMergedFromItsBottom) {
    // A chain built without flattening (as by an older grove), 331 layers deep.
    open({.flatten_every = kMaxFlattenEvery});
    auto image = import("busybox");
    Tree model;
    for (int i = 1; i <= 330; ++i) {
        image = commit_upper(image, [i](const fs::path& upper) {
            fs::create_directories(upper / "files");
            write(upper / "files" / fmt::format("n{}", i), std::to_string(i));
            if (i % 3 == 0) {
                whiteout(upper / "files" / fmt::format("n{}", i - 2));
            }
        });
        model[fmt::format("/files/n{}", i)] = std::to_string(i);
        if (i % 3 == 0) {
            model.erase(fmt::format("/files/n{}", i - 2));
        }
    }
    open();
    max_lowers_ = 0;
    auto files = store_->filesystem(image);  // merges the bottom 320 layers in one go
    ASSERT_TRUE(files) << files.error().to_string();
    EXPECT_EQ(store_->flatten_stats().merged_layers, 1u);
    EXPECT_EQ(store_->flatten_stats().last_sources, 320u);
    Tree got = contents(*files);
    std::erase_if(got, [](const auto& kv) { return kv.first.starts_with("/etc/"); });
    EXPECT_EQ(got, model) << diff(got, model);
    const auto child = run(image, [&](const fs::path& root) {
        Tree seen = contents(root);
        std::erase_if(seen, [](const auto& kv) { return kv.first.starts_with("/etc/"); });
        EXPECT_EQ(seen, model) << diff(seen, model);
        write(root / "files/last", "last");
    });
    EXPECT_EQ(max_lowers_, 331u - 320u + 1u);
    EXPECT_NE(child.uuid, image.uuid);
}

}  // namespace
}  // namespace grove::image
