#include "inspect/file_info.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "image_fixture.hpp"

namespace grove::inspect {
namespace {

class FileInfoTest : public ImageFixture {
protected:
    void SetUp() override {
        ImageFixture::SetUp();
        const auto tool = file("bottom", "bin/tool", "0123456789");
        ASSERT_EQ(::chmod(tool.c_str(), 04755), 0);
        const timespec times[2] = {{0, UTIME_OMIT}, {1'700'000'000, 123'456'789}};
        ASSERT_EQ(::utimensat(AT_FDCWD, tool.c_str(), times, 0), 0);
        std::filesystem::create_hard_link(tool, at("bottom", "bin/tool-again"));
        link("bottom", "bin/abs", "/bin/tool");
        link("bottom", "bin/dangling", "/no/such/file");
        link("bottom", "bin-link", "bin");
        ASSERT_EQ(::mkfifo(at("bottom", "run-fifo").c_str(), 0), 0);
        ASSERT_EQ(::chmod(at("bottom", "run-fifo").c_str(), 0620), 0);  // no umask
        file("bottom", "data/a.txt", "bottom\n");
        file("bottom", "data/gone.txt", "gone\n");
        file("mid", "data/a.txt", "mid\n");
        file("mid", "data/m.txt", "m\n");
        file("top", "data/b/inner.txt", "inner\n");
    }

    std::vector<std::string> names(const std::vector<FileInfo>& infos) const {
        std::vector<std::string> out;
        out.reserve(infos.size());
        for (const auto& info : infos) {
            out.push_back(info.name);
        }
        return out;
    }
};

TEST_F(FileInfoTest, StatReportsTypeModeSizeLinksAndTime) {
    const LayerStack s = stack();
    auto tool = stat_path(s, "/bin/tool", Follow::kFinal, nullptr);
    ASSERT_TRUE(tool) << tool.error().to_string();
    EXPECT_EQ(tool->path, "/bin/tool");
    EXPECT_EQ(tool->name, "tool");
    EXPECT_EQ(tool->type, EntryType::kFile);
    EXPECT_EQ(tool->mode, 04755u);
    EXPECT_EQ(tool->size, 10u);
    EXPECT_EQ(tool->nlink, 2u);
    EXPECT_EQ(tool->mtime_ns, 1'700'000'000'123'456'789);
    EXPECT_EQ(tool->uid, ::geteuid());

    auto fifo = stat_path(s, "/run-fifo", Follow::kFinal, nullptr);
    ASSERT_TRUE(fifo);
    EXPECT_EQ(fifo->type, EntryType::kFifo);
    EXPECT_EQ(fifo->mode, 0620u);

    auto root = stat_path(s, "/", Follow::kFinal, nullptr);
    ASSERT_TRUE(root);
    EXPECT_EQ(root->type, EntryType::kDirectory);
    EXPECT_EQ(root->name, "/");
}

TEST_F(FileInfoTest, FollowResolvesInTheImageAndNoFollowGivesTheLink) {
    const LayerStack s = stack();
    auto link_itself = stat_path(s, "/bin/abs", Follow::kNoFinal, nullptr);
    ASSERT_TRUE(link_itself);
    EXPECT_EQ(link_itself->type, EntryType::kSymlink);
    EXPECT_EQ(link_itself->symlink_target, "/bin/tool");
    EXPECT_EQ(link_itself->size, std::string("/bin/tool").size());

    auto followed = stat_path(s, "/bin/abs", Follow::kFinal, nullptr);
    ASSERT_TRUE(followed);
    EXPECT_EQ(followed->path, "/bin/tool");
    EXPECT_EQ(followed->type, EntryType::kFile);
    EXPECT_TRUE(followed->symlink_target.empty());

    EXPECT_EQ(stat_path(s, "/bin/dangling", Follow::kFinal, nullptr).error().code(),
              Code::kNotFound);
    EXPECT_TRUE(stat_path(s, "/bin/dangling", Follow::kNoFinal, nullptr));
}

TEST_F(FileInfoTest, ListMergesLayersInNameOrder) {
    const LayerStack s = stack();
    auto data = list_path(s, "/data", nullptr);
    ASSERT_TRUE(data) << data.error().to_string();
    EXPECT_EQ(names(*data), (std::vector<std::string>{"a.txt", "b", "gone.txt", "m.txt"}));
    EXPECT_EQ((*data)[0].path, "/data/a.txt");
    EXPECT_EQ((*data)[0].size, 4u);  // "mid\n" hides "bottom\n"
    EXPECT_EQ((*data)[1].type, EntryType::kDirectory);

    auto bin = list_path(s, "/bin", nullptr);
    ASSERT_TRUE(bin);
    EXPECT_EQ(names(*bin), (std::vector<std::string>{"abs", "dangling", "tool", "tool-again"}));
    EXPECT_EQ((*bin)[0].type, EntryType::kSymlink);  // entries are not followed
    EXPECT_EQ((*bin)[0].symlink_target, "/bin/tool");
}

TEST_F(FileInfoTest, ListOfAFileOrLinkGivesTheSingleEntry) {
    const LayerStack s = stack();
    auto tool = list_path(s, "/bin/tool", nullptr);
    ASSERT_TRUE(tool);
    ASSERT_EQ(tool->size(), 1u);
    EXPECT_EQ((*tool)[0].path, "/bin/tool");

    auto link_to_file = list_path(s, "/bin/abs", nullptr);
    ASSERT_TRUE(link_to_file);
    ASSERT_EQ(link_to_file->size(), 1u);
    EXPECT_EQ((*link_to_file)[0].type, EntryType::kSymlink);

    auto dangling = list_path(s, "/bin/dangling", nullptr);
    ASSERT_TRUE(dangling);
    ASSERT_EQ(dangling->size(), 1u);
    EXPECT_EQ((*dangling)[0].symlink_target, "/no/such/file");

    auto link_to_dir = list_path(s, "/bin-link", nullptr);
    ASSERT_TRUE(link_to_dir);
    EXPECT_EQ(link_to_dir->size(), 4u);
    EXPECT_EQ((*link_to_dir)[0].path, "/bin/abs");

    EXPECT_EQ(list_path(s, "/nope", nullptr).error().code(), Code::kNotFound);
}

TEST_F(FileInfoTest, ROOT_ListHidesWhiteouts) {
    GROVE_SKIP_UNLESS_ROOT();
    whiteout("mid", "data/gone.txt");
    whiteout("top", "run-fifo");
    const LayerStack s = stack();
    auto data = list_path(s, "/data", nullptr);
    ASSERT_TRUE(data);
    EXPECT_EQ(names(*data), (std::vector<std::string>{"a.txt", "b", "m.txt"}));
    auto root = list_path(s, "/", nullptr);
    ASSERT_TRUE(root);
    EXPECT_EQ(names(*root), (std::vector<std::string>{"bin", "bin-link", "data"}));
}

}  // namespace
}  // namespace grove::inspect
