#include "base/temp_dir.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace grove::base {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, CreatesAndRemovesWithContents) {
    fs::path path;
    {
        auto dir = TempDir::create("grove-test-");
        ASSERT_TRUE(dir) << dir.error().to_string();
        path = dir->path();
        EXPECT_TRUE(fs::is_directory(path));
        EXPECT_EQ(path.filename().string().rfind("grove-test-", 0), 0u);
        fs::create_directories(path / "a" / "b");
        std::ofstream(path / "a" / "b" / "f") << "x";
    }
    EXPECT_FALSE(fs::exists(path));
}

TEST(TempDir, MoveTransfersOwnership) {
    auto dir = TempDir::create("grove-test-");
    ASSERT_TRUE(dir);
    const fs::path path = dir->path();
    {
        TempDir moved = std::move(dir).value();
        EXPECT_EQ(moved.path(), path);
    }
    EXPECT_FALSE(fs::exists(path));
}

TEST(TempDir, MissingParentIsNotFound) {
    auto dir = TempDir::create("x", "/no/such/parent");
    ASSERT_FALSE(dir);
    EXPECT_EQ(dir.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace grove::base
