#include "store/content/content_store.hpp"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <vector>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "content_fixture.hpp"

namespace grove::store {
namespace {

namespace fs = std::filesystem;

class ContentStoreTest : public ContentFixture {};

TEST_F(ContentStoreTest, OpenCreatesTheLayout) {
    EXPECT_TRUE(fs::is_directory(root_ / "blobs" / "sha256"));
    EXPECT_TRUE(fs::is_directory(root_ / "ingest"));
}

TEST_F(ContentStoreTest, WriteCommitAndReadBack) {
    const std::string data = "{\"schemaVersion\":2}";
    const base::Digest digest = base::Digest::sha256_of(data);
    auto writer = store_->writer("manifest-1", digest, data.size());
    ASSERT_TRUE(writer) << writer.error().to_string();
    ASSERT_TRUE(writer->write(data));
    EXPECT_EQ(writer->offset(), data.size());
    auto committed = writer->commit();
    ASSERT_TRUE(committed) << committed.error().to_string();
    EXPECT_EQ(*committed, digest);

    EXPECT_EQ(store_->blob_path(digest), root_ / "blobs" / "sha256" / digest.encoded());
    EXPECT_TRUE(store_->exists(digest).value());
    EXPECT_EQ(store_->size(digest).value(), data.size());
    auto fd = store_->open_blob(digest);
    ASSERT_TRUE(fd);
    EXPECT_EQ(base::read_all(fd->get()).value(), data);
    EXPECT_EQ(store_->read_blob(digest, data.size()).value(), data);
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentStoreTest, MissingBlobIsNotFound) {
    const base::Digest digest = base::Digest::sha256_of("absent");
    EXPECT_FALSE(store_->exists(digest).value());
    EXPECT_EQ(store_->size(digest).error().code(), Code::kNotFound);
    EXPECT_EQ(store_->open_blob(digest).error().code(), Code::kNotFound);
    EXPECT_EQ(store_->read_blob(digest, 10).error().code(), Code::kNotFound);
    EXPECT_EQ(store_->remove(digest).error().code(), Code::kNotFound);
}

TEST_F(ContentStoreTest, ReadBlobOverMaxSizeIsOutOfRange) {
    const base::Digest digest = store_->write_blob("0123456789").value();
    EXPECT_EQ(store_->read_blob(digest, 10).value(), "0123456789");
    EXPECT_EQ(store_->read_blob(digest, 9).error().code(), Code::kOutOfRange);
}

TEST_F(ContentStoreTest, BlobsAreReadOnly) {
    const base::Digest digest = store_->write_blob("immutable").value();
    struct stat st {};
    ASSERT_EQ(::stat(store_->blob_path(digest).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0444u);
}

TEST_F(ContentStoreTest, WriteBlobIsIdempotent) {
    const base::Digest first = store_->write_blob("same").value();
    auto second = store_->write_blob("same", first);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(*second, first);
    EXPECT_EQ(store_->list().value(), std::vector{first});
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentStoreTest, WriteBlobWithWrongDigestIsDataLoss) {
    const base::Digest expected = base::Digest::sha256_of("expected");
    auto written = store_->write_blob("actual", expected);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code(), Code::kDataLoss);
    EXPECT_TRUE(store_->list().value().empty());
}

TEST_F(ContentStoreTest, RemoveAndList) {
    EXPECT_TRUE(store_->list().value().empty());
    const base::Digest a = store_->write_blob("a").value();
    const base::Digest b = store_->write_blob("b").value();
    std::vector<base::Digest> both{a, b};
    std::sort(both.begin(), both.end());
    EXPECT_EQ(store_->list().value(), both);

    ASSERT_TRUE(store_->remove(a));
    EXPECT_FALSE(store_->exists(a).value());
    EXPECT_EQ(store_->list().value(), std::vector{b});
}

TEST_F(ContentStoreTest, OpenRemovesCrashLeftoverIngests) {
    // What a killed process leaves: data and an unlocked lock file (the kernel dropped the flock).
    const fs::path leftover = root_ / "ingest" / "0123456789abcdef0123456789abcdef";
    fs::create_directories(leftover);
    std::ofstream(leftover / "data") << "partial";
    std::ofstream(leftover / "lock");
    // A crash right after mkdir leaves an empty directory.
    fs::create_directories(root_ / "ingest" / "empty");

    ASSERT_TRUE(ContentStore::open(root_));
    EXPECT_EQ(ingest_count(), 0u);
    EXPECT_TRUE(store_->list().value().empty());
}

TEST_F(ContentStoreTest, OpenKeepsIngestsOfLiveWriters) {
    auto writer = store_->writer("live", std::nullopt, std::nullopt);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("in progress"));
    // Another process holding a lock looks the same: a lock on another open file description.
    const fs::path other = root_ / "ingest" / "other";
    fs::create_directories(other);
    auto lock = base::UniqueFd::open((other / "lock").string(), O_RDWR | O_CREAT, 0600);
    ASSERT_TRUE(lock);
    ASSERT_EQ(::flock(lock->get(), LOCK_EX), 0);

    ASSERT_TRUE(ContentStore::open(root_));
    EXPECT_EQ(ingest_count(), 2u);
    EXPECT_EQ(read_file(ingest_dir("live") / "data"), "in progress");
    EXPECT_TRUE(writer->commit());
}

}  // namespace
}  // namespace grove::store
