#pragma once

// ImageFixture builds a three-layer image by hand in a temporary directory (top, mid, bottom, in
// overlayfs' on-disk form, as layer_stack_test.cpp does) for the inspection tests.

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "inspect/layer_stack.hpp"

namespace grove::inspect {

class ImageFixture : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-inspect-");
        ASSERT_TRUE(dir) << dir.error().to_string();
        tmp_.emplace(std::move(dir).value());
        for (const char* name : {"top", "mid", "bottom"}) {
            std::filesystem::create_directories(tmp_->path() / name);
        }
    }

    std::filesystem::path at(const char* layer, const std::string& rel) const {
        return tmp_->path() / layer / rel;
    }
    std::filesystem::path file(const char* layer,
                               const std::string& rel,
                               const std::string& content) const {
        const auto path = at(layer, rel);
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
    void dir(const char* layer, const std::string& rel) const {
        std::filesystem::create_directories(at(layer, rel));
    }
    void link(const char* layer, const std::string& rel, const std::string& target) const {
        const auto path = at(layer, rel);
        std::filesystem::create_directories(path.parent_path());
        std::filesystem::create_symlink(target, path);
    }
    void whiteout(const char* layer, const std::string& rel) const {
        const auto path = at(layer, rel);
        std::filesystem::create_directories(path.parent_path());
        ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << path;
    }
    void set_xattr(const std::filesystem::path& path,
                   const std::string& name,
                   const std::string& value) const {
        ASSERT_EQ(::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0), 0)
            << path << " " << name;
    }

    LayerStack stack() const {
        auto s = LayerStack::open({at("top", ""), at("mid", ""), at("bottom", "")});
        EXPECT_TRUE(s) << s.error().to_string();
        return std::move(s).value();
    }

    std::optional<base::TempDir> tmp_;
};

// Whiteouts and trusted.* xattrs need CAP_MKNOD and CAP_SYS_ADMIN.
#define GROVE_SKIP_UNLESS_ROOT()                               \
    do {                                                       \
        if (::geteuid() != 0) {                                \
            GTEST_SKIP() << "needs root for whiteouts/xattrs"; \
        }                                                      \
    } while (false)

}  // namespace grove::inspect
