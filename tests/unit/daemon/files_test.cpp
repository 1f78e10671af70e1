#include "daemon/files.hpp"

#include <cstring>

#include <gtest/gtest.h>

#include "base/digest.hpp"
#include "state_fixture.hpp"

namespace grove::daemon {
namespace {

class FilesTest : public StateTest {
protected:
    void SetUp() override {
        StateTest::SetUp();
        auto files = Files::open(dir_->path() / "files", *state_);
        ASSERT_TRUE(files) << files.error().to_string();
        files_ = std::move(files).value();
    }

    // Uploads `data` in pieces of at most `piece` bytes, as a chunked body arrives.
    Result<FileRecord> upload(const std::string& data, size_t piece = 7) {
        size_t offset = 0;
        return files_->upload([&](std::span<char> out) -> Result<size_t> {
            const size_t n = std::min({piece, out.size(), data.size() - offset});
            std::memcpy(out.data(), data.data() + offset, n);
            offset += n;
            return n;
        });
    }

    std::unique_ptr<Files> files_;
};

TEST_F(FilesTest, UploadsAreContentAddressed) {
    const std::string data = "hello, uploads\n";
    auto first = upload(data);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ(first->size, data.size());
    EXPECT_EQ("sha256:" + first->sha256, base::Digest::sha256_of(data).str());
    EXPECT_EQ(*files_->read(first->uuid, 1024), data);

    auto again = upload(data, 3);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->uuid, first->uuid) << "the same bytes are the same file";
    EXPECT_EQ((*files_->find_by_sha256(first->sha256))->uuid, first->uuid);

    auto other = upload("other");
    EXPECT_NE(other->uuid, first->uuid);
    EXPECT_EQ(files_->list({})->size(), 2u);
    EXPECT_EQ(files_->read(first->uuid, 4).error().code(), Code::kOutOfRange);
    EXPECT_EQ(files_->get(store::new_uuid()).error().code(), Code::kNotFound);
}

TEST_F(FilesTest, AnEmptyUploadIsAFile) {
    auto empty = upload("");
    ASSERT_TRUE(empty) << empty.error().to_string();
    EXPECT_EQ(empty->size, 0u);
    EXPECT_EQ(*files_->read(empty->uuid, 0), "");
}

TEST_F(FilesTest, AFailedReadStoresNothing) {
    auto failed = files_->upload([](std::span<char>) -> Result<size_t> {
        return Error(Code::kCancelled, "client went away");
    });
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), Code::kCancelled);
    EXPECT_TRUE(files_->list({})->empty());
}

}  // namespace
}  // namespace grove::daemon
