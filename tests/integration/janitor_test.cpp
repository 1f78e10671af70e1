#include "image/janitor.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
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

// The nice values of this process's threads.
std::vector<int> thread_nice_values() {
    std::vector<int> out;
    for (const auto& task : fs::directory_iterator("/proc/self/task")) {
        std::ifstream stat(task.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        // Field 19 (nice) counts from the one after the command's closing parenthesis (3).
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string field;
        for (int i = 3; i <= 19 && fields >> field; ++i) {
        }
        out.push_back(std::stoi(field));
    }
    return out;
}

TEST(Janitor, WorksAsBackgroundWork) {
    auto tmp = base::TempDir::create("grove-janitor-");
    ASSERT_TRUE(tmp);
    const auto nice_before = thread_nice_values();
    ASSERT_EQ(std::count(nice_before.begin(), nice_before.end(), 19), 0);
    Janitor janitor(tmp->path(), 0);
    janitor.remove(make_tree(tmp->path() / "run-1"), std::nullopt);
    janitor.drain();
    const auto nice_after = thread_nice_values();
    EXPECT_EQ(std::count(nice_after.begin(), nice_after.end(), 19), 1)
        << "its thread yields to runs (nice 19)";
}

TEST(Janitor, RemovesTreesThenReleasesTheirLocks) {
    auto tmp = base::TempDir::create("grove-janitor-");
    ASSERT_TRUE(tmp);
    const fs::path root = tmp->path();
    Janitor janitor(root, 0);
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
        Janitor janitor(tmp->path(), 0);
        for (size_t i = 0; i < 3 * Janitor::kMaxPending; ++i) {
            trees.push_back(make_tree(tmp->path() / std::to_string(i)));
            janitor.remove(trees.back(), std::nullopt);
        }
    }
    for (const auto& tree : trees) {
        EXPECT_FALSE(fs::exists(tree)) << tree;
    }
}

TEST(Janitor, KeepsSpareRunDirectoriesOnceAskedAndRemovesThemAtTheEnd) {
    auto tmp = base::TempDir::create("grove-janitor-");
    ASSERT_TRUE(tmp);
    const fs::path runs = tmp->path();
    {
        Janitor janitor(runs, 2);
        EXPECT_TRUE(fs::is_empty(runs)) << "nothing is made before the first run asks";
        EXPECT_FALSE(janitor.take_spare("first")) << "none ready yet: the caller makes its own";
        std::optional<fs::path> taken;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!taken && std::chrono::steady_clock::now() < deadline) {
            taken = janitor.take_spare("second");
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_TRUE(taken);
        EXPECT_EQ(*taken, runs / "second");
        EXPECT_TRUE(fs::is_empty(*taken / "upper"));
        EXPECT_TRUE(fs::is_empty(*taken / "work"));
        // A spare someone else removed (another process's recovery) is skipped.
        while (std::distance(fs::directory_iterator(runs), fs::directory_iterator()) < 3) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (const auto& entry : fs::directory_iterator(runs)) {
            if (entry.path().filename().string().starts_with(Janitor::kSparePrefix)) {
                // It may still be in the making: what the janitor adds meanwhile fails a pass
                // with ENOTEMPTY, and the next takes it.
                std::error_code ec;
                do {
                    fs::remove_all(entry.path(), ec);
                } while (fs::exists(entry.path()));
                break;
            }
        }
        // The other spare may still be in the making (its directory is counted above before it
        // is ready): it comes within the deadline, the removed one never does.
        std::optional<fs::path> third;
        const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!third && std::chrono::steady_clock::now() < later) {
            third = janitor.take_spare("third");
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_TRUE(third);
        EXPECT_TRUE(fs::exists(runs / "third/upper"));
        fs::remove_all(runs / "second");
        fs::remove_all(runs / "third");
    }
    EXPECT_TRUE(fs::is_empty(runs)) << "the spares go with the janitor";
}

}  // namespace
}  // namespace grove::image
