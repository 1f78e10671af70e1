#include "base/close_later.hpp"

#include <chrono>
#include <fcntl.h>
#include <thread>

#include <gtest/gtest.h>

namespace grove::base {
namespace {

// The fd is closed, though not by the caller: its number stops being valid soon after.
TEST(CloseLater, ClosesTheFdOnAnotherThread) {
    auto fd = UniqueFd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd);
    const int number = fd->get();
    close_later(std::move(*fd));
    EXPECT_FALSE(fd->valid());
    bool closed = false;
    for (int i = 0; i < 500 && !closed; ++i) {
        closed = ::fcntl(number, F_GETFD) == -1 && errno == EBADF;
        if (!closed) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace grove::base
