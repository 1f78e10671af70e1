#include "store/content/content_writer.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <latch>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "content_fixture.hpp"

namespace grove::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ContentWriterTest : public ContentFixture {
protected:
    void expect_nothing_stored() const {
        EXPECT_TRUE(store_->list().value().empty());
        EXPECT_EQ(ingest_count(), 0u);
    }
};

TEST_F(ContentWriterTest, StreamsChunksAndVerifies) {
    std::vector<std::byte> data(256 * 1024);
    for (size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::byte>(i * 7 % 251);
    }
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    const base::Digest digest = base::Digest::sha256_of(text);
    auto writer = store_->writer("layer", digest, data.size());
    ASSERT_TRUE(writer);
    for (size_t at = 0; at < data.size(); at += 16 * 1024) {
        ASSERT_TRUE(writer->write(std::span(data).subspan(at, 16 * 1024)));
    }
    ASSERT_EQ(writer->commit().value(), digest);
    EXPECT_EQ(read_file(store_->blob_path(digest)), text);
}

TEST_F(ContentWriterTest, DigestMismatchIsDataLossAndLeavesNothing) {
    const base::Digest expected = base::Digest::sha256_of("good");
    auto writer = store_->writer("bad", expected, std::nullopt);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("evil"));
    auto committed = writer->commit();
    ASSERT_FALSE(committed);
    EXPECT_EQ(committed.error().code(), Code::kDataLoss);
    EXPECT_EQ(committed.error().message(),
              "blob '" + expected.str() + "' failed verification: got " +
                  base::Digest::sha256_of("evil").str() + " (4 bytes)");
    expect_nothing_stored();
}

TEST_F(ContentWriterTest, WritingPastExpectedSizeIsOutOfRange) {
    auto writer = store_->writer("sized", std::nullopt, 4);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("abc"));
    auto written = writer->write("de");
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code(), Code::kOutOfRange);
    EXPECT_EQ(writer->offset(), 3u);
}

TEST_F(ContentWriterTest, CommitWithWrongSizeIsDataLoss) {
    auto writer = store_->writer("short", std::nullopt, 10);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("abc"));
    auto committed = writer->commit();
    ASSERT_FALSE(committed);
    EXPECT_EQ(committed.error().code(), Code::kDataLoss);
    expect_nothing_stored();
}

TEST_F(ContentWriterTest, NoCallsAfterCommit) {
    auto writer = store_->writer("once", std::nullopt, std::nullopt);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->commit());
    EXPECT_EQ(writer->write("x").error().code(), Code::kFailedPrecondition);
    EXPECT_EQ(writer->commit().error().code(), Code::kFailedPrecondition);
}

TEST_F(ContentWriterTest, AbortedWriterLeavesNothing) {
    {
        auto writer = store_->writer("aborted", std::nullopt, std::nullopt);
        ASSERT_TRUE(writer);
        ASSERT_TRUE(writer->write("half a layer"));
        EXPECT_EQ(ingest_count(), 1u);
    }
    expect_nothing_stored();
}

TEST_F(ContentWriterTest, WriterOfCommittedDigestIsAlreadyExists) {
    const base::Digest digest = store_->write_blob("done").value();
    auto writer = store_->writer("again", digest, std::nullopt);
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().code(), Code::kAlreadyExists);
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentWriterTest, CommitOfDigestCommittedMeanwhileSucceeds) {
    const base::Digest digest = base::Digest::sha256_of("shared");
    auto first = store_->writer("ref-1", digest, std::nullopt);
    auto second = store_->writer("ref-2", digest, std::nullopt);
    ASSERT_TRUE(first && second);
    ASSERT_TRUE(first->write("shared") && second->write("shared"));
    EXPECT_EQ(first->commit().value(), digest);
    EXPECT_EQ(second->commit().value(), digest);
    EXPECT_EQ(read_file(store_->blob_path(digest)), "shared");
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentWriterTest, SecondWriterOfRefWaitsThenGetsAlreadyExists) {
    const base::Digest digest = base::Digest::sha256_of("layer");
    auto first = store_->writer("layer-ref", digest, 5);
    ASSERT_TRUE(first);
    std::atomic<bool> returned = false;
    std::optional<Code> second_code;
    std::jthread second([&] {
        auto writer = store_->writer("layer-ref", digest, 5);
        second_code = writer ? std::nullopt : std::optional(writer.error().code());
        returned = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(returned);
    ASSERT_TRUE(first->write("layer"));
    ASSERT_TRUE(first->commit());
    second.join();
    EXPECT_EQ(second_code, Code::kAlreadyExists);
    EXPECT_EQ(read_file(store_->blob_path(digest)), "layer");
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentWriterTest, WaiterTakesOverAnAbortedIngest) {
    const base::Digest digest = base::Digest::sha256_of("retry");
    std::optional<ContentWriter> first(store_->writer("r", digest, std::nullopt).value());
    ASSERT_TRUE(first->write("garbage"));
    std::jthread second([&] {
        auto writer = store_->writer("r", digest, std::nullopt);
        ASSERT_TRUE(writer) << writer.error().to_string();
        ASSERT_TRUE(writer->write("retry"));
        EXPECT_EQ(writer->commit().value(), digest);
    });
    std::this_thread::sleep_for(20ms);
    first.reset();  // abort: the waiter must start over on a fresh ingest
    second.join();
    EXPECT_EQ(read_file(store_->blob_path(digest)), "retry");
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentWriterTest, RacingWritersWriteOnce) {
    constexpr int kThreads = 8;
    const std::string data(256 * 1024, 'x');
    const base::Digest digest = base::Digest::sha256_of(data);
    std::atomic<int> wrote = 0;
    std::atomic<int> already = 0;
    std::latch start(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&] {
                start.arrive_and_wait();
                auto writer = store_->writer("race", digest, data.size());
                if (!writer) {
                    EXPECT_EQ(writer.error().code(), Code::kAlreadyExists);
                    ++already;
                    return;
                }
                EXPECT_TRUE(writer->write(data));
                EXPECT_EQ(writer->commit().value(), digest);
                ++wrote;
            });
        }
    }
    EXPECT_EQ(wrote, 1);
    EXPECT_EQ(already, kThreads - 1);
    EXPECT_EQ(read_file(store_->blob_path(digest)), data);
    EXPECT_EQ(ingest_count(), 0u);
}

TEST_F(ContentWriterTest, WriterDiscardsCrashLeftoverOfSameRef) {
    const fs::path leftover = ingest_dir("crashed");
    fs::create_directories(leftover);
    std::ofstream(leftover / "data") << "a longer partial download";
    std::ofstream(leftover / "lock");

    auto writer = store_->writer("crashed", std::nullopt, std::nullopt);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("new"));
    const base::Digest digest = writer->commit().value();
    EXPECT_EQ(digest, base::Digest::sha256_of("new"));
    EXPECT_EQ(read_file(store_->blob_path(digest)), "new");
    EXPECT_EQ(ingest_count(), 0u);
}

}  // namespace
}  // namespace grove::store
