#include "archive/entry_name.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace grove::archive {
namespace {

using namespace std::string_literals;

std::string clean(std::string_view raw) {
    std::string out = "stale";
    auto r = normalise_entry_name(raw, 4096, "layer entry", out);
    return r ? out : fmt::format("<{}>", r.error().message());
}

Code refusal(std::string_view raw, size_t max = 4096) {
    std::string out;
    auto r = normalise_entry_name(raw, max, "layer entry", out);
    return r ? Code::kInternal : r.error().code();
}

TEST(EntryName, NormalisesRelativeNames) {
    EXPECT_EQ(clean("etc/passwd"), "etc/passwd");
    EXPECT_EQ(clean("./etc/passwd"), "etc/passwd");
    EXPECT_EQ(clean("././a//b/./c/"), "a/b/c");
    EXPECT_EQ(clean("dir/"), "dir");
    EXPECT_EQ(clean("./"), "");
    EXPECT_EQ(clean("."), "");
    EXPECT_EQ(clean("..foo/...bar/.wh..wh..opq"), "..foo/...bar/.wh..wh..opq");
}

TEST(EntryName, RefusesEscapesAndMalformedNames) {
    EXPECT_EQ(clean("../x"), "<layer entry '../x' escapes the layer: '..' component>");
    EXPECT_EQ(refusal("a/../../x"), Code::kInvalidArgument);
    EXPECT_EQ(refusal("a/.."), Code::kInvalidArgument);
    EXPECT_EQ(clean("/etc/x"), "<layer entry '/etc/x' escapes the layer: absolute path>");
    EXPECT_EQ(refusal("//x"), Code::kInvalidArgument);
    EXPECT_EQ(clean(""), "<layer entry '' is invalid: empty name>");
    EXPECT_EQ(refusal("a\0b"s), Code::kInvalidArgument);
    EXPECT_EQ(refusal("abcdef", 5), Code::kInvalidArgument);
    EXPECT_EQ(refusal("abcde", 5), Code::kInternal);  // accepted: exactly the limit
}

TEST(EntryName, SplitsParentAndBase) {
    EXPECT_EQ(split_entry_name("a/b/c").parent, "a/b");
    EXPECT_EQ(split_entry_name("a/b/c").base, "c");
    EXPECT_EQ(split_entry_name("top").parent, "");
    EXPECT_EQ(split_entry_name("top").base, "top");
}

}  // namespace
}  // namespace grove::archive
