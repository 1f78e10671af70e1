#include "cli/terminal.hpp"

#include <cstdlib>
#include <unistd.h>

#include <fmt/format.h>

namespace grove::cli {
namespace {

std::string_view env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

}  // namespace

bool is_terminal(std::FILE* stream) {
    return ::isatty(::fileno(stream)) == 1;
}

bool wants_colour(std::FILE* stream) {
    return is_terminal(stream) && std::getenv("NO_COLOR") == nullptr && env("TERM") != "dumb";
}

bool wants_unicode(std::FILE* stream) {
    // The first of these that is set names the character set, as setlocale(3) picks it.
    std::string_view locale = env("LC_ALL");
    if (locale.empty()) {
        locale = env("LC_CTYPE");
    }
    if (locale.empty()) {
        locale = env("LANG");
    }
    return is_terminal(stream) && (locale.find("UTF-8") != std::string_view::npos ||
                                   locale.find("utf8") != std::string_view::npos ||
                                   locale.find("utf-8") != std::string_view::npos);
}

std::string Paint::wrap(std::string_view code, std::string_view text) const {
    return on_ ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
}

}  // namespace grove::cli
