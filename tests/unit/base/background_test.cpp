#include "base/background.hpp"

#include <cerrno>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

namespace grove::base {
namespace {

int own_nice() {
    errno = 0;
    return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}

TEST(RunInBackground, LowersOnlyTheCallingThread) {
    const int before = own_nice();
    int inside = before;
    std::thread([&] {
        run_in_background();
        inside = own_nice();
    }).join();
    EXPECT_EQ(inside, 19);
    EXPECT_EQ(own_nice(), before) << "the caller's thread keeps its priority";
}

}  // namespace
}  // namespace grove::base
