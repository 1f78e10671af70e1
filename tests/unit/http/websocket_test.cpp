#include "http/websocket.hpp"

#include <gtest/gtest.h>

#include "base/base64.hpp"
#include "base/digest.hpp"

namespace grove::http {
namespace {

// A frame as a client sends it: masked with `mask`.
std::string client_frame(uint8_t first, std::string_view payload, uint32_t mask = 0x37fa213d) {
    std::string frame(1, static_cast<char>(first));
    if (payload.size() < 126) {
        frame += static_cast<char>(0x80 | payload.size());
    } else {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>(payload.size() >> 8);
        frame += static_cast<char>(payload.size() & 0xFF);
    }
    const char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                         static_cast<char>(mask >> 8), static_cast<char>(mask)};
    frame.append(key, 4);
    for (size_t i = 0; i < payload.size(); ++i) {
        frame += static_cast<char>(payload[i] ^ key[i % 4]);
    }
    return frame;
}

TEST(WebSocket, AcceptKeyIsRfc6455s) {
    // RFC 6455 §1.3's example.
    EXPECT_EQ(
        base::base64_encode(base::sha1_bytes("dGhlIHNhbXBsZSBub25jZQ==" +
                                             std::string("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, ServerFramesUseTheShortestLength) {
    EXPECT_EQ(websocket_frame(WsOpcode::kText, "Hello"), std::string("\x81\x05Hello"));
    const std::string mid = websocket_frame(WsOpcode::kBinary, std::string(126, 'x'));
    EXPECT_EQ(mid.substr(0, 4), std::string("\x82\x7e\x00\x7e", 4));
    EXPECT_EQ(mid.size(), 4u + 126u);
    const std::string big = websocket_frame(WsOpcode::kBinary, std::string(65536, 'x'));
    EXPECT_EQ(big.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

TEST(WebSocket, ReaderUnmasksAndReassemblesAcrossFeeds) {
    WsReader reader;
    const std::string bytes = client_frame(0x01, "Hel") + client_frame(0x89, "ping") +
                              client_frame(0x80, "lo") + client_frame(0x82, std::string(300, 'b'));
    std::vector<WsMessage> got;
    for (const char c : bytes) {  // one byte at a time: every split point
        auto messages = reader.feed(std::string_view(&c, 1));
        ASSERT_TRUE(messages) << messages.error().message();
        for (auto& m : *messages) {
            got.push_back(std::move(m));
        }
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].opcode, WsOpcode::kPing);
    EXPECT_EQ(got[0].payload, "ping");
    EXPECT_EQ(got[1].opcode, WsOpcode::kText);
    EXPECT_EQ(got[1].payload, "Hello");
    EXPECT_EQ(got[2].opcode, WsOpcode::kBinary);
    EXPECT_EQ(got[2].payload, std::string(300, 'b'));
}

TEST(WebSocket, ReaderRefusesWhatAClientMustNotSend) {
    EXPECT_FALSE(WsReader().feed("\x81\x02hi"));                      // not masked
    EXPECT_FALSE(WsReader().feed(client_frame(0x80, "orphan")));      // continuation of nothing
    EXPECT_FALSE(WsReader().feed(client_frame(0x09, "split ping")));  // fragmented control
    EXPECT_FALSE(WsReader(10).feed(client_frame(0x82, "eleven byte")));
    WsReader reader;
    ASSERT_TRUE(reader.feed(client_frame(0x01, "a")));
    EXPECT_FALSE(reader.feed(client_frame(0x81, "b")));  // a new message inside one
}

}  // namespace
}  // namespace grove::http
