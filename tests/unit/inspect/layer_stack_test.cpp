#include "inspect/layer_stack.hpp"

#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"

namespace grove::inspect {
namespace {

namespace fs = std::filesystem;

class LayerStackTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-layers-");
        ASSERT_TRUE(dir);
        tmp_.emplace(std::move(dir).value());
        for (const char* name : {"top", "mid", "bottom"}) {
            fs::create_directories(tmp_->path() / name);
        }
        // bottom: a small base image.
        file("bottom", "etc/passwd", "root:x:0:0:image root:/root:/bin/sh\n");
        file("bottom", "data/a.txt", "a from bottom\n");
        file("bottom", "data/dir/x", "x\n");
        file("bottom", "data/file-then-dir", "was a file\n");
        link("bottom", "abs-link", "/etc/passwd");
        link("bottom", "escape", "../../../../../../etc/passwd");
        link("bottom", "dir-link", "/data");
        link("bottom", "loop", "loop");
        link("bottom", "data/up", "../etc");
        // mid: edits.
        file("mid", "data/a.txt", "a from mid\n");
        file("mid", "data/m.txt", "m\n");
        file("mid", "data/file-then-dir/inside", "now a directory\n");
        // top: more edits.
        file("top", "data/t.txt", "t\n");
    }

    void file(const char* layer, const std::string& rel, const std::string& content) {
        const fs::path path = tmp_->path() / layer / rel;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << content;
    }
    void link(const char* layer, const std::string& rel, const std::string& target) {
        const fs::path path = tmp_->path() / layer / rel;
        fs::create_directories(path.parent_path());
        fs::create_symlink(target, path);
    }
    void whiteout(const char* layer, const std::string& rel) {
        const fs::path path = tmp_->path() / layer / rel;
        fs::create_directories(path.parent_path());
        ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << path;
    }
    void opaque(const char* layer, const std::string& rel) {
        const fs::path path = tmp_->path() / layer / rel;
        fs::create_directories(path);
        ASSERT_EQ(::setxattr(path.c_str(), "trusted.overlay.opaque", "y", 1, 0), 0) << path;
    }

    LayerStack stack() const {
        auto s =
            LayerStack::open({tmp_->path() / "top", tmp_->path() / "mid", tmp_->path() / "bottom"});
        EXPECT_TRUE(s) << s.error().to_string();
        return std::move(s).value();
    }

    std::string read(const LayerStack& s, std::string_view path) const {
        auto node = s.lookup(path);
        EXPECT_TRUE(node) << path << ": " << node.error().to_string();
        if (!node) {
            return "";
        }
        auto fd = s.open_file(*node);
        EXPECT_TRUE(fd) << fd.error().to_string();
        return fd ? base::read_all(fd->get()).value_or("") : "";
    }

    std::vector<std::string> names(const LayerStack& s, std::string_view path) const {
        std::vector<std::string> out;
        auto node = s.lookup(path);
        EXPECT_TRUE(node) << node.error().to_string();
        auto entries = s.list(*node);
        EXPECT_TRUE(entries) << entries.error().to_string();
        for (const auto& e : entries.value_or(std::vector<DirEntry>{})) {
            out.push_back(e.name);
        }
        return out;
    }

    std::optional<base::TempDir> tmp_;
};

TEST_F(LayerStackTest, UpperLayersHideLowerOnes) {
    const LayerStack s = stack();
    EXPECT_EQ(read(s, "/data/a.txt"), "a from mid\n");
    EXPECT_EQ(read(s, "data/dir/x"), "x\n");
    EXPECT_EQ(read(s, "/data/t.txt"), "t\n");
    auto node = s.lookup("/data/a.txt");
    ASSERT_TRUE(node);
    EXPECT_EQ(node->layers, std::vector<size_t>{1});
    EXPECT_EQ(node->path, "/data/a.txt");
}

TEST_F(LayerStackTest, DirectoriesMergeAcrossLayers) {
    const LayerStack s = stack();
    EXPECT_EQ(names(s, "/data"),
              (std::vector<std::string>{"a.txt", "dir", "file-then-dir", "m.txt", "t.txt", "up"}));
    auto data = s.lookup("/data");
    ASSERT_TRUE(data);
    EXPECT_EQ(data->layers, (std::vector<size_t>{0, 1, 2}));
    EXPECT_EQ(names(s, "/"),
              (std::vector<std::string>{"abs-link", "data", "dir-link", "escape", "etc", "loop"}));
}

