#pragma once

// Whole-string decimal numbers, as ids, signals and sizes arrive in text.

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

namespace grove::base {

// `text` as a T when it is exactly a decimal number that fits; nullopt otherwise (empty, a
// sign where T has none, trailing characters, overflow).
template <std::integral T>
std::optional<T> parse_number(std::string_view text) {
    T value{};
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || err != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace grove::base
