#include "image/mountpoint_layer.hpp"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "helpers/requirements.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;

const std::vector<MountpointNeed> kNeeds = {{"proc", true},
                                            {"dev", true},
                                            {"sys", true},
                                            {"etc", true},
                                            {"etc/hostname", false},
                                            {"etc/hosts", false},
                                            {"etc/resolv.conf", false}};

class MountpointLayerTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(testing::missing_root());
        auto dir = base::TempDir::create("grove-stub-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(*dir));
        fs::create_directories(stubs());
    }
    fs::path stubs() const { return dir_->path() / "stubs"; }
    fs::path layer(const std::string& name) const { return dir_->path() / name; }

    std::optional<fs::path> stub_for(const std::vector<fs::path>& layers) const {
        auto stack = inspect::LayerStack::open(layers);
        EXPECT_TRUE(stack) << stack.error().to_string();
        auto made = mountpoint_layer(stubs(), *stack, kNeeds);
        EXPECT_TRUE(made) << made.error().to_string();
        return made.value_or(std::nullopt);
    }

    std::optional<base::TempDir> dir_;
};

TEST_F(MountpointLayerTest, ROOT_HoldsExactlyWhatTheImageLacks) {
    const fs::path image = layer("image");
    fs::create_directories(image / "proc");
    fs::create_directories(image / "etc");
    std::ofstream(image / "etc/hosts") << "127.0.0.1 mine\n";
    fs::create_symlink("../run/systemd/resolve/stub-resolv.conf", image / "etc/resolv.conf");
    ASSERT_EQ(::chmod((image / "etc").c_str(), 0750), 0);
    ASSERT_EQ(::lchown((image / "etc").c_str(), 5, 6), 0);
    const timespec old[2] = {{1000000, 0}, {1000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (image / "etc").c_str(), old, 0), 0);

    const auto stub = stub_for({image});
    ASSERT_TRUE(stub);
    std::vector<std::string> entries;
    for (const auto& entry : fs::recursive_directory_iterator(*stub)) {
        entries.push_back(entry.path().lexically_relative(*stub).string());
    }
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries,
              (std::vector<std::string>{"dev", "etc", "etc/hostname", "etc/resolv.conf", "sys"}))
        << "proc and etc/hosts are the image's; the dangling resolv.conf link is hidden";
    struct stat etc {};
    ASSERT_EQ(::lstat((*stub / "etc").c_str(), &etc), 0);
    EXPECT_EQ(etc.st_mode & 07777, 0750u) << "the image's etc, as overlay will copy it up";
    EXPECT_EQ(etc.st_uid, 5u);
    EXPECT_EQ(etc.st_gid, 6u);
    EXPECT_EQ(etc.st_mtim.tv_sec, 1000000);
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(*stub / "etc/resolv.conf")));
    EXPECT_EQ(fs::file_size(*stub / "etc/hostname"), 0u);

    EXPECT_EQ(stub_for({image}), stub) << "one layer per set of entries, built once";
    const fs::path other = layer("other");  // lacks the same entries, with the same etc
    fs::create_directories(other / "proc");
    fs::create_directories(other / "etc");
    std::ofstream(other / "etc/hosts") << "127.0.0.1 theirs\n";
    ASSERT_EQ(::chmod((other / "etc").c_str(), 0750), 0);
    ASSERT_EQ(::lchown((other / "etc").c_str(), 5, 6), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, (other / "etc").c_str(), old, 0), 0);
    EXPECT_EQ(stub_for({other}), stub) << "shared between images";
    for (const auto& entry : fs::directory_iterator(stubs())) {
        EXPECT_FALSE(entry.path().filename().string().starts_with("tmp-"));
    }
}

TEST_F(MountpointLayerTest, ROOT_NoneForACompleteImageAndNothingOverASymlinkedParent) {
    const fs::path full = layer("full");
    for (const char* dir : {"proc", "dev", "sys", "etc"}) {
        fs::create_directories(full / dir);
    }
    for (const char* file : {"etc/hostname", "etc/hosts", "etc/resolv.conf"}) {
        std::ofstream(full / file) << "";
    }
    EXPECT_EQ(stub_for({full}), std::nullopt);

    // An image whose /etc is a symlink keeps it: a directory stacked there would hide it.
    const fs::path linked = layer("linked");
    fs::create_directories(linked / "proc");
    fs::create_directories(linked / "dev");
    fs::create_directories(linked / "sys");
    fs::create_directories(linked / "real-etc");
    fs::create_symlink("real-etc", linked / "etc");
    EXPECT_EQ(stub_for({linked}), std::nullopt);
}

}  // namespace
}  // namespace grove::image
