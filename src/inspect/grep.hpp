#pragma once

// grep -rI over an image, without running it: searches the regular files under some paths for
// lines matching any of several patterns.
//
// Patterns without regex metacharacters (or all of them, with fixed_strings) are searched as
// plain substrings, which is many times faster than std::regex; the others are ECMAScript
// regexes run by libstdc++'s polynomial (Thompson NFA) executor, whose stack use does not grow
// with the line length as the default backtracking one does, at the price of back-references,
// which are refused. Case folding (ignore_case) is ASCII only, for both kinds.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"

namespace grove::inspect {

struct GrepOptions {
    std::vector<std::string> patterns;  // a line matches when any pattern does
    bool fixed_strings = false;         // every pattern is a plain string (grep -F)
    bool ignore_case = false;
    // Where to search, in this order; a symlink given here is followed, symlinks found while
    // walking are not (grep -r).
    std::vector<std::string> paths{"/"};
    // fnmatch globs on the file name ("*.py"); a file is searched when any matches. Empty: all.
    std::vector<std::string> include_globs;
    size_t max_matches = 1000;
    uint64_t max_file_size = 64 << 20;  // bigger files are skipped, bounding a line's memory
};

struct GrepMatch {
    std::string path;
    uint64_t line = 0;  // 1-based
    std::string text;   // the line without its newline, cut to kMaxGrepLineText bytes
};

struct GrepResult {
    // In walk order (depth-first, entries by name; `paths` in order), then line order.
    std::vector<GrepMatch> matches;
    bool truncated = false;  // more matches exist past max_matches
    uint64_t files_searched = 0;
};

constexpr size_t kMaxGrepLineText = 1000;

// InvalidArgument for no patterns or a bad regex; NotFound when a path does not exist.
// Files with a NUL byte in their first 8 KiB are binary and skipped (grep -I).
Result<GrepResult> grep(const LayerStack& stack, const GrepOptions& options);

}  // namespace grove::inspect
