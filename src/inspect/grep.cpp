#include "inspect/grep.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fnmatch.h>
#include <optional>
#include <regex>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "inspect/read_file.hpp"
#include "inspect/walk.hpp"

namespace grove::inspect {
namespace {

// As grep -I: a NUL byte this early means binary.
constexpr size_t kBinaryProbeSize = 8192;
constexpr std::string_view kRegexMetacharacters = "\\^$.|?*+()[]{}";

void fold_ascii(std::string_view text, std::string& out) {
    out.resize(text.size());
    std::transform(text.begin(), text.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
}

class Matcher {
public:
    static Result<Matcher> create(const GrepOptions& options);

    Result<bool> matches(std::string_view line);

private:
    std::vector<std::string> literals_;  // already folded when ignore_case_
    std::vector<std::regex> regexes_;
    bool ignore_case_ = false;
    std::string folded_;  // the current line folded, reused across lines
};

Result<Matcher> Matcher::create(const GrepOptions& options) {
    if (options.patterns.empty()) {
        return base::make_error(Code::kInvalidArgument, "grep needs at least one pattern");
    }
    Matcher matcher;
    matcher.ignore_case_ = options.ignore_case;
    auto flags = std::regex::ECMAScript | std::regex::optimize | std::regex_constants::__polynomial;
    if (options.ignore_case) {
        flags |= std::regex::icase;
    }
    for (const std::string& pattern : options.patterns) {
        if (options.fixed_strings || pattern.find_first_of(kRegexMetacharacters) == pattern.npos) {
            std::string literal = pattern;
            if (options.ignore_case) {
                fold_ascii(pattern, literal);
            }
            matcher.literals_.push_back(std::move(literal));
            continue;
        }
        try {
            matcher.regexes_.emplace_back(pattern, flags);
        } catch (const std::regex_error& e) {
            return base::make_error(Code::kInvalidArgument, "bad regex '{}': {}", pattern,
                                    e.what());
        }
    }
    return matcher;
}

Result<bool> Matcher::matches(std::string_view line) {
    if (!literals_.empty()) {
        std::string_view haystack = line;
        if (ignore_case_) {
            fold_ascii(line, folded_);
            haystack = folded_;
        }
        for (const std::string& literal : literals_) {
            if (haystack.find(literal) != std::string_view::npos) {
                return true;
            }
        }
    }
    try {
        for (const std::regex& regex : regexes_) {
            if (std::regex_search(line.begin(), line.end(), regex)) {
                return true;
            }
        }
    } catch (const std::regex_error& e) {
        return base::make_error(Code::kResourceExhausted, "regex search: {}", e.what());
    }
    return false;
}

// Reads a file line by line through one large buffer. A line is a view into the buffer, or into
// carry_ when it straddles two reads; it is valid until the next call.
class LineReader {
public:
    LineReader(int fd, std::string_view path) : fd_(fd), path_(path), buffer_(kReadChunkSize) {}

    // The file's first `size` bytes (fewer at EOF), buffered for next().
    Result<std::string_view> peek(size_t size) {
        GROVE_TRY(fill(size));
        return std::string_view(buffer_.data(), end_);
    }

    // The next line without its '\n'; nullopt at EOF.
    Result<std::optional<std::string_view>> next() {
        bool carried = false;
        carry_.clear();
        while (true) {
            const char* start = buffer_.data() + begin_;
            const size_t available = end_ - begin_;
            if (const void* eol = std::memchr(start, '\n', available)) {
                const auto size = static_cast<size_t>(static_cast<const char*>(eol) - start);
                begin_ += size + 1;
                if (!carried) {
                    return std::optional(std::string_view(start, size));
                }
                carry_.append(start, size);
                return std::optional(std::string_view(carry_));
            }
            carry_.append(start, available);
            carried = carried || available > 0;
            begin_ = end_ = 0;
            if (eof_) {
                return carried ? std::optional(std::string_view(carry_)) : std::nullopt;
            }
            GROVE_TRY(fill(1));
        }
    }

private:
    // Reads until `size` bytes are buffered or the file ends.
    Result<void> fill(size_t size) {
        while (end_ < size && !eof_) {
            const ssize_t n = ::pread(fd_, buffer_.data() + end_, buffer_.size() - end_,
                                      static_cast<off_t>(offset_));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return base::last_errno_error("read '{}'", path_);
            }
            eof_ = n == 0;
            end_ += static_cast<size_t>(n);
            offset_ += static_cast<uint64_t>(n);
        }
        return {};
    }

    int fd_;
    std::string_view path_;
    std::vector<char> buffer_;
    size_t begin_ = 0;  // buffer_[begin_, end_) is read but not yet returned
    size_t end_ = 0;
    uint64_t offset_ = 0;
    bool eof_ = false;
    std::string carry_;
};

// Cuts `line` to at most kMaxGrepLineText bytes without splitting a UTF-8 sequence.
std::string cut_line(std::string_view line) {
    if (line.size() <= kMaxGrepLineText) {
        return std::string(line);
    }
    size_t size = kMaxGrepLineText;
    while (size > 0 && (static_cast<unsigned char>(line[size]) & 0xC0) == 0x80) {
        --size;
    }
    return std::string(line.substr(0, size));
}

class Searcher {
public:
    Searcher(const LayerStack& stack, const GrepOptions& options, Matcher matcher)
        : stack_(stack), options_(options), matcher_(std::move(matcher)) {}

