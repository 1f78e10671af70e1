// The container log's records: written by the shim's LogWriter, read back in order by
// LogReader, across rotations and while being appended to (follow).

#include "containers/shim/log_file.hpp"

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"

namespace grove::containers {
namespace {

class LogFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-log-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
    }
    std::filesystem::path log() const { return dir_->path() / "container.log"; }
    std::filesystem::path rotated() const { return dir_->path() / "container.log.1"; }

    std::vector<LogRecord> read_new(LogReader& reader) {
        std::vector<LogRecord> out;
        auto read = reader.read_new([&](LogRecord&& r) {
            out.push_back(std::move(r));
            return true;
        });
        EXPECT_TRUE(read) << read.error().to_string();
        return out;
    }

    std::optional<base::TempDir> dir_;
};

TEST_F(LogFileTest, RecordsComeBackInOrderWithStreamAndTime) {
    auto writer = LogWriter::open(log(), rotated(), 1 << 20);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->append(LogStream::kStdout, 10, "out\n"));
    ASSERT_TRUE(writer->append(LogStream::kStderr, 20, "err\n"));
    ASSERT_TRUE(writer->append(LogStream::kStdout, 30, std::string("\0bin", 4)));
    LogReader reader(log(), rotated());
    const auto records = read_new(reader);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].stream, LogStream::kStdout);
    EXPECT_EQ(records[0].time_ns, 10);
    EXPECT_EQ(records[0].bytes, "out\n");
    EXPECT_EQ(records[1].stream, LogStream::kStderr);
    EXPECT_EQ(records[1].bytes, "err\n");
    EXPECT_EQ(records[2].bytes, std::string("\0bin", 4));
}

TEST_F(LogFileTest, FollowSeesAppendsAndRotations) {
    auto writer = LogWriter::open(log(), rotated(), 100);
    ASSERT_TRUE(writer);
    LogReader reader(log(), rotated());
    EXPECT_TRUE(read_new(reader).empty());
    ASSERT_TRUE(writer->append(LogStream::kStdout, 1, std::string(40, 'a')));
    auto records = read_new(reader);
    ASSERT_EQ(records.size(), 1u);
    // 16 + 40 + 16 + 40 > 100: the second record starts a new file.
    ASSERT_TRUE(writer->append(LogStream::kStdout, 2, std::string(40, 'b')));
    ASSERT_TRUE(writer->append(LogStream::kStdout, 3, std::string(10, 'c')));
    records = read_new(reader);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].bytes, std::string(40, 'b'));
    EXPECT_EQ(records[1].bytes, std::string(10, 'c'));
    EXPECT_TRUE(std::filesystem::exists(rotated()));
    EXPECT_LE(std::filesystem::file_size(log()), 100u);
}

TEST_F(LogFileTest, ANewReaderStartsWithTheRotatedFile) {
    auto writer = LogWriter::open(log(), rotated(), 60);
    ASSERT_TRUE(writer);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(
            writer->append(LogStream::kStdout, i, std::string(30, static_cast<char>('a' + i))));
    }
    LogReader reader(log(), rotated());
    const auto records = read_new(reader);
    // Bounded: the oldest record went with the first rotation.
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].time_ns, 1);
    EXPECT_EQ(records[1].time_ns, 2);
}

TEST_F(LogFileTest, ATornRecordWaitsForTheRest) {
    {
        auto writer = LogWriter::open(log(), rotated(), 1 << 20);
        ASSERT_TRUE(writer);
        ASSERT_TRUE(writer->append(LogStream::kStdout, 1, "whole"));
        ASSERT_TRUE(writer->append(LogStream::kStdout, 2, "torn record"));
    }
    const auto full = std::filesystem::file_size(log());
    std::filesystem::resize_file(log(), full - 4);
    LogReader reader(log(), rotated());
    auto records = read_new(reader);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].bytes, "whole");
}

}  // namespace
}  // namespace grove::containers
