#include "docker_api/detach_keys.hpp"

#include <optional>

#include "base/error.hpp"

namespace grove::docker_api {
namespace {

constexpr std::string_view kDefaultKeys = "ctrl-p,ctrl-q";

std::optional<char> key_byte(std::string_view key) {
    if (key.size() == 1) {
        return key[0];
    }
    constexpr std::string_view kCtrl = "ctrl-";
    if (key.size() == kCtrl.size() + 1 && key.starts_with(kCtrl)) {
        const char c = key.back();
        if (c >= 'a' && c <= 'z') {
            return static_cast<char>(c - 'a' + 1);
        }
        // The control codes after ctrl-z: @ is 0, [ is ESC (27) ... _ is 31.
        constexpr std::string_view kSymbols = "[\\]^_";
        if (c == '@') {
            return '\0';
        }
        if (const size_t at = kSymbols.find(c); at != std::string_view::npos) {
            return static_cast<char>(27 + at);
        }
    }
    return std::nullopt;
}

}  // namespace

Result<DetachKeys> DetachKeys::parse(std::string_view spec) {
    const std::string_view text = spec.empty() ? kDefaultKeys : spec;
    std::string keys;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const auto byte = key_byte(text.substr(start, comma - start));
        if (!byte) {
            return base::make_error(Code::kInvalidArgument, "Invalid detach keys ({}) provided",
                                    text);
        }
        keys += *byte;
        start = comma + 1;
    }
    return DetachKeys(std::move(keys));
}

DetachKeys::Scan DetachKeys::feed(std::string_view input) {
    Scan scan;
    for (const char c : input) {
        if (c == keys_[matched_]) {
            if (++matched_ == keys_.size()) {
                scan.detached = true;
                return scan;
            }
            continue;
        }
        // What was held back was not the sequence after all; `c` may start it anew.
        scan.forward.append(keys_, 0, matched_);
        matched_ = c == keys_[0] ? 1 : 0;
        if (matched_ == 0) {
            scan.forward += c;
        }
    }
    return scan;
}

}  // namespace grove::docker_api
