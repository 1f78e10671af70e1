#include "http/sse.hpp"

#include <algorithm>

namespace grove::http {
namespace {

std::string one_line(std::string_view s) {
    std::string out(s);
    std::replace(out.begin(), out.end(), '\r', ' ');
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

// Calls fn for each line of `text`, splitting on "\r\n", "\n" and "\r" as the SSE grammar does.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
    for (;;) {
        const size_t end = text.find_first_of("\r\n");
        fn(text.substr(0, end));
        if (end == std::string_view::npos) {
            return;
        }
        const size_t next = text.compare(end, 2, "\r\n") == 0 ? end + 2 : end + 1;
        text.remove_prefix(next);
    }
}

}  // namespace

std::string format_sse_event(const SseEvent& event) {
    std::string frame;
    if (event.id) {
        frame += "id: " + one_line(*event.id) + "\n";
    }
    if (!event.event.empty()) {
        frame += "event: " + one_line(event.event) + "\n";
    }
    for_each_line(event.data, [&](std::string_view line) {
        frame += "data: ";
        frame += line;
        frame += '\n';
    });
    frame += '\n';
    return frame;
}

std::string format_sse_comment(std::string_view text) {
    std::string frame;
    for_each_line(text, [&](std::string_view line) {
        frame += ": ";
        frame += line;
        frame += '\n';
    });
    frame += '\n';
    return frame;
}

Result<void> SseStream::start(Headers headers, Compression compression) {
    StreamHead head{.status = 200, .headers = std::move(headers), .compression = compression};
    head.headers.set("Content-Type", "text/event-stream");
    if (!head.headers.contains("Cache-Control")) {
        head.headers.set("Cache-Control", "no-cache");
    }
    // Tells a buffering reverse proxy (nginx) to pass frames through as they come.
    head.headers.set("X-Accel-Buffering", "no");
    return writer_.start(std::move(head));
}

Result<void> SseStream::send(const SseEvent& event) {
    return writer_.write(format_sse_event(event));
}

Result<void> SseStream::comment(std::string_view text) {
    return writer_.write(format_sse_comment(text));
}

}  // namespace grove::http
