#include "base/base64.hpp"

#include <array>

#include "base/error.hpp"

namespace grove::base {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of each character, -1 for characters outside the alphabet.
constexpr std::array<int, 256> make_decode_table() {
    std::array<int, 256> table{};
    table.fill(-1);
    for (size_t i = 0; i < kAlphabet.size(); ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    }
    return table;
}
constexpr std::array<int, 256> kDecode = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (size_t i = 0; i < data.size(); i += 3) {
        const size_t n = std::min<size_t>(3, data.size() - i);
        uint32_t group = 0;
        for (size_t j = 0; j < 3; ++j) {
            group = (group << 8) | (j < n ? static_cast<unsigned char>(data[i + j]) : 0u);
        }
        for (size_t j = 0; j < 4; ++j) {
            out.push_back(j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 0x3f] : '=');
        }
    }
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return base::make_error(Code::kInvalidArgument,
                                "invalid base64: length {} is not a multiple of 4", text.size());
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    // Only the last group may end in one or two '=': "xxx=" or "xx==".
    size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
        ++padding;
    }
    const size_t data_chars = text.size() - padding;
    for (size_t i = 0; i < text.size(); i += 4) {
        uint32_t group = 0;
        for (size_t j = i; j < i + 4; ++j) {
            const int value = j < data_chars ? kDecode[static_cast<unsigned char>(text[j])] : 0;
            if (value < 0) {
                return base::make_error(Code::kInvalidArgument,
                                        "invalid base64: unexpected character at offset {}", j);
            }
            group = (group << 6) | static_cast<uint32_t>(value);
        }
        const size_t bytes = i + 4 == text.size() ? 3 - padding : 3;
        for (size_t j = 0; j < bytes; ++j) {
            out.push_back(static_cast<char>((group >> (16 - 8 * j)) & 0xff));
        }
    }
    return out;
}

}  // namespace grove::base
