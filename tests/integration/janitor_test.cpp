#include "image/janitor.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "image/store_lock.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;

fs::path make_tree(const fs::path& dir) {
    fs::create_directories(dir / "upper/etc");
    std::ofstream(dir / "upper/etc/file") << "x";
    fs::create_directories(dir / "work/work");
    return dir;
}

TEST(Janitor, RemovesTreesThenReleasesTheirLocks) {
    auto tmp = base::TempDir::create("grove-janitor-");
    ASSERT_TRUE(tmp);
    const fs::path root = tmp->path();
    Janitor janitor;
    std::vector<fs::path> trees;
    for (int i = 0; i < 10; ++i) {
        trees.push_back(make_tree(root / "runs" / std::to_string(i)));
        auto lock = StoreLock::acquire(root, StoreLock::Mode::kShared);
        ASSERT_TRUE(lock) << lock.error().to_string();
        janitor.remove(trees.back(), std::move(*lock));
    }
    janitor.drain();
    for (const auto& tree : trees) {
        EXPECT_FALSE(fs::exists(tree)) << tree;
    }
    auto exclusive = StoreLock::try_acquire(root, StoreLock::Mode::kExclusive);
    ASSERT_TRUE(exclusive);
    EXPECT_TRUE(exclusive->has_value()) << "every run's shared lock was released";
}

TEST(Janitor, DestructionFinishesTheQueueAndAFullQueueWorksInline) {
    auto tmp = base::TempDir::create("grove-janitor-");
    ASSERT_TRUE(tmp);
    std::vector<fs::path> trees;
    {
        Janitor janitor;
        for (size_t i = 0; i < 3 * Janitor::kMaxPending; ++i) {
            trees.push_back(make_tree(tmp->path() / std::to_string(i)));
            janitor.remove(trees.back(), std::nullopt);
        }
    }
    for (const auto& tree : trees) {
        EXPECT_FALSE(fs::exists(tree)) << tree;
    }
}

}  // namespace
}  // namespace grove::image