    Result<WalkControl> visit(const Node& node);
    bool truncated() const { return result_.truncated; }
    GrepResult take_result() { return std::move(result_); }

private:
    bool wanted(const Node& node) const;

    const LayerStack& stack_;
    const GrepOptions& options_;
    Matcher matcher_;
    GrepResult result_;
};

bool Searcher::wanted(const Node& node) const {
    if (!S_ISREG(node.st.st_mode) ||
        static_cast<uint64_t>(node.st.st_size) > options_.max_file_size) {
        return false;
    }
    if (options_.include_globs.empty()) {
        return true;
    }
    const std::string name = node.path.substr(node.path.rfind('/') + 1);
    return std::any_of(
        options_.include_globs.begin(), options_.include_globs.end(),
        [&](const std::string& glob) { return ::fnmatch(glob.c_str(), name.c_str(), 0) == 0; });
}

Result<WalkControl> Searcher::visit(const Node& node) {
    if (!wanted(node)) {
        return WalkControl::kContinue;
    }
    GROVE_ASSIGN_OR_RETURN(const auto fd, stack_.open_file(node));
    LineReader reader(fd.get(), node.path);
    GROVE_ASSIGN_OR_RETURN(const std::string_view head, reader.peek(kBinaryProbeSize));
    if (head.substr(0, kBinaryProbeSize).find('\0') != std::string_view::npos) {
        return WalkControl::kContinue;
    }
    ++result_.files_searched;
    for (uint64_t number = 1;; ++number) {
        GROVE_ASSIGN_OR_RETURN(const auto line, reader.next());
        if (!line) {
            return WalkControl::kContinue;
        }
        GROVE_ASSIGN_OR_RETURN(const bool matched, matcher_.matches(*line));
        if (!matched) {
            continue;
        }
        if (result_.matches.size() >= options_.max_matches) {
            result_.truncated = true;
            return WalkControl::kStop;
        }
        result_.matches.push_back(GrepMatch{node.path, number, cut_line(*line)});
    }
}

}  // namespace

Result<GrepResult> grep(const LayerStack& stack, const GrepOptions& options) {
    GROVE_ASSIGN_OR_RETURN(Matcher matcher, Matcher::create(options));
    Searcher searcher(stack, options, std::move(matcher));
    for (const std::string& path : options.paths) {
        GROVE_ASSIGN_OR_RETURN(const Node start,
                               base::with_context(stack.lookup(path), "grep '{}'", path));
        GROVE_TRY(walk(stack, start, [&](const Node& node) { return searcher.visit(node); }));
        if (searcher.truncated()) {
            break;
        }
    }
    return searcher.take_result();
}

}  // namespace grove::inspect
