#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace grove::base {
namespace {

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) >= 0;
}
bool is_cloexec(int fd) {
    return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

TEST(UniqueFd, ClosesOnDestruction) {
    int raw = -1;
    {
        auto fd = UniqueFd::open("/dev/null", O_RDONLY);
        ASSERT_TRUE(fd) << fd.error().to_string();
        raw = fd->get();
        EXPECT_TRUE(is_open(raw));
        EXPECT_TRUE(is_cloexec(raw));
    }
    EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnership) {
    auto opened = UniqueFd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(opened);
    UniqueFd a = std::move(opened).value();
    const int raw = a.get();
    UniqueFd b = std::move(a);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(b.get(), raw);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
    auto opened = UniqueFd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(opened);
    const int raw = opened->release();
    EXPECT_FALSE(opened->valid());
    EXPECT_TRUE(is_open(raw));
    ::close(raw);
}

TEST(UniqueFd, OpenFailureNamesPathAndErrno) {
    auto fd = UniqueFd::open("/no/such/file", O_RDONLY);
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.error().code(), Code::kNotFound);
    EXPECT_EQ(fd.error().sys_errno(), ENOENT);
    EXPECT_EQ(fd.error().message(), "open '/no/such/file': No such file or directory");
}

TEST(UniqueFd, DupIsCloexec) {
    auto fd = UniqueFd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd);
    auto copy = fd->dup();
    ASSERT_TRUE(copy);
    EXPECT_NE(copy->get(), fd->get());
    EXPECT_TRUE(is_cloexec(copy->get()));
}

TEST(UniqueFd, PipeReadWriteAll) {
    auto pipe = Pipe::create();
    ASSERT_TRUE(pipe);
    EXPECT_TRUE(is_cloexec(pipe->read.get()));
    ASSERT_TRUE(write_all(pipe->write.get(), "hello pipe"));
    pipe->write.reset();
    auto data = read_all(pipe->read.get());
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, "hello pipe");
}

TEST(UniqueFd, ReadAllHonoursLimit) {
    auto pipe = Pipe::create();
    ASSERT_TRUE(pipe);
    ASSERT_TRUE(write_all(pipe->write.get(), "0123456789"));
    auto data = read_all(pipe->read.get(), 4);
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, "0123");
}

TEST(UniqueFd, SocketPairConnectsBothEnds) {
    auto pair = SocketPair::create(SOCK_SEQPACKET);
    ASSERT_TRUE(pair);
    ASSERT_EQ(::send(pair->ends[0].get(), "x", 1, 0), 1);
    char c = 0;
    ASSERT_EQ(::recv(pair->ends[1].get(), &c, 1, 0), 1);
    EXPECT_EQ(c, 'x');
}

TEST(UniqueFd, MemfdIsWritable) {
    auto fd = UniqueFd::memfd("grove-test");
    ASSERT_TRUE(fd);
    ASSERT_TRUE(write_all(fd->get(), "abc"));
    ASSERT_EQ(::lseek(fd->get(), 0, SEEK_SET), 0);
    EXPECT_EQ(*read_all(fd->get()), "abc");
}

TEST(UniqueFd, PidfdOpenOfSelf) {
    auto fd = UniqueFd::pidfd_open(::getpid());
    ASSERT_TRUE(fd) << fd.error().to_string();
    EXPECT_TRUE(is_cloexec(fd->get()));
}

}  // namespace
}  // namespace grove::base
