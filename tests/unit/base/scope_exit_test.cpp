#include "base/scope_exit.hpp"

#include <gtest/gtest.h>

namespace grove::base {
namespace {

TEST(ScopeExit, RunsAtScopeEnd) {
    int calls = 0;
    {
        ScopeExit guard([&] { ++calls; });
        EXPECT_EQ(calls, 0);
    }
    EXPECT_EQ(calls, 1);
}

TEST(ScopeExit, DismissedGuardDoesNotRun) {
    int calls = 0;
    {
        ScopeExit guard([&] { ++calls; });
        guard.dismiss();
    }
    EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace grove::base
