#include "daemon/output_events.hpp"

#include <algorithm>

#include "daemon/event_data.hpp"
#include "daemon/stream_repr.hpp"

namespace grove::daemon {
namespace {

std::string_view event_type(engine::Stream stream) {
    return stream == engine::Stream::kStdout ? kStdoutEvent : kStderrEvent;
}

}  // namespace

void OutputEvents::add(engine::Stream stream, std::string_view chunk) {
    StreamState& state = streams_[stream == engine::Stream::kStdout ? 0 : 1];
    const uint64_t room = limit_ - std::min(limit_, state.emitted);
    const std::string_view kept =
        chunk.substr(0, static_cast<size_t>(std::min<uint64_t>(room, chunk.size())));
    state.emitted += kept.size();
    state.dropped += chunk.size() - kept.size();
    if (kept.empty()) {
        return;
    }
    if (state.events < kLiveEvents) {
        send(stream, state, kept);
        return;
    }
    state.gathered.append(kept);
    if (state.gathered.size() >= kBatchBytes) {
        send(stream, state, state.gathered);
        state.gathered.clear();
    }
}

void OutputEvents::finish() {
    for (const auto stream : {engine::Stream::kStdout, engine::Stream::kStderr}) {
        StreamState& state = streams_[stream == engine::Stream::kStdout ? 0 : 1];
        if (!state.gathered.empty()) {
            send(stream, state, state.gathered);
            state.gathered.clear();
        }
        if (state.dropped > 0) {
            log_.append(spid_, kTruncatedEvent,
                        truncated_event_data(event_type(stream), state.emitted, state.dropped));
        }
    }
}

void OutputEvents::send(engine::Stream stream, StreamState& state, std::string_view bytes) {
    log_.append(spid_, event_type(stream), stream_repr(bytes));
    ++state.events;
}

}  // namespace grove::daemon
