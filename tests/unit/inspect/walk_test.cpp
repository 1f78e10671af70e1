#include "inspect/walk.hpp"

#include <chrono>
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "image_fixture.hpp"

namespace grove::inspect {
namespace {

class WalkTest : public ImageFixture {
protected:
    // Every path visited under `start`, stopping after `limit` nodes.
    std::vector<std::string> visit(std::string_view start, size_t limit = SIZE_MAX) {
        const LayerStack s = stack();
        auto node = s.lookup(start);
        EXPECT_TRUE(node) << node.error().to_string();
        std::vector<std::string> paths;
        auto walked = walk(s, *node, [&](const Node& n) -> Result<WalkControl> {
            paths.push_back(n.path);
            return paths.size() < limit ? WalkControl::kContinue : WalkControl::kStop;
        });
        EXPECT_TRUE(walked) << walked.error().to_string();
        return paths;
    }

    // `depth` nested directories named `name` in the bottom layer, made one level at a time
    // (relative to an fd), since the whole path may be longer than PATH_MAX.
    void nest(const std::string& name, int depth) {
        auto fd = base::UniqueFd::open(at("bottom", "").string(), O_RDONLY | O_DIRECTORY);
        ASSERT_TRUE(fd);
        for (int i = 0; i < depth; ++i) {
            ASSERT_EQ(::mkdirat(fd->get(), name.c_str(), 0755), 0) << i;
            auto next = base::UniqueFd::open_at(fd->get(), name, O_RDONLY | O_DIRECTORY);
            ASSERT_TRUE(next);
            *fd = std::move(next).value();
        }
    }
};

TEST_F(WalkTest, DepthFirstInNameOrderWithoutFollowingSymlinks) {
    file("bottom", "a/z.txt", "");
    file("mid", "a/b/c.txt", "");
    file("top", "a.txt", "");
    link("top", "a/loop", "/a");
    EXPECT_EQ(visit("/"), (std::vector<std::string>{"/", "/a", "/a/b", "/a/b/c.txt", "/a/loop",
                                                    "/a/z.txt", "/a.txt"}));
    EXPECT_EQ(visit("/a/b/c.txt"), std::vector<std::string>{"/a/b/c.txt"});
    EXPECT_EQ(visit("/a/loop"),
              (std::vector<std::string>{"/a", "/a/b", "/a/b/c.txt", "/a/loop", "/a/z.txt"}));
}

TEST_F(WalkTest, StopsWhenTheVisitorSaysSo) {
    file("bottom", "a/b/c.txt", "");
    file("bottom", "a/d.txt", "");
    EXPECT_EQ(visit("/", 3), (std::vector<std::string>{"/", "/a", "/a/b"}));
}

TEST_F(WalkTest, DeepTreesNeitherRecurseNorTakeQuadraticLookups) {
    nest("d", 600);
    const auto started = std::chrono::steady_clock::now();
    const auto paths = visit("/");
    EXPECT_EQ(paths.size(), 601u);
    EXPECT_EQ(paths.back().size(), 600u * 2);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(WalkTest, PathsBeyondTheLayerFilesystemsLimitFail) {
    nest(std::string(200, 'n'), 25);  // 5025 bytes: more than PATH_MAX
    const LayerStack s = stack();
    auto root = s.lookup("/");
    ASSERT_TRUE(root);
    auto walked =
        walk(s, *root, [](const Node&) -> Result<WalkControl> { return WalkControl::kContinue; });
    ASSERT_FALSE(walked);
    EXPECT_EQ(walked.error().sys_errno(), ENAMETOOLONG);
}

TEST_F(WalkTest, ChildRefusesNamesOutsideTheDirectory) {
    file("bottom", "a/b.txt", "");
    const LayerStack s = stack();
    auto a = s.lookup("/a");
    ASSERT_TRUE(a);
    EXPECT_TRUE(s.child(*a, "b.txt"));
    for (const char* name : {"..", ".", "", "b.txt/..", "../a"}) {
        EXPECT_EQ(s.child(*a, name).error().code(), Code::kInvalidArgument) << name;
    }
}

}  // namespace
}  // namespace grove::inspect
