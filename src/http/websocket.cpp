#include "http/websocket.hpp"

#include "base/base64.hpp"
#include "base/digest.hpp"
#include "base/error.hpp"

namespace grove::http {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr uint8_t kFin = 0x80;
constexpr uint8_t kMasked = 0x80;
constexpr size_t kMaxControlPayload = 125;

bool is_control(WsOpcode opcode) {
    return static_cast<uint8_t>(opcode) >= 0x8;
}

}  // namespace

Result<HijackHead> websocket_accept(const Request& request) {
    const auto key = request.header("Sec-WebSocket-Key");
    if (!request.wants_upgrade("websocket") || !key || key->empty()) {
        return base::make_error(Code::kInvalidArgument,
                                "not a websocket handshake: Connection: Upgrade, Upgrade: "
                                "websocket and Sec-WebSocket-Key are needed");
    }
    if (request.header("Sec-WebSocket-Version").value_or("13") != "13") {
        return base::make_error(Code::kInvalidArgument, "unsupported websocket version '{}'",
                                *request.header("Sec-WebSocket-Version"));
    }
    HijackHead head{.status = 101, .reason = "Switching Protocols", .headers = {}};
    head.headers.set("Upgrade", "websocket");
    head.headers.set("Connection", "Upgrade");
    head.headers.set(
        "Sec-WebSocket-Accept",
        base::base64_encode(base::sha1_bytes(std::string(*key) + std::string(kAcceptGuid))));
    return head;
}

std::string websocket_frame(WsOpcode opcode, std::string_view payload) {
    std::string frame;
    frame.reserve(payload.size() + 10);
    frame += static_cast<char>(kFin | static_cast<uint8_t>(opcode));
    const uint64_t size = payload.size();
    if (size < 126) {
        frame += static_cast<char>(size);
    } else if (size <= 0xFFFF) {
        frame += static_cast<char>(126);
        frame += static_cast<char>(size >> 8);
        frame += static_cast<char>(size & 0xFF);
    } else {
        frame += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            frame += static_cast<char>((size >> shift) & 0xFF);
        }
    }
    frame += payload;
    return frame;
}

Result<std::vector<WsMessage>> WsReader::feed(std::string_view bytes) {
    buffer_ += bytes;
    std::vector<WsMessage> messages;
    for (;;) {
        const auto* b = reinterpret_cast<const uint8_t*>(buffer_.data());
        if (buffer_.size() < 2) {
            break;
        }
        const bool fin = (b[0] & kFin) != 0;
        const auto opcode = static_cast<WsOpcode>(b[0] & 0x0F);
        if ((b[1] & kMasked) == 0) {
            return base::make_error(Code::kInvalidArgument,
                                    "websocket frame from the client "
                                    "is not masked");
        }
        uint64_t size = b[1] & 0x7F;
        size_t at = 2;
        const size_t extra = size == 126 ? 2 : size == 127 ? 8 : 0;
        if (buffer_.size() < at + extra + 4) {
            break;
        }
        if (extra != 0) {
            size = 0;
            for (size_t i = 0; i < extra; ++i) {
                size = (size << 8) | b[at + i];
            }
            at += extra;
        }
        if (size > max_message_ || partial_.size() + size > max_message_) {
            return base::make_error(Code::kInvalidArgument, "websocket message over {} bytes",
                                    max_message_);
        }
        if (is_control(opcode) && (!fin || size > kMaxControlPayload)) {
            return base::make_error(Code::kInvalidArgument,
                                    "websocket control frame fragmented or over 125 bytes");
        }
        const uint8_t* mask = b + at;
        at += 4;
        if (buffer_.size() < at + size) {
            break;
        }
        std::string payload(buffer_, at, size);
        for (size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
        }
        buffer_.erase(0, at + size);

        if (is_control(opcode)) {
            messages.push_back({opcode, std::move(payload)});
            continue;
        }
        if (opcode == WsOpcode::kContinuation) {
            if (!partial_opcode_) {
                return base::make_error(Code::kInvalidArgument,
                                        "websocket continuation frame without a message");
            }
        } else if (partial_opcode_) {
            return base::make_error(Code::kInvalidArgument,
                                    "websocket message began inside another one");
        } else {
            partial_opcode_ = opcode;
        }
        partial_ += payload;
        if (fin) {
            messages.push_back({*partial_opcode_, std::move(partial_)});
            partial_.clear();
            partial_opcode_.reset();
        }
    }
    return messages;
}

}  // namespace grove::http
