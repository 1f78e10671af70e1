#pragma once

// Docker's multiplexed stream, which a container's exec output comes in (from the shim, and from
// groved's /grove/v1/containers routes): frames of an 8-byte header (stream, three zero bytes,
// big-endian length) and the payload, fed here in arbitrary chunks.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <grove/client.hpp>

namespace grove::client {

// A frame's stream byte (1 stdout, 2 stderr) as the public API names it.
inline OutputStream output_stream(uint8_t stream) {
    return stream == 2 ? OutputStream::kStderr : OutputStream::kStdout;
}

class FrameReader {
public:
    using OnFrame = std::function<void(uint8_t stream, std::string_view payload)>;
    explicit FrameReader(OnFrame on_frame) : on_frame_(std::move(on_frame)) {}

    void feed(std::string_view chunk);
    // Bytes of a frame not complete yet (a cut stream when the input ended).
    bool partial() const { return !buffer_.empty(); }

private:
    OnFrame on_frame_;
    std::string buffer_;
};

}  // namespace grove::client
