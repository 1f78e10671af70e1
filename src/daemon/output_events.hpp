#pragma once

// OutputEvents turns a run's output into the stdout and stderr events of its log: one event per
// chunk as the run produces it, so followers see output live, up to truncate_at bytes per stream
// (the rest is counted and dropped). A process writing a byte at a time would make an event per
// byte, so after kLiveEvents events a stream's output is gathered into events of kBatchBytes;
// finish() sends what is gathered, then a `truncated` event per stream that dropped bytes.
// Not thread-safe: one OutputEvents per process, fed by one thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/event_data.hpp"
#include "daemon/event_log.hpp"
#include "engine/runner.hpp"

namespace grove::daemon {

class OutputEvents {
public:
    static constexpr size_t kLiveEvents = 4096;
    static constexpr size_t kBatchBytes = 64 * 1024;

    // Events of the process `spid`: the main one (1) or a subprocess (2, 3, ...).
    OutputEvents(EventLog& log, uint64_t truncate_at, int spid = kMainSpid)
        : log_(log), limit_(truncate_at), spid_(spid) {}

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
    const int spid_;
    StreamState streams_[2];  // stdout, stderr
};

}  // namespace grove::daemon
