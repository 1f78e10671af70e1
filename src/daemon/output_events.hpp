#pragma once

// OutputEvents turns a run's output into the stdout and stderr events of its log: one event per
// chunk as the run produces it, so followers see output live, up to truncate_at bytes per stream
// (the rest is counted and dropped). A process writing a byte at a time would make an event per
// byte, so after kLiveEvents events a stream's output is gathered into events of kBatchBytes;
// finish() sends what is gathered, then a `truncated` event per stream that dropped bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/event_log.hpp"
#include "engine/runner.hpp"

namespace grove::daemon {

class OutputEvents {
public:
    static constexpr size_t kLiveEvents = 4096;
    static constexpr size_t kBatchBytes = 64 * 1024;

    OutputEvents(EventLog& log, uint64_t truncate_at) : log_(log), limit_(truncate_at) {}

    void add(engine::Stream stream, std::string_view chunk);
    void finish();

private:
    struct StreamState {
        uint64_t emitted = 0;  // bytes kept (sent or gathered)
        uint64_t dropped = 0;
        size_t events = 0;
        std::string gathered;
    };

    void send(engine::Stream stream, StreamState& state, std::string_view bytes);

    EventLog& log_;
    const uint64_t limit_;
    StreamState streams_[2];  // stdout, stderr
};

}  // namespace grove::daemon
