#include "archive/entry_name.hpp"

#include "base/error.hpp"

namespace grove::archive {

Result<void> normalise_entry_name(std::string_view raw,
                                  size_t max_length,
                                  std::string_view what,
                                  std::string& out) {
    const auto refuse = [&](std::string_view why) {
        return base::make_error(Code::kInvalidArgument, "{} '{}' {}", what, raw, why);
    };
    if (raw.empty()) {
        return refuse("is invalid: empty name");
    }
    if (raw.size() > max_length) {
        return base::make_error(Code::kInvalidArgument,
                                "{} '{}...' is invalid: name longer than {} bytes", what,
                                raw.substr(0, 64), max_length);
    }
    if (raw.find('\0') != std::string_view::npos) {
        return refuse("is invalid: embedded NUL");
    }
    if (raw.front() == '/') {
        return refuse("escapes the layer: absolute path");
    }
    out.clear();
    size_t pos = 0;
    while (pos <= raw.size()) {
        size_t end = raw.find('/', pos);
        if (end == std::string_view::npos) {
            end = raw.size();
        }
        const std::string_view component = raw.substr(pos, end - pos);
        pos = end + 1;
        if (component.empty() || component == ".") {
            continue;
        }
        if (component == "..") {
            return refuse("escapes the layer: '..' component");
        }
        if (!out.empty()) {
            out += '/';
        }
        out += component;
    }
    return {};
}

SplitName split_entry_name(std::string_view clean) {
    const size_t slash = clean.rfind('/');
    if (slash == std::string_view::npos) {
        return {"", clean};
    }
    return {clean.substr(0, slash), clean.substr(slash + 1)};
}

}  // namespace grove::archive
