#pragma once

// Server-Sent Events over a streamed response: one frame per write, so each event reaches the
// client (through gzip too) as soon as it is sent.
//
//   SseStream sse(writer);
//   GROVE_TRY(sse.start());
//   GROVE_TRY(sse.send({.id = "0", .event = "init", .data = R"({"id":0})"}));
//   GROVE_TRY(sse.keepalive());              // ": keepalive\n\n", ignored by clients

#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "http/response_writer.hpp"

namespace grove::http {

struct SseEvent {
    std::optional<std::string> id;  // "id: ..." (clients resume with Last-Event-Id)
    std::string event;              // "event: ..."; empty: no event line ("message")
    std::string data;               // one "data:" line per line of data
};

// "id: 1\nevent: e\ndata: line1\ndata: line2\n\n". CR and LF in `id` and `event` become spaces;
// "\r\n" and "\r" in data are line breaks.
std::string format_sse_event(const SseEvent& event);
// ": text\n\n", one comment line per line of text.
std::string format_sse_comment(std::string_view text);

class SseStream {
public:
    explicit SseStream(ResponseWriter& writer) : writer_(writer) {}

    // 200 with Content-Type: text/event-stream and Cache-Control: no-cache, plus `headers`.
    Result<void> start(Headers headers = {}, Compression compression = Compression::kDefault);
    Result<void> send(const SseEvent& event);
    Result<void> comment(std::string_view text);
    Result<void> keepalive() { return comment("keepalive"); }
    Result<void> finish() { return writer_.finish(); }

private:
    ResponseWriter& writer_;
};

}  // namespace grove::http
