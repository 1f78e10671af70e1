#pragma once

// The server side of RFC 6455 for a hijacked connection (Docker's /containers/{id}/attach/ws):
// the handshake's reply head, frames as the server writes them (never masked, never fragmented),
// and a reader that reassembles the client's masked, possibly fragmented, frames.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "http/request.hpp"
#include "http/response.hpp"

namespace grove::http {

enum class WsOpcode : uint8_t {
    kContinuation = 0x0,
    kText = 0x1,
    kBinary = 0x2,
    kClose = 0x8,
    kPing = 0x9,
    kPong = 0xA,
};

// The 101 head that accepts `request`'s upgrade to websocket; InvalidArgument when it is not
// one (no `Upgrade: websocket`, no key, a version other than 13).
Result<HijackHead> websocket_accept(const Request& request);

// One whole frame carrying `payload`.
std::string websocket_frame(WsOpcode opcode, std::string_view payload);

struct WsMessage {
    WsOpcode opcode;  // kText, kBinary, kClose, kPing or kPong
    std::string payload;
};

// Feeds on the client's bytes as they come and yields its complete messages: data messages
// reassembled from their fragments, control frames as they arrive.
class WsReader {
public:
    // InvalidArgument for what RFC 6455 forbids a client: an unmasked frame, a control frame
    // over 125 bytes or fragmented, a continuation with nothing to continue, a message over
    // `max_message` bytes.
    Result<std::vector<WsMessage>> feed(std::string_view bytes);

    explicit WsReader(size_t max_message = 1 << 20) : max_message_(max_message) {}

private:
    std::string buffer_;
    std::optional<WsOpcode> partial_opcode_;  // the data message whose fragments arrive
    std::string partial_;
    size_t max_message_;
};

}  // namespace grove::http
