#include "docker_api/detach_keys.hpp"

#include <gtest/gtest.h>

namespace grove::docker_api {
namespace {

TEST(DetachKeys, DefaultIsCtrlPCtrlQ) {
    auto keys = DetachKeys::parse("");
    ASSERT_TRUE(keys) << keys.error().message();
    const auto scan = keys->feed(
        "ls\n\x10\x11"
        "after");
    EXPECT_EQ(scan.forward, "ls\n");
    EXPECT_TRUE(scan.detached);
}

TEST(DetachKeys, HeldBackAcrossReadsAndReleasedOnMismatch) {
    auto keys = DetachKeys::parse("ctrl-x,y");
    ASSERT_TRUE(keys);
    auto scan = keys->feed("a\x18");
    EXPECT_EQ(scan.forward, "a");
    EXPECT_FALSE(scan.detached);
    // Not the sequence after all: the held ctrl-x goes on, and a new ctrl-x is held.
    scan = keys->feed("b\x18");
    EXPECT_EQ(scan.forward,
              "\x18"
              "b");
    scan = keys->feed("\x18");
    EXPECT_EQ(scan.forward, "\x18");
    scan = keys->feed("y");
    EXPECT_EQ(scan.forward, "");
    EXPECT_TRUE(scan.detached);
}

TEST(DetachKeys, ControlSymbolsAndSingleCharacters) {
    auto keys = DetachKeys::parse("ctrl-@,ctrl-[,ctrl-_,q");
    ASSERT_TRUE(keys);
    EXPECT_TRUE(keys->feed(std::string("\0\x1b\x1fq", 4)).detached);
}

TEST(DetachKeys, BadSpecsAreRefusedAsDockerd) {
    for (const char* bad : {"ctrl-", "ctrl-1", "ab", "ctrl-p,,q", "ctrl-P"}) {
        const auto keys = DetachKeys::parse(bad);
        ASSERT_FALSE(keys) << bad;
        EXPECT_EQ(keys.error().code(), Code::kInvalidArgument);
        EXPECT_EQ(keys.error().message(),
                  std::string("Invalid detach keys (") + bad + ") provided");
    }
}

}  // namespace
}  // namespace grove::docker_api