TEST_F(LayerStackTest, DirectoryAboveHidesFileBelow) {
    const LayerStack s = stack();
    auto node = s.lookup("/data/file-then-dir");
    ASSERT_TRUE(node);
    EXPECT_TRUE(S_ISDIR(node->st.st_mode));
    EXPECT_EQ(node->layers, std::vector<size_t>{1});
    EXPECT_EQ(names(s, "/data/file-then-dir"), std::vector<std::string>{"inside"});
}

TEST_F(LayerStackTest, SymlinksResolveInsideTheImage) {
    const LayerStack s = stack();
    const std::string image_passwd = "root:x:0:0:image root:/root:/bin/sh\n";
    EXPECT_EQ(read(s, "/abs-link"), image_passwd);
    // ".." past the root stays at the root, as RESOLVE_IN_ROOT does: never the host's file.
    EXPECT_EQ(read(s, "/escape"), image_passwd);
    EXPECT_EQ(read(s, "/dir-link/a.txt"), "a from mid\n");
    EXPECT_EQ(read(s, "/data/up/passwd"), image_passwd);
    EXPECT_EQ(read(s, "/../../etc/passwd"), image_passwd);
    auto resolved = s.lookup("/dir-link/dir/../t.txt");
    ASSERT_TRUE(resolved);
    EXPECT_EQ(resolved->path, "/data/t.txt");
}

TEST_F(LayerStackTest, NoFinalReturnsTheLinkItself) {
    const LayerStack s = stack();
    auto link = s.lookup("/abs-link", Follow::kNoFinal);
    ASSERT_TRUE(link);
    EXPECT_TRUE(S_ISLNK(link->st.st_mode));
    EXPECT_EQ(*s.read_link(*link), "/etc/passwd");
}

TEST_F(LayerStackTest, LoopsAndBadPathsFail) {
    const LayerStack s = stack();
    auto loop = s.lookup("/loop");
    ASSERT_FALSE(loop);
    EXPECT_EQ(loop.error().sys_errno(), ELOOP);
    auto missing = s.lookup("/data/nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
    EXPECT_EQ(missing.error().message(),
              "lookup '/data/nope': '/data/nope': No such file or directory");
    auto through_file = s.lookup("/data/a.txt/x");
    ASSERT_FALSE(through_file);
    EXPECT_EQ(through_file.error().sys_errno(), ENOTDIR);
    auto dir = s.lookup("/data");
    ASSERT_TRUE(dir);
    EXPECT_EQ(s.open_file(*dir).error().code(), Code::kFailedPrecondition);
}

TEST_F(LayerStackTest, ROOT_WhiteoutsHideLowerEntries) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to create whiteout devices";
    }
    whiteout("mid", "data/dir");
    whiteout("top", "etc/passwd");
    const LayerStack s = stack();
    EXPECT_EQ(s.lookup("/data/dir").error().code(), Code::kNotFound);
    EXPECT_EQ(s.lookup("/etc/passwd").error().code(), Code::kNotFound);
    EXPECT_EQ(s.lookup("/abs-link").error().code(), Code::kNotFound);
    EXPECT_EQ(names(s, "/data"),
              (std::vector<std::string>{"a.txt", "file-then-dir", "m.txt", "t.txt", "up"}));
    EXPECT_TRUE(names(s, "/etc").empty());
}

TEST_F(LayerStackTest, ROOT_OpaqueDirectoriesHideLowerContents) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to set trusted.overlay xattrs";
    }
    opaque("mid", "data");
    const LayerStack s = stack();
    EXPECT_EQ(names(s, "/data"),
              (std::vector<std::string>{"a.txt", "file-then-dir", "m.txt", "t.txt"}));
    EXPECT_EQ(s.lookup("/data/dir/x").error().code(), Code::kNotFound);
    auto data = s.lookup("/data");
    ASSERT_TRUE(data);
    EXPECT_EQ(data->layers, (std::vector<size_t>{0, 1}));
}

TEST(LayerStack, NeedsALayer) {
    EXPECT_EQ(LayerStack::open({}).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(LayerStack::open({"/no/such/layer"}).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace grove::inspect
