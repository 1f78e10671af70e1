#include "inspect/grep.hpp"

#include <gtest/gtest.h>

#include "image_fixture.hpp"
#include "inspect/read_file.hpp"

namespace grove::inspect {
namespace {

class GrepTest : public ImageFixture {
protected:
    void SetUp() override {
        ImageFixture::SetUp();
        file("bottom", "src/main.py", "import os\nprint('Hello')\n# TODO: fix\n");
        file("bottom", "src/lib/util.py", "def helper():\n    return 42  # todo later\n");
        file("bottom", "src/notes.txt", "hello world\nno newline at the end");
        file("bottom", "src/blob.bin", std::string("hello\0binary\n", 13));
        file("mid", "src/main.py", "import sys\nprint('Hello, mid')\n");  // hides the bottom's
        file("top", "etc/motd", "Hello from /etc\n");
        link("top", "src/lib/loop", "/src");  // a walk must not follow this
        link("top", "src-link", "src");
    }

    GrepResult run(const GrepOptions& options) {
        auto result = grep(stack(), options);
        EXPECT_TRUE(result) << result.error().to_string();
        return std::move(result).value_or(GrepResult{});
    }

    static std::vector<std::string> where(const GrepResult& result) {
        std::vector<std::string> out;
        for (const auto& match : result.matches) {
            out.push_back(match.path + ":" + std::to_string(match.line) + ":" + match.text);
        }
        return out;
    }
};

TEST_F(GrepTest, FixedStringsInWalkOrderSkippingBinaries) {
    const GrepResult result = run({.patterns = {"Hello"}});
    EXPECT_EQ(where(result), (std::vector<std::string>{"/etc/motd:1:Hello from /etc",
                                                       "/src/main.py:2:print('Hello, mid')"}));
    EXPECT_FALSE(result.truncated);
    EXPECT_EQ(result.files_searched, 4u);  // motd, util.py, main.py, notes.txt; not blob.bin
}

TEST_F(GrepTest, IgnoreCaseAndSeveralPatterns) {
    const GrepResult result = run({.patterns = {"hello", "TODO"}, .ignore_case = true});
    EXPECT_EQ(where(result),
              (std::vector<std::string>{
                  "/etc/motd:1:Hello from /etc", "/src/lib/util.py:2:    return 42  # todo later",
                  "/src/main.py:2:print('Hello, mid')", "/src/notes.txt:1:hello world"}));
}

TEST_F(GrepTest, RegexesAndFixedStringsMode) {
    EXPECT_EQ(where(run({.patterns = {"^def [a-z]+\\(\\)"}})),
              std::vector<std::string>{"/src/lib/util.py:1:def helper():"});
    EXPECT_EQ(where(run({.patterns = {"end$"}})),
              std::vector<std::string>{"/src/notes.txt:2:no newline at the end"});
    EXPECT_EQ(where(run({.patterns = {"HELLO.*MID"}, .ignore_case = true})),
              std::vector<std::string>{"/src/main.py:2:print('Hello, mid')"});
    // With fixed_strings, metacharacters are plain text.
    EXPECT_TRUE(run({.patterns = {"^def"}, .fixed_strings = true}).matches.empty());
    EXPECT_EQ(where(run({.patterns = {"('Hello"}, .fixed_strings = true})),
              std::vector<std::string>{"/src/main.py:2:print('Hello, mid')"});
}

TEST_F(GrepTest, IncludeGlobsAndPaths) {
    EXPECT_EQ(where(run({.patterns = {"o"}, .paths = {"/src"}, .include_globs = {"*.txt"}})),
              (std::vector<std::string>{"/src/notes.txt:1:hello world",
                                        "/src/notes.txt:2:no newline at the end"}));
    // Paths are searched in the order given; a symlink given as a path is followed.
    EXPECT_EQ(where(run({.patterns = {"Hello"}, .paths = {"/src-link/main.py", "/etc"}})),
              (std::vector<std::string>{"/src/main.py:2:print('Hello, mid')",
                                        "/etc/motd:1:Hello from /etc"}));
}

TEST_F(GrepTest, SymlinkedDirectoriesAreNotFollowedWhileWalking) {
    const GrepResult result = run({.patterns = {"helper"}, .paths = {"/src"}});
    EXPECT_EQ(where(result), std::vector<std::string>{"/src/lib/util.py:1:def helper():"});
}

TEST_F(GrepTest, StopsAtMaxMatches) {
    const GrepResult result = run({.patterns = {"e"}, .max_matches = 2});
    EXPECT_EQ(result.matches.size(), 2u);
    EXPECT_TRUE(result.truncated);
    const GrepResult exact = run({.patterns = {"Hello"}, .max_matches = 2});
    EXPECT_EQ(exact.matches.size(), 2u);
    EXPECT_FALSE(exact.truncated);
}

TEST_F(GrepTest, SkipsBigFilesAndCutsLongLines) {
    file("top", "long/line.txt", std::string(5000, 'x') + "needle\n");
    file("top", "long/small.txt", std::string(100, 'y') + "needle\n");
    const GrepResult small =
        run({.patterns = {"needle"}, .paths = {"/long"}, .max_file_size = 1000});
    EXPECT_EQ(where(small),
              std::vector<std::string>{"/long/small.txt:1:" + std::string(100, 'y') + "needle"});
    const GrepResult all = run({.patterns = {"needle"}, .paths = {"/long"}});
    ASSERT_EQ(all.matches.size(), 2u);
    EXPECT_EQ(all.matches[0].path, "/long/line.txt");
    EXPECT_EQ(all.matches[0].text, std::string(kMaxGrepLineText, 'x'));
}

TEST_F(GrepTest, LinesSpanningReadChunks) {
    std::string text(kReadChunkSize - 3, 'a');
    text += "\nsplit-needle-here\n";
    text += std::string(kReadChunkSize, 'b') + "needle at the very end";
    file("top", "chunks.txt", text);
    const GrepResult result = run({.patterns = {"needle"}, .paths = {"/chunks.txt"}});
    ASSERT_EQ(result.matches.size(), 2u);
    EXPECT_EQ(result.matches[0].line, 2u);
    EXPECT_EQ(result.matches[0].text, "split-needle-here");
    EXPECT_EQ(result.matches[1].line, 3u);
}

TEST_F(GrepTest, BadInputFails) {
    const LayerStack s = stack();
    EXPECT_EQ(grep(s, {.patterns = {"(unclosed"}}).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(grep(s, {.patterns = {"(a)\\1"}}).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(grep(s, {}).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(grep(s, {.patterns = {"x"}, .paths = {"/nope"}}).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace grove::inspect
