#pragma once

// What the terminal a stream goes to can show: colours only on a TTY, never with NO_COLOR
// (no-color.org) or TERM=dumb; box-drawing characters only on a TTY with a UTF-8 locale.

#include <cstdio>
#include <string>
#include <string_view>

namespace grove::cli {

bool is_terminal(std::FILE* stream);
bool wants_colour(std::FILE* stream);
bool wants_unicode(std::FILE* stream);

// SGR colours, or nothing when `stream` gets no colours.
class Paint {
public:
    explicit Paint(std::FILE* stream) : on_(wants_colour(stream)) {}
    std::string bold(std::string_view text) const { return wrap("1", text); }
    std::string dim(std::string_view text) const { return wrap("2", text); }
    std::string green(std::string_view text) const { return wrap("32", text); }
    std::string yellow(std::string_view text) const { return wrap("33", text); }
    std::string red(std::string_view text) const { return wrap("31", text); }

private:
    std::string wrap(std::string_view code, std::string_view text) const;
    bool on_;
};

}  // namespace grove::cli
