#include "client/frames.hpp"

namespace grove::client {

void FrameReader::feed(std::string_view chunk) {
    buffer_.append(chunk);
    size_t at = 0;
    while (buffer_.size() - at >= 8) {
        const auto byte = [&](size_t i) {
            return static_cast<uint32_t>(static_cast<uint8_t>(buffer_[at + i]));
        };
        const uint32_t length = byte(4) << 24 | byte(5) << 16 | byte(6) << 8 | byte(7);
        if (buffer_.size() - at - 8 < length) {
            break;
        }
        on_frame_(static_cast<uint8_t>(byte(0)), std::string_view(buffer_).substr(at + 8, length));
        at += 8 + length;
    }
    buffer_.erase(0, at);
}

}  // namespace grove::client
