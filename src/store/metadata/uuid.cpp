#include "store/metadata/uuid.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sys/random.h>

namespace grove::store {
namespace {

constexpr size_t kUuidLength = 36;

constexpr bool is_dash_position(size_t i) {
    return i == 8 || i == 13 || i == 18 || i == 23;
}

constexpr bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

std::string new_uuid() {
    std::array<uint8_t, 16> bytes{};
    size_t filled = 0;
    while (filled < bytes.size()) {
        const ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::perror("grove: getrandom");
            std::abort();
        }
        filled += static_cast<size_t>(n);
    }
    bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string text;
    text.reserve(kUuidLength);
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            text.push_back('-');
        }
        text.push_back(kHex[bytes[i] >> 4]);
        text.push_back(kHex[bytes[i] & 0x0f]);
    }
    return text;
}

bool is_uuid(std::string_view text) {
    return text.size() == kUuidLength && is_uuid_prefix(text);
}

bool is_uuid_prefix(std::string_view text) {
    if (text.size() > kUuidLength) {
        return false;
    }
    for (size_t i = 0; i < text.size(); ++i) {
        if (is_dash_position(i) ? text[i] != '-' : !is_lower_hex(text[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace grove::store
